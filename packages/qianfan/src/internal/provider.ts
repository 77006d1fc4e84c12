/**
 * Qianfan's console as a core `Provider`: its limits and window rules (data), how a request becomes an input line,
 * what must be equal inside one task (model, data format and parameters: Qianfan takes `inferenceParams` per task),
 * and the wire calls over the console and BOS. Core runs the lifecycle on it.
 */
import * as ApiError from "@barge/core/ApiError"
import * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import * as CompletionWindow from "@barge/core/CompletionWindow"
import * as InputValidation from "@barge/core/InputValidation"
import * as Jsonl from "@barge/core/Jsonl"
import type * as Provider from "@barge/core/Provider"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Predicate from "effect/Predicate"
import type * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type * as QianfanBatch from "../QianfanBatch.js"
import * as Storage from "../Storage.js"
import * as Wire from "../Wire.js"
import type * as Console from "./console.js"

/** Documented: at most 100 files and 300 MB per task; files of 100 MB as the official helper cuts them. */
export const limits: Provider.Limits = {
  // No line limit is documented: bytes and files bound a task.
  maxLinesPerJob: Number.MAX_SAFE_INTEGER,
  maxBytesPerJob: 300 * 1024 * 1024,
  maxBytesPerFile: 100 * 1024 * 1024,
  maxFilesPerJob: 100
}

/** The console's `completion_window`: `"24h"` or none (the SDK's docstring); left out unless asked for. */
export const window: CompletionWindow.Rules = CompletionWindow.oneOf(["24h"])

/** The window a task gets when none is sent (UNCONFIRMED: "24h" is the only value the console documents). */
const windowMillis = 24 * 3_600_000

const phases: ReadonlyMap<string, Batch.Phase> = new Map([
  ["Queuing", "pending"],
  ["Running", "running"],
  ["Done", "completed"],
  ["Failed", "failed"],
  ["Stopping", "cancelling"],
  ["Stopped", "cancelled"],
  ["Expired", "expired"]
])

/** The data format a request is written in: `default` for one plain user message, `role` for anything else. */
export const dataFormat = (request: ChatRequest.ChatRequest): "default" | "role" => {
  const [first, ...rest] = request.messages
  return rest.length === 0 && first.role === "user" && typeof first.content === "string" &&
      Object.keys(first).length === 2
    ? "default"
    : "role"
}

/** The request as one input line: `{id, query}`, or `{id, messages}` with the messages as given. */
export const encodeLine = (request: ChatRequest.ChatRequest): string => {
  if (dataFormat(request) === "default") {
    const line: Wire.QueryLine = { id: request.customId, query: request.messages[0].content as string }
    return JSON.stringify(line)
  }
  const line: Wire.RoleLine = { id: request.customId, messages: request.messages }
  return JSON.stringify(line)
}

