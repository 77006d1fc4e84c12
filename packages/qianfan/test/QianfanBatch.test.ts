import { ApiError, Batch, type ChatRequest } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { QianfanBatch } from "@barge/qianfan"
import type { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import {
  Chunk,
  ConfigProvider,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Redacted,
  Schedule,
  Stream,
  TestClock
} from "effect"
import type { Duration, Scope } from "effect"

const bucket = "barge"
const model = "ernie-4.0-8k"

type Overrides = Partial<Omit<QianfanBatch.Options, "accessKeyId" | "secretAccessKey">> & {
  readonly secret?: string
}

/** The service pointed at the emulator. Long timeouts: TestClock jumps must not cut requests. One process: settle 0. */
const client = (overrides: Overrides = {}) =>
  Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
    QianfanBatch.layer({
      accessKeyId: Redacted.make(emulator.credentials.bce.accessKeyId),
      secretAccessKey: Redacted.make(overrides.secret ?? emulator.credentials.bce.secretAccessKey),
      endpoint: emulator.urls.qianfan,
      bosEndpoint: emulator.urls.bos,
      bucket,
      timeout: "1000 days",
      retry: { schedule: Schedule.spaced("1 second").pipe(Schedule.compose(Schedule.recurs(3))) },
      create: { settle: 0, createBackoff: "1 second" },
      ...overrides
    })))

type Env = QianfanBatch.QianfanBatch | Emulator.Emulator | HttpClient.HttpClient

const run = <A, E>(
  effect: Effect.Effect<A, E, Env | Scope.Scope>,
  options: { readonly emulator?: Emulator.Options; readonly client?: Overrides } = {}
) =>
  effect.pipe(
    Effect.provide(client(options.client)),
    Effect.provide(
      Emulator.layer({
        processing: { queuedFor: "10 seconds", perRequest: "1 second", finalizingFor: "5 seconds" },
        ...options.emulator
      })
    ),
    Effect.provide(NodeHttpClient.layerUndici),
    Effect.scoped
  )

/** Runs `effect` while moving the TestClock in steps, giving real HTTP a moment between steps. */
const drive = <A, E, R>(effect: Effect.Effect<A, E, R>, step: Duration.DurationInput = "5 seconds") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 2000; i++) {
      const exit = yield* Fiber.poll(fiber)
      if (Option.isSome(exit)) return yield* exit.value
      yield* TestClock.adjust(step)
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2)))
    }
    return yield* Effect.dieMessage("drive: the effect did not finish")
  })

const ask = (id: string, content: string, extra: Record<string, unknown> = {}): ChatRequest.ChatRequest => ({
  customId: id,
  model,
  messages: [{ role: "user", content }],
  ...extra
})

const requests = (n: number, failing: ReadonlyArray<number> = [], prefix = "q") =>
  Array.from(
    { length: n },
    (_, i) => ask(`${prefix}${i + 1}`, failing.includes(i + 1) ? `fail ${Emulator.failMarker}` : `question ${i + 1}`)
  )

const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) =>
  Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

const service = QianfanBatch.QianfanBatch

/** The ids of the input lines the emulator read for a task. */
const inputIdsOf = (task: { readonly files: ReadonlyArray<{ readonly object: { readonly body: Uint8Array } }> }) =>
  task.files.flatMap((file) =>
    new TextDecoder().decode(file.object.body).trim().split("\n").map((line) => JSON.parse(line).id as string)
  )

const noRequests = Object.fromEntries(Emulator.services.map((name) => [name, 0]))

