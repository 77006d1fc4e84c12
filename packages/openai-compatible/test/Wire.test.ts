import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { OpenAiBatch, Profile, Wire } from "../src/index.js"

describe("Wire (lenient decoding)", () => {
  it("keeps the fields that fit and drops the ones that do not; only the id is required", () => {
    const batch = Schema.decodeUnknownSync(Wire.Batch)({
      id: "batch_1",
      status: "paused_for_review",
      created_at: "yesterday",
      request_counts: { total: 3, completed: "two", failed: 0 },
      metadata: { a: "b" },
      brand_new_field: { x: 1 }
    })
    assert.strictEqual(batch.status, "paused_for_review")
    assert.isUndefined(batch.created_at)
    assert.strictEqual(batch.request_counts?.total, 3)
    assert.isUndefined(batch.request_counts?.completed)
    assert.deepStrictEqual(batch.metadata, { a: "b" })
    assert.isTrue(Option.isNone(Schema.decodeUnknownOption(Wire.Batch)({ status: "completed" })))
  })

  it("maps an unknown status word to phase unknown, keeping the word", () => {
    assert.strictEqual(Profile.phaseOf(OpenAiBatch.profile, "paused_for_review"), "unknown")
    assert.strictEqual(Profile.phaseOf(OpenAiBatch.profile, undefined), "unknown")
    assert.strictEqual(Profile.phaseOf(OpenAiBatch.profile, "in_progress"), "running")
  })

  it.effect("a page keeps every item with an id and continues after the last one", () =>
    Effect.gen(function*() {
      const page = Schema.decodeUnknownSync(Wire.Page)({
        data: [{ id: "a", status: "completed" }, { status: "odd" }, 42, { id: "c", status: "weird" }],
        has_more: true
      })
      const { items, next } = yield* Wire.decodePage(Wire.Batch, page, "batch")
      assert.deepStrictEqual(items.map((b) => b.id), ["a", "c"])
      assert.deepStrictEqual(next, Option.some("c"))
    }))
})