/** Keys sorted at every level, so equal parameters give one key whatever their key order. */
const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    Predicate.isRecord(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

/** One task per model, data format and parameter set: each becomes the task's endpoint, `dataFormat`, `inferenceParams`. */
export const partKey = (request: ChatRequest.ChatRequest): string =>
  [request.model, dataFormat(request), canonicalJson(ChatRequest.parameters(request))].join("\u0000")

const formatOf = (group: string): string | undefined => group.split("\u0000")[1]

/** A task's name: `barge-` and the first 14 hex digits of its part key (20 characters, the documented maximum). */
export const nameOf = (key: string): string => `barge-${key.slice(0, 14)}`

/** What Barge writes in a task's description: the whole part key and the line count Qianfan does not report. */
export const tagOf = (key: string, lines: number): string => `[barge key=${key} lines=${lines}]`

const tagged = /\[barge key=([0-9a-f]+) lines=(\d+)\]/

const tagIn = (task: Wire.Task) => {
  const match = tagged.exec(task.description ?? "")
  return match === null ? undefined : { key: match[1]!, lines: Number(match[2]) }
}

const dateOf = (iso: string | undefined): DateTime.Utc | undefined => {
  if (iso === undefined) return undefined
  const parsed = DateTime.make(iso)
  return parsed._tag === "Some" ? DateTime.toUtc(parsed.value) : undefined
}

/**
 * The shared status of a task. `progress` counts processed requests, failed ones included; the total is the line
 * count Barge stored (Qianfan reports none); failures are counted from the output once the task is final
 * (`finalCounts`).
 */
export const status = (task: Wire.Task): Batch.JobStatus => {
  const word = task.runStatus ?? ""
  const processed = Math.max(0, Math.floor(task.progress ?? 0))
  const total = tagIn(task)?.lines ?? processed
  const createdAt = dateOf(task.createTime)
  const phase = phases.get(word) ?? "unknown"
  return new Batch.JobStatus({
    jobId: task.taskId,
    phase,
    providerStatus: word === "" ? "(no runStatus)" : word,
    counts: new Batch.Counts({ total, completed: Math.min(processed, total), failed: 0 }),
    model: task.endpoint ?? task.modelId,
    message: task.errorReason === undefined
      ? undefined
      : `${task.errorCode === undefined ? "" : `error ${task.errorCode}: `}${task.errorReason}`,
    createdAt,
    finishedAt: Batch.isTerminal(phase) ? dateOf(task.finishTime) : undefined,
    expiresAt: createdAt === undefined ? undefined : DateTime.add(createdAt, { millis: windowMillis })
  })
}

/** Refuses a raw create whose `completion_window` the console would refuse, before anything is sent. */
export const checkWindow = (
  request: Wire.CreateTaskRequest
): Effect.Effect<void, InputValidation.InputValidationError> => {
  const given = request.completion_window
  if (given === undefined || given === "24h") return Effect.void
  const message = `completion_window ${JSON.stringify(given)} is not accepted by Qianfan's /v2/batchinference: ` +
    `it takes ${window.accepted}, or none`
  return Effect.fail(
    new InputValidation.InputValidationError({
      issues: [new InputValidation.Issue({ lineNumber: 0, rule: "InvalidParameter", message })],
      totalIssues: 1,
      lines: 0,
      bytes: 0
    })
  )
}

/**
 * One output line as a result. A `{error_code, error_msg}` output is a failure; an OpenAI-style output (with
 * `choices`) is kept as it is; a v1 ERNIE output (`result`) becomes a chat completion with its fields preserved.
 */
export const toResult = (line: Wire.OutputLine): Batch.BatchResult => {
  const customId = String(line.id)
  const output = line.output
  const failed = (code: string, message: string): Batch.BatchResult => ({
    _tag: "Failed",
    customId,
    error: new Batch.RequestError({ code, message })
  })
  if (!Predicate.isRecord(output)) return failed("missing_output", "the output line carries no model response")
  if (output.error_code !== undefined) {
    return failed(String(output.error_code), typeof output.error_msg === "string" ? output.error_msg : "")
  }
  const candidate = Array.isArray(output.choices) ? output : {
    ...output,
    id: output.id === undefined ? undefined : String(output.id),
    choices: [{
      index: 0,
      message: { role: "assistant", content: typeof output.result === "string" ? output.result : null },
      finish_reason: typeof output.finish_reason === "string" ? output.finish_reason : null
    }]
  }
  return Either.match(ChatRequest.decodeResponse(candidate), {
    onLeft: () => failed("invalid_response", "the output is not a chat completion"),
    onRight: (response) => ({ _tag: "Succeeded", customId, response })
  })
}

/** What the wire calls need. */
export interface Deps {
  readonly console: Console.Console
  /** The configured bucket (input and output are written there). */
  readonly storage: Storage.Service
  /** The same BOS client on another bucket, for tasks whose input or output lives elsewhere. */
  readonly bucket: (name: string) => Storage.Service
  readonly inputPrefix: string
  readonly outputPrefix: string
  /** How a failed streamed upload of one input file is sent again (the body is re-read each time). */
  readonly uploadRetry: Schedule.Schedule<unknown, unknown> | undefined
}

/** Builds the provider. */
export const make = (
  deps: Deps
): Provider.Provider<Wire.Task, QianfanBatch.SubmitOptions, Console.ListFilter> => {
  const { console, storage } = deps

  /** Every line of every object under a `bos:/bucket/prefix/` location (directory markers skipped). */
  const linesUnder = (uri: string | undefined, below = "") => {
    const location = uri === undefined ? undefined : Storage.parseUri(uri)
    if (location === undefined) return Stream.empty
    const bucket = location.bucket === storage.bucket ? storage : deps.bucket(location.bucket)
    return bucket.list(location.prefix + below).pipe(
      Stream.filter((object) => !object.key.endsWith("/")),
      Stream.flatMap((object) =>
        bucket.lines(object.key).pipe(
          // Chunk by chunk, no Effect per line: output files run to gigabytes.
          Jsonl.decodeLines(Wire.OutputLine, { fast: Wire.fastOutputLine })
        )
      )
    )
  }

  const results = (task: Wire.Task) =>
    task.outputDir === undefined
      ? Stream.empty
      : Stream.map(linesUnder(task.outputBosUri, `${task.outputDir}/`), toResult)

  return {
    name: "qianfan",
    limits,
    window,
    // The console's input lines carry no url: an OpenAI batch line for chat completions means the same request.
    endpoint: "/v2/chat/completions",
    acceptedEndpoints: ["/v1/chat/completions"],
    partKey,
    encodeLine,
    upload: (upload) =>
      Effect.gen(function*() {
        const prefix = `${deps.inputPrefix}${upload.key}/`
        const written = new Set<string>()
        yield* Effect.forEach(upload.files, (file) => {
          const key = `${prefix}part-${String(file.index).padStart(4, "0")}.jsonl`
          written.add(key)
          const put = storage.put(key, file.body, { contentLength: file.bytes, contentType: "application/jsonl" })
          // A streamed put is sent once by the transport; the body reads the input again, so it can be re-sent.
          return deps.uploadRetry === undefined
            ? put
            : Effect.retry(put, { schedule: deps.uploadRetry, while: ApiError.isRetryable })
        }, { discard: true })
        // Objects an earlier, differently split upload left under this prefix would become input of the task.
        yield* storage.list(prefix).pipe(
          Stream.filter((object) => !written.has(object.key)),
          Stream.runForEach((object) => storage.delete(object.key))
        )
        return storage.uri(prefix)
      }),
    create: (part) => {
      const request: Wire.CreateTaskRequest = {
        name: nameOf(part.key),
        description: tagOf(part.key, part.lines),
        ...(part.model.startsWith("amv-") ? { modelId: part.model } : { endpoint: part.model }),
        inferenceParams: { ...part.parameters },
        inputBosUri: part.input,
        outputBosUri: storage.uri(`${deps.outputPrefix}${part.key}/`),
        ...(part.window === undefined ? {} : { completion_window: part.window }),
        ...(formatOf(part.group) === "role" ? { dataFormat: "role" as const } : {})
      }
      const capacity = part.options.waitForCapacity
      const created = console.create(request)
      return Effect.flatMap(
        capacity === undefined ? created : Effect.retry(created, {
          schedule: capacity,
          while: (error) => error._tag === "ApiError" && error.code === "TaskRunningNumberExceedLimit"
        }),
        console.describe
      )
    },
    find: (key, _options) =>
      console.list().pipe(
        Stream.filter((task) => task.name === nameOf(key) && tagIn(task)?.key === key)
      ),
    get: console.describe,
    list: console.list,
    cancel: (taskId) => Effect.zipRight(console.stop(taskId), console.describe(taskId)),
    status,
    results,
    // Qianfan does not report the requests a stopped or expired task never ran: they are read from its input.
    inputIds: (task) => Stream.map(linesUnder(task.inputBosUri), (line) => String(line.id)),
    finalCounts: (task) =>
      Stream.runFold(results(task), { completed: 0, failed: 0 }, (counts, result) =>
        result._tag === "Succeeded"
          ? { ...counts, completed: counts.completed + 1 }
          : { ...counts, failed: counts.failed + 1 }).pipe(
          Effect.map((counts) =>
            new Batch.Counts({
              total: Math.max(status(task).counts.total, counts.completed + counts.failed),
              ...counts
            })
          )
        )
  }
}
