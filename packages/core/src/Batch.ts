/**
 * The provider-agnostic batch front. A program written against `Batch` runs on any provider — the provider is
 * chosen by the Layer (`ArkBatch.layerBatch`, `MoonshotBatch.layerBatch`, `QianfanBatch.layerBatch`, …).
 *
 * The lifecycle behind it is written once, in core (`Provider.make`): every request is validated before anything
 * is uploaded, a submission larger than one job takes is split into several jobs behind one logical batch id,
 * creates are idempotent, and results list every submitted request exactly once.
 *
 * @example
 * ```ts
 * import { Batch } from "@barge/core"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const batch = yield* Batch.Batch
 *   const submitted = yield* batch.submit([
 *     { customId: "q-1", model: "kimi-k2", messages: [{ role: "user", content: "Hello" }] }
 *   ])
 *   yield* batch.await(submitted.id)
 *   yield* batch.results(submitted.id).pipe(Stream.runForEach((r) => Effect.log(r.customId, r._tag)))
 * })
 * ```
 *
 * @since 0.1.0
 */
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Arr from "effect/Array"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ApiError from "./ApiError.js"
import * as ChatRequest from "./ChatRequest.js"
import type * as CompletionWindow from "./CompletionWindow.js"
import * as Download from "./Download.js"
import * as InputValidation from "./InputValidation.js"
import * as internal from "./internal/batchPlan.js"
import * as Jsonl from "./Jsonl.js"
import type * as Provider from "./Provider.js"
import * as TransportError from "./TransportError.js"

// ---------------------------------------------------------------------------------------------------------------
// Status model
// ---------------------------------------------------------------------------------------------------------------

/**
 * Where a batch is in its life. Every provider state maps onto one of these; the provider's own word is kept
 * verbatim in `providerStatus`.
 *
 * | phase | Ark | Moonshot | Qianfan |
 * |---|---|---|---|
 * | pending | Queued (Initializing) | validating | Queuing |
 * | running | Running | in_progress | Running |
 * | finalizing | — | finalizing | — |
 * | completed | Completed | completed | Done |
 * | failed | Failed | failed | Failed |
 * | cancelling | Terminating | cancelling | Stopping |
 * | cancelled | Terminated | cancelled | Stopped |
 * | expired | Terminated past `ExpireTime` | expired | Expired |
 * | unknown | any other word | any other word | any other word |
 *
 * `unknown` is a status word Barge does not know yet (a provider added one): it is not terminal, so polling goes
 * on, and the word is kept in `providerStatus` for the user to see.
 *
 * @since 0.1.0
 * @category models
 */
export const Phase = Schema.Literal(
  "pending",
  "running",
  "finalizing",
  "completed",
  "failed",
  "cancelling",
  "cancelled",
  "expired",
  "unknown"
)

/**
 * @since 0.1.0
 * @category models
 */
export type Phase = typeof Phase.Type

/**
 * Whether a batch in this phase will never change again.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTerminal = (phase: Phase): boolean =>
  phase === "completed" || phase === "failed" || phase === "cancelled" || phase === "expired"

/**
 * Request counts: `completed` and `failed` are requests finished each way, out of `total`.
 *
 * @since 0.1.0
 * @category models
 */
export class Counts extends Schema.Class<Counts>("@barge/core/Batch/Counts")({
  total: Schema.NonNegativeInt,
  completed: Schema.NonNegativeInt,
  failed: Schema.NonNegativeInt
}) {}

const Timestamp = Schema.optional(Schema.DateTimeUtc)

/**
 * The status of one provider job, as its provider maps it (`Provider.status`).
 *
 * @since 0.1.0
 * @category models
 */
export class JobStatus extends Schema.Class<JobStatus>("@barge/core/Batch/JobStatus")({
  /** The provider's own job id. */
  jobId: Schema.String,
  phase: Phase,
  /** The provider's status word, verbatim (`Running`, `in_progress`, `Done`, …; kept for phase `unknown`). */
  providerStatus: Schema.String,
  counts: Counts,
  model: Schema.optional(Schema.String),
  /** A provider message about the state (a failure reason, for example). */
  message: Schema.optional(Schema.String),
  createdAt: Timestamp,
  startedAt: Timestamp,
  finishedAt: Timestamp,
  expiresAt: Timestamp
}) {}

