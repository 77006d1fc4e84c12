/**
 * Qianfan batch inference tasks as records plus a pure timeline: a task's `runStatus` and processed count at any
 * instant follow from when it was created, the processing model, any stop and its completion window. Output files
 * are written into BOS once, the first time anyone looks after the task has finished.
 */
import * as Duration from "effect/Duration"
import type { Completions, ObjectStore, ProcessingModel, StoredObject } from "../internal/Context.js"
import * as Processing from "../internal/Processing.js"

/** The seven documented values of `runStatus`. */
export type RunStatus = "Queuing" | "Running" | "Done" | "Stopping" | "Stopped" | "Failed" | "Expired"

/** @internal */
export const runStatuses: ReadonlyArray<RunStatus> = [
  "Queuing",
  "Running",
  "Done",
  "Stopping",
  "Stopped",
  "Failed",
  "Expired"
]

/** Statuses that count against the per-account limit of {@link runningLimit}. */
export const activeStatuses: ReadonlySet<RunStatus> = new Set(["Queuing", "Running", "Stopping"])

/** At most this many tasks may be Queuing/Running/Stopping per account (documented). */
export const runningLimit = 20

/** Documented input limits per task. */
export const maxInputFiles = 100
export const maxInputBytes = 300 * 1024 * 1024

/** The three documented data formats. */
export type DataFormat = "default" | "src_tgt" | "role"

/**
 * The field that carries the prompt in each format. `default` (`{id, query}`) is documented; `role` (`messages`,
 * an OpenAI-style array) and `src_tgt` (`src`) are UNCONFIRMED: the doc's examples for them were not visible.
 */
export const promptField: Record<DataFormat, string> = { default: "query", role: "messages", src_tgt: "src" }

/** A `bos:/bucket/prefix` location, the prefix normalised to end with `/` (or empty for the bucket root). */
export interface BosLocation {
  readonly bucket: string
  readonly prefix: string
}

/**
 * Parses Qianfan's `bos:/bucket/folder/` form (one slash after `bos:`, as every Create doc writes it). The
 * `bos://` form is rejected: third-party code rewrites it to `bos:/` before calling Create, which suggests the
 * service does not take it.
 */
export const parseBosUri = (uri: string): BosLocation | undefined => {
  const match = /^bos:\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri)
  if (match === null) return undefined
  const rest = match[2] ?? ""
  return { bucket: match[1]!, prefix: rest === "" || rest.endsWith("/") ? rest : rest + "/" }
}

/** Why the task fails once it leaves the queue (its input could not be used). */
export interface InputProblem {
  /** UNCONFIRMED: the docs give `errorCode` as an int but list no values; 400 stands for "bad input data". */
  readonly errorCode: number
  readonly errorReason: string
}

/** The input files of a task and the number of non-blank lines in each. */
export interface InputFile {
  readonly object: StoredObject
  /** The key relative to the input prefix (used to name the output file). */
  readonly relativeKey: string
  readonly lines: number
}

/** A stored task. Mutable fields change only in the surface's synchronous handlers. */
export interface Task {
  readonly taskId: string
  readonly accessKeyId: string
  readonly sequence: number
  readonly name: string
  readonly description: string
  readonly endpoint: string | undefined
  readonly modelId: string | undefined
  readonly inferenceParams: Record<string, unknown>
  readonly inputBosUri: string
  readonly outputBosUri: string
  readonly output: BosLocation
  readonly outputDir: string
  readonly dataFormat: DataFormat
  readonly completionWindow: string
  readonly createdAt: number
  readonly windowEndsAt: number
  readonly files: ReadonlyArray<InputFile>
  readonly total: number
  readonly problem: InputProblem | undefined
  /** When a stop was accepted (emulated epoch ms). */
  stopRequestedAt: number | undefined
  /** Set once the output files are written. */
  written: { readonly inputTokens: number; readonly outputTokens: number } | undefined
}

/** Where a task stands at one instant. */
export interface Snapshot {
  readonly runStatus: RunStatus
  readonly processed: number
  /** When the task reached its current terminal status (undefined while it is not terminal). */
  readonly finishedAt: number | undefined
}

const model = (task: Task) => (task.modelId ?? task.endpoint)!

/** The task's status and processed count at `now` (emulated epoch ms). Pure. */
export const snapshot = (processing: ProcessingModel, task: Task, now: number): Snapshot => {
  const at = (t: number) => Processing.progress(processing, { startedAt: task.createdAt, now: t, total: task.total })
  const plan = at(task.createdAt)
  if (task.problem !== undefined) {
    return now < plan.runningAt
      ? { runStatus: "Queuing", processed: 0, finishedAt: undefined }
      : { runStatus: "Failed", processed: 0, finishedAt: plan.runningAt }
  }
  const stopAt = task.stopRequestedAt
  const cutAt = Math.min(stopAt ?? Infinity, task.windowEndsAt)
  const running = (t: number): Snapshot => {
    const p = at(t)
    return { runStatus: p.phase === "queued" ? "Queuing" : "Running", processed: p.processed, finishedAt: undefined }
  }
  if (plan.doneAt <= cutAt) {
    return now < plan.doneAt ? running(now) : { runStatus: "Done", processed: task.total, finishedAt: plan.doneAt }
  }
  if (now < cutAt) return running(now)
  const processed = at(cutAt).processed
  if (stopAt !== undefined && stopAt <= task.windowEndsAt) {
    // Stopping lasts as long as the model's finalizing phase: the service winds down what is in flight.
    const stoppedAt = stopAt + Duration.toMillis(processing.finalizingFor)
    return now < stoppedAt
      ? { runStatus: "Stopping", processed, finishedAt: undefined }
      : { runStatus: "Stopped", processed, finishedAt: stoppedAt }
  }
  return { runStatus: "Expired", processed, finishedAt: task.windowEndsAt }
}

