/**
 * A batch job that survives crashes, restarts and moves between processes and machines: one `@effect/workflow`
 * execution per submission, run on `@effect/cluster` with SQL storage, over the unified `Batch` front (so it serves
 * every provider a worker has a layer for).
 *
 * An execution's id is derived from the submission's content hash (input + options + provider): every submit of
 * the same input, concurrent or repeated, from any process, is one execution and one provider job. Its steps are
 * activities whose results are stored: `prepare`, `launch` (idempotent: re-run after a crash, it attaches),
 * `poll/<n>` (one status read each) separated by `DurableClock` waits that follow the adaptive polling schedule,
 * and `collect` (results into the sink in committed chunks with a durable cursor). Cancel is a durable signal.
 * Progress is readable from any process (`status`, `watch`).
 *
 * @example
 * ```ts
 * import { BargeCluster, BatchProviders, BatchWorkflow, Sink } from "@barge/workflow"
 * import { Effect, Layer } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const started = yield* BatchWorkflow.start(requests, { provider: "moonshot", sink: Sink.file("/data/out.jsonl") })
 *   const outcome = yield* BatchWorkflow.await(started.executionId)
 *   console.log(outcome.phase, outcome.results)
 * })
 *
 * const Worker = BatchWorkflow.layer.pipe(
 *   Layer.provide(BatchProviders.layer({ moonshot: MoonshotLive })),
 *   Layer.provideMerge(BargeCluster.layerEmbedded({ file: "/data/barge.db" }))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as ApiError from "@barge/core/ApiError"
import * as Batch from "@barge/core/Batch"
import * as InputValidation from "@barge/core/InputValidation"
import type * as Jsonl from "@barge/core/Jsonl"
import * as Polling from "@barge/core/Polling"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as SqlError from "@effect/sql/SqlError"
import * as Activity from "@effect/workflow/Activity"
import * as DurableClock from "@effect/workflow/DurableClock"
import * as DurableDeferred from "@effect/workflow/DurableDeferred"
import * as Workflow from "@effect/workflow/Workflow"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as BatchProviders from "./BatchProviders.js"
import * as Executions from "./Executions.js"
import * as Collect from "./internal/collect.js"
import * as Steps from "./internal/steps.js"
import * as Sink from "./Sink.js"
import * as Submission from "./Submission.js"

// ---------------------------------------------------------------------------------------------------------------
// Models and errors
// ---------------------------------------------------------------------------------------------------------------

/**
 * A step of the execution failed for good (after its retries): `step` says which, `error` names the underlying
 * error's tag and `detail` carries its message. The provider job, if one was created, keeps running: find it by
 * the execution's `batchId`.
 *
 * @since 0.1.0
 * @category errors
 */
export class StepFailed extends Schema.TaggedError<StepFailed>("@barge/workflow/BatchWorkflow/StepFailed")(
  "StepFailed",
  {
    step: Schema.Literal("prepare", "launch", "poll", "cancel", "collect"),
    error: Schema.String,
    detail: Schema.String
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `the ${this.step} step failed (${this.error}): ${this.detail}`
  }
}

/**
 * How an execution can fail: its input is invalid (every issue listed, nothing uploaded), a step failed, or the
 * sink could not be written.
 *
 * @since 0.1.0
 * @category errors
 */
export const ExecutionError = Schema.Union(InputValidation.InputValidationError, StepFailed, Sink.SinkError)

/**
 * @since 0.1.0
 * @category errors
 */
export type ExecutionError = typeof ExecutionError.Type

/**
 * How an execution ended: the batch's final phase (`completed`, or `failed`, `cancelled`, `expired` — results
 * produced before the end are still in the sink; `cancelled` with no `batchId` when cancelled before launch), its
 * last status, how many results the sink holds, and every parameter dropped on request.
 *
 * @since 0.1.0
 * @category models
 */
export class Outcome extends Schema.Class<Outcome>("@barge/workflow/BatchWorkflow/Outcome")({
  executionId: Schema.String,
  batchId: Schema.optional(Schema.String),
  phase: Batch.Phase,
  status: Schema.optional(Batch.BatchStatus),
  results: Schema.Number,
  succeeded: Schema.Number,
  sink: Sink.Sink,
  /** Parameters left out of requests because the provider fixes them for batches (`fixedParameters: "drop"`). */
  dropped: Schema.Array(Batch.DroppedParameter)
}) {}

