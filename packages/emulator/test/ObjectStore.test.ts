import { assert, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import * as ObjectStore from "../src/internal/ObjectStore.js"

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (chunks: ReadonlyArray<Uint8Array>) => Buffer.concat(chunks).toString("utf8")
const md5 = (data: string) => createHash("md5").update(data, "latin1").digest("hex")

describe("ObjectStore", () => {
  it("puts, gets, overwrites and deletes objects", () => {
    let clock = 1_000
    const store = ObjectStore.make({ now: () => clock })
    const first = store.put("b", "a/1.jsonl", bytes("one"), "application/jsonl")
    assert.strictEqual(first.etag, md5("one"))
    assert.strictEqual(first.size, 3)
    assert.strictEqual(first.lastModified, 1_000)
    assert.strictEqual(first.contentType, "application/jsonl")
    clock = 2_000
    store.put("b", "a/1.jsonl", bytes("uno!"))
    const got = store.get("b", "a/1.jsonl")!
    assert.strictEqual(new TextDecoder().decode(got.body), "uno!")
    assert.strictEqual(got.lastModified, 2_000)
    assert.strictEqual(got.contentType, ObjectStore.defaultContentType)
    assert.isTrue(store.delete("b", "a/1.jsonl"))
    assert.isFalse(store.delete("b", "a/1.jsonl"))
    assert.isUndefined(store.get("b", "a/1.jsonl"))
  })

  it("lists by prefix in key order, per bucket", () => {
    const store = ObjectStore.make()
    for (const key of ["p/b", "p/a", "q/a", "p/c/d", "pz"]) store.put("one", key, bytes(key))
    store.put("two", "p/x", bytes("x"))
    assert.deepStrictEqual(store.list("one", "p/").map((o) => o.key), ["p/a", "p/b", "p/c/d"])
    assert.deepStrictEqual(store.list("one", "").map((o) => o.key), ["p/a", "p/b", "p/c/d", "pz", "q/a"])
    assert.deepStrictEqual(store.list("missing", ""), [])
    assert.deepStrictEqual(store.buckets(), ["one", "two"])
  })

  it("creates buckets explicitly or on first write", () => {
    const store = ObjectStore.make()
    assert.isFalse(store.hasBucket("x"))
    store.createBucket("x")
    assert.isTrue(store.hasBucket("x"))
    store.put("y", "k", bytes("v"))
    assert.isTrue(store.hasBucket("y"))
  })

  it("keeps chunked bodies as given and slices them without copying", () => {
    const store = ObjectStore.make()
    const parts = [bytes("hello "), bytes("big "), bytes("world")]
    const object = store.putChunks("b", "k", parts)
    assert.strictEqual(object.size, 15)
    assert.strictEqual(object.chunks[0], parts[0])
    assert.strictEqual(text(object.slice(3, 12)), "lo big wo")
    assert.strictEqual(text(object.slice(10)), "world")
    assert.strictEqual(text(object.slice(0, 100)), "hello big world")
    assert.deepStrictEqual(object.slice(20), [])
    // A slice shares memory with the stored chunk.
    assert.strictEqual(object.slice(6, 9)[0]!.buffer, parts[1]!.buffer)
    assert.strictEqual(new TextDecoder().decode(object.body), "hello big world")
    assert.strictEqual(object.etag, md5("hello big world"))
  })

  it("a writer publishes nothing until commit, then the whole object at once", () => {
    const store = ObjectStore.make()
    store.put("b", "out.jsonl", bytes("old"))
    const writer = store.writer("b", "out.jsonl", "application/jsonl")
    for (let i = 0; i < 1000; i++) writer.append(bytes(`{"line":${i}}\n`))
    assert.strictEqual(new TextDecoder().decode(store.get("b", "out.jsonl")!.body), "old")
    const committed = writer.commit()
    assert.strictEqual(store.get("b", "out.jsonl"), committed)
    assert.isTrue(new TextDecoder().decode(committed.body).endsWith(`{"line":999}\n`))
    assert.strictEqual(committed.size, committed.body.byteLength)
    assert.throws(() => writer.append(bytes("late")), /already committed/)
  })

  it("a writer gathers small appends into blocks and keeps large ones uncopied", () => {
    const store = ObjectStore.make()
    const writer = store.writer("b", "big")
    const line = bytes("x".repeat(99) + "\n")
    for (let i = 0; i < 2000; i++) writer.append(line) // 200 000 bytes of small lines
    const large = new Uint8Array(ObjectStore.blockSize * 2).fill(65)
    writer.append(large)
    writer.append(line)
    const object = writer.commit()
    assert.strictEqual(object.size, 200_000 + large.byteLength + 100)
    assert.isBelow(object.chunks.length, 10)
    assert.isTrue(object.chunks.includes(large))
    assert.strictEqual(text(object.slice(199_950, 200_000)), "x".repeat(49) + "\n")
    assert.strictEqual(object.etag, md5(Buffer.from(object.body).toString("latin1")))
    assert.throws(() => writer.append(bytes("late")), /already committed/)
  })

  it("never loses a write among many concurrent ones", async () => {
    const store = ObjectStore.make()
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        Promise.resolve().then(() => {
          store.put("b", `k/${i % 50}/${i}`, bytes(String(i)))
        }))
    )
    assert.strictEqual(store.list("b", "k/").length, 500)
  })
})
