/**
 * A `QianfanBatch` with no HTTP, for users' tests: core's in-memory platform (`Mock.make`) under Qianfan's own
 * limits, window rules, input lines, part key and status mapping. Tasks move with the `Clock` (queued for a while,
 * then a fixed time per request), so `TestClock` drives them; each request's answer comes from `respond`.
 *
 * @example
 * ```ts
 * import { Mock, QianfanBatch } from "@barge/qianfan"
 * import { Effect, Fiber, TestClock } from "effect"
 *
 * const test = Effect.gen(function*() {
 *   const qianfan = yield* QianfanBatch.QianfanBatch
 *   const submitted = yield* qianfan.submit([
 *     { customId: "1", model: "ernie-4.0-8k", messages: [{ role: "user", content: "hi" }] }
 *   ])
 *   const done = yield* Effect.fork(qianfan.await(submitted.id))
 *   yield* TestClock.adjust("1 minute")
 *   yield* Fiber.join(done)
 * }).pipe(Effect.provide(Mock.layer()))
 * ```
 *
 * @since 0.1.0
 */
import * as ApiError from "@barge/core/ApiError"
import * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import * as CoreMock from "@barge/core/Mock"
import * as Provider from "@barge/core/Provider"
import * as OpenAiMock from "@barge/openai-compatible/Mock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Errors from "./Errors.js"
import * as Qianfan from "./internal/provider.js"
import * as QianfanBatch from "./QianfanBatch.js"
import * as QianfanV2Batch from "./QianfanV2Batch.js"
import * as Wire from "./Wire.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** What each request gets: a completion, or the error it fails with. Default: an echo of the last message. */
  readonly respond?: ((request: ChatRequest.ChatRequest) => ChatRequest.ChatResponse | Batch.RequestError) | undefined
  /** How long a task waits before running; default 1 s. */
  readonly queuedFor?: Duration.DurationInput | undefined
  /** Time per request once running; default 100 ms. */
  readonly perRequest?: Duration.DurationInput | undefined
  /** Limits below Qianfan's, to split with a small input. */
  readonly limits?: Partial<Provider.Limits> | undefined
  /** Refuses the create of the part of this index (e.g. with `TaskRunningNumberExceedLimit`). */
  readonly refuseCreate?: ((part: { readonly index: number }) => ApiError.ApiError | undefined) | undefined
  /** Fails the task of the part of this index once it starts running, with this reason. */
  readonly failJob?: ((part: { readonly index: number }) => string | undefined) | undefined
}

const runStatus: Record<CoreMock.MockState, string> = {
  queued: "Queuing",
  running: "Running",
  done: "Done",
  failed: "Failed",
  stopping: "Stopping",
  stopped: "Stopped",
  expired: "Expired"
}

const iso = (millis: number) => new Date(millis).toISOString().slice(0, 19) + "Z"

/** A mock job as Describe would show the task. */
const toTask = (job: CoreMock.MockJob): Wire.Task =>
  new Wire.Task({
    taskId: job.id,
    name: Qianfan.nameOf(job.key),
    description: Qianfan.tagOf(job.key, job.total),
    ...(job.model.startsWith("amv-") ? { modelId: job.model } : { endpoint: job.model }),
    inferenceParams: { ...job.parameters },
    runStatus: runStatus[job.state],
    progress: job.completed + job.failed,
    inputBosUri: `bos:/mock/${job.input}/`,
    createTime: iso(job.createdAt),
    ...(job.state === "failed" ? { errorCode: 400, errorReason: "the mock was told to fail this task" } : {})
  })