/**
 * No execution has this id in this deployment.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExecutionNotFound extends Schema.TaggedError<ExecutionNotFound>(
  "@barge/workflow/BatchWorkflow/ExecutionNotFound"
)("ExecutionNotFound", { executionId: Schema.String }) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `no durable batch ${this.executionId} in this deployment (check the database it was submitted to)`
  }
}

/**
 * The same submission was started before with its results going to another sink. Nothing was started: read the
 * results from the existing sink, or change the input or options to start a separate execution.
 *
 * @since 0.1.0
 * @category errors
 */
export class SinkConflict extends Schema.TaggedError<SinkConflict>("@barge/workflow/BatchWorkflow/SinkConflict")(
  "SinkConflict",
  { executionId: Schema.String, existing: Sink.Sink, requested: Sink.Sink }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `this input was already submitted as ${this.executionId}, with its results going to ` +
      `${Sink.describe(this.existing)}, not ${Sink.describe(this.requested)}; read them there`
  }
}

/**
 * The execution's results are not all in its sink yet.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFinished extends Schema.TaggedError<NotFinished>("@barge/workflow/BatchWorkflow/NotFinished")(
  "NotFinished",
  { execution: Executions.Execution }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const { executionId, results, stage } = this.execution
    return `durable batch ${executionId} is still ${stage} (${results} results in its sink so far); ` +
      `wait for it to finish`
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Worker settings
// ---------------------------------------------------------------------------------------------------------------

/**
 * How a worker runs executions.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  /** The adaptive poll schedule's parameters (`Polling.nextDelay`): floor 5 s, cap 10 min by default. */
  readonly poll: Polling.DefaultOptions
  /**
   * Waits up to this long run in memory; longer ones suspend the execution on the durable clock (no fiber, no
   * memory held, and a cancel is seen at once). Default 0: every wait suspends.
   */
  readonly inMemoryThreshold: Duration.DurationInput
  /** Results per committed chunk of the sink (default 1000). */
  readonly chunkSize: number
  /** Consecutive failed status reads before the execution gives up (default 30, about half an hour of backoff). */
  readonly maxPollFailures: number
  /** Retries a failed step (a provider or storage hiccup) before it fails the execution. */
  readonly retry: Schedule.Schedule<unknown, unknown>
  /**
   * How long to wait before launching again when the provider has no room for another job (an account limit on
   * running jobs): from `initial`, doubling up to `max` (default 30 s to 10 minutes). The execution waits on the
   * durable clock meanwhile, for as long as it takes, and can be cancelled.
   */
  readonly capacityWait: { readonly initial: Duration.DurationInput; readonly max: Duration.DurationInput }
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultSettings: Settings = {
  poll: {},
  inMemoryThreshold: Duration.zero,
  chunkSize: 1000,
  maxPollFailures: 30,
  retry: Schedule.exponential("1 second").pipe(Schedule.intersect(Schedule.recurs(4))),
  capacityWait: { initial: "30 seconds", max: "10 minutes" }
}

/**
 * The worker's settings ({@link defaultSettings} unless provided).
 *
 * @since 0.1.0
 * @category tags
 */
export class CurrentSettings extends Context.Reference<CurrentSettings>()(
  "@barge/workflow/BatchWorkflow/CurrentSettings",
  { defaultValue: (): Settings => defaultSettings }
) {}

/**
 * Settings for the workers built under this layer (unset fields keep their defaults).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSettings = (settings: Partial<Settings>): Layer.Layer<CurrentSettings> =>
  Layer.succeed(CurrentSettings, { ...defaultSettings, ...settings })

// ---------------------------------------------------------------------------------------------------------------
// The workflow
// ---------------------------------------------------------------------------------------------------------------

/**
 * The cancel signal: done once by {@link cancel}, read by the execution each time it wakes.
 *
 * @since 0.1.0
 * @category signals
 */
export const CancelSignal = DurableDeferred.make("barge/cancel")

