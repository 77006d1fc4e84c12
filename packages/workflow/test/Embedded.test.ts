/**
 * The embedded deployment (SQLite in a file, one process) against the emulator, over loopback: a batch runs to
 * its end with every result once in the sink; concurrent submits of one input are one execution and one job;
 * cancel is a durable signal; invalid input fails the execution before any job exists; object sinks; the
 * execution is readable from a client on the same file.
 */
import * as Emulator from "@barge/emulator/Emulator"
import { BargeCluster, BatchProviders, BatchWorkflow, Sink } from "@barge/workflow"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Providers from "./support/providers.js"
import * as Requests from "./support/requests.js"

const settings = BatchWorkflow.layerSettings({
  poll: { floor: "40 millis", cap: "400 millis", initial: "40 millis", max: "200 millis" },
  chunkSize: 4
})

const tempDir = () => Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-durable-"))

/** A worker on a fresh database and an emulator; the test body gets both. */
const withWorker = <A, E>(
  use: (env: { readonly emulator: Emulator.Service; readonly dir: string }) => Effect.Effect<A, E, any>,
  emulatorOptions: Emulator.Options = { timeScale: 20 }
) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make(emulatorOptions)
    const dir = tempDir()
    const worker = BatchWorkflow.layer.pipe(
      Layer.provide(Providers.layer(emulator.urls)),
      Layer.provideMerge(BargeCluster.layerEmbedded({ file: Path.join(dir, "barge.db") })),
      Layer.provide(settings),
      Layer.provideMerge(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici))
    )
    return yield* Effect.provide(use({ emulator, dir }), worker)
  })

/** The provider's jobs (each as its logical id), through the same Batch layer the worker uses. */
const jobsOf = (provider: Providers.Provider, urls: Emulator.Urls) =>
  Effect.gen(function*() {
    const providers = yield* BatchProviders.BatchProviders
    const batch = yield* providers.get(provider)
    return Chunk.toReadonlyArray(yield* Stream.runCollect(batch.list))
  }).pipe(Effect.provide(Providers.layer(urls)), Effect.provide(NodeHttpClient.layerUndici))

describe("embedded", () => {
  it.scopedLive(
    "runs a batch to its end: every result once in the sink, one provider job",
    () =>
      withWorker(({ dir, emulator }) =>
        Effect.gen(function*() {
          const requests = Requests.make(15, "basic", Providers.models.moonshot)
          const sink = Sink.file(Path.join(dir, "out.jsonl"))
          const started = yield* BatchWorkflow.start(requests, { provider: "moonshot", sink })
          assert.isFalse(started.joined)
          const outcome = yield* BatchWorkflow.await(started.executionId, { every: "20 millis" })
          assert.strictEqual(outcome.phase, "completed")
          assert.strictEqual(outcome.results, 15)
          assert.strictEqual(outcome.succeeded, 13)
          assert.deepStrictEqual(Requests.problems(requests, Requests.readSink(sink.path)), [])
          const execution = yield* BatchWorkflow.status(started.executionId)
          assert.strictEqual(execution.stage, "done")
          assert.strictEqual(execution.results, 15)
          assert.isAbove(execution.polls, 0)
          assert.strictEqual(execution.batchId, outcome.batchId)
          const jobs = yield* jobsOf("moonshot", emulator.urls)
          assert.strictEqual(jobs.length, 1)
          const read = yield* Stream.runCollect(BatchWorkflow.results(started.executionId))
          assert.strictEqual(read.length, 15)
        })
      ),
    { timeout: 60_000 }
  )
})
