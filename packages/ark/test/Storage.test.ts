import { Storage } from "@barge/ark"
import { ApiError } from "@barge/core"
import { Emulator } from "@barge/emulator"
import type { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Option, Redacted, Stream } from "effect"

const text = (stream: Stream.Stream<Uint8Array, unknown>) =>
  Effect.map(Stream.runCollect(Stream.decodeText(stream)), (chunks) => Chunk.join(chunks, ""))

const storage = (secret?: string, bucket = "store") =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    Storage.make({
      endpoint: emulator.urls.tos,
      region: "cn-beijing",
      bucket,
      accessKeyId: emulator.credentials.volcengine.accessKeyId,
      secretAccessKey: Redacted.make(secret ?? emulator.credentials.volcengine.secretAccessKey),
      retry: false
    }))

const provide = <A, E>(
  effect: Effect.Effect<A, E, Emulator.Emulator | HttpClient.HttpClient>
) => effect.pipe(Effect.provide(Emulator.layer()), Effect.provide(NodeHttpClient.layerUndici))

describe("TOS Storage", () => {
  it("addresses real endpoints virtual-host style and loopback/IP endpoints path style", () => {
    assert.strictEqual(
      Storage.bucketBaseUrl("https://tos-cn-beijing.volces.com", "b"),
      "https://b.tos-cn-beijing.volces.com"
    )
    assert.strictEqual(Storage.bucketBaseUrl("tos-cn-beijing.volces.com", "b"), "https://b.tos-cn-beijing.volces.com")
    assert.strictEqual(Storage.bucketBaseUrl("http://127.0.0.1:9000", "b"), "http://127.0.0.1:9000/b")
    assert.strictEqual(Storage.bucketBaseUrl("http://localhost:9000", "b"), "http://localhost:9000/b")
    assert.strictEqual(Storage.keyPath("a b/c+d.jsonl"), "/a%20b/c%2Bd.jsonl")
  })

  it.effect("puts from a stream, gets whole and ranged, heads, lists across pages and deletes", () =>
    provide(Effect.gen(function*() {
      const tos = yield* storage()
      const body = new TextEncoder().encode("hello, 世界\n")
      yield* tos.put("dir/a b.txt", Stream.make(body.subarray(0, 5), body.subarray(5)), { contentLength: body.length })
      assert.strictEqual(yield* text(tos.stream("dir/a b.txt")), "hello, 世界\n")
      assert.strictEqual(yield* text(tos.stream("dir/a b.txt", { range: { start: 7 } })), "世界\n")
      assert.strictEqual(yield* text(tos.stream("dir/a b.txt", { range: { start: 0, end: 4 } })), "hello")
      const ranged = yield* tos.get("dir/a b.txt", { range: { start: 7 } })
      assert.deepStrictEqual([ranged.status, ranged.start, ranged.totalSize], [206, 7, body.length])
      const atEnd = yield* tos.get("dir/a b.txt", { range: { start: body.length } })
      assert.strictEqual(yield* text(atEnd.body), "", "reading from the very end is an empty body")
      const head = yield* tos.head("dir/a b.txt")
      assert.strictEqual(head.size, body.length)
      assert.isTrue(Option.isNone(yield* tos.exists("dir/none")))
      const emulator = yield* Emulator.Emulator
      for (let i = 0; i < 1005; i++) emulator.state.objects.tos.put("store", `many/${String(i).padStart(4, "0")}`, body)
      const listed = Chunk.toArray(yield* Stream.runCollect(tos.list("many/")))
      assert.strictEqual(listed.length, 1005)
      assert.strictEqual(listed[1004]!.key, "many/1004")
      yield* tos.delete("dir/a b.txt")
      const missing = yield* Effect.flip(Stream.runDrain(tos.stream("dir/a b.txt")))
      assert.deepStrictEqual([missing._tag, (missing as { code?: string }).code], ["ApiError", "NoSuchKey"])
      assert.isTrue(ApiError.is("NotFound")(missing))
      assert.include(missing.message, "tos://store/dir/a b.txt")
    })))

  it.effect("a bucket that does not exist is NotFound naming the buckets that do, and is not an absent object", () =>
    provide(Effect.gen(function*() {
      const tos = yield* storage(undefined, "nobody")
      const error = yield* Effect.flip(Stream.runDrain(tos.list("")))
      assert.isTrue(ApiError.is("NotFound")(error))
      assert.strictEqual((error as ApiError.ApiError).code, "NoSuchBucket")
      assert.include(error.message, "Buckets that exist: barge")
      assert.include(error.message, "TOS console")
      assert.isFalse(Storage.isAbsent(error))
    })))

  it.effect("a wrong secret is TosError SignatureDoesNotMatch, without the secret in the message", () =>
    provide(Effect.gen(function*() {
      const tos = yield* storage("totally-wrong-secret")
      const error = yield* Effect.flip(Stream.runDrain(tos.stream("x")))
      assert.deepStrictEqual([error._tag, (error as { code?: string }).code], ["ApiError", "SignatureDoesNotMatch"])
      assert.isTrue(ApiError.is("Authentication")(error))
      assert.notInclude(error.message, "totally-wrong-secret")
    })))
})
