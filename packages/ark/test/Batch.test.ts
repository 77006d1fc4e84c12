import { ArkBatch } from "@barge/ark"
import { Batch } from "@barge/core"
import { Emulator, TestTime } from "@barge/emulator"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Redacted, Schedule, Stream } from "effect"

const layer = Layer.unwrapEffect(
  Effect.map(Emulator.Emulator, (emulator) =>
    ArkBatch.layerBatch.pipe(Layer.provide(ArkBatch.layer({
      accessKeyId: Redacted.make(emulator.credentials.volcengine.accessKeyId),
      secretAccessKey: Redacted.make(emulator.credentials.volcengine.secretAccessKey),
      endpoint: emulator.urls.ark,
      tosEndpoint: emulator.urls.tos,
      bucket: "unified",
      // Beyond `TestTime.run`'s horizon: moving the TestClock never cuts a call.
      timeout: "3650 days"
    }))))
)

describe("ArkBatch.layerBatch", () => {
  // On the TestClock, moved only while the client waits: the job is queued when submit returns, however slow the
  // machine.
  it.effect("runs the unified Batch service on Ark: submit, await, results", () =>
    Effect.gen(function*() {
      const batch = yield* Batch.Batch
      const submitted = yield* batch.submit(
        Array.from({ length: 4 }, (_, i) => ({
          customId: `u-${i}`,
          model: "doubao-pro-32k",
          messages: [{ role: "user" as const, content: i === 2 ? `no ${Emulator.failMarker}` : `hello ${i}` }]
        })),
        { completionWindow: "2 days" }
      )
      assert.strictEqual(submitted.provider, "ark")
      assert.strictEqual(submitted.parts[0]!.providerStatus, "Queued")
      const done = yield* TestTime.run(batch.await(submitted.id, { schedule: Schedule.spaced("100 millis") }))
      assert.deepStrictEqual([done.phase, done.providerStatus], ["completed", "Completed"])
      assert.deepStrictEqual({ ...done.counts }, { total: 4, completed: 3, failed: 1 })
      const results = Chunk.toArray(yield* Stream.runCollect(batch.results(submitted.id)))
      assert.deepStrictEqual(results.map((r) => [r.customId, r._tag]).sort(), [
        ["u-0", "Succeeded"],
        ["u-1", "Succeeded"],
        ["u-2", "Failed"],
        ["u-3", "Succeeded"]
      ])
    }).pipe(
      Effect.provide(layer.pipe(Layer.provideMerge(Emulator.layer({
        processing: { queuedFor: "100 millis", perRequest: "50 millis", finalizingFor: "100 millis" }
      })))),
      Effect.provide(NodeHttpClient.layerUndici)
    ))
})
