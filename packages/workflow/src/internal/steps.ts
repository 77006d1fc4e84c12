/**
 * The adapter between the durable workflow and the unified `Batch` front: the ONLY module that knows how a batch
 * is driven step by step. The workflow runs each step as an activity and stores what it returns.
 *
 * - `prepare(submission)`: `Batch.prepare` — every request checked, the jobs planned and their input uploaded, no
 *   job created. Its `Batch.Prepared` is serializable: the workflow stores it, so a crash after this step never
 *   uploads again.
 * - `launch(prepared)`: `Batch.launch` — creates the jobs through core's `Idempotency.createOnce` (find → create →
 *   find again, keyed on each part's content hash stored on the job). A re-run after a crash between the create
 *   and the moment its result was stored finds the job the first run created and attaches: one job per part.
 * - `poll(id)`: one status read, no waiting. `results(id)`: every result, each once, in the same order every time
 *   (the collect cursor counts results already in the sink and skips that many on resume). `cancel(id)`.
 * - `isBusy(error)`: a `launch` refusal that means "the provider has no room now" rather than a refusal of this
 *   batch: the workflow then waits on the durable clock and launches again instead of failing.
 */
import * as ApiError from "@barge/core/ApiError"
import * as Batch from "@barge/core/Batch"
import type * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Submission from "../Submission.js"

/** The steps over one provider's `Batch` service. */
export interface Steps {
  readonly prepare: (submission: Submission.Submission) => Effect.Effect<Batch.Prepared, Batch.BatchError>
  readonly launch: (prepared: Batch.Prepared) => Effect.Effect<Batch.Submission, Batch.BatchError>
  readonly poll: (id: string) => Effect.Effect<Batch.BatchStatus, Batch.BatchError>
  readonly results: (id: string) => Stream.Stream<Batch.BatchResult, Batch.BatchError>
  readonly cancel: (id: string) => Effect.Effect<Batch.BatchStatus, Batch.BatchError>
  readonly isBusy: (error: Batch.BatchError) => boolean
}

/**
 * `QuotaExceeded` codes that name a limit on jobs running at once, which frees itself as jobs finish — unlike the
 * other quotas (an overdue account, a file count, a credit balance), which waiting does not refill. From the
 * providers' tables: Qianfan's 20 active tasks. (Ark documents 20 running jobs per project but no code for it yet;
 * Moonshot's concurrency limit is a `RateLimited` refusal.)
 */
const runningJobLimits: ReadonlySet<string> = new Set(["TaskRunningNumberExceedLimit"])

const busyRefusal = (error: unknown): boolean =>
  ApiError.is("RateLimited", "Overloaded")(error) ||
  (ApiError.is("QuotaExceeded")(error) && error.code !== undefined && runningJobLimits.has(error.code))

/**
 * Whether a launch failed because the provider has no room for another job now: rate limits and overload (the
 * transport has already retried them), or an account's limit on running jobs. A split submission refused part-way
 * for that reason is busy too: launching again attaches to the parts already created and creates the rest.
 */
export const isBusy = (error: Batch.BatchError): boolean =>
  error._tag === "PartialSubmission" ? busyRefusal(error.cause) : busyRefusal(error)

const encoder = new TextEncoder()

/** The steps over `batch`. */
export const make = (batch: Batch.Service): Steps => ({
  prepare: (submission) =>
    batch.prepare(
      // Re-runnable, as `prepare` needs: it reads the input once to check and plan, once per file to upload.
      Batch.jsonlBytes(Stream.succeed(encoder.encode(submission.input))),
      Submission.toSubmitOptions(submission.options)
    ),
  launch: (prepared) => batch.launch(prepared),
  poll: batch.get,
  results: batch.results,
  cancel: batch.cancel,
  isBusy
})
