/**
 * Checks a batch input before anything is sent, with core `InputValidation` and Ark's rules (spec §4.1): every
 * line JSON, `custom_id` present, a string and unique, `body` an object. Ark lines leave the model out (the job
 * names it), so "one model" means: lines that do name `body.model` must all name the same one. The content hash
 * names the uploaded object, so the same input always lands on the same key.
 */
import * as InputValidation from "@barge/core/InputValidation"
import * as Jsonl from "@barge/core/Jsonl"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import * as Job from "../Job.js"

/** Ark's line rules; 5 GiB per input file (spec §1.10). */
export const rules: InputValidation.Rules = {
  idField: "custom_id",
  requiredFields: ["body"],
  objectFields: ["body"],
  emptyLines: "skip",
  maxBytes: 5 * 1024 * 1024 * 1024
}

/** What checking produced: counts, the content hash and, for in-memory input, the encoded bytes. */
export interface Checked {
  readonly requests: number
  readonly size: number
  readonly sha256: string
  readonly chunks: ReadonlyArray<Uint8Array>
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Tracks `body.model` across lines: the lines that name one must agree. */
const modelTracker = () => {
  let first: { readonly name: string; readonly line: number } | undefined
  const issues: Array<InputValidation.Issue> = []
  return {
    issues,
    see: (lineNumber: number, body: unknown) => {
      if (!isObject(body) || typeof body.model !== "string") return
      if (first === undefined) first = { name: body.model, line: lineNumber }
      else if (body.model !== first.name) {
        issues.push(
          new InputValidation.Issue({
            lineNumber,
            rule: "MixedModels",
            message: `body.model ${JSON.stringify(body.model)} differs from ${
              JSON.stringify(first.name)
            } on line ${first.line}; an Ark job runs one model`
          })
        )
      }
    }
  }
}

/** Runs core validation and adds the model and parameter issues to its verdict (one error listing everything). */
const validate = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  modelIssues: () => ReadonlyArray<InputValidation.Issue>,
  parameterIssues: ReadonlyArray<InputValidation.Issue>
): Effect.Effect<InputValidation.Summary, InputValidation.InputValidationError | E, R> =>
  InputValidation.validate(rules)(bytes).pipe(
    InputValidation.withIssues(() => [...parameterIssues, ...modelIssues()])
  )

/**
 * The job parameters checked before anything is sent (today the completion window), as file-level issues, so they
 * join the input's own in one `InputValidationError`.
 */
export const parameterIssues = (
  options: { readonly completionWindow?: number | string | undefined }
): ReadonlyArray<InputValidation.Issue> => {
  const problem = options.completionWindow === undefined
    ? undefined
    : Job.checkCompletionWindow(options.completionWindow)
  return problem === undefined
    ? []
    : [new InputValidation.Issue({ lineNumber: 0, rule: "InvalidParameter", message: problem })]
}

const encoder = new TextEncoder()

/** Checks in-memory requests, given as `[body, JSONL text]` pairs; keeps the encoded bytes for the upload. */
export const checkRequests = <E, R>(
  requests: Stream.Stream<{ readonly body: unknown; readonly line: string }, E, R>,
  parameters: ReadonlyArray<InputValidation.Issue> = []
): Effect.Effect<Checked, E | InputValidation.InputValidationError, R> =>
  Effect.suspend(() => {
    const models = modelTracker()
    const hash = createHash("sha256")
    const chunks: Array<Uint8Array> = []
    let size = 0
    let lineNumber = 0
    return Stream.runForEach(requests, (request) =>
      Effect.sync(() => {
        lineNumber++
        models.see(lineNumber, request.body)
        const bytes = encoder.encode(`${request.line}\n`)
        hash.update(bytes)
        chunks.push(bytes)
        size += bytes.byteLength
      })).pipe(
        Effect.zipRight(Effect.suspend(() => validate(Stream.fromIterable(chunks), () => models.issues, parameters))),
        Effect.map((summary) => ({ requests: summary.lines, size, sha256: hash.digest("hex"), chunks }))
      )
  })

/**
 * Checks raw JSONL bytes (a file): one validating pass that also hashes, and a second pass over the lines that
 * mention `"model"` (Ark files usually have none, so it costs little).
 */
export const checkBytes = <E, R>(
  open: () => Stream.Stream<Uint8Array, E, R>,
  parameters: ReadonlyArray<InputValidation.Issue> = []
): Effect.Effect<Checked, E | InputValidation.InputValidationError, R> =>
  Effect.suspend(() => {
    const models = modelTracker()
    const hash = createHash("sha256")
    let size = 0
    const hashed = Stream.tap(open(), (chunk) =>
      Effect.sync(() => {
        hash.update(chunk)
        size += chunk.byteLength
      }))
    const scanModels = Jsonl.lines(open()).pipe(
      Stream.filter((line) => line.text.includes("\"model\"")),
      Stream.runForEach((line) =>
        Effect.sync(() => {
          try {
            const value: unknown = JSON.parse(line.text)
            if (isObject(value)) models.see(line.lineNumber, value.body)
          } catch {
            // Not JSON: core validation reports it.
          }
        })
      ),
      // Invalid UTF-8 is core validation's to report.
      Effect.catchIf((error): error is Jsonl.JsonlError => error instanceof Jsonl.JsonlError, () => Effect.void)
    )
    return scanModels.pipe(
      Effect.zipRight(Effect.suspend(() => validate(hashed, () => models.issues, parameters))),
      Effect.map((summary) => ({ requests: summary.lines, size, sha256: hash.digest("hex"), chunks: [] }))
    )
  })
