/**
 * The adapter between the durable workflow and the unified `Batch` front: the ONLY module that knows how a batch
 * is driven step by step. The workflow runs each step as an activity and stores what it returns.
 *
 * What the workflow relies on:
 * - `prepare(submission)`: validates (and, once the front can, uploads) without creating any job; its result is
 *   stored, so it must be a small serializable value (`Prepared`).
 * - `launch(submission, prepared)`: creates the job(s) and returns the status. It is re-run after a crash between
 *   the create and the moment its result was stored, so it MUST be idempotent: a second run attaches to the
 *   job(s) the first created and never creates another.
 * - `poll(id)`: one status read, no waiting.
 * - `results(id)`: every result of a finished batch, in the same order every time it is read (the collect cursor
 *   counts results already in the sink and skips that many on resume).
 * - `cancel(id)`: asks the provider to stop; harmless on a finished batch.
 * - `isBusy(error)`: a `launch` failure that means "the provider has no room now, try later" (an account limit on
 *   running jobs, throttling) rather than a refusal of this batch; the workflow then waits on the durable clock and
 *   launches again instead of failing.
 *
 * Today `Batch.Service` has a single `submit` that validates, uploads and creates, idempotent on content (each
 * provider finds the job it created for the same file: Moonshot by metadata key, Ark by its duplicate rule,
 * Qianfan by task tag). So `prepare` only reads the input, and `launch` is `submit`: validation and upload happen
 * there, and re-running it attaches. When the front gains `prepare`/`launch` (issue 12), `prepare` becomes
 * `batch.prepare(input, options)` (its `Prepared` stored), `launch` becomes `batch.launch(prepared)`, and nothing
 * outside this module changes.
 */
import * as Batch from "@barge/core/Batch"
import type * as InputValidation from "@barge/core/InputValidation"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Submission from "../Submission.js"

/** What `prepare` stores: enough to launch, nothing the payload already holds. */
export const Prepared = Schema.Struct({
  provider: Schema.String,
  key: Schema.String,
  /** Non-empty input lines. */
  lines: Schema.Number,
  bytes: Schema.Number
})

/** @internal */
export type Prepared = typeof Prepared.Type

/** The steps over one provider's `Batch` service. */
export interface Steps {
  readonly prepare: (
    submission: Submission.Submission
  ) => Effect.Effect<Prepared, InputValidation.InputValidationError | Batch.BatchError>
  readonly launch: (
    submission: Submission.Submission,
    prepared: Prepared
  ) => Effect.Effect<Batch.BatchStatus, Batch.BatchError>
  readonly poll: (id: string) => Effect.Effect<Batch.BatchStatus, Batch.BatchError>
  readonly results: (id: string) => Stream.Stream<Batch.BatchResult, Batch.BatchError>
  readonly cancel: (id: string) => Effect.Effect<Batch.BatchStatus, Batch.BatchError>
  readonly isBusy: (error: Batch.BatchError) => boolean
}

/**
 * Provider errors that mean "no room now": today Qianfan's limit of 20 active tasks (the one such limit the
 * providers' services name). With the unified `ApiError` (issue 12) this becomes its `RateLimited` / `Overloaded`
 * reasons and the running-jobs kind of `QuotaExceeded`.
 */
const busyTags: ReadonlySet<string> = new Set(["TaskRunningNumberExceedLimit"])

/** Whether a submit failed because the provider has no room for another job now. */
export const isBusy = (error: Batch.BatchError): boolean =>
  error._tag === "ProviderError"
    ? busyTags.has(error.cause._tag)
    : error._tag === "PartialSubmission" && busyTags.has(error.cause.cause._tag)

const encoder = new TextEncoder()

/** The steps over `batch`. */
export const make = (batch: Batch.Service): Steps => ({
  prepare: (submission) =>
    Effect.sync(() => ({
      provider: submission.provider,
      key: submission.key,
      lines: submission.input.split("\n").filter((line) => line.trim().length > 0).length,
      bytes: encoder.encode(submission.input).length
    })),
  launch: (submission) =>
    batch.submit(
      Batch.jsonlBytes(Stream.succeed(encoder.encode(submission.input))),
      Submission.toSubmitOptions(submission.options)
    ),
  poll: batch.get,
  results: batch.results,
  cancel: batch.cancel,
  isBusy
})
