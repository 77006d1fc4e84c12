/**
 * `submit`: check and plan (pass 1), find tasks an earlier attempt created, upload the rest (pass 2), create —
 * never two tasks for one submission. Each task's name and description carry the submission's content hash, which
 * is how an earlier task is recognised after a retry, a restart or a lost create response.
 */
import * as Bytes from "@barge/core/Bytes"
import type * as InputValidation from "@barge/core/InputValidation"
import * as Chunk from "effect/Chunk"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as Errors from "../Errors.js"
import type * as Storage from "../Storage.js"
import type * as Wire from "../Wire.js"
import type { Console } from "./console.js"
import * as Plan from "./plan.js"

/** What `submit` is given to work with. */
export interface Deps {
  readonly console: Console
  readonly storage: Storage.Service
  readonly limits: Plan.Limits
  readonly inputPrefix: string
  readonly outputPrefix: string
  readonly createAttempts: number
  /** The first wait before re-sending an ambiguous create; it doubles (jittered) for each later attempt. */
  readonly createBackoff: Duration.DurationInput
}

/** The options `submit` reads (the public `SubmitOptions`). */
export interface Options {
  readonly model: { readonly endpoint?: string | undefined; readonly modelId?: string | undefined }
  readonly inferenceParams?: Readonly<Record<string, unknown>> | undefined
  readonly dataFormat?: Wire.DataFormat | undefined
  readonly completionWindow?: string | undefined
  readonly description?: string | undefined
  readonly waitForCapacity?: Schedule.Schedule<unknown, Errors.QianfanError> | undefined
}

/** What a submission became. */
export interface Result {
  readonly hash: string
  readonly taskIds: ReadonlyArray<string>
  readonly lines: number
  readonly attached: number
}

/** `barge-<10 hex>-<n>`: at most 20 characters, the documented name limit. */
const namePrefix = (hash: string) => `barge-${hash.slice(0, 10)}-`

const tag = (hash: string, index: number, count: number) => `[barge ${hash} ${index + 1}/${count}]`

const taskPrefix = (index: number) => `task-${String(index).padStart(3, "0")}/`

/** Tasks an earlier attempt of this submission created, by index. */
const findTasks = (console: Console, hash: string) =>
  console.listTasks().pipe(
    Stream.filter((task) =>
      task.name?.startsWith(namePrefix(hash)) === true && (task.description ?? "").includes(`[barge ${hash} `)
    ),
    Stream.runFold(new Map<number, string>(), (found, task) => {
      const index = Number(task.name!.slice(namePrefix(hash).length))
      if (Number.isInteger(index) && !found.has(index)) found.set(index, task.taskId)
      return found
    })
  )

/** Builds `submit`. */
export const make = (deps: Deps) =>
<E, R>(
  source: Stream.Stream<unknown, E, R>,
  options: Options
): Effect.Effect<Result, Errors.QianfanError | InputValidation.InputValidationError | E, R> =>
  Effect.gen(function*() {
    const { console, storage } = deps
    const model = options.model
    const format = options.dataFormat ?? "default"
    const inferenceParams = options.inferenceParams ?? {}

    // Pass 1: check every line and plan files and tasks; nothing is sent before this succeeds.
    const header = Plan.canonicalJson({
      format,
      model,
      inferenceParams,
      completionWindow: options.completionWindow ?? null
    })
    const plan = yield* Plan.plan(source, {
      format,
      model,
      limits: deps.limits,
      header,
      completionWindow: options.completionWindow
    })
    const count = plan.tasks.length
    const base = `${deps.inputPrefix}${plan.hash}/`

    const existing = yield* findTasks(console, plan.hash)

    // Pass 2: upload the files of the tasks that do not exist yet, one file in memory at a time.
    const placements = Plan.placements(plan)
    const encoder = new TextEncoder()
    yield* source.pipe(
      Stream.map((value) => [placements.next().value!, JSON.stringify(value) + "\n"] as const),
      Stream.filter(([place]) => !existing.has(place.task)),
      Stream.groupAdjacentBy(([place]) => `${place.task}/${place.file}`),
      Stream.runForEach(([, lines]) => {
        const [place] = Chunk.unsafeHead(lines)
        const file = plan.tasks[place.task]!.files[place.file]!
        const key = `${base}${taskPrefix(place.task)}part-${String(place.file).padStart(4, "0")}.jsonl`
        // One file is in memory anyway; as bytes it can be sent again after a transient failure.
        const bytes = Bytes.concat(
          Chunk.toReadonlyArray(Chunk.map(lines, ([, text]) => encoder.encode(text))),
          file.bytes
        )
        return storage.putBytes(key, bytes, { contentType: "application/jsonl" })
      })
    )

    const createOne = (index: number) => {
      const request: Wire.CreateTaskRequest = {
        name: namePrefix(plan.hash) + index,
        description: [options.description, tag(plan.hash, index, count)].filter(Boolean).join(" "),
        ...(model.endpoint === undefined ? { modelId: model.modelId! } : { endpoint: model.endpoint }),
        inferenceParams: { ...inferenceParams },
        inputBosUri: storage.uri(base + taskPrefix(index)),
        outputBosUri: storage.uri(`${deps.outputPrefix}${plan.hash}/${taskPrefix(index)}`),
        ...(options.completionWindow === undefined ? {} : { completion_window: options.completionWindow }),
        ...(format === "default" ? {} : { dataFormat: format })
      }
      // A create whose answer was lost may have taken effect: look before sending it again.
      const attempt = console.createTask(request).pipe(
        Effect.catchIf(Errors.isAmbiguous, (error) =>
          Effect.flatMap(findTasks(console, plan.hash), (found) => {
            const taskId = found.get(index)
            return taskId === undefined ? Effect.fail(error) : Effect.succeed(taskId)
          }))
      )
      // Spaced out: a failing server often fails several requests in a row.
      const created = Effect.retry(attempt, {
        schedule: Schedule.exponential(deps.createBackoff).pipe(
          Schedule.jittered,
          Schedule.intersect(Schedule.recurs(deps.createAttempts))
        ),
        while: Errors.isAmbiguous
      })
      return options.waitForCapacity === undefined ? created : Effect.retry(created, {
        schedule: options.waitForCapacity,
        while: (error) => error._tag === "TaskRunningNumberExceedLimit"
      })
    }

    const taskIds: Array<string> = []
    for (let index = 0; index < count; index++) {
      taskIds.push(existing.get(index) ?? (yield* createOne(index)))
    }
    return { hash: plan.hash, taskIds, lines: plan.lines, attached: existing.size }
  }).pipe(Effect.withSpan("qianfan.submit"))
