import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { Errors as MoonshotErrors, Mock, MoonshotBatch, OpenAiCompatible } from "../src/index.js"
import { line, lines } from "./utils.js"

describe("Mock", () => {
  it.effect("scripts statuses and results without HTTP or a clock", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const submitted = yield* kimi.submit(lines(4))
      assert.strictEqual(submitted.status, "validating")
      const seen = Chunk.toReadonlyArray(yield* Stream.runCollect(kimi.watch(submitted.id))).map((b) => b.status)
      assert.deepStrictEqual(seen, ["in_progress", "completed"])
      const again = yield* kimi.submit(lines(4))
      assert.strictEqual(again.id, submitted.id)
      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(kimi.results(submitted.id)))
      assert.deepStrictEqual(results.map((r) => r._tag), ["Succeeded", "Succeeded", "Succeeded", "Failed"])
    }).pipe(Effect.provide(Mock.layer({
      statuses: ["validating", "in_progress", "completed"],
      respond: (input) =>
        input.custom_id === "r4"
          ? { _tag: "Failed", customId: input.custom_id, error: { code: "content_filter", message: "high risk" } }
          : {
            _tag: "Succeeded",
            customId: input.custom_id,
            response: { choices: [{ message: { role: "assistant", content: "ok" } }] }
          }
    }))))

  it.effect("scripted failures: a failed batch and a failing operation", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const submitted = yield* kimi.submit(OpenAiCompatible.fromLines("a.jsonl", [line("a", "x")]))
      const error = yield* Effect.flip(kimi.await(submitted.id))
      assert.strictEqual(error._tag, "BatchFailed")
      if (error._tag === "BatchFailed") assert.strictEqual(error.batch.errorItems[0]?.code, "duplicate_custom_id")
      const cancel = yield* Effect.flip(kimi.batches.cancel(submitted.id))
      assert.strictEqual(cancel._tag, "QuotaExceededError")
    }).pipe(Effect.provide(Mock.layer({
      statuses: ["validating", "failed"],
      validationErrors: [{ code: "duplicate_custom_id", message: "dup", line: 2 }],
      failures: {
        cancel: new MoonshotErrors.QuotaExceededError({
          provider: "moonshot",
          action: "CancelBatch",
          status: 429,
          type: "exceeded_current_quota_error",
          description: "no balance"
        })
      }
    }))))
})
