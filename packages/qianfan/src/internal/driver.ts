/**
 * The `Batch.Driver` over `QianfanBatch`: how the provider-agnostic front submits, reads and maps Qianfan tasks.
 */
import * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import type * as Arr from "effect/Array"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Errors from "../Errors.js"
import type * as QianfanBatch from "../QianfanBatch.js"
import * as Wire from "../Wire.js"

const phases: Record<Wire.RunStatus, Batch.Phase> = {
  Queuing: "pending",
  Running: "running",
  Done: "completed",
  Failed: "failed",
  Stopping: "cancelling",
  Stopped: "cancelled",
  Expired: "expired"
}

const dateOf = (iso: string | undefined): DateTime.Utc | undefined => {
  if (iso === undefined) return undefined
  const parsed = DateTime.make(iso)
  return parsed._tag === "Some" ? DateTime.toUtc(parsed.value) : undefined
}

/** The shared status of a task. `progress` counts every processed line; failures are known only from results. */
export const status = (task: Wire.Task): Batch.JobStatus =>
  new Batch.JobStatus({
    jobId: task.taskId,
    phase: phases[task.runStatus],
    providerStatus: task.runStatus,
    counts: new Batch.Counts({
      total: Math.max(0, task.totalCount ?? 0),
      completed: Math.min(Math.max(0, task.progress ?? 0), Math.max(0, task.totalCount ?? task.progress ?? 0)),
      failed: 0
    }),
    model: task.endpoint ?? task.modelId,
    message: task.errorReason,
    createdAt: dateOf(task.createTime),
    finishedAt: dateOf(task.finishTime)
  })

const isPlainQuery = (request: ChatRequest.ChatRequest) =>
  request.messages.length === 1 && request.messages[0]!.role === "user" &&
  typeof request.messages[0]!.content === "string"

/**
 * Requests as Qianfan lines: the documented default format `{id, query}` when every request is one user message,
 * else the `role` format with the whole conversation.
 */
const toLines = (requests: Arr.NonEmptyReadonlyArray<ChatRequest.ChatRequest>) => {
  const plain = requests.every(isPlainQuery)
  return {
    format: (plain ? "default" : "role") as Wire.DataFormat,
    lines: requests.map((request) =>
      plain
        ? { id: request.customId, query: request.messages[0]!.content as string }
        : {
          id: request.customId,
          messages: request.messages.map((m) => ({
            role: m.role,
            content: typeof m.content === "string" ? m.content : JSON.stringify(m.content)
          }))
        }
    )
  }
}

/** Builds the driver; `maxBytesPerJob` etc. mirror the service's limits. */
export const make = (
  service: QianfanBatch.Service,
  limits: QianfanBatch.Limits
): Batch.Driver<Wire.Task, Errors.QianfanError | QianfanBatch.ResultsError | QianfanBatch.SubmitError> => ({
  provider: "qianfan",
  limits: {
    maxBytesPerJob: limits.maxBytesPerTask,
    // No line count limit is documented; bytes and files bound a task.
    maxLinesPerJob: Number.MAX_SAFE_INTEGER,
    maxFilesPerJob: limits.maxFilesPerTask,
    maxBytesPerFile: limits.maxBytesPerFile
  },
  lineBytes: (request) => Buffer.byteLength(JSON.stringify(toLines([request]).lines[0]) + "\n", "utf8"),
  submitOne: (requests, context) => {
    const { format, lines } = toLines(requests)
    const model = context.model.startsWith("amv-") ? { modelId: context.model } : { endpoint: context.model }
    const hours = context.completionWindow === undefined
      ? undefined
      : Math.min(
        Wire.completionWindowHours.max,
        Math.max(Wire.completionWindowHours.min, Math.ceil(Duration.toHours(context.completionWindow)))
      )
    return service.submit(lines, {
      model,
      dataFormat: format,
      // Qianfan takes parameters per task, not per line: the part's first request decides them.
      inferenceParams: ChatRequest.parameters(requests[0]),
      ...(hours === undefined ? {} : { completionWindow: `${hours}h` })
    }).pipe(Effect.flatMap((submission) => service.describeTask(submission.taskIds[0])))
  },
  get: service.describeTask,
  list: service.listTasks(),
  cancel: (taskId) =>
    service.stopTask(taskId).pipe(
      Effect.catchTag("StopRefused", () => Effect.void),
      Effect.zipRight(service.describeTask(taskId))
    ),
  results: service.results,
  status
})
