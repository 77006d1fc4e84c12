/**
 * An in-memory `ArkBatch` for users' tests, over core's `Mock` platform: jobs move with Effect's `Clock` (so
 * `TestClock` drives them), requests are checked, sized and encoded by Ark's own rules, statuses use Ark's words and
 * mapping, and each request gets what `respond` says.
 *
 * @example
 * ```ts
 * import { ArkBatch, Mock } from "@barge/ark"
 * import { Batch } from "@barge/core"
 * import { Effect, Layer } from "effect"
 *
 * const BatchTest = ArkBatch.layerBatch.pipe(Layer.provide(Mock.layer({ queuedFor: "1 minute" })))
 * ```
 *
 * @since 0.1.0
 */
import * as ApiError from "@barge/core/ApiError"
import * as Batch from "@barge/core/Batch"
import * as CompletionWindow from "@barge/core/CompletionWindow"
import * as InputValidation from "@barge/core/InputValidation"
import * as CoreMock from "@barge/core/Mock"
import * as Provider from "@barge/core/Provider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as ArkBatch from "./ArkBatch.js"
import * as Errors from "./Errors.js"
import * as internal from "./internal/provider.js"
import * as Job from "./Job.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** What each request gets: a completion, or the error it fails with. Default: an echo of the last message. */
  readonly respond?: CoreMock.Options["respond"]
  /** How long a job stays Queued; default 1 s. */
  readonly queuedFor?: CoreMock.Options["queuedFor"]
  /** Time per request once Running; default 100 ms. */
  readonly perRequest?: CoreMock.Options["perRequest"]
  /** Refuses a create with this error (e.g. a quota). */
  readonly refuseCreate?: CoreMock.Options["refuseCreate"]
  /** Fails a job once it starts running. */
  readonly failJob?: CoreMock.Options["failJob"]
  /** Lower limits than Ark's, to force a split with a small input. */
  readonly limits?: Partial<Provider.Limits> | undefined
  /** Versions for bare model names, on top of Ark's table. */
  readonly versions?: Readonly<Record<string, string>> | undefined
}

/**
 * What the mock platform holds, for assertions.
 *
 * @since 0.1.0
 * @category tags
 */
export class MockState extends Context.Tag("@barge/ark/Mock/MockState")<MockState, {
  /** The files uploaded and the creates and uploads counted so far. */
  readonly holdings: () => CoreMock.Holdings
}>() {}

const words: Record<CoreMock.MockState, string> = {
  queued: "Queued",
  running: "Running",
  done: "Completed",
  failed: "Failed",
  stopping: "Terminating",
  stopped: "Terminated",
  expired: "Terminated"
}

const mockBucket = "mock"