/**
 * The workflow definition (`barge/Batch`): payload {@link Submission.Submission}, keyed by its content hash.
 *
 * @since 0.1.0
 * @category workflow
 */
export const workflow = Workflow.make({
  name: "barge/Batch",
  payload: Submission.fields,
  success: Outcome,
  error: ExecutionError,
  idempotencyKey: (submission) => submission.key
})

/** `attached`: jobs that already existed (a run before a crash created them) and were attached to, not created. */
const Launched = Schema.TaggedStruct("Launched", {
  at: Schema.Number,
  status: Batch.BatchStatus,
  attached: Schema.Number
})
const Skipped = Schema.TaggedStruct("Skipped", {})
const Busy = Schema.TaggedStruct("Busy", { reason: Schema.String })
const Launch = Schema.Union(Launched, Skipped, Busy)

const Observation = Schema.Struct({
  at: Schema.Number,
  status: Schema.optional(Batch.BatchStatus),
  failure: Schema.optional(Schema.String)
})
type Observation = typeof Observation.Type

const Collected = Schema.Struct({ results: Schema.Number, succeeded: Schema.Number })

const messageOf = (error: unknown): string =>
  Predicate.hasProperty(error, "message") && typeof error.message === "string" && error.message !== ""
    ? error.message
    : Predicate.hasProperty(error, "_tag")
    ? String(error._tag)
    : String(error)

const tagOf = (error: unknown): string => Predicate.hasProperty(error, "_tag") ? String(error._tag) : "Error"

/** Keeps the execution's own errors; anything else becomes a `StepFailed` of `step`. */
const asExecutionError = (step: StepFailed["step"]) => (error: unknown): ExecutionError =>
  error instanceof InputValidation.InputValidationError || error instanceof Sink.SinkError ||
    error instanceof StepFailed
    ? error
    : new StepFailed({ step, error: tagOf(error), detail: messageOf(error) })

/**
 * Invalid input, a sink that was shortened or reordered, and a provider's refusal that waiting does not change
 * (credentials, permissions, a bad parameter, a quota) stay so however often the step is tried.
 */
const isFinal = (error: unknown): boolean =>
  error instanceof InputValidation.InputValidationError ||
  (error instanceof Sink.SinkError && error.reason !== "Io") ||
  (ApiError.is()(error) && error.reason !== "Unknown" && !ApiError.isRetryable(error))

/** Retries a step on what a retry can fix (a provider or storage hiccup), then names the step in the failure. */
const guarded = <A, E, R>(step: StepFailed["step"], settings: Settings, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.retry({ schedule: settings.retry, while: (e) => !isFinal(e) }),
    Effect.mapError(asExecutionError(step))
  )

const progressOf = (observation: Observation): Polling.Observation => ({
  at: observation.at,
  progress: observation.status === undefined ? undefined : Polling.progressFromCounts(observation.status)
})

/** The wait after the latest observation: the adaptive delay, never past the batch's expiry. */
const delayAfter = (observations: ReadonlyArray<Observation>, settings: Settings, expiresAt: number | undefined) => {
  const delay = Duration.toMillis(Polling.nextDelay(observations.map(progressOf), settings.poll))
  const last = observations[observations.length - 1]!.at
  return expiresAt !== undefined && expiresAt > last ? Math.min(delay, expiresAt - last) : delay
}

/** The wait before launch attempt `n + 1` when the provider had no room: `initial` × 2ⁿ⁻¹, at most `max`. */
const capacityDelay = (settings: Settings, n: number): Duration.Duration =>
  Duration.millis(
    Math.min(
      Duration.toMillis(settings.capacityWait.max),
      Duration.toMillis(settings.capacityWait.initial) * Math.pow(2, n - 1)
    )
  )

const expiryOf = (status: Batch.BatchStatus | undefined) =>
  status?.expiresAt === undefined ? undefined : DateTime.toEpochMillis(status.expiresAt)

