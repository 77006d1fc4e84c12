/**
 * An in-memory `ArkBatch` for users' tests: no HTTP, no TOS, no clock. Each job follows a script — the phases
 * successive `get` calls observe, which requests fail, how it ends — so a program built on `ArkBatch` can be
 * tested by swapping one layer.
 *
 * @example
 * ```ts
 * import { ArkBatch, Mock } from "@barge/ark"
 * import { Effect } from "effect"
 *
 * const test = program.pipe(Effect.provide(Mock.layer({ script: () => ({ failCustomIds: ["q2"] }) })))
 * ```
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { StreamTypeId } from "effect/Stream"
import type * as ArkBatchModule from "./ArkBatch.js"
import { ArkBatch } from "./ArkBatch.js"
import * as Errors from "./Errors.js"
import * as Job from "./Job.js"
import type * as Wire from "./Wire.js"

/**
 * How one mock job behaves.
 *
 * @since 0.1.0
 * @category models
 */
export interface Script {
  /**
   * The phases successive observations see (each `get`, and each poll of `await`/`watch`, moves one step; the
   * last repeats). Default `["Queued", "Running", "Completed"]`. End with `"Failed"` or `"Terminated"` to script
   * those outcomes.
   */
  readonly phases?: ReadonlyArray<string> | undefined
  /** Requests whose result is an error. */
  readonly failCustomIds?: ReadonlyArray<string> | undefined
  /** The status message of the final phase (e.g. why it failed). */
  readonly message?: string | undefined
  /** The response body of a successful request (default: a chat completion echoing the custom id). */
  readonly respond?: ((request: ArkBatchModule.BatchRequest) => unknown) | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The script of each new job, from its name and requests (empty for `create`). */
  readonly script?:
    | ((job: { readonly name: string; readonly requests: ReadonlyArray<ArkBatchModule.BatchRequest> }) => Script)
    | undefined
}

/**
 * A scripted job's state, for assertions.
 *
 * @since 0.1.0
 * @category models
 */
export interface MockJob {
  readonly job: Job.Job
  readonly requests: ReadonlyArray<ArkBatchModule.BatchRequest>
  readonly script: Script
  /** Index into the phases of the last observation. */
  readonly step: number
  readonly deleted: boolean
}

/**
 * The mock's inspectable state.
 *
 * @since 0.1.0
 * @category tags
 */
export class MockState extends Context.Tag("@barge/ark/Mock/MockState")<MockState, {
  readonly jobs: ReadonlyMap<string, MockJob>
}>() {}

const defaultPhases = ["Queued", "Running", "Completed"]

const notFound = (action: string, id: string) =>
  new Errors.NotFound({
    action,
    status: 404,
    code: "NotFound.BatchInferenceJob",
    description: `The batch inference job ${id} does not exist (mock).`
  })

