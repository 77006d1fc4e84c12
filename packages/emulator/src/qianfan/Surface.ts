/**
 * The emulated Qianfan console for batch inference: `POST /v2/batchinference?Action=…` with JSON bodies,
 * `bce-auth-v1` on every request, the BCE `{requestId, code, message}` error envelope.
 *
 * Actions: `CreateBatchInferenceTask`, `DescribeBatchInferenceTask`, `DescribeBatchInferenceTasks`,
 * `StopBatchInferenceTask`, `DeleteBatchInferenceTask`. Input is read from the emulator's BOS store when the task is created; output is written
 * there under `outputBosUri/<outputDir>/` once the task finishes (see `Tasks.ts`).
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { createHash } from "node:crypto"
import * as Bce from "../bos/Bce.js"
import * as Pending from "../bos/Pending.js"
import type { EmulatorContext, Surface } from "../internal/Context.js"
import * as Http from "../internal/Http.js"
import * as Tasks from "./Tasks.js"

/** Inspectable state of this surface. */
export interface State {
  /** Every task, by id. */
  readonly tasks: ReadonlyMap<string, Tasks.Task>
  /** The task's status and processed count now. */
  readonly describe: (taskId: string) => Tasks.Snapshot | undefined
  /**
   * Puts `fields` over the task as Describe and the list show it from now on (a field set to `undefined` is left
   * out): how a test shows a client a status word or a shape the emulator never produces itself.
   */
  readonly patch: (taskId: string, fields: Readonly<Record<string, unknown>>) => void
}

const path = "/v2/batchinference"

/**
 * The only completion window the console accepts, and its default when none is sent (the SDK's docstring: "24h"
 * or None; that it is also the default is UNCONFIRMED).
 */
const onlyWindow = "24h"

/**
 * Unknown task: the code is not documented (UNCONFIRMED); `ResourceNotFound` with 404 is what BCE services commonly
 * answer.
 */
const notFound = (taskId: string) =>
  Bce.error(404, "ResourceNotFound", `The batch inference task "${taskId}" does not exist.`)

const inappropriate = (detail: string) =>
  Bce.error(
    400,
    "InappropriateJSON",
    `The JSON you provided was well-formed and valid, but not appropriate for this operation. ${detail}`
  )

const invalid = (detail: string) => Bce.error(400, "InvalidParameter", detail)

const iso = (millis: number) => new Date(millis).toISOString().slice(0, 19) + "Z"

type Body = Record<string, unknown>

const optionalString = (body: Body, field: string): Either.Either<string | undefined, Bce.BceError> => {
  const value = body[field]
  if (value === undefined || value === null) return Either.right(undefined)
  return typeof value === "string"
    ? Either.right(value)
    : Either.left(inappropriate(`param[${field}] must be a string.`))
}

