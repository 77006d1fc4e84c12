/**
 * The provider-agnostic batch front. A program written against `Batch` runs on Ark, Moonshot or Qianfan — the
 * provider is chosen by the Layer (`ArkBatch.layerBatch`, `MoonshotBatch.layerBatch`, `QianfanBatch.layerBatch`).
 *
 * A provider package supplies a small {@link Driver} (its limits, how to create one job, get, list, cancel, read
 * results, and how its statuses map onto {@link Phase}); {@link make} does the generic work once: validation of
 * every line before anything is uploaded, splitting a submission that exceeds the provider's limits into several
 * jobs behind one logical batch id, merged results, progress with an ETA.
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
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ChatRequest from "./ChatRequest.js"
import * as InputValidation from "./InputValidation.js"
import * as impl from "./internal/batch.js"
import * as internal from "./internal/batchPlan.js"
import * as Jsonl from "./Jsonl.js"

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
  "expired"
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
 * The status of one provider job, as a driver maps it (see {@link Driver.status}).
 *
 * @since 0.1.0
 * @category models
 */
export class JobStatus extends Schema.Class<JobStatus>("@barge/core/Batch/JobStatus")({
  /** The provider's own job id. */
  jobId: Schema.String,
  phase: Phase,
  /** The provider's status word, verbatim (`Running`, `in_progress`, `Done`, …). */
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
 *   still moving → `cancelling` if any part is, `pending` if every part is, `finalizing` if every unfinished
 *   part is, else `running`.
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
 * Any tagged error from a provider package; kept whole so a program can still match on the provider's own union.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderCause {
  readonly _tag: string
  readonly message?: string
}

const ProviderCause = Schema.declare(
  (u: unknown): u is ProviderCause => Predicate.hasProperty(u, "_tag") && typeof u._tag === "string",
  { identifier: "ProviderCause" }
)

/**
 * A provider call failed. `cause` is the provider's own tagged error, untouched: match on it with the provider
 * package's `Errors` module (`@barge/ark`, `@barge/moonshot`, `@barge/qianfan`) when the difference matters.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProviderError extends Schema.TaggedError<ProviderError>("@barge/core/Batch/ProviderError")(
  "ProviderError",
  {
    provider: Schema.String,
    operation: Schema.Literal("submit", "get", "list", "cancel", "results"),
    jobId: Schema.optional(Schema.String),
    cause: ProviderCause
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const job = this.jobId === undefined ? "" : ` (job ${this.jobId})`
    return `${this.provider} ${this.operation}${job} failed: ${this.cause.message ?? this.cause._tag}`
  }
}

/**
 * A split submission failed part-way: some jobs exist. Submitting the same requests again attaches to them
 * (each provider's submit is idempotent on content), or cancel them by their ids.
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
    cause: ProviderError
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
 * The id is not a logical batch id of this provider.
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
 * still be read with `results`.
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
 * The polling schedule ended before the batch reached a terminal phase.
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
    return `stopped waiting for batch ${this.status.id} while still ${this.status.phase}; ` +
      `it keeps running at the provider — watch or await it again later`
  }
}

/**
 * Every failure of the `Batch` service. Invalid input is core's `InputValidation.InputValidationError`: every
 * problem with its line number and rule, found before anything is uploaded.
 *
 * @since 0.1.0
 * @category errors
 */
export type BatchError =
  | InputValidation.InputValidationError
  | ProviderError
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
  ProviderError,
  PartialSubmission,
  InvalidBatchId,
  BatchFailed,
  BatchTimeout
)

// ---------------------------------------------------------------------------------------------------------------
// The driver: what a provider package supplies
// ---------------------------------------------------------------------------------------------------------------

/**
 * What one provider job accepts. A submission beyond any of these is split into several jobs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  /** Most bytes of JSONL one job takes (sum of {@link Driver.lineBytes} plus newlines). */
  readonly maxBytesPerJob: number
  /** Most request lines one job takes. */
  readonly maxLinesPerJob: number
  /**
   * Most input files one job takes, each at most `maxBytesPerFile` (Qianfan: 100 × 100 MB, capped at 300 MB
   * overall). Together they bound a job's bytes as well; the driver itself cuts a part into files.
   */
  readonly maxFilesPerJob?: number
  readonly maxBytesPerFile?: number
}

/**
 * What {@link Driver.submitOne} learns about the part it creates.
 *
 * @since 0.1.0
 * @category models
 */
export interface PartContext {
  /** The one model of this part. */
  readonly model: string
  /** 0-based index of the part and the number of parts of the submission. */
  readonly part: number
  readonly parts: number
  readonly completionWindow?: Duration.Duration
  readonly metadata?: Readonly<Record<string, string>>
}

/**
 * The provider-facing side of `Batch`: a provider package implements this over its own service and hands it to
 * {@link make} / {@link layer}. `Job` is the provider's job type and `E` its error union.
 *
 * @since 0.1.0
 * @category models
 */
