import { Mock, QianfanBatch } from "@barge/qianfan"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"

const model = { endpoint: "ernie-4.0-8k" } as const

describe("Mock", () => {
  it.effect("walks tasks through the scripted statuses and answers every line", () =>
    Effect.gen(function*() {
      const qianfan = yield* QianfanBatch.QianfanBatch
      const submission = yield* qianfan.submit([{ id: "1", query: "hi" }, { id: "2", query: "there" }], { model })
      const seen = yield* Stream.runCollect(qianfan.watch(submission))
      assert.deepStrictEqual(Chunk.toReadonlyArray(seen).map((t) => t.runStatus), ["Queuing", "Running", "Done"])
      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(qianfan.results(submission)))
      assert.deepStrictEqual(results.map((r) => r._tag === "Succeeded" ? r.response.choices[0]!.message.content : ""), [
        "Echo: hi",
        "Echo: there"
      ])
    }).pipe(Effect.provide(Mock.layer())))

  it.effect("a scripted failure fails await with the task", () =>
    Effect.gen(function*() {
      const qianfan = yield* QianfanBatch.QianfanBatch
      const submission = yield* qianfan.submit([{ id: "1", query: "hi" }], { model })
      const error = yield* Effect.flip(qianfan.await(submission))
      assert.strictEqual(error._tag, "TaskFailed")
      if (error._tag === "TaskFailed") assert.strictEqual(error.task.errorReason, "quota")
    }).pipe(
      Effect.provide(Mock.layer({ statuses: ["Queuing", "Failed"], failure: { errorCode: 7, errorReason: "quota" } }))
    ))

  it.effect("validates input like the real service and splits by the same limits", () =>
    Effect.gen(function*() {
      const qianfan = yield* QianfanBatch.QianfanBatch
      const invalid = yield* Effect.flip(qianfan.submit([{ id: "1" }], { model }))
      assert.strictEqual(invalid._tag, "InputValidationError")
      const split = yield* qianfan.submit(
        Array.from({ length: 6 }, (_, i) => ({ id: `${i}`, query: "0123456789" })),
        { model }
      )
      assert.lengthOf(split.taskIds, 3)
    }).pipe(Effect.provide(Mock.layer({ limits: { maxBytesPerFile: 70, maxFilesPerTask: 1 } }))))
})
