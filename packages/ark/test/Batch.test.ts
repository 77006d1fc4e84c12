import { ArkBatch } from "@barge/ark"
import { Batch, type ChatRequest } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Effect, Either, Layer, Redacted, Schedule, Stream } from "effect"

const requests = (n: number): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: n }, (_, i) => ({
    customId: `u-${i}`,
    model: "doubao-pro-32k",
    messages: [{ role: "user", content: i === 2 ? `no ${Emulator.failMarker}]]` : `hello ${i}` }]
  }))

describe("Ark behind the unified Batch front", () => {
  it.live("the registry's emulated layer runs submit, await and results on Ark", () =>
    Effect.gen(function*() {
      const batch = yield* Batch.Batch
      const submitted = yield* batch.submit(requests(4), { completionWindow: "2 days" })
      assert.match(submitted.id, /^ark:bi-/)
      assert.strictEqual(submitted.status.parts[0]!.providerStatus, "Queued")
      assert.strictEqual(submitted.status.counts.total, 4)
      yield* Effect.flatMap(Emulator.Emulator, (emulator) => emulator.advance("1 hour"))
      const done = yield* batch.await(submitted.id, { schedule: Schedule.spaced("20 millis") })
      assert.deepStrictEqual([done.phase, done.providerStatus], ["completed", "Completed"])
      assert.deepStrictEqual({ ...done.counts }, { total: 4, completed: 3, failed: 1 })
      const results = Chunk.toArray(yield* Stream.runCollect(batch.results(submitted.id)))
      assert.deepStrictEqual(results.map((r) => [r.customId, r._tag]).sort(), [
        ["u-0", "Succeeded"],
        ["u-1", "Succeeded"],
        ["u-2", "Failed"],
        ["u-3", "Succeeded"]
      ])
      const listed = Chunk.toArray(yield* Stream.runCollect(batch.list))
      assert.deepStrictEqual(listed.map((status) => status.id), [submitted.id])
    }).pipe(
      Effect.provide(ArkBatch.registry.layerEmulated.pipe(Layer.provideMerge(Emulator.layer()))),
      Effect.provide(NodeHttpClient.layerUndici)
    ))

  it("names Ark in the registry, with the variables it needs", () => {
    assert.deepStrictEqual(
      [ArkBatch.registry.name, ArkBatch.registry.title, ArkBatch.registry.credentials],
      ["ark", "Volcengine Ark", ["VOLC_ACCESSKEY", "VOLC_SECRETKEY", "ARK_TOS_BUCKET"]]
    )
  })
})

describe("ArkBatch.config", () => {
  const env = (values: Record<string, string>) =>
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(values))))

  it.effect("reads the environment; values given win over it", () =>
    Effect.gen(function*() {
      const options = yield* ArkBatch.config({ bucket: "given", region: "cn-shanghai" }).pipe(
        env({
          VOLC_ACCESSKEY: "AKLTfromenv",
          VOLC_SECRETKEY: "secret-from-env",
          ARK_TOS_BUCKET: "env-bucket",
          ARK_PROJECT_NAME: "team"
        })
      )
      assert.deepStrictEqual(
        [Redacted.value(options.accessKeyId), options.bucket, options.region, options.projectName, options.endpoint],
        ["AKLTfromenv", "given", "cn-shanghai", "team", "https://open.volcengineapi.com"]
      )
      assert.notInclude(String(options.secretAccessKey), "secret-from-env")
    }))

  it.effect("a missing credential is a ConfigError naming the variable", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.either(
        ArkBatch.config().pipe(env({ VOLC_ACCESSKEY: "AKLTfromenv", ARK_TOS_BUCKET: "b" }))
      )
      assert.isTrue(Either.isLeft(missing))
      if (Either.isLeft(missing)) assert.include(String(missing.left), "VOLC_SECRETKEY")
      const given = yield* ArkBatch.config({ secretAccessKey: Redacted.make("s") }).pipe(
        env({ VOLC_ACCESSKEY: "AKLTfromenv", ARK_TOS_BUCKET: "b" })
      )
      assert.strictEqual(given.bucket, "b")
    }))
})