/**
 * The status of a logical batch: one or more provider jobs seen as one.
 *
 * - `phase`: all parts completed → `completed`; all terminal otherwise → the worst of failed, expired, cancelled;
 *   still moving → `cancelling` if any part is, `pending` if every part is, `finalizing` or `unknown` if every
 *   unfinished part is, else `running`.
 * - `counts`: the sums. `createdAt` the earliest, `finishedAt` the latest (once terminal), `expiresAt` the
 *   earliest (the first deadline that can cut the batch short).
 *
 * @since 0.1.0
 * @category models
 */
export class BatchStatus extends Schema.Class<BatchStatus>("@barge/core/Batch/BatchStatus")({
  /** The logical batch id: `<provider>:<job>[+<job>…]`. */
  id: Schema.String,
  provider: Schema.String,
  phase: Phase,
  /** The provider's status word; with several parts, their distinct words joined by `", "`. */
  providerStatus: Schema.String,
  counts: Counts,
  createdAt: Timestamp,
  finishedAt: Timestamp,
  expiresAt: Timestamp,
  parts: Schema.NonEmptyArray(JobStatus)
}) {}

/**
 * One observation from {@link Service.watch}: the status, time since watching began, the rate of finished
 * requests and an ETA once there is a rate to estimate from.
 *
 * @since 0.1.0
 * @category models
 */
export class Progress extends Schema.Class<Progress>("@barge/core/Batch/Progress")({
  status: BatchStatus,
  /** Polls made so far by this watch (1 for the first observation). */
  polls: Schema.Number,
  elapsed: Schema.DurationFromMillis,
  /** Requests finished per second over the last (up to 10) polls. */
  ratePerSecond: Schema.OptionFromNullOr(Schema.Number),
  eta: Schema.OptionFromNullOr(Schema.DurationFromMillis)
}) {}

// ---------------------------------------------------------------------------------------------------------------
// Result model
// ---------------------------------------------------------------------------------------------------------------

/**
 * Why one request failed, as the provider reported it.
 *
 * @since 0.1.0
 * @category models
 */
export class RequestError extends Schema.Class<RequestError>("@barge/core/Batch/RequestError")({
  code: Schema.String,
  message: Schema.String,
  /** The HTTP status the provider recorded for the request, when it gives one. */
  statusCode: Schema.optional(Schema.Number)
}) {}

/**
 * A request that produced a completion.
 *
 * @since 0.1.0
 * @category models
 */
export const Succeeded = Schema.TaggedStruct("Succeeded", {
  customId: Schema.String,
  response: ChatRequest.ChatResponse
})

/**
 * @since 0.1.0
 * @category models
 */
export type Succeeded = typeof Succeeded.Type

/**
 * A request the provider could not complete.
 *
 * @since 0.1.0
 * @category models
 */
export const Failed = Schema.TaggedStruct("Failed", {
  customId: Schema.String,
  error: RequestError
})

/**
 * @since 0.1.0
 * @category models
 */
export type Failed = typeof Failed.Type

/**
 * One result: `{ customId, response }` or `{ customId, error }`, told apart by `_tag`.
 *
 * @since 0.1.0
 * @category models
 */
export const BatchResult = Schema.Union(Succeeded, Failed)

/**
 * @since 0.1.0
 * @category models
 */
export type BatchResult = typeof BatchResult.Type

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

/**
 * A split submission failed part-way: some jobs exist. Submitting the same requests again attaches to them (every
 * create is idempotent on content), or cancel them by their ids.
 *
 * @since 0.1.0
 * @category errors
 */