const execute = (submission: Submission.Submission, executionId: string) =>
  Effect.gen(function*() {
    const settings = yield* CurrentSettings
    const executions = yield* Executions.Executions
    const engine = yield* WorkflowEngine.WorkflowEngine
    const batch = yield* (yield* BatchProviders.BatchProviders).get(submission.provider).pipe(
      Effect.mapError(asExecutionError("prepare"))
    )
    const steps = Steps.make(batch)
    // Read once per run: an execution waiting on the durable clock is woken (and runs again from the top) by the
    // signal, so a cancel is seen within one wake-up.
    const cancelRequested = (yield* engine.deferredResult(CancelSignal)) !== undefined

    const prepared = yield* Activity.make({
      name: "prepare",
      success: Batch.Prepared,
      error: ExecutionError,
      execute: guarded(
        "prepare",
        settings,
        Effect.zipRight(executions.setStage(executionId, "preparing"), steps.prepare(submission))
      )
    })

    // The cancel check lives inside the activity, so whether the job was created is stored, never re-decided. A
    // provider with no room for another job is not a failure: the attempt is stored as `Busy`, the execution waits
    // on the durable clock and launches again (`launch/2`, …).
    const launchOnce = (attempt: number) =>
      Activity.make({
        name: attempt === 1 ? "launch" : `launch/${attempt}`,
        success: Launch,
        error: ExecutionError,
        execute: guarded(
          "launch",
          settings,
          Effect.gen(function*() {
            const cancelled = (yield* engine.deferredResult(CancelSignal)) !== undefined
            if (cancelled) return Skipped.make({})
            yield* executions.setStage(executionId, "launching")
            const launched = yield* Effect.either(steps.launch(prepared))
            if (launched._tag === "Left") {
              if (!steps.isBusy(launched.left)) return yield* launched.left
              const reason = messageOf(launched.left)
              yield* executions.recordWait(executionId, `waiting for the provider to have room: ${reason}`)
              return Busy.make({ reason })
            }
            const { attached, status } = launched.right
            const at = yield* Clock.currentTimeMillis
            yield* executions.recordStatus(executionId, {
              stage: "running",
              status,
              polls: 0,
              nextPollAt: Batch.isTerminal(status.phase)
                ? undefined
                : at + delayAfter([{ at, status }], settings, expiryOf(status))
            })
            return Launched.make({ at, status, attached })
          })
        )
      })
    let launch = yield* launchOnce(1)
    for (let attempt = 2; launch._tag === "Busy" && !cancelRequested; attempt++) {
      yield* DurableClock.sleep({
        name: `capacity/${attempt - 1}`,
        duration: capacityDelay(settings, attempt - 1),
        inMemoryThreshold: Duration.millis(Duration.toMillis(settings.inMemoryThreshold))
      })
      launch = yield* launchOnce(attempt)
    }

    const collect = (batchId: string | undefined) =>
      Activity.make({
        name: "collect",
        success: Collected,
        error: ExecutionError,
        execute: guarded(
          "collect",
          settings,
          Effect.gen(function*() {
            yield* executions.setStage(executionId, "collecting")
            const cursor = yield* executions.cursor(executionId)
            const done = yield* Collect.collect({
              sink: submission.sink,
              results: batchId === undefined ? Stream.empty : steps.results(batchId),
              cursor,
              chunkSize: settings.chunkSize,
              commit: (next) => executions.commit(executionId, next)
            })
            yield* executions.finish(executionId, { stage: "done" })
            return { results: done.results, succeeded: done.succeeded }
          })
        )
      })

    if (launch._tag !== "Launched") {
      const collected = yield* collect(undefined)
      return new Outcome({
        executionId,
        phase: "cancelled",
        ...collected,
        sink: submission.sink,
        dropped: prepared.dropped
      })
    }

    const batchId = launch.status.id
    const observations: Array<Observation> = [{ at: launch.at, status: launch.status }]
    let status = launch.status
    if (cancelRequested && !Batch.isTerminal(status.phase)) {
      status = yield* Activity.make({
        name: "cancel",
        success: Batch.BatchStatus,
        error: ExecutionError,
        execute: guarded("cancel", settings, steps.cancel(batchId))
      })
    }

    let failures = 0
    for (let n = 1; !Batch.isTerminal(status.phase); n++) {
      const wait = delayAfter(observations, settings, expiryOf(status))
      yield* DurableClock.sleep({
        name: `wait/${n}`,
        duration: Duration.millis(wait),
        // `0 millis` rather than 0: the clock treats a falsy threshold as "use the default (60 s)".
        inMemoryThreshold: Duration.millis(Duration.toMillis(settings.inMemoryThreshold))
      })
      const seen = [...observations]
      const observed = yield* Activity.make({
        name: `poll/${n}`,
        success: Observation,
        error: ExecutionError,
        execute: guarded(
          "poll",
          settings,
          Effect.gen(function*() {
            const read = yield* Effect.either(steps.poll(batchId))
            const at = yield* Clock.currentTimeMillis
            if (read._tag === "Left") {
              const failure = messageOf(read.left)
              const next: Observation = { at, failure }
              yield* executions.recordPollFailure(executionId, {
                polls: n,
                nextPollAt: at + delayAfter([...seen, next], settings, expiryOf(status)),
                error: `status read failed, retrying: ${failure}`
              })
              return next
            }
            const next: Observation = { at, status: read.right }
            yield* executions.recordStatus(executionId, {
              stage: "running",
              status: read.right,
              polls: n,
              nextPollAt: Batch.isTerminal(read.right.phase)
                ? undefined
                : at + delayAfter([...seen, next], settings, expiryOf(read.right))
            })
            return next
          })
        )
      })
      observations.push(observed)
      if (observed.status === undefined) {
        failures += 1
        if (failures >= settings.maxPollFailures) {
          return yield* new StepFailed({
            step: "poll",
            error: "PollFailed",
            detail: `${failures} status reads in a row failed, the last: ${observed.failure}; ` +
              `the batch ${batchId} may still be running at the provider`
          })
        }
      } else {
        failures = 0
        status = observed.status
      }
    }

    const collected = yield* collect(batchId)
    return new Outcome({
      executionId,
      batchId,
      phase: status.phase,
      status,
      ...collected,
      sink: submission.sink,
      dropped: prepared.dropped
    })
  }).pipe(
    Effect.tapError((error) =>
      Effect.flatMap(Executions.Executions, (executions) =>
        Effect.ignore(executions.finish(executionId, { stage: "failed", error: messageOf(error) })))
    )
  )

