/**
 * `QianfanV2Batch` (Qianfan's OpenAI-style `/v2/batches`) against the emulated `qianfan-v2` service over loopback.
 */
import { ApiError, Batch, type ChatRequest, InputValidation } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import {
  Chunk,
  Duration,
  Effect,
  Fiber,
  Layer,
  Option,
  Redacted,
  Schedule,
  Stream,
  TestClock,
  TestServices
} from "effect"
import * as QianfanV2Batch from "../src/QianfanV2Batch.js"

const makeLayer = (options?: { readonly emulator?: Emulator.Options; readonly apiKey?: string }) =>
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      QianfanV2Batch.layer({
        apiKey: Redacted.make(options?.apiKey ?? emulator.credentials.qianfan.apiKey),
        baseUrl: `${emulator.urls["qianfan-v2"]}/v2`,
        timeout: "3650 days",
        create: { settle: 0, createBackoff: "10 millis" }
      }))
  ).pipe(Layer.provideMerge(Emulator.layer(options?.emulator)), Layer.provideMerge(NodeHttpClient.layerUndici))

const requests = (n: number, prefix = "r"): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: n }, (_, i) => ({
    customId: `${prefix}${i + 1}`,
    model: "ernie-4.5-turbo-128k",
    messages: [{ role: "user", content: `问题 ${i + 1}` }],
    temperature: 0.2
  }))

/** Moves the TestClock until the effect ends, letting loopback IO run between steps. */
const driven = <A, E, R>(effect: Effect.Effect<A, E, R>, step: Duration.DurationInput = "1 second") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 5000 && Option.isNone(yield* Fiber.poll(fiber)); i++) {
      yield* TestClock.adjust(step)
      yield* TestServices.provideLive(Effect.sleep(Duration.millis(1)))
    }
    return yield* Fiber.join(fiber)
  })

const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) =>
  Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

const fast = { schedule: Schedule.spaced("1 second") }