/**
 * Builds a mock service.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<QianfanBatch.Service> =>
  Effect.gen(function*() {
    const mock = yield* CoreMock.make({
      name: "qianfan",
      limits: { ...Qianfan.limits, ...options.limits },
      window: Qianfan.window,
      respond: options.respond,
      queuedFor: options.queuedFor,
      perRequest: options.perRequest,
      refuseCreate: options.refuseCreate,
      failJob: options.failJob
    })
    const platform = mock.provider
    const deleted = new Set<string>()
    // The platform answers requests in its own line form; the Qianfan lines uploaded are mapped back by id.
    const requests = new Map<string, ChatRequest.ChatRequest>()

    const job = (taskId: string) =>
      deleted.has(taskId)
        ? Effect.fail(
          new ApiError.ApiError({
            provider: "qianfan",
            action: "DescribeBatchInferenceTask",
            reason: "NotFound",
            code: "ResourceNotFound",
            description: `task ${taskId} was deleted`
          })
        )
        : platform.get(taskId)
    const visible = (stream: Stream.Stream<CoreMock.MockJob, Provider.Failure>) =>
      stream.pipe(Stream.filter((found) => !deleted.has(found.id)), Stream.map(toTask))
    const fileOf = (input: string) => /^bos:\/mock\/([^/]+)\/$/.exec(input)?.[1] ?? input

    const provider: Provider.Provider<Wire.Task, QianfanBatch.SubmitOptions, QianfanBatch.ListFilter> = {
      name: "qianfan",
      limits: platform.limits,
      window: Qianfan.window,
      endpoint: "/v2/batchinference",
      partKey: Qianfan.partKey,
      encodeLine: (request) => {
        requests.set(request.customId, request)
        return Qianfan.encodeLine(request)
      },
      upload: (upload) =>
        Effect.map(
          platform.upload({
            ...upload,
            files: upload.files.map((file) => ({
              ...file,
              body: file.body.pipe(
                Stream.decodeText(),
                Stream.splitLines,
                Stream.map((line) => {
                  const id = String((JSON.parse(line) as { readonly id: unknown }).id)
                  return ChatRequest.toOpenAiLine(requests.get(id)!) + "\n"
                }),
                Stream.encodeText
              )
            })) as unknown as typeof upload.files
          }, {}),
          (file) => `bos:/mock/${file}/`
        ),
      create: (part) => Effect.map(platform.create({ ...part, input: fileOf(part.input) }), toTask),
      find: (key) => visible(platform.find(key, {})),
      get: (taskId) => Effect.map(job(taskId), toTask),
      list: (filter) =>
        visible(platform.list()).pipe(
          Stream.filter((task) => filter?.runStatus?.includes(task.runStatus ?? "") ?? true)
        ),
      cancel: (taskId) => Effect.map(Effect.flatMap(job(taskId), (found) => platform.cancel(found.id)), toTask),
      status: Qianfan.status,
      results: (task) => Stream.unwrap(Effect.map(job(task.taskId), platform.results)),
      inputIds: (task) => Stream.unwrap(Effect.map(job(task.taskId), platform.inputIds!)),
      finalCounts: (task) =>
        Effect.map(job(task.taskId), (found) =>
          new Batch.Counts({ total: found.total, completed: found.completed, failed: found.failed }))
    }

    const service = Provider.make(provider, {
      settle: 0,
      create: (request: Wire.CreateTaskRequest) =>
        Qianfan.checkWindow(request).pipe(
          Effect.zipRight(
            provider.create({
              key: /key=([0-9a-f]+)/.exec(request.description ?? "")?.[1] ?? request.name,
              submission: request.name,
              index: 0,
              count: 1,
              model: request.modelId ?? request.endpoint ?? "",
              group: request.dataFormat ?? "default",
              lines: 0,
              bytes: 0,
              input: request.inputBosUri,
              window: request.completion_window,
              metadata: {},
              parameters: request.inferenceParams,
              options: {}
            })
          )
        )
    })
    return QianfanBatch.QianfanBatch.of({
      ...service,
      delete: (taskId) =>
        Effect.flatMap(job(taskId), (found) =>
          Batch.isTerminal(CoreMock.status(found).phase)
            ? Effect.sync(() =>
              void deleted.add(taskId)
            )
            : Effect.fail(Errors.refused("DeleteBatchInferenceTask", taskId, undefined)))
    })
  })

/**
 * The mock as the `QianfanBatch` service.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<QianfanBatch.QianfanBatch> =>
  Layer.effect(QianfanBatch.QianfanBatch, make(options))

/**
 * The mock as the `QianfanV2Batch` service (Qianfan's OpenAI-style `/v2/batches`): `@barge/openai-compatible`'s
 * mock seen through the `/v2` profile.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerV2: (options?: OpenAiMock.Options) => Layer.Layer<QianfanV2Batch.QianfanV2Batch> = OpenAiMock
  .layerFor(QianfanV2Batch.QianfanV2Batch, QianfanV2Batch.profile)
