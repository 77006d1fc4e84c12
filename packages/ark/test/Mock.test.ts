import { ArkBatch, Job, Mock } from "@barge/ark"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"

const model = Job.foundationModel("doubao-pro-32k", "240615")
const requests = [
  { customId: "q1", body: { messages: [{ role: "user", content: "one" }] } },
  { customId: "q2", body: { messages: [{ role: "user", content: "two" }] } },
  { customId: "q3", body: { messages: [{ role: "user", content: "three" }] } }
]

describe("Mock ArkBatch", () => {
  it.effect("scripts phases, counts, results and failures without HTTP or time", () =>
    Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const { job } = yield* ark.submit(requests, { name: "mocked", model })
      assert.strictEqual(job.phase, "Queued")
      const seen = Chunk.toArray(yield* Stream.runCollect(ark.watch(job.id)))
      assert.deepStrictEqual(seen.map((j) => j.phase), ["Running", "Completed"])
      assert.deepStrictEqual({ ...seen[1]!.counts }, { total: 3, completed: 2, failed: 1 })
      const results = Chunk.toArray(yield* Stream.runCollect(ark.results(job.id)))
      assert.deepStrictEqual(results.map((r) => [r._tag, r.customId]), [
        ["Response", "q1"],
        ["Response", "q3"],
        ["Error", "q2"]
      ])
      const again = yield* ark.submit(requests, { name: "mocked", model })
      assert.isFalse(again.attached, "a finished job does not block a new submission")
      const completed = Chunk.toArray(yield* Stream.runCollect(ark.list({ phases: ["Completed"] })))
      assert.deepStrictEqual(completed.map((j) => j.id), [job.id])
      const state = yield* Mock.MockState
      assert.strictEqual(state.jobs.size, 2)
    }).pipe(Effect.provide(Mock.layer({ script: () => ({ failCustomIds: ["q2"] }) }))))

  it.effect("a scripted failure ends await with JobFailed carrying the job and its message", () =>
    Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const { job } = yield* ark.submit(requests, { name: "doomed", model })
      const error = yield* Effect.flip(ark.await(job.id))
      assert.strictEqual(error._tag, "JobFailed")
      assert.include(error.message, "quota exhausted")
    }).pipe(
      Effect.provide(
        Mock.layer({ script: () => ({ phases: ["Queued", "Running", "Failed"], message: "quota exhausted" }) })
      )
    ))

  it.effect("stop terminates, and a duplicate submit of an active job attaches", () =>
    Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const first = yield* ark.submit(requests, { name: "same", model })
      const second = yield* ark.submit(requests, { name: "same", model })
      assert.isTrue(second.attached)
      assert.strictEqual(second.job.id, first.job.id)
      yield* ark.stop(first.job.id)
      const error = yield* Effect.flip(ark.await(first.job.id))
      assert.strictEqual(error._tag, "JobTerminated")
    }).pipe(Effect.provide(Mock.layer())))
})
