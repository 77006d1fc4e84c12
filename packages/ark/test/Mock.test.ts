import { ArkBatch, Mock } from "@barge/ark"
import { Batch, type ChatRequest } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream, TestClock } from "effect"

const requests = (n: number, model = "doubao-pro-32k"): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: n }, (_, i) => ({ customId: `m-${i}`, model, messages: [{ role: "user", content: `q${i}` }] }))

const respond = (request: ChatRequest.ChatRequest) =>
  request.customId === "m-1"
    ? new Batch.RequestError({ code: "InvalidRequest", message: "scripted" })
    : {
      id: request.customId,
      model: request.model,
      choices: [{ index: 0, message: { role: "assistant", content: `re: ${request.customId}` }, finish_reason: "stop" }]
    }

const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) => Effect.map(Stream.runCollect(stream), Chunk.toArray)

describe("Mock", () => {
  it.effect("runs the lifecycle in memory with Ark's words, rules and lines, driven by TestClock", () =>
    Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const submitted = yield* ark.submit(requests(3))
      const jobId = submitted.status.parts[0]!.jobId
      assert.strictEqual((yield* ark.get(jobId)).phase, "Queued")
      yield* TestClock.adjust("1 minute")
      const done = yield* ark.await(submitted.id)
      assert.deepStrictEqual([done.phase, done.providerStatus], ["completed", "Completed"])
      const results = yield* collect(ark.results(submitted.id))
      assert.deepStrictEqual(results.map((r) => [r.customId, r._tag]), [
        ["m-0", "Succeeded"],
        ["m-1", "Failed"],
        ["m-2", "Succeeded"]
      ])
      // Ark's own input line went to the mock platform: no model, the job names it.
      const holdings = (yield* Mock.MockState).holdings()
      assert.deepStrictEqual(
        [...holdings.files.values()][0]![0],
        "{\"custom_id\":\"m-0\",\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"q0\"}]}}"
      )
      // Ark's rules: an unknown bare model is refused before anything is uploaded.
      const refused = yield* Effect.flip(ark.submit(requests(1, "nobody-knows")))
      assert.strictEqual(refused._tag, "InputValidationError")
      assert.strictEqual((yield* Mock.MockState).holdings().uploads, 1)
    }).pipe(Effect.provide(Mock.layer({ respond }))))

  it.effect("a cancelled mock batch reports every request once; the unified front sees Ark's statuses", () =>
    Effect.gen(function*() {
      const batch = yield* Batch.Batch
      const submitted = yield* batch.submit(requests(4), { completionWindow: "2 days" })
      yield* TestClock.adjust("1200 millis")
      const cancelled = yield* batch.cancel(submitted.id)
      assert.strictEqual(cancelled.providerStatus, "Terminated")
      const results = yield* collect(batch.results(submitted.id))
      assert.deepStrictEqual(results.map((r) => [r.customId, r._tag === "Failed" ? r.error.code : "ok"]), [
        ["m-0", "ok"],
        ["m-1", "InvalidRequest"],
        ["m-2", "batch_cancelled"],
        ["m-3", "batch_cancelled"]
      ])
    }).pipe(Effect.provide(ArkBatch.layerBatch.pipe(Layer.provideMerge(Mock.layer({ respond }))))))
})