/**
 * Registers the workflow with the deployment's engine: the layer every worker (runner) runs. It needs the
 * providers the worker serves, the executions view, a `FileSystem` for file sinks (and a `Sink.ObjectStore` for
 * object sinks).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  never,
  never,
  WorkflowEngine.WorkflowEngine | BatchProviders.BatchProviders | Executions.Executions | FileSystem.FileSystem
> = workflow.toLayer(execute)

// ---------------------------------------------------------------------------------------------------------------
// Client: any process of the deployment
// ---------------------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category models
 */
export interface StartOptions extends Batch.SubmitOptions {
  /** The provider that runs the batch (a name the workers' `BatchProviders` know). */
  readonly provider: string
  readonly sink: Sink.Sink
}

/**
 * What {@link start} did: the execution, and whether this call created it or joined one already started.
 *
 * @since 0.1.0
 * @category models
 */
export interface Started {
  readonly executionId: string
  readonly joined: boolean
  readonly execution: Executions.Execution
}

/**
 * Starts a durable batch, or joins the execution of the same submission already started (anywhere in the
 * deployment), and returns once it is stored: any worker runs it from there, and this process may exit.
 *
 * @since 0.1.0
 * @category client
 */
export const start = <E = never, R = never>(
  input: Submission.Input<E, R>,
  options: StartOptions
): Effect.Effect<
  Started,
  E | SinkConflict | SqlError.SqlError,
  R | WorkflowEngine.WorkflowEngine | Executions.Executions
> =>
  Effect.gen(function*() {
    const executions = yield* Executions.Executions
    const submission = Submission.make({
      provider: options.provider,
      input: yield* Submission.inputText(input),
      sink: options.sink,
      submit: options
    })
    const executionId = yield* workflow.executionId(submission)
    const registered = yield* executions.register({
      executionId,
      key: submission.key,
      provider: submission.provider,
      sink: submission.sink
    })
    if (!Sink.equals(registered.execution.sink, submission.sink)) {
      return yield* new SinkConflict({ executionId, existing: registered.execution.sink, requested: submission.sink })
    }
    yield* workflow.execute(submission, { discard: true })
    return { executionId, joined: !registered.created, execution: registered.execution }
  }).pipe(Effect.withSpan("BatchWorkflow.start", { attributes: { provider: options.provider } }))