/**
 * The mock service and its platform.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<{ readonly service: ArkBatch.Service; readonly mock: CoreMock.Mock }> =>
  Effect.gen(function*() {
    const versions = { ...internal.defaultVersions, ...options.versions }
    const ark = internal.data(versions)
    const mock = yield* CoreMock.make({
      name: "ark",
      limits: { ...ark.limits, ...options.limits },
      window: ark.window,
      endpoint: ark.endpoint,
      respond: options.respond,
      queuedFor: options.queuedFor,
      perRequest: options.perRequest,
      refuseCreate: options.refuseCreate,
      failJob: options.failJob
    })
    const base = mock.provider
    const changes = new Map<string, { readonly name?: string | undefined; readonly description?: string | undefined }>()
    const deleted = new Set<string>()

    const jobOf = (job: CoreMock.MockJob): Job.Job => {
      const changed = changes.get(job.id)
      const description = changed?.description
      return Job.Job.make({
        id: job.id,
        name: changed?.name ?? `mock-${job.id}`,
        ...(description === undefined ? {} : { description }),
        projectName: "default",
        model: Either.getOrElse(internal.modelOf(job.model, versions), () => Job.foundationModel(job.model, "")),
        input: Job.Location.make({ bucket: mockBucket, key: job.input }),
        outputDir: Job.Location.make({ bucket: mockBucket, key: "outputs/" }),
        ...(job.window === undefined ? {} : { completionWindow: job.window }),
        phase: words[job.state],
        ...(job.state === "expired" ? { phaseTime: new Date(job.expiresAt) } : {}),
        message: "",
        counts: Job.Counts.make({ total: job.total, completed: job.completed, failed: job.failed }),
        tags: [
          ...Object.entries(job.metadata).map(([key, value]) => ({ key, value })),
          { key: internal.partTag, value: job.key }
        ],
        createdAt: new Date(job.createdAt),
        expiresAt: new Date(job.expiresAt)
      })
    }

    const notFound = (action: string, id: string) =>
      new ApiError.ApiError({
        provider: "ark",
        action,
        reason: "NotFound",
        status: 404,
        code: "NotFound.BatchInferenceJob",
        description: `The batch inference job ${id} does not exist (mock).`
      })

    const live = (action: string, id: string) => deleted.has(id) ? Effect.fail(notFound(action, id)) : base.get(id)

    const get = (id: string) => Effect.map(live("GetBatchInferenceJob", id), jobOf)

    const list = (filter: ArkBatch.ListFilter = {}) =>
      base.list().pipe(
        Stream.filter((job) => !deleted.has(job.id)),
        Stream.map(jobOf),
        Stream.filter((job) =>
          (filter.ids === undefined || filter.ids.includes(job.id)) &&
          (filter.name === undefined || (job.name ?? "").includes(filter.name)) &&
          (filter.phases === undefined || filter.phases.some((phase) => phase === job.phase)) &&
          (filter.tags ?? []).every((wanted) =>
            job.tags.some((tag) =>
              tag.key === wanted.key &&
              (wanted.values === undefined || wanted.values.length === 0 || wanted.values.includes(tag.value))
            )
          )
        )
      )

    const provider: Provider.Provider<Job.Job, ArkBatch.SubmitOptions, ArkBatch.ListFilter> = {
      ...ark,
      limits: base.limits,
      upload: (upload) => base.upload(upload, {}),
      create: (part) => Effect.map(base.create({ ...part, options: {} }), jobOf),
      find: (key) => Stream.map(base.find(key, {}), jobOf),
      get,
      list,
      cancel: (id) => Effect.zipRight(live("StopBatchInferenceJob", id), Effect.map(base.cancel(id), jobOf)),
      results: (job) => Stream.unwrap(Effect.map(base.get(job.id), base.results)),
      inputIds: (job) => Stream.unwrap(Effect.map(base.get(job.id), base.inputIds!))
    }

    // Ark's own create over a file the mock holds (an id `upload` returned), with Ark's duplicate rule.
    const create = (request: ArkBatch.CreateRequest) =>
      Effect.gen(function*() {
        const window = CompletionWindow.resolve(ark.window, "ark", request.completionWindow)
        if (Either.isLeft(window)) {
          const issue = new InputValidation.Issue({ lineNumber: 0, rule: "InvalidParameter", message: window.left })
          return yield* new InputValidation.InputValidationError({
            issues: [issue],
            totalIssues: 1,
            lines: 0,
            bytes: 0
          })
        }
        const active = yield* Stream.runHead(
          list({ phases: ["Queued", "Running"] }).pipe(Stream.filter((job) => job.input?.key === request.input.key))
        )
        if (Option.isSome(active)) {
          return yield* new Errors.DuplicateActiveJob({
            activeJobId: active.value.id,
            status: 409,
            code: "Conflict.BatchInferenceJob",
            description: `An active batch inference job ${active.value.id} already uses this input (mock).`
          })
        }
        const job = yield* provider.create({
          key: request.tags?.[internal.partTag] ?? "",
          submission: "",
          index: 0,
          count: 1,
          model: Job.modelName(request.model),
          group: Job.modelName(request.model),
          lines: 0,
          bytes: 0,
          input: request.input.key,
          window: window.right,
          metadata: request.tags ?? {},
          parameters: {},
          options: {}
        })
        if (request.name !== undefined) changes.set(job.id, { name: request.name, description: request.description })
        return yield* get(job.id)
      })

    // One process, one store: no other process can create a job at the same moment, so there is nothing to settle.
    const service = Provider.make(provider, { create, settle: 0 })
    return {
      mock,
      service: ArkBatch.ArkBatch.of({
        ...service,
        update: (id, update) =>
          Effect.map(live("UpdateBatchInferenceJob", id), () => {
            changes.set(id, { ...changes.get(id), ...update })
          }),
        delete: (id) =>
          Effect.flatMap(live("DeleteBatchInferenceJob", id), (job) =>
            !Batch.isTerminal(CoreMock.status(job).phase)
              ? Effect.fail(
                new ApiError.ApiError({
                  provider: "ark",
                  action: "DeleteBatchInferenceJob",
                  reason: "Conflict",
                  status: 403,
                  code: "OperationDenied.UnsupportedPhase",
                  description: `The batch inference job ${id} cannot be deleted while it is ${words[job.state]} (mock).`
                })
              )
              : Effect.sync(() => void deleted.add(id))),
        resume: (id) =>
          Effect.flatMap(live("ResumeBatchInferenceJob", id), () =>
            Effect.fail(
              new ApiError.ApiError({
                provider: "ark",
                action: "ResumeBatchInferenceJob",
                reason: "InvalidRequest",
                description: "the mock platform cannot resume jobs; test resume against @barge/emulator"
              })
            ))
      })
    }
  })

/**
 * The mock as `ArkBatch` plus `MockState`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<ArkBatch.ArkBatch | MockState> =>
  Layer.effectContext(
    Effect.map(make(options), ({ mock, service }) =>
      Context.make(ArkBatch.ArkBatch, service).pipe(Context.add(MockState, { holdings: mock.state })))
  )
