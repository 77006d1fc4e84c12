/**
 * A `QianfanBatch` with no HTTP, for users' tests: tasks walk through a scripted list of statuses (one step per
 * status check), results come from a function of each line, and BOS is an in-memory map. `submit` validates and
 * splits exactly as the real service does, so input errors surface the same way.
 *
 * @example
 * ```ts
 * import { Mock, QianfanBatch } from "@barge/qianfan"
 * import { Effect } from "effect"
 *
 * const test = Effect.gen(function*() {
 *   const qianfan = yield* QianfanBatch.QianfanBatch
 *   const submission = yield* qianfan.submit([{ id: "1", query: "hi" }], { model: { endpoint: "ernie-4.0-8k" } })
 *   yield* qianfan.await(submission)
 * }).pipe(Effect.provide(Mock.layer({ statuses: ["Queuing", "Running", "Done"] })))
 * ```
 *
 * @since 0.1.0
 */
import type * as Batch from "@barge/core/Batch"
import * as Bytes from "@barge/core/Bytes"
import * as ObjectStorage from "@barge/core/ObjectStorage"
import * as Polling from "@barge/core/Polling"
import type * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as Errors from "./Errors.js"
import * as Plan from "./internal/plan.js"
import * as QianfanBatch from "./QianfanBatch.js"
import type * as Storage from "./Storage.js"
import * as Wire from "./Wire.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The statuses every task walks through, one step per `describeTask` (the last one repeats). Default
   * `Queuing → Running → Done`.
   */
  readonly statuses?: ReadonlyArray<Wire.RunStatus> | undefined
  /** The result of each input line; default a completion answering `Echo: <query>`. */
  readonly respond?: ((line: Readonly<Record<string, unknown>>) => Batch.BatchResult) | undefined
  /** `errorCode` and `errorReason` of a task that reaches `Failed`. */
  readonly failure?: { readonly errorCode: number; readonly errorReason: string } | undefined
  /** Split limits, as in the real service. */
  readonly limits?: Partial<QianfanBatch.Limits> | undefined
}

interface MockTask {
  readonly taskId: string
  readonly request: Wire.CreateTaskRequest
  readonly lines: ReadonlyArray<Record<string, unknown>>
  step: number
  stopped: boolean
}

const echo = (line: Readonly<Record<string, unknown>>): Batch.BatchResult => {
  const prompt = typeof line.query === "string" ? line.query : typeof line.src === "string" ? line.src : ""
  return {
    _tag: "Succeeded",
    customId: String(line.id),
    response: {
      choices: [{ index: 0, message: { role: "assistant", content: `Echo: ${prompt}` }, finish_reason: "stop" }]
    }
  }
}

const memoryStorage = (bucket: string): Storage.Service => {
  const objects = new Map<string, Uint8Array>()
  const notFound = (key: string) =>
    new Errors.NotFound({ action: "GetObject", status: 404, code: "NoSuchKey", description: `no object ${key}` })
  const info = (key: string, bytes: Uint8Array): Storage.ObjectInfo => ({ key, size: bytes.length })
  const putBytes: Storage.Service["putBytes"] = (key, bytes) =>
    Effect.sync(() => {
      objects.set(key, bytes)
      return { key }
    })
  const get: Storage.Service["get"] = (key, options) =>
    Effect.suspend(() => {
      const bytes = objects.get(key)
      if (bytes === undefined) return Effect.fail(notFound(key))
      const range = options?.range
      const start = Math.min(range?.start ?? 0, bytes.length)
      const end = range?.end === undefined ? bytes.length : range.end + 1
      return Effect.succeed({
        status: range === undefined ? 200 : 206,
        start,
        totalSize: bytes.length,
        body: start >= end ? Stream.empty : Stream.make(bytes.subarray(start, end))
      })
    })
  const head: Storage.Service["head"] = (key) =>
    Effect.suspend(() => {
      const bytes = objects.get(key)
      return bytes === undefined ? Effect.fail(notFound(key)) : Effect.succeed(info(key, bytes))
    })
  const storage: ObjectStorage.ObjectStorage<Storage.StorageError> = {
    bucket,
    put: (key, body) => Effect.flatMap(Bytes.collect(body), (bytes) => putBytes(key, bytes)),
    get,
    head,
    delete: (key) => Effect.sync(() => void objects.delete(key)),
    list: (prefix) =>
      Stream.suspend(() =>
        Stream.fromIterable(
          [...objects.entries()].filter(([key]) => key.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1)).map(
            ([key, bytes]) => info(key, bytes)
          )
        )
      )
  }
  return {
    ...storage,
    put: (key, body) => Effect.flatMap(Bytes.collect(body), (bytes) => putBytes(key, bytes)),
    putBytes,
    uri: (prefix) => `bos:/${bucket}/${prefix}`,
    stream: (key, options) => Stream.unwrap(Effect.map(get(key, options), (result) => result.body)),
    exists: (key) => Effect.option(head(key)),
    lines: (key) => ObjectStorage.resumableLines(storage, key)
  }
}

