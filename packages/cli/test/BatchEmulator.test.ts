/**
 * The unified `Batch` service over each provider's real adapter, against the emulator over loopback: a split
 * submission loses and duplicates nothing, and the unified example runs unchanged on every provider.
 */
import type { ChatRequest } from "@barge/core"
import type { Registry } from "@barge/core"
import { Batch } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Chunk, Effect, Layer, Schedule, Stream } from "effect"
import { program } from "../../../examples/unified.js"
import { Providers } from "../src/index.js"

const poll = { schedule: Schedule.spaced("50 millis") }

const wired = (entry: Registry.Entry, limits?: Providers.LimitOverrides) =>
  Layer.unwrapEffect(
    Effect.map(
      Emulator.Emulator,
      (emulator) => Providers.layer(entry, { _tag: "Emulator", endpoints: Emulator.endpoints(emulator) }, limits)
    )
  )

const requests = (entry: Registry.Entry, n: number): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: n }, (_, i) => ({
    customId: `${entry.name}-${String(i + 1).padStart(3, "0")}`,
    model: entry.model,
    messages: [{ role: "user", content: `question number ${String(i + 1).padStart(3, "0")}` }]
  }))

const lastUserText = (request: ChatRequest.ChatRequest) =>
  String(request.messages[request.messages.length - 1]!.content)

describe("Batch over the providers, against the emulator", () => {
  layer(
    Layer.mergeAll(Emulator.layer({ timeScale: 1000 }), NodeHttpClient.layerUndici, NodeContext.layer),
    { excludeTestServices: true }
  )((it) => {
    for (const entry of Providers.entries) {
      const provider = entry.name
      it.effect(
        `${provider}: an input three times over the job limit yields exactly its results, each once`,
        () =>
          Effect.gen(function*() {
            const input = requests(entry, 45)
            const batch = yield* Batch.Batch
            assert.strictEqual(batch.limits.maxLinesPerJob, 15)
            const { status: submitted } = yield* batch.submit(input)
            assert.strictEqual(submitted.parts.length, 3)
            assert.strictEqual(submitted.counts.total, 45)
            assert.strictEqual(new Set(submitted.parts.map((p) => p.jobId)).size, submitted.parts.length)

            const done = yield* batch.await(submitted.id, poll)
            assert.strictEqual(done.phase, "completed")
            const results = Chunk.toReadonlyArray(yield* Stream.runCollect(batch.results(submitted.id)))
            const ids = results.map((r) => r.customId)
            assert.strictEqual(ids.length, 45)
            assert.deepStrictEqual([...ids].sort(), input.map((r) => r.customId).sort())
            const byId = new Map(input.map((r) => [r.customId, r]))
            for (const result of results) {
              assert.strictEqual(result._tag, "Succeeded")
              if (result._tag === "Succeeded") {
                const request = byId.get(result.customId)!
                assert.strictEqual(
                  result.response.choices[0]?.message.content,
                  Emulator.expectedContent(result.customId, lastUserText(request))
                )
              }
            }
          }).pipe(Effect.provide(wired(entry, { maxLinesPerJob: 15 }))),
        { timeout: 30_000 }
      )

      it.effect(`${provider}: the unified example's program runs unchanged`, () =>
        Effect.gen(function*() {
          const outcome = yield* program(entry.model, { poll })
          assert.strictEqual(outcome.provider, provider)
          assert.strictEqual(outcome.phase, "completed")
          assert.deepStrictEqual([...outcome.answers.keys()].sort(), ["q-1", "q-2", "q-3", "q-4"])
          assert.strictEqual(outcome.answers.get("q-3"), Emulator.expectedContent("q-3", "What is 12 × 12?"))
          assert.deepStrictEqual([...outcome.failures.keys()], ["q-5"])
        }).pipe(Effect.provide(wired(entry))), { timeout: 30_000 })
    }
  })

  // Jobs queued for an hour: the first submission's jobs are still queued when the same input comes again, however
  // long this machine takes between the two.
  layer(
    Layer.mergeAll(
      Emulator.layer({ timeScale: 1, processing: { queuedFor: "1 hour" } }),
      NodeHttpClient.layerUndici,
      NodeContext.layer
    ),
    { excludeTestServices: true }
  )((it) => {
    for (const entry of Providers.entries) {
      it.effect(
        `${entry.name}: submitting the same split input again attaches to the same jobs`,
        () =>
          Effect.gen(function*() {
            const batch = yield* Batch.Batch
            const input = requests(entry, 30)
            const first = yield* batch.submit(input)
            const again = yield* batch.submit(input)
            assert.strictEqual(first.status.parts.length, 3)
            assert.strictEqual(again.id, first.id)
            assert.strictEqual(again.attached, 3)
            // Queued jobs report no counts yet at some providers; the first progress still shows the real total.
            const firstFrame = yield* Stream.runHead(batch.watch(first.id, poll))
            assert.strictEqual(firstFrame._tag === "Some" && firstFrame.value.status.counts.total, 30)
          }).pipe(Effect.provide(wired(entry, { maxLinesPerJob: 10 }))),
        { timeout: 30_000 }
      )
    }
  })
})
