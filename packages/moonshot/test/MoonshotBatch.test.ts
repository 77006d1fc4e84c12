import type { ChatRequest } from "@barge/core"
import { Batch } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Layer, Schedule, Stream } from "effect"
import { MoonshotBatch, OpenAiCompatible } from "../src/index.js"
import { drive, line, lines, makeLayer } from "./utils.js"

const fast = { schedule: Schedule.spaced("1 second") }

describe("MoonshotBatch lifecycle", () => {
  it.effect("submit → await → results: successes and per-line failures, both files", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const source = OpenAiCompatible.fromLines("input.jsonl", [
        line("a", "hello"),
        line("b", "please [[barge:fail]]"),
        line("c", "world")
      ])
      const submitted = yield* kimi.submit(source, { completionWindow: "1d", metadata: { team: "search" } })
      assert.strictEqual(submitted.status, "validating")
      assert.strictEqual(submitted.completion_window, "1d")
      assert.strictEqual(submitted.metadata?.team, "search")
      assert.match(submitted.metadata?.[OpenAiCompatible.idempotencyMetadataKey] ?? "", /^sha256:[0-9a-f]{64}$/)

      const done = yield* drive(yield* Effect.fork(kimi.await(submitted.id, fast)), "1 second")
      assert.strictEqual(done.status, "completed")
      assert.deepStrictEqual({ ...done.counts }, { completed: 2, failed: 1, total: 3 })

      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(kimi.results(submitted.id)))
      const byId = new Map(results.map((r) => [r.customId, r]))
      assert.strictEqual(results.length, 3)
      const a = byId.get("a")!
      assert.strictEqual(a._tag, "Succeeded")
      if (a._tag === "Succeeded") {
        assert.strictEqual(a.response.choices[0]?.message.content, Emulator.expectedContent("a", "hello"))
      }
      const b = byId.get("b")!
      assert.strictEqual(b._tag, "Failed")
      if (b._tag === "Failed") assert.strictEqual(b.error.statusCode, 400)
    }).pipe(Effect.provide(makeLayer())))

  it.effect("watch reports each status change with counts, ending at the final one", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const submitted = yield* kimi.submit(lines(40))
      const seen = yield* drive(
        yield* Effect.fork(Stream.runCollect(kimi.watch(submitted.id, { schedule: Schedule.spaced("500 millis") }))),
        "500 millis"
      )
      const statuses = Chunk.toReadonlyArray(seen).map((b) => b.status)
      assert.strictEqual(statuses[0], "validating")
      assert.strictEqual(statuses.at(-1), "completed")
      assert.include(statuses, "in_progress")
      const running = Chunk.toReadonlyArray(seen).filter((b) => b.status === "in_progress").map((b) =>
        b.counts.completed
      )
      assert.isAbove(running.length, 1)
      assert.deepStrictEqual(running, [...running].sort((x, y) => x - y))
    }).pipe(Effect.provide(makeLayer())))

  it.effect("a batch whose input fails validation ends failed with its errors", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      // Uploaded directly (submit would refuse it): a duplicated custom_id only the server checks here.
      const file = yield* kimi.files.upload(
        OpenAiCompatible.fromLines("dup.jsonl", [line("x", "one"), line("x", "two")])
      )
      const created = yield* kimi.batches.create({ inputFileId: file.id })
      const exit = yield* drive(yield* Effect.fork(Effect.exit(kimi.await(created.id, fast))), "1 second")
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause : undefined
      const failure = error?._tag === "Fail" ? error.error : undefined
      assert.strictEqual(failure?._tag, "BatchFailed")
      if (failure?._tag === "BatchFailed") {
        assert.strictEqual(failure.batch.status, "failed")
        assert.strictEqual(failure.batch.errorItems[0]?.code, "duplicate_custom_id")
        assert.include(failure.message, "custom_id 'x'")
      }
    }).pipe(Effect.provide(makeLayer())))

  it.effect("a batch past expires_at ends expired: partial output kept, the rest batch_expired", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const submitted = yield* kimi.submit(lines(20), { completionWindow: "12h" })
      const result = yield* drive(
        yield* Effect.fork(Effect.flip(kimi.await(submitted.id, { schedule: Schedule.spaced("30 minutes") }))),
        "30 minutes"
      )
      assert.strictEqual(result._tag, "BatchExpired")
      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(kimi.results(submitted.id)))
      assert.strictEqual(results.length, 20)
      const expired = results.filter((r) => r._tag === "Failed" && r.error.code === "batch_expired")
      const succeeded = results.filter((r) => r._tag === "Succeeded")
      assert.strictEqual(succeeded.length, 11)
      assert.strictEqual(expired.length, 9)
    }).pipe(Effect.provide(makeLayer({ emulator: { processing: { perRequest: "1 hour" } } }))))

  it.effect("a cancelled batch ends cancelled, keeping what finished before the cancel", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const submitted = yield* kimi.submit(lines(10))
      const cancelling = yield* kimi.batches.cancel(submitted.id)
      assert.strictEqual(cancelling.status, "cancelling")
      const error = yield* drive(yield* Effect.fork(Effect.flip(kimi.await(submitted.id, fast))), "1 second")
      assert.strictEqual(error._tag, "BatchCancelled")
      if (error._tag === "BatchCancelled") assert.strictEqual(error.batch.status, "cancelled")
      const again = yield* Effect.flip(kimi.batches.cancel(submitted.id))
      assert.strictEqual(again._tag, "InvalidRequestError")
      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(kimi.results(submitted.id)))
      assert.isTrue(results.every((r) => r._tag === "Failed" && r.error.code === "batch_cancelled"))
    }).pipe(Effect.provide(makeLayer())))

  it.effect("a batch where every request fails is completed with no output file", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const submitted = yield* kimi.submit(
        OpenAiCompatible.fromLines("bad.jsonl", [line("p", "x [[barge:fail]]"), line("q", "y [[barge:fail]]")])
      )
      const done = yield* drive(yield* Effect.fork(kimi.await(submitted.id, fast)), "1 second")
      assert.strictEqual(done.status, "completed")
      assert.isNull(done.output_file_id)
      assert.isString(done.error_file_id)
      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(kimi.results(submitted.id)))
      assert.deepStrictEqual(results.map((r) => r._tag), ["Failed", "Failed"])
    }).pipe(Effect.provide(makeLayer())))
})

