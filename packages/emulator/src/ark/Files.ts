/**
 * Ark's files in TOS: reading and checking a job's JSONL input, and writing `results.jsonl` and the errors file
 * when a run ends. Line shapes follow the BytePlus guide (spec §4.3); the error-line shape is UNCONFIRMED.
 */
import type { Completions, ObjectStore } from "../internal/Context.js"
import type { Input, InputLine, Job, TosLocation } from "./Jobs.js"
import { prefixFailures } from "./Jobs.js"

/** Where a job's output files go, relative to `<OutputDir.ObjectKey><JobId>/`. */
export interface OutputLayout {
  readonly results: string
  /**
   * UNCONFIRMED: Volcengine-CN code bases use `error/errors.jsonl`, the BytePlus sample `output/errors.jsonl`;
   * `ErrorFileTosLocation` names whichever is chosen, so clients never hard-code it.
   */
  readonly errors: string
}

/** The default layout. */
export const defaultLayout: OutputLayout = { results: "output/results.jsonl", errors: "error/errors.jsonl" }

/** `<dir><JobId>/` with a `/` after a non-empty directory that lacks one. */
export const jobDirectory = (output: TosLocation, jobId: string): string => {
  const dir = output.ObjectKey === "" || output.ObjectKey.endsWith("/") ? output.ObjectKey : `${output.ObjectKey}/`
  return `${dir}${jobId}/`
}

/** The results and errors locations of a job. */
export const outputLocations = (output: TosLocation, jobId: string, layout: OutputLayout) => {
  const dir = jobDirectory(output, jobId)
  return {
    results: { BucketName: output.BucketName, ObjectKey: `${dir}${layout.results}` },
    errors: { BucketName: output.BucketName, ObjectKey: `${dir}${layout.errors}` }
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true })

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Reads and checks the input file the way Ark's linter does (spec §4.1): every line JSON, `custom_id` present, a
 * string and unique, `body` an object. Any violation makes the whole job fail, naming the first bad line.
 */
export const readInput = (
  store: ObjectStore,
  location: TosLocation,
  model: string,
  completions: Completions,
  createdAtSeconds: number
): Input => {
  const object = store.get(location.BucketName, location.ObjectKey)
  if (object === undefined) {
    return invalid(`The input file tos://${location.BucketName}/${location.ObjectKey} does not exist.`)
  }
  let text: string
  try {
    text = decoder.decode(object.body)
  } catch {
    return invalid("The input file is not valid UTF-8.")
  }
  const lines: Array<InputLine> = []
  const seen = new Set<string>()
  const rows = text.replace(/^\uFEFF/, "").split(/\r?\n/)
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!
    if (row.trim() === "") continue
    const lineNumber = i + 1
    let value: unknown
    try {
      value = JSON.parse(row)
    } catch {
      return invalid(`Line ${lineNumber} of the input file is not JSON.`)
    }
    if (!isObject(value) || !("custom_id" in value)) {
      return invalid(`Line ${lineNumber} of the input file has no custom_id.`)
    }
    const customId = value.custom_id
    if (typeof customId !== "string") return invalid(`Line ${lineNumber}: custom_id is not a string.`)
    if (seen.has(customId)) return invalid(`Line ${lineNumber}: custom_id=${customId} is duplicated.`)
    seen.add(customId)
    if (!isObject(value.body)) return invalid(`Line ${lineNumber}: body is not a JSON object.`)
    const outcome = completions.complete({ customId, model, body: value.body }, createdAtSeconds)
    lines.push({ customId, body: value.body, fails: outcome._tag === "Failure" })
  }
  if (lines.length === 0) return invalid("The input file has no requests.")
  return { _tag: "Lines", lines, failedBefore: prefixFailures(lines) }
}

const invalid = (reason: string): Input => ({ _tag: "Invalid", reason: `Invalid input file: ${reason}` })

const encoder = new TextEncoder()

/**
 * Writes the outcome of the first `processed` lines: successes to `results.jsonl` (always written, possibly
 * empty), failures to the errors file (only when there are any, as Ark leaves it out when everything succeeded).
 */
export const writeOutputs = (
  store: ObjectStore,
  job: Job,
  processed: number,
  layout: OutputLayout,
  completions: Completions,
  nextId: (prefix: string) => string
): void => {
  if (job.source._tag !== "Lines") return
  const locations = outputLocations(job.output, job.id, layout)
  const results = store.writer(locations.results.BucketName, locations.results.ObjectKey, "application/jsonl")
  let errors: ReturnType<ObjectStore["writer"]> | undefined
  const createdAtSeconds = Math.floor(job.createTime / 1000)
  for (let i = 0; i < processed; i++) {
    const line = job.source.lines[i]!
    const outcome = completions.complete(
      { customId: line.customId, model: job.modelName, body: line.body },
      createdAtSeconds
    )
    const requestId = nextId("")
    if (outcome._tag === "Success") {
      const record = {
        id: requestId,
        custom_id: line.customId,
        error: null,
        response: { request_id: requestId, status_code: 200, body: outcome.body }
      }
      results.append(encoder.encode(`${JSON.stringify(record)}\n`))
    } else {
      errors ??= store.writer(locations.errors.BucketName, locations.errors.ObjectKey, "application/jsonl")
      const record = {
        id: requestId,
        custom_id: line.customId,
        response: null,
        error: { code: outcome.code, type: errorType(outcome.statusCode), message: outcome.message }
      }
      errors.append(encoder.encode(`${JSON.stringify(record)}\n`))
    }
  }
  results.commit()
  errors?.commit()
}

const errorType = (status: number): string =>
  status === 400
    ? "BadRequest"
    : status === 401
    ? "Unauthorized"
    : status === 403
    ? "Forbidden"
    : status === 404
    ? "NotFound"
    : status === 429
    ? "TooManyRequests"
    : "InternalServerError"