/** Whether a status is final. */
export const isTerminal = (status: RunStatus): boolean =>
  status === "Done" || status === "Stopped" || status === "Failed" || status === "Expired"

const decoder = new TextDecoder()

/** Iterates the non-blank lines of an object (a trailing CR and a leading BOM are dropped). */
export function* linesOf(object: StoredObject): Generator<string> {
  let text = decoder.decode(object.body)
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  let start = 0
  while (start <= text.length) {
    let end = text.indexOf("\n", start)
    if (end < 0) end = text.length
    let line = text.slice(start, end)
    if (line.endsWith("\r")) line = line.slice(0, -1)
    if (line.trim() !== "") yield line
    start = end + 1
  }
}

/**
 * Checks every line of the input: JSON objects with a unique string `id` and the format's prompt field. The first
 * problem found decides the task's `errorReason`.
 */
export const checkInput = (
  files: ReadonlyArray<{ readonly object: StoredObject; readonly relativeKey: string }>,
  format: DataFormat
): { readonly files: ReadonlyArray<InputFile>; readonly problem: InputProblem | undefined } => {
  const seen = new Set<string>()
  const field = promptField[format]
  let problem: InputProblem | undefined
  const counted: Array<InputFile> = []
  for (const file of files) {
    let lines = 0
    for (const line of linesOf(file.object)) {
      lines++
      if (problem !== undefined) continue
      const where = `line ${lines} of ${file.object.key}`
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        problem = { errorCode: 400, errorReason: `${where} is not valid JSON` }
        continue
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        problem = { errorCode: 400, errorReason: `${where} is not a JSON object` }
        continue
      }
      const record = value as Record<string, unknown>
      const id = record.id
      if (typeof id !== "string" && typeof id !== "number") {
        problem = { errorCode: 400, errorReason: `${where} has no "id"` }
      } else if (seen.has(String(id))) {
        problem = { errorCode: 400, errorReason: `${where} repeats the id "${id}"; ids must be unique` }
      } else if (record[field] === undefined) {
        problem = { errorCode: 400, errorReason: `${where} has no "${field}", required by the ${format} data format` }
      } else {
        seen.add(String(id))
      }
    }
    counted.push({ object: file.object, relativeKey: file.relativeKey, lines })
  }
  if (problem === undefined && seen.size === 0) {
    problem = { errorCode: 400, errorReason: "the input files contain no data lines" }
  }
  return { files: counted, problem }
}

/** The key of the output file for an input file: same relative path, `.jsonl` extension (UNCONFIRMED naming). */
export const outputKey = (task: Task, file: InputFile): string =>
  task.output.prefix + task.outputDir + "/" + file.relativeKey.replace(/\.[^./]*$/, "") + ".jsonl"

/**
 * Maps an emulated failure to an ERNIE-style numeric error code. The codes are those of Qianfan's inference API
 * (336003 invalid argument, 18 QPS limit, 336000 internal error).
 */
const ernieErrorCode = (status: number): number => (status === 429 ? 18 : status >= 500 ? 336000 : 336003)

/**
 * Writes one output file per input file for the first `processed` lines, once. Each line echoes the input record
 * and adds `output`, the raw model response in the v1 ERNIE shape (`result`, `usage`, …; documented). A failed
 * request's `output` is the inference API's error envelope `{error_code, error_msg}` — UNCONFIRMED: the docs show
 * no per-line error record, and this is what "output = the raw response" gives for an error.
 */
export const writeOutput = (
  store: ObjectStore,
  completions: Completions,
  task: Task,
  processed: number,
  createdAtSeconds: number
): void => {
  if (task.written !== undefined) return
  let remaining = processed
  let inputTokens = 0
  let outputTokens = 0
  const encoder = new TextEncoder()
  for (const file of task.files) {
    const writer = store.writer(task.output.bucket, outputKey(task, file), "application/octet-stream")
    for (const line of linesOf(file.object)) {
      if (remaining <= 0) break
      remaining--
      const record = JSON.parse(line) as Record<string, unknown>
      const id = String(record.id)
      const outcome = completions.complete(
        {
          customId: id,
          model: model(task),
          body: task.dataFormat === "src_tgt" ? { ...record, query: record.src } : record
        },
        createdAtSeconds
      )
      let output: unknown
      if (outcome._tag === "Success") {
        const usage = outcome.body.usage
        inputTokens += usage.prompt_tokens
        outputTokens += usage.completion_tokens
        output = {
          id: "as-" + outcome.body.id.slice("chatcmpl-".length, "chatcmpl-".length + 10),
          object: "chat.completion",
          created: outcome.body.created,
          result: outcome.body.choices[0]?.message.content ?? "",
          is_truncated: false,
          need_clear_history: false,
          finish_reason: "normal",
          usage
        }
      } else {
        output = { error_code: ernieErrorCode(outcome.statusCode), error_msg: `${outcome.code}: ${outcome.message}` }
      }
      writer.append(encoder.encode(JSON.stringify({ ...record, output }) + "\n"))
    }
    writer.commit()
  }
  task.written = { inputTokens, outputTokens }
}