describe("QianfanBatch", () => {
  it.effect("submits, awaits and reads every result; the final status counts the failures", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const submitted = yield* qianfan.submit(requests(4, [3]))
      assert.match(submitted.id, /^qianfan:infer-/)
      assert.strictEqual(submitted.status.counts.total, 4)
      assert.strictEqual(submitted.attached, 0)
      const done = yield* drive(qianfan.await(submitted.id))
      assert.strictEqual(done.phase, "completed")
      assert.deepStrictEqual(
        [done.counts.total, done.counts.completed, done.counts.failed],
        [4, 3, 1],
        "Qianfan reports no failures: they are counted from the output once the task is final"
      )
      const results = yield* collect(qianfan.results(submitted.id))
      assert.deepStrictEqual(results.map((r) => r.customId).sort(), ["q1", "q2", "q3", "q4"])
      const q1 = results.find((r) => r.customId === "q1")!
      assert.strictEqual(
        q1._tag === "Succeeded" ? q1.response.choices[0]!.message.content : "",
        Emulator.expectedContent("q1", "question 1")
      )
      const q3 = results.find((r) => r.customId === "q3")!
      assert.match(q3._tag === "Failed" ? q3.error.code : "", /^\d+$/)
    })))

  it.effect("watch shows progress from the processed count, and the failures as soon as the task is final", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const submitted = yield* qianfan.submit(requests(30, [7, 8]))
      const seen = yield* drive(collect(qianfan.watch(submitted.id, { schedule: Schedule.spaced("5 seconds") })))
      assert.strictEqual(seen[0]!.status.phase, "pending")
      assert.isTrue(seen.some((p) => p.status.phase === "running" && p.status.counts.completed > 0))
      const done = seen.map((p) => p.status.counts.completed + p.status.counts.failed)
      assert.deepStrictEqual(done, [...done].sort((a, b) => a - b))
      const last = seen[seen.length - 1]!.status
      assert.deepStrictEqual([last.phase, last.counts.total, last.counts.completed, last.counts.failed], [
        "completed",
        30,
        28,
        2
      ])
    })))

  it.effect("splits into several tasks of several files each, within the limits, and reads them all back", () =>
    run(Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      // Each line is about 32 bytes: 2 lines per file, 2 files per task → 10 requests make 3 tasks.
      const qianfan = (yield* service).withLimits({ maxBytesPerFile: 70, maxFilesPerJob: 2 })
      const submitted = yield* qianfan.submit(requests(10))
      assert.lengthOf(submitted.status.parts, 3)
      const tasks = submitted.status.parts.map((part) => emulator.state.qianfan.tasks.get(part.jobId)!)
      assert.deepStrictEqual(tasks.map((task) => task.files.length), [2, 2, 1])
      assert.deepStrictEqual(tasks.map((task) => task.total), [4, 4, 2])
      for (const task of tasks) {
        assert.match(task.inputBosUri, /^bos:\/barge\/barge\/input\/[0-9a-f]{40}\/$/)
        assert.deepStrictEqual(
          task.files.map((file) => file.relativeKey),
          task.files.map((_, i) => `part-000${i}.jsonl`)
        )
      }
      yield* drive(qianfan.await(submitted.id))
      const ids = (yield* collect(qianfan.results(submitted.id))).map((r) => r.customId)
      assert.deepStrictEqual([...ids].sort(), requests(10).map((r) => r.customId).sort())
    })))

  it.effect("requests with different parameters go to different tasks, each created with its own parameters", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const emulator = yield* Emulator.Emulator
      const submitted = yield* qianfan.submit([
        ask("plain", "no parameters"),
        ask("warm-1", "one", { temperature: 0.3 }),
        ask("both-1", "two", { temperature: 0.3, top_p: 0.5 }),
        ask("warm-2", "three", { temperature: 0.3 }),
        ask("both-2", "four", { top_p: 0.5, temperature: 0.3 }),
        {
          customId: "chat",
          model,
          messages: [{ role: "system", content: "be brief" }, { role: "user", content: "five" }],
          temperature: 0.3
        }
      ])
      const received = submitted.status.parts.map((part) => {
        const task = emulator.state.qianfan.tasks.get(part.jobId)!
        return [inputIdsOf(task), task.inferenceParams, task.dataFormat] as const
      })
      assert.deepStrictEqual(received, [
        [["plain"], {}, "default"],
        [["warm-1", "warm-2"], { temperature: 0.3 }, "default"],
        [["both-1", "both-2"], { temperature: 0.3, top_p: 0.5 }, "default"],
        [["chat"], { temperature: 0.3 }, "role"]
      ])
      yield* drive(qianfan.await(submitted.id))
      const results = yield* collect(qianfan.results(submitted.id))
      assert.deepStrictEqual(results.filter((r) => r._tag === "Succeeded").map((r) => r.customId).sort(), [
        "both-1",
        "both-2",
        "chat",
        "plain",
        "warm-1",
        "warm-2"
      ])
    })))

  it.effect("submitting the same input again attaches to its tasks: nothing uploaded or created twice", () =>
    run(Effect.gen(function*() {
      const qianfan = (yield* service).withLimits({ maxBytesPerFile: 70, maxFilesPerJob: 2 })
      const emulator = yield* Emulator.Emulator
      const first = yield* qianfan.submit(requests(6))
      const before = yield* emulator.requests
      const again = yield* qianfan.submit(requests(6))
      assert.strictEqual(again.id, first.id)
      assert.strictEqual(again.attached, first.status.parts.length)
      assert.strictEqual((yield* emulator.requests).bos, before.bos)
      assert.strictEqual(emulator.state.qianfan.tasks.size, first.status.parts.length)
      const other = yield* qianfan.submit(requests(6).map((r) => ({ ...r, model: "ernie-x1-turbo-32k" })))
      assert.notStrictEqual(other.id, first.id)
    })))

  it.effect("re-attaches to the task when the create response is lost", () =>
    run(
      Effect.gen(function*() {
        const qianfan = yield* service
        const emulator = yield* Emulator.Emulator
        const submitted = yield* qianfan.submit(requests(3))
        assert.strictEqual((yield* emulator.faults.counts).lostResponse, 1)
        assert.deepStrictEqual(submitted.status.parts.map((p) => p.jobId), [...emulator.state.qianfan.tasks.keys()])
      }),
      { emulator: { faults: "lost-create" } }
    ))

  it.effect("after a stop, every submitted request appears in results exactly once; the unrun ones as Failed", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const submitted = yield* qianfan.submit(requests(20))
      // 10 s queued, then one request a second: 5 have run.
      yield* TestClock.adjust("15500 millis")
      const stopping = yield* qianfan.cancelBatch(submitted.id)
      assert.strictEqual(stopping.phase, "cancelling")
      const failed = yield* Effect.flip(drive(qianfan.await(submitted.id)))
      assert.strictEqual(failed._tag, "BatchFailed")
      const results = yield* collect(qianfan.results(submitted.id))
      assert.strictEqual(results.length, 20)
      assert.strictEqual(new Set(results.map((r) => r.customId)).size, 20)
      const unrun = results.filter((r) => r._tag === "Failed")
      assert.strictEqual(unrun.length, 15)
      for (const result of unrun) {
        assert.strictEqual(result._tag === "Failed" ? result.error.code : "", "batch_cancelled")
      }
    })))

  it.effect("after expiry, every request appears once: what ran, then the rest as batch_expired", () =>
    run(
      Effect.gen(function*() {
        const qianfan = yield* service
        const emulator = yield* Emulator.Emulator
        // 1500 requests at a minute each need 25 hours: more than the 24 h window.
        const submitted = yield* qianfan.submit(requests(1500))
        yield* emulator.advance("25 hours")
        const status = yield* qianfan.batchStatus(submitted.id)
        assert.strictEqual(status.phase, "expired")
        const results = yield* collect(qianfan.results(submitted.id))
        assert.strictEqual(new Set(results.map((r) => r.customId)).size, 1500)
        const ran = status.counts.completed + status.counts.failed
        assert.isAbove(ran, 0)
        assert.strictEqual(results.filter((r) => r._tag === "Succeeded").length, ran)
        assert.strictEqual(
          results.filter((r) => r._tag === "Failed" && r.error.code === "batch_expired").length,
          1500 - ran
        )
      }),
      { emulator: { processing: { queuedFor: "10 seconds", perRequest: "1 minute" } } }
    ))

  it.effect("refusals are ApiErrors with a provider-independent reason, the code and request id kept", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const notFound = yield* Effect.flip(qianfan.get("infer-doesnotexist"))
      assert.deepStrictEqual([notFound._tag, notFound._tag === "ApiError" ? notFound.reason : ""], [
        "ApiError",
        "NotFound"
      ])
      if (notFound._tag === "ApiError") {
        assert.strictEqual(notFound.code, "ResourceNotFound")
        assert.isString(notFound.requestId)
      }
      const unknownModel = yield* Effect.flip(qianfan.submit([{ ...ask("m", "x"), model: "no-such-model" }]))
      assert.isTrue(ApiError.is("InvalidRequest")(unknownModel))

      const taskIds: Array<string> = []
      for (let i = 0; i < 20; i++) {
        taskIds.push((yield* qianfan.submit([ask(`busy-${i}`, "x")])).status.parts[0]!.jobId)
      }
      const limited = yield* Effect.flip(qianfan.submit([ask("one-too-many", "x")]))
      assert.isTrue(ApiError.is("QuotaExceeded")(limited))
      if (ApiError.is()(limited)) {
        assert.strictEqual(limited.code, "TaskRunningNumberExceedLimit")
        assert.include(limited.message, "waitForCapacity")
      }
      // With waitForCapacity the create is retried until earlier tasks finish.
      const waited = yield* drive(
        qianfan.submit([ask("patient", "x")], { waitForCapacity: Schedule.spaced("10 seconds") })
      )
      assert.lengthOf(waited.status.parts, 1)
      // Stopping a task that has finished: Qianfan answers `result: false`.
      const refused = yield* Effect.flip(qianfan.cancel(taskIds[0]!))
      assert.isTrue(ApiError.is("Conflict")(refused))
    })))

  it.effect("a wrong secret is an Authentication ApiError that never shows the secret", () =>
    run(
      Effect.gen(function*() {
        const qianfan = yield* service
        const error = yield* Effect.flip(qianfan.get("infer-x"))
        assert.isTrue(ApiError.is("Authentication")(error))
        if (ApiError.is()(error)) assert.strictEqual(error.code, "SignatureDoesNotMatch")
        assert.notInclude(JSON.stringify(error) + error.message, "wrong-secret-value")
      }),
      { client: { secret: "wrong-secret-value" } }
    ))

  it.effect("13.7: a console URL that does not parse is InvalidRequest (400 InvalidURI) with a hint at the endpoint", () =>
    run(Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const wrong = yield* QianfanBatch.make({
        accessKeyId: Redacted.make(emulator.credentials.bce.accessKeyId),
        secretAccessKey: Redacted.make(emulator.credentials.bce.secretAccessKey),
        endpoint: `${emulator.urls.qianfan}/v1`,
        bucket
      })
      const error = yield* Effect.flip(wrong.get("infer-x"))
      assert.isTrue(ApiError.is("InvalidRequest")(error))
      if (ApiError.is()(error)) {
        assert.deepStrictEqual([error.status, error.code], [400, "InvalidURI"])
        assert.include(error.message, "endpoint URL looks wrong")
      }
    })))

  it.effect("13.1: a window is mapped onto \"24h\" or refused naming it, before any request; raw create too", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const emulator = yield* Emulator.Emulator
      for (const completionWindow of ["48h", "3 days", "168h", "1 week"]) {
        const error = yield* Effect.flip(qianfan.submit(requests(2), { completionWindow }))
        assert.strictEqual(error._tag, "InputValidationError", completionWindow)
        assert.include(error.message, "longer than 24h, the longest it accepts")
      }
      const raw = yield* Effect.flip(qianfan.create({
        name: "direct",
        endpoint: model,
        inferenceParams: {},
        inputBosUri: `bos:/${bucket}/in/`,
        outputBosUri: `bos:/${bucket}/out/`,
        completion_window: "168h"
      }))
      assert.strictEqual(raw._tag, "InputValidationError")
      assert.include(raw.message, "only 24h")
      assert.deepStrictEqual(yield* emulator.requests, noRequests)

      const shorter = yield* qianfan.submit(requests(2), { completionWindow: "1h" })
      assert.strictEqual(emulator.state.qianfan.tasks.get(shorter.status.parts[0]!.jobId)!.completionWindow, "24h")
    })))

  it.effect("13.4: an unknown runStatus is phase unknown with its word, polling goes on, and an odd task costs no other", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const emulator = yield* Emulator.Emulator
      const [paused, odd, broken] = yield* Effect.forEach(
        ["a", "b", "c"],
        (id) => Effect.map(qianfan.submit([ask(id, "x")]), (s) => s.status.parts[0]!.jobId)
      )
      emulator.state.qianfan.patch(paused!, { runStatus: "Paused" })
      emulator.state.qianfan.patch(odd!, { runStatus: 7, progress: "lots", createTime: null, name: undefined })
      emulator.state.qianfan.patch(broken!, { taskId: null })

      const status = yield* qianfan.batchStatus(paused!)
      assert.deepStrictEqual([status.parts[0]!.phase, status.providerStatus], ["unknown", "Paused"])
      const timedOut = yield* Effect.flip(drive(qianfan.await(paused!, { schedule: Schedule.recurs(3) })))
      assert.strictEqual(timedOut._tag, "BatchTimeout")

      const task = yield* qianfan.get(odd!)
      assert.deepStrictEqual([task.taskId, task.runStatus, task.progress, task.name], [
        odd,
        undefined,
        undefined,
        undefined
      ])
      assert.strictEqual(qianfan.jobStatus(task).phase, "unknown")

      const listed = yield* collect(qianfan.list())
      assert.deepStrictEqual(listed.map((t) => t.taskId), [odd, paused])
    })))

  it.effect("13.6: delete removes a finished task and is refused (Conflict) for a running one", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const submitted = yield* qianfan.submit(requests(3))
      const taskId = submitted.status.parts[0]!.jobId
      const running = yield* Effect.flip(qianfan.delete(taskId))
      assert.isTrue(ApiError.is("Conflict")(running))
      yield* drive(qianfan.await(submitted.id))
      yield* qianfan.delete(taskId)
      const gone = yield* Effect.flip(qianfan.get(taskId))
      assert.isTrue(ApiError.is("NotFound")(gone))
    })))

  it.effect("15.3: a bucket of the user's own naming is created on first use in the emulator", () =>
    run(
      Effect.gen(function*() {
        const qianfan = yield* service
        const emulator = yield* Emulator.Emulator
        const submitted = yield* qianfan.submit(requests(2))
        yield* drive(qianfan.await(submitted.id))
        assert.lengthOf(yield* collect(qianfan.results(submitted.id)), 2)
        assert.isAbove(emulator.state.objects.bos.list("my-own-bucket", "barge/output/").length, 0)
      }),
      { client: { bucket: "my-own-bucket" } }
    ))

  it.effect("results resume a truncated download without losing or repeating a line", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const submitted = yield* qianfan.submit(requests(40))
      yield* drive(qianfan.await(submitted.id), "10 seconds")
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.set({
        rules: [{ kind: "truncate", rate: 1, services: ["bos"], match: "^GET /v1/barge/barge/output/", limit: 2 }]
      })
      const results = yield* drive(collect(qianfan.results(submitted.id)), "1 second")
      assert.strictEqual((yield* emulator.faults.counts).truncate, 2)
      assert.deepStrictEqual(results.map((r) => r.customId), requests(40).map((r) => r.customId))
    })))

  it.effect("completes a split submission under the chaos fault profile with every result exactly once", () =>
    run(
      Effect.gen(function*() {
        const qianfan = (yield* service).withLimits({ maxBytesPerFile: 200, maxFilesPerJob: 2 })
        const emulator = yield* Emulator.Emulator
        const submitted = yield* drive(qianfan.submit(requests(30)), "1 second")
        assert.strictEqual(emulator.state.qianfan.tasks.size, submitted.status.parts.length)
        yield* drive(qianfan.await(submitted.id), "5 seconds")
        const results = yield* drive(collect(qianfan.results(submitted.id)), "1 second")
        assert.deepStrictEqual(results.map((r) => r.customId).sort(), requests(30).map((r) => r.customId).sort())
        assert.isAbove((yield* emulator.faults.counts).total, 0)
      }),
      {
        emulator: { faults: "chaos", seed: 3 },
        client: { retry: { schedule: Schedule.spaced("1 second").pipe(Schedule.compose(Schedule.recurs(6))) } }
      }
    ))

  it.effect("layerConfig fails naming the missing variable", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.provide(QianfanBatch.QianfanBatch, QianfanBatch.layerConfig()).pipe(
          Effect.provide(NodeHttpClient.layerUndici)
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "QIANFAN_ACCESS_KEY")
    }))

  it.effect("layerConfig reads credentials, bucket and endpoints from the environment; overrides win", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const provider = ConfigProvider.fromMap(
        new Map([
          ["QIANFAN_ACCESS_KEY", emulator.credentials.bce.accessKeyId],
          ["QIANFAN_SECRET_KEY", "not-the-secret"],
          ["QIANFAN_BOS_BUCKET", bucket],
          ["QIANFAN_ENDPOINT", emulator.urls.qianfan],
          ["QIANFAN_BOS_ENDPOINT", emulator.urls.bos]
        ])
      )
      const tasks = yield* Effect.flatMap(QianfanBatch.QianfanBatch, (q) => collect(q.list())).pipe(
        Effect.provide(
          QianfanBatch.layerConfig({ secretAccessKey: Redacted.make(emulator.credentials.bce.secretAccessKey) })
        ),
        Effect.withConfigProvider(provider)
      )
      assert.strictEqual(tasks.length, 0)
    }).pipe(Effect.provide(Emulator.layer()), Effect.provide(NodeHttpClient.layerUndici)))

  it.live("the registry entry's emulated Batch layer runs submit, await and results on the emulator", () =>
    Effect.gen(function*() {
      const batch = yield* Batch.Batch
      assert.strictEqual(QianfanBatch.registry.name, "qianfan")
      const submitted = yield* batch.submit(requests(3))
      const done = yield* batch.await(submitted.id, { schedule: Schedule.spaced("20 millis") })
      assert.strictEqual(done.counts.total, 3)
      const results = yield* collect(batch.results(submitted.id))
      assert.deepStrictEqual(results.map((r) => r._tag), ["Succeeded", "Succeeded", "Succeeded"])
    }).pipe(
      Effect.provide(QianfanBatch.registry.layerEmulated),
      Effect.provide(Emulator.layer({ processing: { queuedFor: "0 millis", perRequest: "1 millis" } })),
      Effect.provide(NodeHttpClient.layerUndici)
    ))
})
