import { Batch } from "@barge/core"
import { Emulator, TestTime } from "@barge/emulator"
import { QianfanBatch } from "@barge/qianfan"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Redacted, Stream } from "effect"

const qianfan = Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
  QianfanBatch.layer({
    accessKeyId: Redacted.make(emulator.credentials.bce.accessKeyId),
    secretAccessKey: Redacted.make(emulator.credentials.bce.secretAccessKey),
    endpoint: emulator.urls.qianfan,
    bosEndpoint: emulator.urls.bos,
    bucket: "barge",
    timeout: "1000 days"
  })))

/** Runs `effect`, moving the TestClock only while it waits on it (see `TestTime.run`). */
const drive = <A, E, R>(effect: Effect.Effect<A, E, R>) => TestTime.run(effect, { step: "5 seconds" })

describe("QianfanBatch.layerBatch", () => {
  it.effect("runs the provider-agnostic Batch front on Qianfan: submit, await, results", () =>
    Effect.gen(function*() {
      const batch = yield* Batch.Batch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* batch.submit([
        { customId: "a", model: "ernie-4.0-8k", messages: [{ role: "user", content: "hello" }] },
        { customId: "b", model: "ernie-4.0-8k", messages: [{ role: "user", content: "world" }], temperature: 0.3 }
      ])
      assert.strictEqual(submitted.provider, "qianfan")
      assert.strictEqual(submitted.phase, "pending")
      const task = [...emulator.state.qianfan.tasks.values()][0]!
      assert.deepStrictEqual(task.inferenceParams, {})
      const done = yield* drive(batch.await(submitted.id))
      assert.strictEqual(done.phase, "completed")
      assert.strictEqual(done.counts.total, 2)
      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(batch.results(submitted.id)))
      assert.deepStrictEqual(
        results.map((r) => [r.customId, r._tag === "Succeeded" ? r.response.choices[0]!.message.content : ""]).sort(),
        [["a", Emulator.expectedContent("a", "hello")], ["b", Emulator.expectedContent("b", "world")]]
      )
    }).pipe(
      Effect.provide(QianfanBatch.layerBatch.pipe(Layer.provideMerge(qianfan))),
      Effect.provide(Emulator.layer({ processing: { queuedFor: "10 seconds", perRequest: "1 second" } })),
      Effect.provide(NodeHttpClient.layerUndici)
    ))
})