describe("MoonshotBatch polling bounds", () => {
  it.effect("await stops with AwaitTimedOut when its schedule ends first, naming the last status", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const submitted = yield* kimi.submit(lines(5))
      const error = yield* drive(
        yield* Effect.fork(Effect.flip(kimi.await(submitted.id, { schedule: Schedule.recurs(1) }))),
        "100 millis"
      )
      assert.strictEqual(error._tag, "AwaitTimedOut")
      if (error._tag === "AwaitTimedOut") {
        assert.strictEqual(error.batchId, submitted.id)
        assert.strictEqual(error.batch?.status, "validating")
        assert.include(error.message, "schedule ended")
      }
    }).pipe(Effect.provide(makeLayer())))
})

describe("MoonshotBatch.layerBatch", () => {
  it.effect("runs a provider-agnostic Batch program on Moonshot", () =>
    Effect.gen(function*() {
      const batch = yield* Batch.Batch
      const submitted = yield* batch.submit([
        { customId: "u-1", model: "kimi-k2.5", messages: [{ role: "user", content: "one" }] },
        { customId: "u-2", model: "kimi-k2.5", messages: [{ role: "user", content: "two" }] }
      ])
      assert.strictEqual(submitted.provider, "moonshot")
      const done = yield* drive(yield* Effect.fork(batch.await(submitted.id)), "1 second")
      assert.strictEqual(done.phase, "completed")
      assert.strictEqual(done.counts.completed, 2)
      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(batch.results(submitted.id)))
      assert.deepStrictEqual(results.map((r) => r.customId).sort(), ["u-1", "u-2"])
    }).pipe(Effect.provide(MoonshotBatch.layerBatch.pipe(Layer.provideMerge(makeLayer())))))

  it.effect("splits a submission over several Moonshot batches when the limits say so", () =>
    Effect.gen(function*() {
      const batch = yield* Batch.Batch
      const emulator = yield* Emulator.Emulator
      const requests = [1, 2, 3].map((i): ChatRequest.ChatRequest => ({
        customId: `s-${i}`,
        model: "kimi-k2.5",
        messages: [{ role: "user", content: `part ${i}` }]
      }))
      const submitted = yield* batch.submit(requests)
      assert.strictEqual(submitted.parts.length, 3)
      assert.strictEqual(emulator.state.moonshot.batches.size, 3)
      const done = yield* drive(yield* Effect.fork(batch.await(submitted.id)), "1 second")
      assert.strictEqual(done.counts.completed, 3)
      // Submitting the same requests again re-attaches to the same three batches.
      const again = yield* batch.submit(requests)
      assert.strictEqual(again.id, submitted.id)
      assert.strictEqual(emulator.state.moonshot.batches.size, 3)
    }).pipe(Effect.provide(
      MoonshotBatch.layerBatch.pipe(Batch.withLimits({ maxLinesPerJob: 1 }), Layer.provideMerge(makeLayer()))
    )))
})