/**
 * The execution as it stands now.
 *
 * @since 0.1.0
 * @category client
 */
export const status = (
  executionId: string
): Effect.Effect<Executions.Execution, ExecutionNotFound | SqlError.SqlError, Executions.Executions> =>
  Effect.flatMap(
    Executions.Executions,
    (executions) =>
      Effect.flatMap(executions.get(executionId), (row) =>
        Option.match(row, {
          onNone: () => Effect.fail(new ExecutionNotFound({ executionId })),
          onSome: Effect.succeed
        }))
  )

/**
 * The execution now and at each change (read every `every`, default 1 s), ending with its final state.
 *
 * @since 0.1.0
 * @category client
 */
export const watch = (
  executionId: string,
  options?: { readonly every?: Duration.DurationInput | undefined }
): Stream.Stream<Executions.Execution, ExecutionNotFound | SqlError.SqlError, Executions.Executions> =>
  Stream.repeatEffectWithSchedule(status(executionId), Schedule.spaced(options?.every ?? "1 second")).pipe(
    Stream.changesWith((a, b) => a.updatedAt.epochMillis === b.updatedAt.epochMillis),
    Stream.takeUntil((execution) => Executions.isFinal(execution.stage))
  )

/**
 * Waits for the execution to end and returns its outcome, or fails with its error.
 *
 * @since 0.1.0
 * @category client
 */
export const await_ = (
  executionId: string,
  options?: { readonly every?: Duration.DurationInput | undefined }
): Effect.Effect<
  Outcome,
  ExecutionError | ExecutionNotFound | SqlError.SqlError,
  Executions.Executions | WorkflowEngine.WorkflowEngine
> =>
  Effect.gen(function*() {
    yield* Stream.runDrain(watch(executionId, options))
    // The view says final; the engine holds the typed result (its reply may trail the view by a moment).
    type Polled = Workflow.Result<Outcome, ExecutionError> | undefined
    const result = yield* workflow.poll(executionId).pipe(
      Effect.repeat({
        schedule: Schedule.identity<Polled>().pipe(Schedule.zipLeft(Schedule.spaced(options?.every ?? "1 second"))),
        until: (result) => result?._tag === "Complete"
      })
    )
    return yield* result?._tag === "Complete" ? result.exit : Effect.die("unreachable: repeat ended early")
  })

export {
  /**
   * Waits for the execution to end and returns its outcome, or fails with its error.
   *
   * @since 0.1.0
   * @category client
   */
  await_ as await
}

/**
 * Cancels the execution: a durable signal the execution acts on when it next wakes (at once if it is waiting
 * between polls). Before launch no job is created; after, the provider job is cancelled and the results it
 * produced are still collected. Returns the execution as it stands.
 *
 * @since 0.1.0
 * @category client
 */
export const cancel = (
  executionId: string
): Effect.Effect<
  Executions.Execution,
  ExecutionNotFound | SqlError.SqlError,
  Executions.Executions | WorkflowEngine.WorkflowEngine
> =>
  Effect.gen(function*() {
    const current = yield* status(executionId)
    if (Executions.isFinal(current.stage)) return current
    const executions = yield* Executions.Executions
    yield* executions.requestCancel(executionId)
    yield* DurableDeferred.done(CancelSignal, {
      token: DurableDeferred.tokenFromExecutionId(CancelSignal, { workflow, executionId }),
      exit: Exit.void
    })
    return yield* status(executionId)
  })

/**
 * Every result of a finished execution, read back from its sink.
 *
 * @since 0.1.0
 * @category client
 */
export const results = (
  executionId: string
): Stream.Stream<
  Batch.BatchResult,
  ExecutionNotFound | NotFinished | Sink.SinkError | SqlError.SqlError | Jsonl.JsonlError,
  Executions.Executions | FileSystem.FileSystem
> =>
  Stream.unwrap(Effect.gen(function*() {
    const execution = yield* status(executionId)
    if (execution.stage !== "done") return yield* new NotFinished({ execution })
    return Sink.read(execution.sink)
  }))