export interface Driver<Job, E extends ProviderCause> {
  /** Short provider name, the prefix of logical ids (`ark`, `moonshot`, `qianfan`). */
  readonly provider: string
  readonly limits: Limits
  /** Bytes one request takes in the provider's input file; defaults to its OpenAI batch line. */
  readonly lineBytes?: (request: ChatRequest.ChatRequest) => number
  /** Creates one job from requests that fit the limits (validated, one model). Idempotent on content. */
  readonly submitOne: (
    requests: Arr.NonEmptyReadonlyArray<ChatRequest.ChatRequest>,
    context: PartContext
  ) => Effect.Effect<Job, E>
  /** The job as the provider reports it now. */
  readonly get: (jobId: string) => Effect.Effect<Job, E>
  /** The provider's jobs, newest first where the provider sorts. */
  readonly list: Stream.Stream<Job, E>
  /** Asks the provider to stop the job; returns the job as it stands after the request. */
  readonly cancel: (jobId: string) => Effect.Effect<Job, E>
  /** Every result of a job, from its output and error files, each once. */
  readonly results: (jobId: string) => Stream.Stream<BatchResult, E>
  /** The one mapping from the provider's job to the shared status. */
  readonly status: (job: Job) => JobStatus
}

// ---------------------------------------------------------------------------------------------------------------
// The service
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
 * What `submit` takes: requests built in code, as an `Iterable` or a `Stream`, or JSONL lines.
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
  /** The model for lines that name none. */
  readonly model?: string
  /** How long the provider may take (each provider rounds to what it accepts). */
  readonly completionWindow?: Duration.DurationInput
  readonly metadata?: Readonly<Record<string, string>>
}

/**
 * How `await` and `watch` poll. The default is `Polling.defaultSchedule()`: adaptive, from the counts' rate and ETA
 * (5 s to 10 min), backing off from 2 s to 60 s while no counts are known; delays never sleep past the expiry.
 *
 * @since 0.1.0
 * @category models
 */
export interface PollOptions {
  readonly schedule?: Schedule.Schedule<unknown, unknown>
}

/**
 * The unified batch service.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly provider: string
  readonly limits: Limits
  /**
   * Validates everything, then creates as many provider jobs as the limits need; returns the logical batch. The
   * requests are held in memory until the last line is checked, since nothing may be uploaded before that.
   */
  readonly submit: <E = never, R = never>(
    input: Input<E, R>,
    options?: SubmitOptions
  ) => Effect.Effect<BatchStatus, BatchError | E, R>
  /** The batch's status now (one request per part). */
  readonly get: (id: string) => Effect.Effect<BatchStatus, BatchError>
  /** Polls until terminal; a batch that ends other than `completed` is a {@link BatchFailed}. */
  readonly await: (id: string, options?: PollOptions) => Effect.Effect<BatchStatus, BatchError>
  /** One {@link Progress} per poll, ending with the first terminal observation. */
  readonly watch: (id: string, options?: PollOptions) => Stream.Stream<Progress, BatchError>
  /** Every result of every part, each once, in constant memory. */
  readonly results: (id: string) => Stream.Stream<BatchResult, BatchError>
  /** Asks the provider to stop every unfinished part; returns the status after the request. */
  readonly cancel: (id: string) => Effect.Effect<BatchStatus, BatchError>
  /** The provider's jobs, each as a one-part batch. */
  readonly list: Stream.Stream<BatchStatus, BatchError>
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
  lines: Stream.unwrap(Effect.map(FileSystem.FileSystem, (fs) => Jsonl.lines(fs.stream(path))))
})

/**
 * JSONL lines from bytes (an upload, stdin, a download), for `submit`.
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
 * Builds the service over a provider's driver.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Job, E extends ProviderCause>(driver: Driver<Job, E>): Effect.Effect<Service> =>
  Effect.map(Effect.serviceOption(LimitOverrides), (overrides) =>
    impl.unsafeMake(
      Option.match(overrides, {
        onNone: () => driver,
        onSome: (tighter) => ({ ...driver, limits: internal.tightened(driver.limits, tighter) })
      })
    ))

/**
 * Limits below a provider's own, for every `Batch` built where this service is present: tests use it to force a
 * split with a small input (see {@link withLimits}). Limits can only be tightened, never raised.
 *
 * @since 0.1.0
 * @category tags
 */
export class LimitOverrides
  extends Context.Tag("@barge/core/Batch/LimitOverrides")<LimitOverrides, Partial<Limits>>()
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
  (limits: Partial<Limits>) => <E, R>(self: Layer.Layer<Batch, E, R>): Layer.Layer<Batch, E, R> =>
    Layer.provide(self, Layer.succeed(LimitOverrides, limits))

/**
 * The `Batch` layer over a driver, or over an effect that builds one from the provider's own service (what each
 * provider's `layerBatch` does).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <Job, E extends ProviderCause, E2 = never, R = never>(
  driver: Driver<Job, E> | Effect.Effect<Driver<Job, E>, E2, R>
): Layer.Layer<Batch, E2, R> =>
  Layer.effect(Batch, Effect.isEffect(driver) ? Effect.flatMap(driver, make) : make(driver))
