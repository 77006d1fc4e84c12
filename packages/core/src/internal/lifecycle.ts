/**
 * The batch lifecycle over a provider, written once: prepare (check, plan, upload), launch (idempotent create),
 * polling, results with every submitted request accounted for, cancel. Public shapes live in `../Batch.ts` and
 * `../Provider.ts`.
 */
import * as Arr from "effect/Array"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as ApiError from "../ApiError.js"
import * as Batch from "../Batch.js"
import * as Idempotency from "../Idempotency.js"
import * as Polling from "../Polling.js"
import type * as Provider from "../Provider.js"
import * as internal from "./batchPlan.js"
import * as Plan from "./plan.js"

type AnyProvider<Job, Options, Filter> = Provider.Provider<Job, Options, Filter>

/** Every part of a batch id: a logical id of this provider (`name:a+b`), or one bare job id. */
export const parseId = (
  provider: string,
  id: string
): Effect.Effect<Arr.NonEmptyReadonlyArray<string>, Batch.InvalidBatchId> => {
  const invalid = (reason: string) => Effect.fail(new Batch.InvalidBatchId({ id, provider, reason }))
  if (id.trim().length === 0) return invalid("it is empty")
  if (!id.includes(":")) return Effect.succeed([id])
  const decoded = internal.decodeId(id)
  if (decoded._tag === "Left") return invalid(decoded.reason)
  if (decoded.provider !== provider) {
    return invalid(`it belongs to ${decoded.provider}; use the ${decoded.provider} layer to reach it`)
  }
  const seen = new Set<string>()
  for (const jobId of decoded.jobIds) {
    if (seen.has(jobId)) return invalid(`job ${jobId} is named twice; each job of a batch appears once`)
    seen.add(jobId)
  }
  return Arr.isNonEmptyReadonlyArray(decoded.jobIds) ? Effect.succeed(decoded.jobIds) : invalid("no job ids")
}

const epochMillis = (t: DateTime.Utc | undefined) => (t === undefined ? undefined : DateTime.toEpochMillis(t))

const unprocessedCode: Partial<Record<Batch.Phase, string>> = {
  cancelled: "batch_cancelled",
  expired: "batch_expired",
  failed: "batch_failed"
}