/** Builds the surface. */
export const make = (ctx: EmulatorContext): Effect.Effect<Surface<State>> =>
  Effect.sync(() => {
    const tasks = new Map<string, Tasks.Task>()
    const patches = new Map<string, Readonly<Record<string, unknown>>>()
    let sequence = 0

    const snapshotOf = (task: Tasks.Task, now: number) => Tasks.snapshot(ctx.processing, task, now)

    /** Writes the output of every task that has finished and not yet written it. */
    const settle = () => {
      const now = ctx.time.unsafeNow()
      for (const task of tasks.values()) {
        if (task.written !== undefined || task.problem !== undefined) continue
        const snap = snapshotOf(task, now)
        if (snap.runStatus === "Done" || snap.runStatus === "Stopped" || snap.runStatus === "Expired") {
          Tasks.writeOutput(ctx.objects.bos, ctx.completions, task, snap.processed, Math.floor(now / 1000))
        }
      }
    }
    Pending.register(ctx.objects.bos, settle)

    const render = (task: Tasks.Task, now: number): Record<string, unknown> => {
      const snap = snapshotOf(task, now)
      return {
        taskId: task.taskId,
        name: task.name,
        description: task.description,
        ...(task.endpoint === undefined ? {} : { endpoint: task.endpoint }),
        ...(task.modelId === undefined ? {} : { modelId: task.modelId }),
        inferenceParams: task.inferenceParams,
        searchCounts: 0,
        searchTokens: 0,
        runStatus: snap.runStatus,
        ...(snap.runStatus === "Failed" && task.problem !== undefined
          ? { errorCode: task.problem.errorCode, errorReason: task.problem.errorReason }
          : {}),
        inputBosUri: task.inputBosUri,
        outputBosUri: task.outputBosUri,
        outputDir: task.outputDir,
        ...(snap.runStatus === "Done" && task.written !== undefined
          ? { inputTokenUsage: task.written.inputTokens, outputTokenUsage: task.written.outputTokens }
          : {}),
        // The processed count (confirmed). Qianfan reports no total count: none is sent.
        progress: snap.processed,
        dataFormat: task.dataFormat,
        creator: task.accessKeyId,
        createTime: iso(task.createdAt),
        ...(snap.finishedAt === undefined ? {} : { finishTime: iso(snap.finishedAt) }),
        ...patches.get(task.taskId)
      }
    }

    const create = (body: Body, accessKeyId: string, now: number): Either.Either<unknown, Bce.BceError> =>
      Either.gen(function*() {
        const name = body.name
        if (typeof name !== "string") {
          return yield* Either.left(inappropriate("param[name] is required and must be a string."))
        }
        if (name.length < 2 || name.length > 20) {
          return yield* Either.left(invalid(`name must be 2 to 20 characters long, got ${name.length}.`))
        }
        const description = (yield* optionalString(body, "description")) ?? ""
        if (description.length > 500) {
          return yield* Either.left(invalid("description must be at most 500 characters long."))
        }
        const endpoint = yield* optionalString(body, "endpoint")
        const modelId = yield* optionalString(body, "modelId")
        if ((endpoint === undefined) === (modelId === undefined)) {
          return yield* Either.left(
            invalid("Exactly one of endpoint and modelId must be given; they are mutually exclusive.")
          )
        }
        const model = (endpoint ?? modelId)!
        if (!ctx.models.qianfan.includes(model)) {
          return yield* Either.left(
            invalid(
              endpoint !== undefined
                ? `endpoint [${endpoint}] not found or does not support batch inference.`
                : `modelId [${modelId}] not found or does not support batch inference.`
            )
          )
        }
        const params = body.inferenceParams ?? {}
        if (typeof params !== "object" || params === null || Array.isArray(params)) {
          return yield* Either.left(inappropriate("param[inferenceParams] must be a JSON object."))
        }
        // The SDK sends `completion_window` in snake case; "24h" is the one value the console takes.
        const window = (yield* optionalString(body, "completion_window")) ?? onlyWindow
        if (window !== onlyWindow) {
          return yield* Either.left(
            invalid(`completion_window can only be "${onlyWindow}" (or left out), got "${window}".`)
          )
        }
        const format = (yield* optionalString(body, "dataFormat")) ?? "default"
        if (format !== "default" && format !== "src_tgt" && format !== "role") {
          return yield* Either.left(invalid(`dataFormat must be one of default, src_tgt, role; got "${format}".`))
        }
        const inputUri = yield* optionalString(body, "inputBosUri")
        const outputUri = yield* optionalString(body, "outputBosUri")
        if (inputUri === undefined || outputUri === undefined) {
          return yield* Either.left(inappropriate("param[inputBosUri] and param[outputBosUri] are required."))
        }
        const input = Tasks.parseBosUri(inputUri)
        if (input === undefined) {
          return yield* Either.left(
            invalid(`inputBosUri "${inputUri}" is not a BOS directory like bos:/bucket/folder/.`)
          )
        }
        const output = Tasks.parseBosUri(outputUri)
        if (output === undefined) {
          return yield* Either.left(
            invalid(`outputBosUri "${outputUri}" is not a BOS directory like bos:/bucket/folder/.`)
          )
        }
        const store = ctx.objects.bos
        for (const [which, bucket] of [["input", input.bucket], ["output", output.bucket]] as const) {
          if (!store.hasBucket(bucket)) {
            return yield* Either.left(
              invalid(`The ${which} bucket "${bucket}" does not exist (buckets: ${store.buckets().join(", ")}).`)
            )
          }
        }
        // Directory markers (keys ending in "/") are not files.
        const objects = store.list(input.bucket, input.prefix).filter((object) => !object.key.endsWith("/"))
        if (objects.length === 0) {
          return yield* Either.left(invalid(`inputBosUri "${inputUri}" contains no files.`))
        }
        if (objects.length > Tasks.maxInputFiles) {
          return yield* Either.left(
            invalid(`inputBosUri holds ${objects.length} files; a task takes at most ${Tasks.maxInputFiles}.`)
          )
        }
        const bytes = objects.reduce((sum, object) => sum + object.size, 0)
        if (bytes > Tasks.maxInputBytes) {
          return yield* Either.left(
            invalid(`inputBosUri holds ${bytes} bytes; a task takes at most ${Tasks.maxInputBytes} (300 MB).`)
          )
        }
        let active = 0
        for (const task of tasks.values()) {
          if (task.accessKeyId === accessKeyId && Tasks.activeStatuses.has(snapshotOf(task, now).runStatus)) active++
        }
        if (active >= Tasks.runningLimit) {
          // The status is UNCONFIRMED; 400 like the other parameter-level refusals.
          return yield* Either.left(
            Bce.error(
              400,
              "TaskRunningNumberExceedLimit",
              `The number of running tasks exceeds the limit of ${Tasks.runningLimit} (Queuing, Running and Stopping tasks count).`
            )
          )
        }
        const checked = Tasks.checkInput(
          objects.map((object) => ({ object, relativeKey: object.key.slice(input.prefix.length) })),
          format
        )
        const taskId = "infer-" + ctx.nextId("qianfan-task-").slice(-11)
        const outputDir = createHash("sha1").update(ctx.nextId("qianfan-output-")).digest("hex").slice(0, 24)
        const task: Tasks.Task = {
          taskId,
          accessKeyId,
          sequence: sequence++,
          name,
          description,
          endpoint,
          modelId,
          inferenceParams: params as Record<string, unknown>,
          inputBosUri: inputUri,
          outputBosUri: outputUri,
          output,
          outputDir,
          dataFormat: format,
          completionWindow: window,
          createdAt: now,
          windowEndsAt: now + 24 * 3_600_000,
          files: checked.files,
          total: checked.files.reduce((sum, file) => sum + file.lines, 0),
          problem: checked.problem,
          stopRequestedAt: undefined,
          written: undefined
        }
        tasks.set(taskId, task)
        return { taskId }
      })

    const lookup = (body: Body, accessKeyId: string): Either.Either<Tasks.Task, Bce.BceError> => {
      const taskId = body.taskId
      if (typeof taskId !== "string") {
        return Either.left(inappropriate("param[taskId] is required and must be a string."))
      }
      const task = tasks.get(taskId)
      return task === undefined || task.accessKeyId !== accessKeyId ? Either.left(notFound(taskId)) : Either.right(task)
    }

    const list = (body: Body, accessKeyId: string, now: number): Either.Either<unknown, Bce.BceError> => {
      const statuses = body.runStatus
      if (
        statuses !== undefined &&
        !(Array.isArray(statuses) && statuses.every((s) => Tasks.runStatuses.includes(s as Tasks.RunStatus)))
      ) {
        return Either.left(invalid(`runStatus must be a list of ${Tasks.runStatuses.join(", ")}.`))
      }
      const requested = body.maxKeys ?? 10
      if (typeof requested !== "number" || !Number.isInteger(requested) || requested < 1) {
        return Either.left(invalid("maxKeys must be a positive integer."))
      }
      // Documented: values above 100 are treated as 100.
      const maxKeys = Math.min(requested, 100)
      const marker = body.marker ?? ""
      if (typeof marker !== "string") return Either.left(inappropriate("param[marker] must be a string."))
      const reverse = body.pageReverse === true
      // UNCONFIRMED ordering: newest first by default, oldest first with pageReverse.
      const all = [...tasks.values()]
        .filter((task) => task.accessKeyId === accessKeyId)
        .sort((a, b) => (reverse ? a.sequence - b.sequence : b.sequence - a.sequence))
      // UNCONFIRMED: the page starts after the marker task (the marker is the last taskId of the previous page).
      const from = marker === "" ? 0 : all.findIndex((task) => task.taskId === marker) + 1
      if (marker !== "" && from === 0) return Either.left(invalid(`marker "${marker}" is not a task id.`))
      const page: Array<unknown> = []
      let isTruncated = false
      let last = marker
      for (let i = from; i < all.length; i++) {
        const rendered = render(all[i]!, now)
        if (statuses !== undefined && !(statuses as Array<string>).includes(String(rendered.runStatus))) continue
        if (page.length === maxKeys) {
          isTruncated = true
          break
        }
        page.push(rendered)
        last = all[i]!.taskId
      }
      return Either.right({ taskList: page, pageInfo: { marker: last, maxKeys, isTruncated } })
    }

    const stop = (task: Tasks.Task, now: number): boolean => {
      const status = snapshotOf(task, now).runStatus
      if (status === "Stopping") return true
      // UNCONFIRMED: a task that has already finished cannot be stopped, answered with `result: false`.
      if (status !== "Queuing" && status !== "Running") return false
      task.stopRequestedAt = now
      return true
    }

    /**
     * The console deletes a finished, failed or stopped task, not a running one (its UI says so). How the API
     * refuses is UNCONFIRMED: `result: false`, like Stop. The output stays in BOS.
     */
    const remove = (task: Tasks.Task, now: number): boolean => {
      if (!Tasks.isTerminal(snapshotOf(task, now).runStatus)) return false
      // Whatever the task had to write is written before it goes.
      settle()
      tasks.delete(task.taskId)
      return true
    }

    const handle = (request: Http.IncomingRequest, id: string, accessKeyId: string, now: number) => {
      const { path: requestPath, query } = request
      // BCE's public table: a URI that does not parse is 400 InvalidURI.
      if (requestPath !== path) return Bce.fail(id, Bce.error(400, "InvalidURI", `No API at ${requestPath}.`))
      if (request.method.toUpperCase() !== "POST") {
        return Bce.fail(id, Bce.error(405, "MethodNotAllowed", `${request.method} is not allowed; use POST.`))
      }
      const action = Http.parseQuery(query).Action
      const parsed = request.body.byteLength === 0 ? {} : Http.parseJson(request.body)
      if (parsed === undefined) {
        return Bce.fail(id, Bce.error(400, "MalformedJSON", "The JSON you provided was not well-formed."))
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return Bce.fail(id, inappropriate("The body must be a JSON object."))
      }
      const body = parsed as Body
      settle()
      let result: Either.Either<unknown, Bce.BceError>
      switch (action) {
        case "CreateBatchInferenceTask":
          result = create(body, accessKeyId, now)
          break
        case "DescribeBatchInferenceTask":
          result = Either.map(lookup(body, accessKeyId), (task) => {
            // Token usage is reported once the output exists, so write it before describing a finished task.
            settle()
            return render(task, now)
          })
          break
        case "DescribeBatchInferenceTasks":
          result = list(body, accessKeyId, now)
          break
        case "StopBatchInferenceTask":
          result = Either.map(lookup(body, accessKeyId), (task) => stop(task, now))
          break
        case "DeleteBatchInferenceTask":
          result = Either.map(lookup(body, accessKeyId), (task) => remove(task, now))
          break
        default:
          result = Either.left(
            Bce.error(400, "InvalidAction", `Unknown Action "${action ?? ""}" for ${path}.`)
          )
      }
      return Either.match(result, {
        onLeft: (failure) => Bce.fail(id, failure),
        onRight: (value) => Bce.ok(id, { requestId: id, result: value })
      })
    }

    const app = Effect.gen(function*() {
      const request = yield* Http.currentIncoming
      const id = Bce.requestId()
      const verified = yield* Bce.authenticate(ctx, request)
      if (Either.isLeft(verified)) return Bce.fail(id, verified.left)
      const now = yield* ctx.time.now
      return handle(request, id, verified.right.accessKeyId, now)
    }).pipe(
      Effect.catchAll(() =>
        Effect.succeed(
          Bce.fail(Bce.requestId(), Bce.error(400, "InvalidHTTPRequest", "The request body could not be read."))
        )
      )
    )

    return {
      app,
      state: {
        tasks,
        describe: (taskId) => {
          const task = tasks.get(taskId)
          return task === undefined ? undefined : snapshotOf(task, ctx.time.unsafeNow())
        },
        patch: (taskId, fields) => void patches.set(taskId, { ...patches.get(taskId), ...fields })
      }
    }
  })
