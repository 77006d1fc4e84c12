import { ApiError, Batch, type ChatRequest } from "@barge/core"
import { Mock, QianfanBatch } from "@barge/qianfan"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Stream, TestClock } from "effect"

const ask = (id: string, extra: Record<string, unknown> = {}): ChatRequest.ChatRequest => ({
  customId: id,
  model: "ernie-4.0-8k",
  messages: [{ role: "user", content: `question ${id}` }],
  ...extra
})

describe("Mock", () => {
  it.effect("runs tasks on the TestClock and answers each request with respond, parameters included", () =>
    Effect.gen(function*() {
      const qianfan = yield* QianfanBatch.QianfanBatch
      const submitted = yield* qianfan.submit([
        ask("1"),
        ask("2", { temperature: 0.2 }),
        ask("3", { temperature: 0.2 })
      ])
      assert.lengthOf(submitted.status.parts, 2)
      const tasks = yield* Effect.forEach(submitted.status.parts, (part) => qianfan.get(part.jobId))
      assert.deepStrictEqual(tasks.map((t) => [t.runStatus, t.inferenceParams]), [
        ["Queuing", {}],
        ["Queuing", { temperature: 0.2 }]
      ])
      const waiting = yield* Effect.fork(qianfan.await(submitted.id))
      yield* TestClock.adjust("1 minute")
      const done = yield* Fiber.join(waiting)
      assert.deepStrictEqual([done.phase, done.counts.completed, done.counts.failed], ["completed", 2, 1])
      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(qianfan.results(submitted.id)))
      assert.deepStrictEqual(
        results.map((
          r
        ) => [r.customId, r._tag === "Succeeded" ? r.response.choices[0]!.message.content : r.error.code]),
        [["1", "t=none"], ["2", "bad"], ["3", "t=0.2"]]
      )
    }).pipe(Effect.provide(Mock.layer({
      respond: (request) =>
        request.customId === "2"
          ? new Batch.RequestError({ code: "bad", message: "no" })
          : { choices: [{ message: { role: "assistant", content: `t=${request.temperature ?? "none"}` } }] }
    }))))

  it.effect("uses Qianfan's window rules and limits, cancels with every request accounted for, and deletes", () =>
    Effect.gen(function*() {
      const qianfan = yield* QianfanBatch.QianfanBatch
      const refused = yield* Effect.flip(qianfan.submit([ask("1")], { completionWindow: "48h" }))
      assert.strictEqual(refused._tag, "InputValidationError")
      const submitted = yield* qianfan.submit(Array.from({ length: 6 }, (_, i) => ask(`${i}`)))
      assert.lengthOf(submitted.status.parts, 3)
      const taskId = submitted.status.parts[0]!.jobId
      assert.isTrue(ApiError.is("Conflict")(yield* Effect.flip(qianfan.delete(taskId))))
      yield* TestClock.adjust("1100 millis")
      yield* qianfan.cancelBatch(submitted.id)
      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(qianfan.results(submitted.id)))
      assert.strictEqual(new Set(results.map((r) => r.customId)).size, 6)
      assert.isTrue(results.some((r) => r._tag === "Failed" && r.error.code === "batch_cancelled"))
      yield* qianfan.delete(taskId)
      assert.isTrue(ApiError.is("NotFound")(yield* Effect.flip(qianfan.get(taskId))))
    }).pipe(Effect.provide(Mock.layer({ limits: { maxLinesPerJob: 2 } }))))
})