/**
 * Builds a mock service.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<QianfanBatch.Service> =>
  Effect.sync(() => {
    const statuses = options.statuses ?? ["Queuing", "Running", "Done"]
    const respond = options.respond ?? echo
    const limits = { ...QianfanBatch.defaultLimits, ...options.limits }
    const tasks = new Map<string, MockTask>()
    const storage = memoryStorage("mock")
    let counter = 0

    const statusOf = (task: MockTask): Wire.RunStatus => {
      const scripted = statuses[Math.min(task.step, statuses.length - 1)]!
      if (task.stopped && !Wire.isTerminal(scripted)) return "Stopped"
      return scripted
    }

    const render = (task: MockTask): Wire.Task => {
      const runStatus = statusOf(task)
      const total = task.lines.length
      const progress = runStatus === "Done"
        ? total
        : runStatus === "Queuing" || runStatus === "Failed"
        ? 0
        : Math.floor(total / 2)
      return new Wire.Task({
        taskId: task.taskId,
        name: task.request.name,
        description: task.request.description,
        endpoint: task.request.endpoint,
        modelId: task.request.modelId,
        runStatus,
        progress,
        totalCount: total,
        outputBosUri: task.request.outputBosUri,
        outputDir: "mock",
        ...(runStatus === "Failed"
          ? {
            errorCode: options.failure?.errorCode ?? 400,
            errorReason: options.failure?.errorReason ?? "the mock was scripted to fail"
          }
          : {})
      })
    }

    const find = (taskId: string) =>
      Effect.suspend(() => {
        const task = tasks.get(taskId)
        return task === undefined
          ? Effect.fail(
            new Errors.NotFound({
              action: "DescribeBatchInferenceTask",
              status: 404,
              code: "ResourceNotFound",
              description: `no task ${taskId}`
            })
          )
          : Effect.succeed(task)
      })

    const create = (request: Wire.CreateTaskRequest, lines: ReadonlyArray<Record<string, unknown>>) => {
      const taskId = `infer-mock${String(counter++).padStart(7, "0")}`
      tasks.set(taskId, { taskId, request, lines, step: 0, stopped: false })
      return taskId
    }

    const describeTask = (taskId: string) =>
      Effect.map(find(taskId), (task) => {
        const rendered = render(task)
        task.step++
        return rendered
      })

    const submit: QianfanBatch.Service["submit"] = <E, R>(
      input: QianfanBatch.Input<E, R>,
      submitOptions: QianfanBatch.SubmitOptions
    ) =>
      Effect.gen(function*() {
        const model = submitOptions.model as { readonly endpoint?: string; readonly modelId?: string }
        const format = submitOptions.dataFormat ?? "default"
        const values: Array<Record<string, unknown>> = []
        const source: Stream.Stream<unknown, E, R> = Stream.StreamTypeId in (input as object)
          ? input as Stream.Stream<unknown, E, R>
          : Stream.fromIterable(input as Iterable<unknown>)
        const plan = yield* Plan.plan(
          Stream.tap(source, (value) => Effect.sync(() => values.push(value as Record<string, unknown>))),
          { format, model, limits, header: Plan.canonicalJson({ model, format }) }
        )
        const taskIds: Array<string> = []
        let offset = 0
        for (const [index, planned] of plan.tasks.entries()) {
          const count = planned.files.reduce((sum, file) => sum + file.lines, 0)
          taskIds.push(create({
            name: `barge-${plan.hash.slice(0, 10)}-${index}`,
            ...(model.endpoint === undefined ? { modelId: model.modelId! } : { endpoint: model.endpoint }),
            inferenceParams: { ...submitOptions.inferenceParams },
            inputBosUri: `bos:/mock/input/${index}/`,
            outputBosUri: `bos:/mock/output/${index}/`
          }, values.slice(offset, offset + count)))
          offset += count
        }
        return new QianfanBatch.Submission({
          hash: plan.hash,
          taskIds: taskIds as unknown as Arr.NonEmptyReadonlyArray<string>,
          lines: plan.lines,
          attached: 0
        })
      })

    const idsOf = (target: QianfanBatch.Target): ReadonlyArray<string> =>
      typeof target === "string" ? [target] : target instanceof QianfanBatch.Submission ? target.taskIds : target

    const isTerminal = (task: Wire.Task) => Wire.isTerminal(task.runStatus)

    return {
      limits,
      storage,
      createTask: (request) => Effect.sync(() => create(request, [])),
      describeTask,
      listTasks: () => Stream.suspend(() => Stream.fromIterable([...tasks.values()].reverse().map(render))),
      stopTask: (taskId) =>
        Effect.flatMap(find(taskId), (task) => {
          if (Wire.isTerminal(statusOf(task))) return Effect.fail(new Errors.StopRefused({ taskId }))
          task.stopped = true
          return Effect.void
        }),
      submit,
      await: (target) =>
        Effect.forEach(idsOf(target), (taskId) =>
          Polling.awaitTerminal(describeTask(taskId), { isTerminal, schedule: Schedule.forever }).pipe(
            Effect.flatMap((task): Effect.Effect<Wire.Task, Errors.TaskEnded> =>
              task.runStatus === "Failed"
                ? Effect.fail(new Errors.TaskFailed({ task }))
                : task.runStatus === "Stopped"
                ? Effect.fail(new Errors.TaskStopped({ task }))
                : task.runStatus === "Expired"
                ? Effect.fail(new Errors.TaskExpired({ task }))
                : Effect.succeed(task)
            )
          )).pipe(Effect.map((all) =>
            all as unknown as Arr.NonEmptyReadonlyArray<Wire.Task>
          )),
      watch: (target) =>
        Stream.fromIterable(idsOf(target)).pipe(
          Stream.flatMap((taskId) => Polling.watch(describeTask(taskId), { isTerminal, schedule: Schedule.forever }))
        ),
      results: (target) =>
        Stream.fromIterable(idsOf(target)).pipe(
          Stream.mapEffect(find),
          Stream.flatMap((task) => {
            const rendered = render(task)
            return Stream.fromIterable(task.lines.slice(0, rendered.progress ?? 0).map(respond))
          })
        )
    }
  })

/**
 * The mock as the `QianfanBatch` service.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<QianfanBatch.QianfanBatch> =>
  Layer.effect(QianfanBatch.QianfanBatch, make(options))