export class PartialSubmission extends Schema.TaggedError<PartialSubmission>("@barge/core/Batch/PartialSubmission")(
  "PartialSubmission",
  {
    provider: Schema.String,
    submittedJobIds: Schema.Array(Schema.String),
    parts: Schema.Number,
    cause: Schema.Union(ApiError.ApiError, TransportError.TransportFailure)
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.provider}: submitted ${this.submittedJobIds.length} of ${this.parts} jobs ` +
      `(${this.submittedJobIds.join(", ")}) before: ${this.cause.message}. ` +
      `Submitting the same input again attaches to the existing jobs.`
  }
}

/**
 * The id is not a batch id of this provider.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidBatchId extends Schema.TaggedError<InvalidBatchId>("@barge/core/Batch/InvalidBatchId")(
  "InvalidBatchId",
  { id: Schema.String, provider: Schema.String, reason: Schema.String }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `"${this.id}" is not a ${this.provider} batch id: ${this.reason}`
  }
}

/**
 * `await` saw the batch end without completing (failed, cancelled or expired). Results already produced can
 * still be read with `results`; requests that never ran are reported there as `Failed`.
 *
 * @since 0.1.0
 * @category errors
 */
export class BatchFailed extends Schema.TaggedError<BatchFailed>("@barge/core/Batch/BatchFailed")("BatchFailed", {
  status: BatchStatus
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const reasons = this.status.parts.flatMap((p) => (p.message === undefined ? [] : [p.message]))
    const why = reasons.length > 0 ? `: ${reasons.join("; ")}` : ""
    return `batch ${this.status.id} ended ${this.status.phase} (${this.status.providerStatus})${why}`
  }
}

/**
 * The polling schedule ended, or the batch passed its expiry without the provider ending it, before the batch
 * reached a terminal phase.
 *
 * @since 0.1.0
 * @category errors
 */
export class BatchTimeout extends Schema.TaggedError<BatchTimeout>("@barge/core/Batch/BatchTimeout")(
  "BatchTimeout",
  { status: BatchStatus }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `stopped waiting for batch ${this.status.id} while still ${this.status.phase} ` +
      `(${this.status.providerStatus}); it keeps running at the provider — watch or await it again later`
  }
}

/**
 * Every failure of a batch service. Invalid input is `InputValidation.InputValidationError` (every problem with its
 * line number, found before anything is uploaded); a provider's refusal is `ApiError.ApiError`, whose `reason`
 * is the same on every provider; a call without a usable answer is a `TransportError.TransportFailure`.
 *
 * @since 0.1.0
 * @category errors
 */
export type BatchError =
  | InputValidation.InputValidationError
  | ApiError.ApiError
  | TransportError.TransportFailure
  | Download.DownloadTruncated
  | Jsonl.JsonlError
  | PartialSubmission
  | InvalidBatchId
  | BatchFailed
  | BatchTimeout

/**
 * @since 0.1.0
 * @category errors
 */
export const BatchError = Schema.Union(
  InputValidation.InputValidationError,
  ApiError.ApiError,
  TransportError.TransportFailure,
  Download.DownloadTruncated,
  Jsonl.JsonlError,
  PartialSubmission,
  InvalidBatchId,
  BatchFailed,
  BatchTimeout
)

// ---------------------------------------------------------------------------------------------------------------
// Input and submissions
// ---------------------------------------------------------------------------------------------------------------

/**
 * Input lines read from JSONL (a file or bytes): parsed and checked together with the rest by `submit`, so
 * every issue carries its line number. Build with {@link jsonlFile} or {@link jsonlBytes}.
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonlSource<E, R> {
  readonly _tag: "JsonlSource"
  readonly lines: Stream.Stream<Jsonl.Line, E | Jsonl.JsonlError, R>
}

/**
 * What `submit` takes: requests built in code, as an `Iterable` or a `Stream`, or JSONL lines. The input is read
 * twice — once to check and plan everything, once per input file to upload — so a `Stream` must be re-runnable
 * (a file, an array); any other `Iterable` is copied into an array first.
 *
 * @since 0.1.0
 * @category models
 */
export type Input<E = never, R = never> =
  | Iterable<ChatRequest.ChatRequest>
  | Stream.Stream<ChatRequest.ChatRequest, E, R>
  | JsonlSource<E, R>

/**
 * @since 0.1.0
 * @category models
 */
export interface SubmitOptions {
  /** The model for requests that name none. */
  readonly model?: string | undefined
  /**
   * How long the provider may take: a duration (`"3 days"`, `Duration.hours(24)`) or a short form (`"24h"`, `"3d"`).
   * It is mapped onto the shortest window the provider accepts that is at least as long, or refused before anything
   * is sent when none is. Default: the provider's default.
   */
  readonly completionWindow?: CompletionWindow.Input | undefined
  /** Stored on each job where the provider keeps metadata. */
  readonly metadata?: Readonly<Record<string, string>> | undefined
  /**
   * What to do with a request that sets a parameter the provider fixes for batches (Kimi's sampling parameters):
   * `"refuse"` (default) fails validation naming the lines; `"drop"` sends the request without it and reports every
   * dropped value in `Submission.dropped`.
   */
  readonly fixedParameters?: "refuse" | "drop" | undefined
}

/**
 * A parameter left out of a request because the provider fixes it for batches (`fixedParameters: "drop"`).
 *
 * @since 0.1.0
 * @category models
 */
export class DroppedParameter extends Schema.Class<DroppedParameter>("@barge/core/Batch/DroppedParameter")({
  lineNumber: Schema.Number,
  customId: Schema.String,
  parameter: Schema.String,
  value: Schema.Unknown
}) {}

/**
 * One planned job of a submission, uploaded (or found already created).
 *
 * @since 0.1.0
 * @category models
 */
export class PreparedPart extends Schema.Class<PreparedPart>("@barge/core/Batch/PreparedPart")({
  index: Schema.Number,
  /** The part's idempotency key, stored on its job. */
  key: Schema.String,
  model: Schema.String,
  /** What the provider's `partKey` gave every request of the part (the model when it has none). */
  group: Schema.String,
  lines: Schema.Number,
  bytes: Schema.Number,
  /** The parameters every request of the part shares, for providers that take them per job. */
  parameters: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  /** Where the provider's upload put the input; absent when a job with this key already existed. */
  input: Schema.optional(Schema.String),
  /** The job that already carried this key when the part was prepared. */
  jobId: Schema.optional(Schema.String)
}) {}

/**
 * A submission checked, planned and uploaded, with no job created yet: what {@link Lifecycle.launch} creates jobs
 * from. Serializable, so a durable workflow can store it between the two steps.
 *
 * @since 0.1.0
 * @category models
 */
export class Prepared extends Schema.Class<Prepared>("@barge/core/Batch/Prepared")({
  provider: Schema.String,
  /** The submission's content hash: provider, window, metadata and every encoded line. */
  key: Schema.String,
  lines: Schema.Number,
  bytes: Schema.Number,
  /** The completion window's wire value; absent: the provider's default. */
  window: Schema.optional(Schema.String),
  metadata: Schema.Record({ key: Schema.String, value: Schema.String }),
  parts: Schema.NonEmptyArray(PreparedPart),
  dropped: Schema.Array(DroppedParameter)
}) {}

/**
 * What `submit` did: the logical batch, how many of its jobs already existed (an earlier attempt of the same
 * submission created them), and any parameters dropped on request.
 *
 * @since 0.1.0
 * @category models
 */
export class Submission extends Schema.Class<Submission>("@barge/core/Batch/Submission")({
  /** The logical batch id: `<provider>:<job>[+<job>…]`. */
  id: Schema.String,
  status: BatchStatus,
  /** Jobs that already existed and were attached to rather than created. */
  attached: Schema.Number,
  dropped: Schema.Array(DroppedParameter)
}) {}

/**
 * How `await` and `watch` poll.
 *
 * @since 0.1.0
 * @category models
 */
export interface PollOptions {
  /**
   * Delays between polls; its input is the status just seen. Default `Polling.defaultSchedule()`: adaptive from the
   * counts' rate and ETA (5 s to 10 min), backing off from 2 s to 60 s while no counts are known; delays never
   * sleep past the expiry.
   */
  readonly schedule?: Schedule.Schedule<unknown, BatchStatus> | undefined
  /** How long past the expiry to keep polling a batch the provider has not ended; default 10 minutes. */
  readonly expiryGrace?: Duration.DurationInput | undefined
  /**
   * Cancel every unfinished job of the batch if this wait is interrupted. Default `false`: interrupting only stops
   * polling and the batch keeps running.
   */
  readonly cancelOnInterrupt?: boolean | undefined
}

// ---------------------------------------------------------------------------------------------------------------
// Cleanup
// ---------------------------------------------------------------------------------------------------------------

/**
 * Options of `cleanup`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CleanupOptions {
  /** Only files uploaded longer ago than this (`"7 days"`, `Duration.days(7)`). */
  readonly olderThan: Duration.DurationInput
  /** List what would be deleted without deleting it; default `true`. */
  readonly dryRun?: boolean | undefined
}

/**
 * One input file Barge uploaded for a batch, as `cleanup` lists it.
 *
 * @since 0.1.0
 * @category models
 */
export class StoredFile extends Schema.Class<StoredFile>("@barge/core/Batch/StoredFile")({
  id: Schema.String,
  name: Schema.optional(Schema.String),
  bytes: Schema.optional(Schema.Number),
  uploadedAt: Timestamp
}) {}

/**
 * What `cleanup` found (and, unless a dry run, deleted).
 *
 * @since 0.1.0
 * @category models
 */
export class CleanupReport extends Schema.Class<CleanupReport>("@barge/core/Batch/CleanupReport")({
  provider: Schema.String,
  dryRun: Schema.Boolean,
  /** Batch input files older than the cutoff that no unfinished batch reads. */
  files: Schema.Array(StoredFile),
  /** Files deleted (0 on a dry run). */
  deleted: Schema.Number,
  /** Old batch files kept because an unfinished batch reads them. */
  inUse: Schema.Number
}) {
  /**
   * One line per file, then a summary: what a command line prints.
   *
   * @since 0.1.0
   */
  get lines(): ReadonlyArray<string> {
    const verb = this.dryRun ? "would delete" : "deleted"
    return [
      ...this.files.map((file) =>
        `${verb} ${file.id} ${file.name ?? ""} (${file.bytes ?? "?"} bytes, uploaded ${
          file.uploadedAt === undefined ? "?" : DateTime.formatIso(file.uploadedAt)
        })`
      ),
      `${this.provider}: ${
        this.dryRun
          ? `${this.files.length} batch files to delete (dry run: pass --delete to delete them)`
          : `${this.deleted} deleted`
      }` +
      (this.inUse > 0 ? `; ${this.inUse} kept for unfinished batches` : "")
    ]
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The services
// ---------------------------------------------------------------------------------------------------------------

/**
 * The lifecycle every batch service has — the unified front and each provider's service alike. An id is a logical
 * batch id (`<provider>:<job>[+<job>…]`) or, on a provider's own service, one bare job id.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lifecycle<Options = {}> {
  /** The provider's name, the prefix of its batch ids. */
  readonly provider: string
  readonly limits: Provider.Limits
  /**
   * Checks every request (nothing is sent if one is bad: all problems are reported at once, with line numbers),
   * plans the jobs, and uploads their input. Creates nothing. A part whose job already exists is not uploaded again.
   */
  readonly prepare: <E = never, R = never>(
    input: Input<E, R>,
    options?: SubmitOptions & Partial<Options>
  ) => Effect.Effect<Prepared, BatchError | E, R>
  /** Creates the jobs of a prepared submission, each at most once: a job carrying its key is attached to. */
  readonly launch: (prepared: Prepared, options?: Partial<Options>) => Effect.Effect<Submission, BatchError>
  /** `prepare`, then `launch`. */
  readonly submit: <E = never, R = never>(
    input: Input<E, R>,
    options?: SubmitOptions & Partial<Options>
  ) => Effect.Effect<Submission, BatchError | E, R>
  /** Polls until terminal; a batch that ends other than `completed` is a {@link BatchFailed}. */
  readonly await: (id: string, options?: PollOptions) => Effect.Effect<BatchStatus, BatchError>
  /** One {@link Progress} per poll, ending with the first terminal observation. */
  readonly watch: (id: string, options?: PollOptions) => Stream.Stream<Progress, BatchError>
  /**
   * Every submitted request's result, each exactly once, in constant memory: what the provider wrote, then — for a
   * batch that was cancelled, failed or expired — every request that never ran, as `Failed`.
   */
  readonly results: (id: string) => Stream.Stream<BatchResult, BatchError>
}

/**
 * The unified batch service: the {@link Lifecycle} plus `get`, `cancel` and `list` in the shared status model.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends Lifecycle {
  /** The batch's status now (one request per job). */
  readonly get: (id: string) => Effect.Effect<BatchStatus, BatchError>
  /** Asks the provider to stop every unfinished job; the status after the request. */
  readonly cancel: (id: string) => Effect.Effect<BatchStatus, BatchError>
  /** The provider's jobs, each as a one-job batch. */
  readonly list: Stream.Stream<BatchStatus, BatchError>
  /**
   * Deletes batch input files older than an age that no unfinished batch reads — a dry run unless `dryRun: false`
   * — where the provider keeps uploaded files that count against a quota (OpenAI-compatible platforms).
   */
  readonly cleanup?: ((options: CleanupOptions) => Effect.Effect<CleanupReport, BatchError>) | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Batch extends Context.Tag("@barge/core/Batch")<Batch, Service>() {}

/**
 * JSONL lines from a file, for `submit`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const jsonlFile = (path: string): JsonlSource<PlatformError.PlatformError, FileSystem.FileSystem> => ({
  _tag: "JsonlSource",
  // 1 MiB reads, not the platform's 64 KiB: a sixteenth of the chunks through the stream, for the same memory bound.
  lines: Stream.unwrap(
    Effect.map(FileSystem.FileSystem, (fs) => Jsonl.lines(fs.stream(path, { chunkSize: FileSystem.MiB(1) })))
  )
})

/**
 * JSONL lines from bytes (an upload, stdin, a download), for `submit`. The stream must be re-runnable.
 *
 * @since 0.1.0
 * @category constructors
 */
export const jsonlBytes = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): JsonlSource<E, R> => ({
  _tag: "JsonlSource",
  lines: Jsonl.lines(bytes)
})

/**
 * Adds up the statuses of a logical batch's parts (see {@link BatchStatus} for the rules).
 *
 * @since 0.1.0
 * @category constructors
 */
export const aggregate = (provider: string, parts: Arr.NonEmptyReadonlyArray<JobStatus>): BatchStatus => {
  const phase = internal.combinePhase(Arr.map(parts, (p) => p.phase))
  return new BatchStatus({
    id: internal.encodeId(provider, parts.map((p) => p.jobId)),
    provider,
    phase,
    providerStatus: Arr.dedupe(parts.map((p) => p.providerStatus)).join(", "),
    counts: new Counts({
      total: parts.reduce((n, p) => n + p.counts.total, 0),
      completed: parts.reduce((n, p) => n + p.counts.completed, 0),
      failed: parts.reduce((n, p) => n + p.counts.failed, 0)
    }),
    createdAt: internal.minOf(parts.map((p) => p.createdAt)),
    finishedAt: isTerminal(phase) ? internal.maxOf(parts.map((p) => p.finishedAt)) : undefined,
    expiresAt: internal.minOf(parts.map((p) => p.expiresAt)),
    parts
  })
}

/**
 * The unified view of a provider's service: its lifecycle, with `get`, `cancel` and `list` in the shared status
 * model. Limits set with {@link withLimits} apply.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromProvider = <Job, Options, Filter>(
  service: Provider.Service<Job, Options, Filter, any, any>
): Effect.Effect<Service> =>
  Effect.map(Effect.serviceOption(LimitOverrides), (overrides) => {
    const base = Option.match(overrides, {
      onNone: () => service,
      onSome: (tighter) => service.withLimits(tighter)
    })
    const unified: Service = {
      provider: base.provider,
      limits: base.limits,
      prepare: base.prepare,
      launch: base.launch,
      submit: base.submit,
      await: base.await,
      watch: base.watch,
      results: base.results,
      get: base.batchStatus,
      cancel: base.cancelBatch,
      list: base.list().pipe(Stream.map((job) => aggregate(base.provider, [base.jobStatus(job)]))),
      ...(base.cleanup === undefined ? {} : { cleanup: base.cleanup })
    }
    return unified
  })

/**
 * The `Batch` layer over a provider's service tag (what each provider package's `layerBatch` is).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <I, S extends Provider.Service<any, any, any, any, any>>(
  tag: Context.Tag<I, S>
): Layer.Layer<Batch, never, I> => Layer.effect(Batch, Effect.flatMap(tag, fromProvider))

/**
 * Limits below a provider's own, for every `Batch` built where this service is present: tests use it to force a
 * split with a small input (see {@link withLimits}). Limits can only be tightened, never raised.
 *
 * @since 0.1.0
 * @category tags
 */
export class LimitOverrides
  extends Context.Tag("@barge/core/Batch/LimitOverrides")<LimitOverrides, Partial<Provider.Limits>>()
{}

/**
 * Tightens the limits of a `Batch` layer (a provider's `layerBatch`), so a submission splits sooner.
 *
 * @example
 * ```ts
 * import { Batch } from "@barge/core"
 * import { QianfanBatch } from "@barge/qianfan"
 *
 * const small = QianfanBatch.layerBatch.pipe(Batch.withLimits({ maxLinesPerJob: 100 }))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const withLimits =
  (limits: Partial<Provider.Limits>) => <E, R>(self: Layer.Layer<Batch, E, R>): Layer.Layer<Batch, E, R> =>
    Layer.provide(self, Layer.succeed(LimitOverrides, limits))
