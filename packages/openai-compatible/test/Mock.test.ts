import { Batch, InputValidation } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schedule, TestClock } from "effect"
import { Mock, OpenAiBatch } from "../src/index.js"
import { collect, driven, requests } from "./utils.js"

describe("Mock", () => {
  it.effect("runs the lifecycle with OpenAI's words, windows and limits, answering with `respond`", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const refused = yield* Effect.flip(openai.submit(requests(1), { completionWindow: "2 days" }))
      assert.instanceOf(refused, InputValidation.InputValidationError)
      const submitted = yield* openai.submit(requests(3))
      assert.strictEqual(submitted.status.providerStatus, "validating")
      const again = yield* openai.submit(requests(3))
      assert.strictEqual(again.attached, 1)
      assert.strictEqual(again.id, submitted.id)
      const done = yield* driven(openai.await(submitted.id, { schedule: Schedule.spaced("1 second") }))
      assert.strictEqual(done.providerStatus, "completed")
      const results = yield* collect(openai.results(submitted.id))
      assert.deepStrictEqual(
        results.map((r) => (r._tag === "Succeeded" ? r.response.choices[0]?.message.content : r.error.code)),
        ["answer r1", "bad", "answer r3"]
      )
    }).pipe(Effect.provide(Mock.layer({
      respond: (request) =>
        request.customId === "r2"
          ? new Batch.RequestError({ code: "bad", message: "refused" })
          : { choices: [{ message: { role: "assistant", content: `answer ${request.customId}` } }] }
    }))))

  it.effect("a cancelled mock batch lists every request once, the unprocessed as batch_cancelled", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const submitted = yield* openai.submit(requests(5))
      yield* TestClock.adjust("2500 millis")
      const status = yield* openai.cancelBatch(submitted.id)
      assert.strictEqual(status.phase, "cancelled")
      const results = yield* collect(openai.results(submitted.id))
      assert.deepStrictEqual(results.map((r) => r.customId), ["r1", "r2", "r3", "r4", "r5"])
      assert.deepStrictEqual(results.map((r) => r._tag === "Failed" ? r.error.code : "ok"), [
        "ok",
        "ok",
        "ok",
        "batch_cancelled",
        "batch_cancelled"
      ])
      const files = yield* collect(openai.files.list)
      assert.strictEqual(files.length, 1)
      const content = yield* collect(openai.files.content(files[0]!.id))
      assert.include(Buffer.concat(content).toString("utf8"), "\"url\":\"/v1/chat/completions\"")
      yield* TestClock.adjust("2 days")
      assert.strictEqual((yield* openai.cleanup({ olderThan: "1 day", dryRun: false })).deleted, 1)
      assert.strictEqual((yield* collect(openai.files.list)).length, 0)
    }).pipe(Effect.provide(Mock.layer({ perRequest: "500 millis" }))))
})