/**
 * Builds the mock service and its state.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<{
  readonly service: ArkBatchModule.Service
  readonly state: MockState["Type"]
}> =>
  Effect.sync(() => {
    const jobs = new Map<string, MockJob>()
    let counter = 0

    const view = (entry: MockJob, step: number): Job.Job => {
      const phases = entry.script.phases ?? defaultPhases
      const phase = phases[Math.min(step, phases.length - 1)]!
      const total = entry.requests.length
      const failing = entry.requests.filter((r) => entry.script.failCustomIds?.includes(r.customId)).length
      const done = Job.isTerminalPhase(phase) ? total : phase === "Running" ? Math.floor(total / 2) : 0
      const failed = Math.min(failing, done)
      const last = step >= phases.length - 1
      return Job.Job.make({
        ...entry.job,
        phase,
        message: last && entry.script.message !== undefined ? entry.script.message : `mock phase ${phase}`,
        counts: Job.Counts.make({ total, completed: done - failed, failed })
      })
    }

    const observe = (action: string, id: string) =>
      Effect.suspend(() => {
        const entry = jobs.get(id)
        if (entry === undefined || entry.deleted) return Effect.fail(notFound(action, id))
        const phases = entry.script.phases ?? defaultPhases
        const step = Math.min(entry.step + 1, phases.length - 1)
        const next = { ...entry, step, job: view(entry, step) }
        jobs.set(id, next)
        return Effect.succeed(next.job)
      })

    const start = (
      name: string,
      requests: ReadonlyArray<ArkBatchModule.BatchRequest>,
      model: Job.Model,
      input: Job.Location,
      outputDir: Job.Location
    ): MockJob => {
      counter++
      const id = `bi-20250101000000-m${String(counter).padStart(4, "0")}`
      const script = options.script?.({ name, requests }) ?? {}
      const entry: MockJob = {
        requests,
        script,
        step: 0,
        deleted: false,
        job: Job.Job.make({
          id,
          name,
          projectName: "default",
          model,
          input,
          outputDir,
          errorFile: Job.Location.make({ bucket: outputDir.bucket, key: `${outputDir.key}${id}/error/errors.jsonl` }),
          phase: "Queued",
          message: "",
          counts: Job.Counts.make({ total: requests.length, completed: 0, failed: 0 }),
          tags: [],
          createdAt: new Date(0)
        })
      }
      const first = { ...entry, job: view(entry, 0) }
      jobs.set(id, first)
      return first
    }

    const collectRequests = (
      requests:
        | string
        | Iterable<ArkBatchModule.BatchRequest>
        | Stream.Stream<ArkBatchModule.BatchRequest, unknown, unknown>
    ): Effect.Effect<ReadonlyArray<ArkBatchModule.BatchRequest>, unknown, unknown> =>
      typeof requests === "string"
        ? Effect.dieMessage("Mock ArkBatch.submit does not read files; pass the requests")
        : StreamTypeId in requests
        ? Effect.map(
          Stream.runCollect(requests as Stream.Stream<ArkBatchModule.BatchRequest, unknown, unknown>),
          Chunk.toReadonlyArray
        )
        : Effect.succeed(Array.from(requests as Iterable<ArkBatchModule.BatchRequest>))

    const service: ArkBatchModule.Service = {
      create: (create) =>
        Effect.sync(() => start(create.name, [], create.model, create.input, create.outputDir).job.id),
      get: (id) => observe("GetBatchInferenceJob", id),
      list: (filters = {}) =>
        Stream.fromIterable(
          Array.from(jobs.values()).filter((entry) => !entry.deleted).map((entry) => entry.job).filter((job) =>
            (filters.ids === undefined || filters.ids.includes(job.id)) &&
            (filters.name === undefined || job.name.includes(filters.name)) &&
            (filters.phases === undefined || filters.phases.includes(job.phase as Wire.Phase))
          )
        ),
      update: (id, changes) =>
        Effect.suspend(() => {
          const entry = jobs.get(id)
          if (entry === undefined) return Effect.fail(notFound("UpdateBatchInferenceJob", id))
          jobs.set(id, {
            ...entry,
            job: Job.Job.make({
              ...entry.job,
              ...(changes.name === undefined ? {} : { name: changes.name }),
              ...(changes.description === undefined ? {} : { description: changes.description })
            })
          })
          return Effect.void
        }),
      delete: (id) =>
        Effect.suspend(() => {
          const entry = jobs.get(id)
          if (entry === undefined) return Effect.fail(notFound("DeleteBatchInferenceJob", id))
          jobs.set(id, { ...entry, deleted: true })
          return Effect.void
        }),
      stop: (id) =>
        Effect.suspend(() => {
          const entry = jobs.get(id)
          if (entry === undefined) return Effect.fail(notFound("StopBatchInferenceJob", id))
          const script = { ...entry.script, phases: ["Terminating", "Terminated"] }
          jobs.set(id, { ...entry, script, step: 0, job: view({ ...entry, script }, 0) })
          return Effect.void
        }),
      resume: (id) =>
        Effect.suspend(() => {
          const entry = jobs.get(id)
          if (entry === undefined) return Effect.fail(notFound("ResumeBatchInferenceJob", id))
          const script = { ...entry.script, phases: defaultPhases }
          jobs.set(id, { ...entry, script, step: 0, job: view({ ...entry, script }, 0) })
          return Effect.succeed(id)
        }),
      submit: ((requests: Parameters<typeof collectRequests>[0], submit: ArkBatchModule.SubmitOptions) =>
        Effect.map(collectRequests(requests), (collected) => {
          const bucket = submit.bucket ?? "mock-bucket"
          const input = Job.Location.make({ bucket, key: `mock/inputs/${submit.name}.jsonl` })
          // Same idempotency as Ark: an active job on the same input is attached to.
          for (const entry of jobs.values()) {
            if (
              !entry.deleted && entry.job.input.key === input.key && Job.isActivePhase(entry.job.phase) &&
              (submit.onDuplicate ?? "attach") === "attach"
            ) return { job: entry.job, attached: true, input, requests: collected.length }
          }
          const entry = start(
            submit.name,
            collected,
            submit.model,
            input,
            Job.Location.make({ bucket, key: "mock/outputs/" })
          )
          return { job: entry.job, attached: false, input, requests: collected.length }
        })) as ArkBatchModule.Service["submit"],
      await: (id) =>
        Effect.gen(function*() {
          let job = yield* observe("GetBatchInferenceJob", id)
          while (!job.isTerminal) job = yield* observe("GetBatchInferenceJob", id)
          if (job.phase === "Failed") return yield* new Errors.JobFailed({ job })
          if (job.phase === "Terminated") return yield* new Errors.JobTerminated({ job })
          return job
        }),
      watch: (id) =>
        Stream.unfoldEffect(false, (finished) =>
          finished
            ? Effect.succeed(Option.none())
            : Effect.map(observe("GetBatchInferenceJob", id), (job) => Option.some([job, job.isTerminal] as const))),
      results: (jobOrId) =>
        Stream.suspend(() => {
          const id = typeof jobOrId === "string" ? jobOrId : jobOrId.id
          const entry = jobs.get(id)
          if (entry === undefined) return Stream.fail(notFound("GetBatchInferenceJob", id))
          const processed = entry.job.counts.completed + entry.job.counts.failed
          const done = entry.requests.slice(0, processed)
          const results: Array<Job.Result> = done.map((request) =>
            entry.script.failCustomIds?.includes(request.customId)
              ? {
                _tag: "Error",
                customId: request.customId,
                error: { code: "MockFailure", message: "scripted failure" }
              }
              : {
                _tag: "Response",
                customId: request.customId,
                statusCode: 200,
                response: entry.script.respond?.(request) ?? {
                  object: "chat.completion",
                  choices: [{ index: 0, message: { role: "assistant", content: `mock: ${request.customId}` } }]
                }
              }
          )
          // Like the real files: responses first, then errors.
          return Stream.fromIterable([
            ...results.filter((r) => r._tag === "Response"),
            ...results.filter((r) => r._tag === "Error")
          ])
        })
    }
    return { service, state: { jobs } }
  })

/**
 * The mock as `ArkBatch` plus `MockState`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<ArkBatch | MockState> =>
  Layer.effectContext(
    Effect.map(
      make(options),
      ({ service, state }) => Context.make(ArkBatch, service).pipe(Context.add(MockState, state))
    )
  )