describe("QianfanV2Batch", () => {
  it.effect("submit → watch → results with Qianfan's capitalised statuses; the window sent as whole hours", () =>
    Effect.gen(function*() {
      const qianfan = yield* QianfanV2Batch.QianfanV2Batch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* qianfan.submit(requests(4), { completionWindow: "3 days" })
      assert.match(submitted.id, /^qianfan-v2:infer-/)
      assert.strictEqual(submitted.status.providerStatus, "Queuing")
      const job = emulator.state["qianfan-v2"].batches.get(submitted.status.parts[0].jobId)!
      assert.strictEqual(job.completionWindow, "72h")
      assert.strictEqual(job.endpoint, "/v2/chat/completions")
      const seen = yield* driven(collect(qianfan.watch(submitted.id, fast)))
      const words = [...new Set(seen.map((p) => p.status.providerStatus))]
      assert.deepStrictEqual(words, ["Queuing", "Running", "Done"])
      assert.deepStrictEqual(seen.map((p) => p.status.phase).at(-1), "completed")
      const results = yield* collect(qianfan.results(submitted.id))
      assert.deepStrictEqual(results.map((r) => r.customId).sort(), ["r1", "r2", "r3", "r4"])
      assert.isTrue(results.every((r) => r._tag === "Succeeded"))
      assert.isFalse(emulator.state["qianfan-v2"].files.has(job.inputFileId))
    }).pipe(Effect.provide(makeLayer())))

  it.effect("refuses a window past 672h, naming the range, before anything is sent", () =>
    Effect.gen(function*() {
      const qianfan = yield* QianfanV2Batch.QianfanV2Batch
      const emulator = yield* Emulator.Emulator
      const error = yield* Effect.flip(qianfan.submit(requests(1), { completionWindow: "29 days" }))
      assert.instanceOf(error, InputValidation.InputValidationError)
      assert.include(error.issues[0]!.message, "1h to 672h")
      assert.strictEqual(emulator.state["qianfan-v2"].files.size, 0)
    }).pipe(Effect.provide(makeLayer())))

  it.effect("cancel: Stopping → Stopped, every request exactly once, the unprocessed as batch_cancelled", () =>
    Effect.gen(function*() {
      const qianfan = yield* QianfanV2Batch.QianfanV2Batch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* qianfan.submit(requests(10))
      yield* driven(
        Stream.runDrain(qianfan.watch(submitted.id, fast).pipe(Stream.takeUntil((p) => p.status.counts.completed >= 2)))
      )
      const cancelling = yield* qianfan.cancelBatch(submitted.id)
      assert.strictEqual(cancelling.providerStatus, "Stopping")
      const ended = yield* driven(Effect.flip(qianfan.await(submitted.id, fast)))
      assert.strictEqual(ended._tag, "BatchFailed")
      if (ended._tag === "BatchFailed") assert.strictEqual(ended.status.providerStatus, "Stopped")
      const results = yield* collect(qianfan.results(submitted.id))
      assert.strictEqual(results.length, 10)
      assert.strictEqual(new Set(results.map((r) => r.customId)).size, 10)
      const cancelled = results.filter((r) => r._tag === "Failed" && r.error.code === "batch_cancelled").length
      assert.isAbove(cancelled, 0)
      assert.strictEqual(cancelled + results.filter((r) => r._tag === "Succeeded").length, 10)
      // Qianfan is not known to list unprocessed requests itself: the input file stays for `results`.
      const job = emulator.state["qianfan-v2"].batches.get(submitted.status.parts[0].jobId)!
      assert.isTrue(emulator.state["qianfan-v2"].files.has(job.inputFileId))
    }).pipe(Effect.provide(makeLayer({ emulator: { processing: { perRequest: "1 second" } } }))))

  it.effect("splits at 5000 requests per file and a resubmission attaches", () =>
    Effect.gen(function*() {
      const qianfan = (yield* QianfanV2Batch.QianfanV2Batch).withLimits({ maxLinesPerJob: 2 })
      const emulator = yield* Emulator.Emulator
      assert.strictEqual(QianfanV2Batch.profile.limits.maxLinesPerJob, 5000)
      const submitted = yield* qianfan.submit(requests(3))
      assert.strictEqual(submitted.status.parts.length, 2)
      const again = yield* qianfan.submit(requests(3))
      assert.strictEqual(again.id, submitted.id)
      assert.strictEqual(again.attached, 2)
      assert.strictEqual(emulator.state["qianfan-v2"].batches.size, 2)
    }).pipe(Effect.provide(makeLayer())))

  it.effect("a wrong key is ApiError Authentication; an unknown batch is NotFound", () =>
    Effect.gen(function*() {
      const qianfan = yield* QianfanV2Batch.QianfanV2Batch
      const error = yield* Effect.flip(qianfan.get("infer-x"))
      assert.isTrue(ApiError.is("Authentication")(error))
      if (error._tag === "ApiError") {
        assert.strictEqual(error.code, "invalid_iam_token")
        assert.include(error.message, "QIANFAN_API_KEY")
      }
    }).pipe(Effect.provide(makeLayer({ apiKey: "bce-v3/ALTAK-wrong/0000" }))))

  it.effect("an unknown batch is NotFound", () =>
    Effect.gen(function*() {
      const qianfan = yield* QianfanV2Batch.QianfanV2Batch
      assert.isTrue(ApiError.is("NotFound")(yield* Effect.flip(qianfan.get("infer-missing"))))
    }).pipe(Effect.provide(makeLayer())))

  it.effect("the registry entry runs a provider-agnostic program on the emulator", () =>
    Effect.gen(function*() {
      assert.strictEqual(QianfanV2Batch.registry.name, "qianfan-v2")
      const { done, results } = yield* Effect.gen(function*() {
        const batch = yield* Batch.Batch
        const submitted = yield* driven(batch.submit(requests(2)), "100 millis")
        const done = yield* driven(batch.await(submitted.id, fast))
        return { done, results: yield* collect(batch.results(submitted.id)) }
      }).pipe(Effect.provide(QianfanV2Batch.registry.layerEmulated), Effect.provide(NodeHttpClient.layerUndici))
      assert.strictEqual(done.providerStatus, "Done")
      assert.strictEqual(results.length, 2)
    }).pipe(Effect.provide(Emulator.layer())))

  it.effect("layerMock reports Qianfan's words", () =>
    Effect.gen(function*() {
      const qianfan = yield* QianfanV2Batch.QianfanV2Batch
      const submitted = yield* qianfan.submit(requests(2))
      assert.strictEqual(submitted.status.providerStatus, "Queuing")
      const done = yield* driven(qianfan.await(submitted.id, fast))
      assert.strictEqual(done.providerStatus, "Done")
    }).pipe(Effect.provide(QianfanV2Batch.layerMock())))
})