/** Builds the service. */
export const make = <Job, Options, Filter>(
  provider: AnyProvider<Job, Options, Filter>,
  options?: Provider.MakeOptions & { readonly create?: (request: any) => Effect.Effect<Job, any> }
): Provider.Service<Job, Options, Filter, any, any> => {
  const name = provider.name
  const finalSeen = new Set<string>()
  const finalCounts = new Map<string, Batch.Counts>()

  const parts = (id: string) => parseId(name, id)

  // --- status ---------------------------------------------------------------------------------------------------

  const jobStatus = (job: Job): Effect.Effect<Batch.JobStatus> => {
    const status = provider.status(job)
    if (!Batch.isTerminal(status.phase)) return Effect.succeed(status)
    const onFinal = finalSeen.has(status.jobId) || provider.onFinal === undefined
      ? Effect.void
      : Effect.suspend(() => {
        finalSeen.add(status.jobId)
        return provider.onFinal!(job).pipe(
          Effect.catchAll((error) => Effect.logWarning(`${name}: after job ${status.jobId} ended: ${error.message}`))
        )
      })
    if (provider.finalCounts === undefined) return Effect.as(onFinal, status)
    const cached = finalCounts.get(status.jobId)
    const counts = cached !== undefined ? Effect.succeed(cached) : provider.finalCounts(job).pipe(
      Effect.tap((counts) => Effect.sync(() => finalCounts.set(status.jobId, counts))),
      // The counts are a courtesy: a status must not fail because the results could not be read yet.
      Effect.orElseSucceed(() => status.counts)
    )
    return Effect.zipRight(onFinal, Effect.map(counts, (c) => new Batch.JobStatus({ ...status, counts: c })))
  }

  const batchStatus = (id: string): Effect.Effect<Batch.BatchStatus, Batch.BatchError> =>
    parts(id).pipe(
      Effect.flatMap((jobIds) =>
        // One job (most batches) is read in this fiber: a concurrent forEach forks even for a single element.
        Effect.forEach(jobIds, (jobId) => Effect.flatMap(provider.get(jobId), jobStatus), {
          concurrency: jobIds.length > 1 ? 4 : 1
        })
      ),
      Effect.map((statuses) => Batch.aggregate(name, statuses as unknown as Arr.NonEmptyReadonlyArray<Batch.JobStatus>))
    )

  // --- prepare / launch / submit ---------------------------------------------------------------------------------

  const identify = (job: Job): Idempotency.Identity => {
    const status = provider.status(job)
    return {
      id: status.jobId,
      createdAt: epochMillis(status.createdAt),
      cancelled: status.phase === "cancelled" || status.phase === "cancelling",
      terminal: Batch.isTerminal(status.phase)
    }
  }

  const providerOptions = (given: Partial<Options> | undefined): Options => ({ ...given }) as Options

  const prepare: Batch.Lifecycle<Options>["prepare"] = (input, submitOptions) =>
    Effect.gen(function*() {
      const planOptions: Plan.PlanOptions = {
        provider: provider as AnyProvider<unknown, unknown, unknown>,
        limits: provider.limits,
        submit: submitOptions ?? {}
      }
      const plan = yield* Plan.plan(input, planOptions)
      const context = yield* Effect.context<any>()
      const own = providerOptions(submitOptions)
      const prepared = yield* Effect.forEach(plan.parts, (part) =>
        Effect.gen(function*() {
          const existing = Idempotency.survivor(
            Chunk.toReadonlyArray(yield* Stream.runCollect(provider.find(part.key, own))),
            identify
          )
          const common = {
            index: part.index,
            key: part.key,
            model: part.model,
            group: part.partKey,
            lines: part.lines,
            bytes: part.bytes,
            parameters: part.parameters
          }
          if (existing !== undefined) {
            return new Batch.PreparedPart({ ...common, jobId: provider.status(existing).jobId })
          }
          const files = part.files.map((file, index) => ({
            index,
            lines: file.lines,
            bytes: file.bytes,
            body: Stream.provideContext(Plan.fileBody(input, planOptions, plan, file.global, file.bytes), context)
          }))
          const input_ = yield* provider.upload({
            key: part.key,
            submission: plan.key,
            index: part.index,
            count: plan.parts.length,
            model: part.model,
            group: part.partKey,
            lines: part.lines,
            bytes: part.bytes,
            files: files as unknown as Arr.NonEmptyReadonlyArray<(typeof files)[number]>
          }, own)
          return new Batch.PreparedPart({ ...common, input: input_ })
        }), { concurrency: 1 })
      return new Batch.Prepared({
        provider: name,
        key: plan.key,
        lines: plan.lines,
        bytes: plan.bytes,
        ...(plan.window === undefined ? {} : { window: plan.window }),
        metadata: { ...plan.metadata },
        parts: prepared as unknown as Arr.NonEmptyReadonlyArray<Batch.PreparedPart>,
        dropped: plan.dropped
      })
    }).pipe(Effect.withSpan("Batch.prepare", { attributes: { provider: name } }))

  const launchPart = (
    prepared: Batch.Prepared,
    part: Batch.PreparedPart,
    own: Options
  ): Effect.Effect<Idempotency.Outcome<Job>, Provider.Failure> =>
    Idempotency.createOnce<Job, Provider.Failure>({
      key: `${name}:${part.key}`,
      find: provider.find(part.key, own),
      create: part.input === undefined
        // Prepared when a job already carried the key, which has since gone: nothing was uploaded for it.
        ? Effect.fail(
          new ApiError.ApiError({
            provider: name,
            action: "Launch",
            reason: "NotFound",
            description: `job ${part.jobId ?? "?"} of part ${part.index + 1} no longer exists`,
            hint: "prepare the submission again"
          })
        )
        : provider.create({
          key: part.key,
          submission: prepared.key,
          index: part.index,
          count: prepared.parts.length,
          model: part.model,
          group: part.group,
          lines: part.lines,
          bytes: part.bytes,
          input: part.input,
          window: prepared.window,
          metadata: prepared.metadata,
          parameters: part.parameters,
          options: own
        }),
      identify,
      cancel: (job) => provider.cancel(identify(job).id),
      isAmbiguous: ApiError.isAmbiguous,
      attempts: options?.createAttempts,
      backoff: options?.createBackoff,
      settle: options?.settle
    })

  const launch: Batch.Lifecycle<Options>["launch"] = (prepared, launchOptions) =>
    Effect.gen(function*() {
      if (prepared.provider !== name) {
        return yield* new Batch.InvalidBatchId({
          id: prepared.key,
          provider: name,
          reason: `it was prepared for ${prepared.provider}`
        })
      }
      const own = providerOptions(launchOptions)
      // Parts are created side by side: each waits out its own convergence look, so they should not queue.
      const outcomes = yield* Effect.forEach(
        prepared.parts,
        (part) =>
          launchPart(prepared, part, own).pipe(
            Effect.flatMap((outcome) =>
              Effect.map(jobStatus(outcome.job), (status) => {
                // A provider may report no count until it has validated the file (Moonshot's `validating`); the
                // count submitted is known here, so the first status does not claim an empty batch.
                const counted = status.counts.total >= part.lines ? status : new Batch.JobStatus({
                  ...status,
                  counts: new Batch.Counts({ ...status.counts, total: part.lines })
                })
                return { status: counted, attached: outcome.attached }
              })
            ),
            Effect.either
          ),
        { concurrency: 4 }
      )
      const created = outcomes.flatMap((o) => (Either.isRight(o) ? [o.right.status] : []))
      const failure = outcomes.find(Either.isLeft)
      if (failure !== undefined) {
        return yield* created.length === 0 ? Effect.fail(failure.left) : Effect.fail(
          new Batch.PartialSubmission({
            provider: name,
            submittedJobIds: created.map((s) => s.jobId),
            parts: prepared.parts.length,
            cause: failure.left
          })
        )
      }
      const attached = outcomes.filter((o) => Either.isRight(o) && o.right.attached).length
      const status = Batch.aggregate(name, created as unknown as Arr.NonEmptyReadonlyArray<Batch.JobStatus>)
      return new Batch.Submission({ id: status.id, status, attached, dropped: prepared.dropped })
    }).pipe(Effect.withSpan("Batch.launch", { attributes: { provider: name } }))

  const submit: Batch.Lifecycle<Options>["submit"] = (input, submitOptions) =>
    Effect.flatMap(prepare(input, submitOptions), (prepared) => launch(prepared, submitOptions))

  // --- polling ----------------------------------------------------------------------------------------------------

  const cancelBatch = (id: string): Effect.Effect<Batch.BatchStatus, Batch.BatchError> =>
    Effect.gen(function*() {
      const before = yield* batchStatus(id)
      yield* Effect.forEach(
        before.parts.filter((part) => !Batch.isTerminal(part.phase)),
        (part) =>
          provider.cancel(part.jobId).pipe(
            // A part that finished between the status read and the cancel is not a failure to cancel.
            Effect.catchAll((error) =>
              provider.get(part.jobId).pipe(
                Effect.flatMap((job) =>
                  Batch.isTerminal(provider.status(job).phase) ? Effect.void : Effect.fail(error)
                ),
                Effect.orElseFail(() => error)
              )
            )
          ),
        { concurrency: 4, discard: true }
      )
      return yield* batchStatus(id)
    })

  const watch = (id: string, pollOptions?: Batch.PollOptions): Stream.Stream<Batch.Progress, Batch.BatchError> =>
    Stream.unwrap(Effect.gen(function*() {
      yield* parts(id)
      const startedAt = yield* Clock.currentTimeMillis
      const samples: Array<internal.Sample> = []
      let polls = 0
      const progress = (status: Batch.BatchStatus) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          polls += 1
          const done = status.counts.completed + status.counts.failed
          samples.push({ at: now, done })
          if (samples.length > internal.rateWindow) samples.shift()
          const perSecond = internal.rate(samples)
          const etaMillis = Batch.isTerminal(status.phase) ? 0 : internal.eta(status.counts.total - done, perSecond)
          return new Batch.Progress({
            status,
            polls,
            elapsed: Duration.millis(now - startedAt),
            ratePerSecond: Option.fromNullable(perSecond),
            eta: Option.map(Option.fromNullable(etaMillis), Duration.millis)
          })
        })
      return Polling.watch(batchStatus(id), {
        isTerminal: (status) => Batch.isTerminal(status.phase),
        expiresAt: (status) => epochMillis(status.expiresAt),
        // One observation per poll, even unchanged: elapsed time and the ETA move on regardless.
        equivalence: () => false,
        ...(pollOptions?.schedule === undefined ? {} : { schedule: pollOptions.schedule }),
        ...(pollOptions?.expiryGrace === undefined ? {} : { expiryGrace: pollOptions.expiryGrace }),
        ...(pollOptions?.cancelOnInterrupt === true ? { onInterrupt: Effect.ignore(cancelBatch(id)) } : {})
      }).pipe(
        Stream.catchTag("PollingTimeout", (timeout) =>
          Stream.fromEffect(
            Effect.flatMap(
              timeout.lastObserved instanceof Batch.BatchStatus
                ? Effect.succeed(timeout.lastObserved)
                : batchStatus(id),
              (status) => Effect.fail(new Batch.BatchTimeout({ status }))
            )
          )),
        Stream.mapEffect(progress)
      )
    }))

  const awaitBatch = (
    id: string,
    pollOptions?: Batch.PollOptions
  ): Effect.Effect<Batch.BatchStatus, Batch.BatchError> =>
    Effect.gen(function*() {
      const last = yield* Stream.runLast(watch(id, pollOptions))
      // `watch` emits at least once or fails; the fallback only keeps the types honest.
      const status = Option.isSome(last) ? last.value.status : yield* batchStatus(id)
      if (status.phase === "completed") return status
      return yield* Batch.isTerminal(status.phase)
        ? new Batch.BatchFailed({ status })
        : new Batch.BatchTimeout({ status })
    }).pipe(Effect.withSpan("Batch.await", { attributes: { provider: name, id } }))

  // --- results ----------------------------------------------------------------------------------------------------

  const jobResults = (jobId: string): Stream.Stream<Batch.BatchResult, Batch.BatchError> =>
    Stream.unwrap(Effect.map(provider.get(jobId), (job) => {
      const status = provider.status(job)
      const code = unprocessedCode[status.phase]
      const inputIds = provider.inputIds
      if (code === undefined || inputIds === undefined) return provider.results(job)
      // The job ended before running everything, and the provider does not list what it skipped: every input id
      // without a result is reported, so each submitted request appears exactly once.
      const seen = new Set<string>()
      const message = `not processed: the batch was ${status.phase} before this request ran`
      return provider.results(job).pipe(
        Stream.tap((result) => Effect.sync(() => seen.add(result.customId))),
        Stream.concat(
          Stream.suspend(() =>
            inputIds(job).pipe(
              Stream.filter((customId) => !seen.has(customId)),
              Stream.map((customId): Batch.BatchResult => ({
                _tag: "Failed",
                customId,
                error: new Batch.RequestError({ code, message })
              }))
            )
          )
        )
      )
    }))

  const results = (id: string): Stream.Stream<Batch.BatchResult, Batch.BatchError> =>
    Stream.unwrap(
      Effect.map(parts(id), (jobIds) => Stream.concatAll(Chunk.fromIterable(jobIds.map(jobResults))))
    )

  // --- the service ------------------------------------------------------------------------------------------------

  return {
    provider: name,
    limits: provider.limits,
    contract: provider,
    prepare,
    launch,
    submit,
    await: awaitBatch,
    watch,
    results,
    batchStatus,
    cancelBatch,
    create: options?.create ?? ((part: Provider.Part<Options>) => provider.create(part)),
    get: provider.get,
    list: provider.list,
    cancel: provider.cancel,
    jobStatus: provider.status,
    withLimits: (limits) => make({ ...provider, limits: internal.tightened(provider.limits, limits) }, options)
  }
}
