/**
 * The embedded deployment (SQLite in a file, one process) against the emulator, over loopback: a batch runs to
 * its end with every result once in the sink; concurrent submits of one input are one execution and one job;
 * cancel is a durable signal; invalid input fails the execution before any job exists; object sinks; the
 * execution is readable from a client on the same file.
 */
import * as ObjectStorage from "@barge/core/ObjectStorage"
import * as Signer from "@barge/core/Signer"
import * as Emulator from "@barge/emulator/Emulator"
import * as QianfanStorage from "@barge/qianfan/Storage"
import { BargeCluster, BatchProviders, BatchWorkflow, Sink } from "@barge/workflow"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Redacted, Schedule, Stream } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Providers from "./support/providers.js"
import * as Requests from "./support/requests.js"

const settings = BatchWorkflow.layerSettings({
  poll: { floor: "40 millis", cap: "400 millis", initial: "40 millis", max: "200 millis" },
  chunkSize: 4,
  capacityWait: { initial: "100 millis", max: "400 millis" }
})

const tempDir = () => Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-durable-"))

/** Object sinks go to the emulator's BOS. */
const bosStore = (emulator: Emulator.Service) =>
  Layer.effect(
    Sink.ObjectStore,
    QianfanStorage.make({
      endpoint: emulator.urls.bos,
      bucket: "barge",
      signer: Signer.bce({
        accessKeyId: emulator.credentials.bce.accessKeyId,
        secretAccessKey: Redacted.make(emulator.credentials.bce.secretAccessKey)
      })
    })
  )

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
      Layer.provideMerge(
        BargeCluster.layerEmbedded({
          file: Path.join(dir, "barge.db"),
          shardingConfig: { entityMessagePollInterval: "100 millis" }
        })
      ),
      Layer.provide(settings),
      Layer.provideMerge(bosStore(emulator)),
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

  it.scopedLive(
    "20 concurrent submits of one input are one execution and one provider job",
    () =>
      withWorker(({ dir, emulator }) =>
        Effect.gen(function*() {
          const requests = Requests.make(10, "twenty", Providers.models.ark)
          const sink = Sink.file(Path.join(dir, "out.jsonl"))
          const started = yield* Effect.all(
            Array.from({ length: 20 }, () => BatchWorkflow.start(requests, { provider: "ark", sink })),
            { concurrency: "unbounded" }
          )
          const ids = new Set(started.map((s) => s.executionId))
          assert.strictEqual(ids.size, 1)
          assert.strictEqual(started.filter((s) => !s.joined).length, 1, "exactly one submit created it")
          const outcome = yield* BatchWorkflow.await(started[0]!.executionId, { every: "20 millis" })
          assert.strictEqual(outcome.phase, "completed")
          assert.deepStrictEqual(Requests.problems(requests, Requests.readSink(sink.path)), [])
          assert.strictEqual((yield* jobsOf("ark", emulator.urls)).length, 1)
          // A later submit of the same input joins the finished execution: no second job.
          const again = yield* BatchWorkflow.start(requests, { provider: "ark", sink })
          assert.isTrue(again.joined)
          assert.strictEqual(again.executionId, started[0]!.executionId)
          assert.strictEqual((yield* BatchWorkflow.await(again.executionId, { every: "20 millis" })).results, 10)
          assert.strictEqual((yield* jobsOf("ark", emulator.urls)).length, 1)
        })
      ),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "the same input to another sink is refused, not silently sent elsewhere",
    () =>
      withWorker(({ dir }) =>
        Effect.gen(function*() {
          const requests = Requests.make(3, "conflict", Providers.models.moonshot)
          const first = Sink.file(Path.join(dir, "a.jsonl"))
          const started = yield* BatchWorkflow.start(requests, { provider: "moonshot", sink: first })
          const error = yield* Effect.flip(
            BatchWorkflow.start(requests, { provider: "moonshot", sink: Sink.file(Path.join(dir, "b.jsonl")) })
          )
          assert.strictEqual(error._tag, "SinkConflict")
          assert.include(error.message, first.path)
          // Other options are another submission: another execution.
          const other = yield* BatchWorkflow.start(requests, {
            provider: "moonshot",
            sink: Sink.file(Path.join(dir, "b.jsonl")),
            metadata: { run: "2" }
          })
          assert.notStrictEqual(other.executionId, started.executionId)
          yield* BatchWorkflow.await(started.executionId, { every: "20 millis" })
          yield* BatchWorkflow.await(other.executionId, { every: "20 millis" })
        })
      ),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "invalid input fails the execution with every issue, before any job exists",
    () =>
      withWorker(({ dir, emulator }) =>
        Effect.gen(function*() {
          const good = Requests.make(3, "invalid", Providers.models.qianfan)
          const input =
            [JSON.stringify(good[0]), "{ not json", JSON.stringify({ customId: "x" }), JSON.stringify(good[1])]
              .join("\n") + "\n"
          const sink = Sink.file(Path.join(dir, "out.jsonl"))
          const started = yield* BatchWorkflow.start(input, { provider: "qianfan", sink })
          const error = yield* Effect.flip(BatchWorkflow.await(started.executionId, { every: "20 millis" }))
          assert.strictEqual(error._tag, "InputValidationError")
          if (error._tag === "InputValidationError") {
            assert.deepStrictEqual(error.issues.map((issue) => issue.lineNumber), [2, 3])
          }
          const execution = yield* BatchWorkflow.status(started.executionId)
          assert.strictEqual(execution.stage, "failed")
          assert.include(execution.error ?? "", "line")
          assert.strictEqual((yield* jobsOf("qianfan", emulator.urls)).length, 0)
          const notDone = yield* Effect.flip(Stream.runDrain(BatchWorkflow.results(started.executionId)))
          assert.strictEqual(notDone._tag, "NotFinished")
        })
      ),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "a parameter the provider fixes: refused by default; with fixedParameters \"drop\" sent without it and reported",
    () =>
      withWorker(({ dir, emulator }) =>
        Effect.gen(function*() {
          // Kimi fixes `temperature` for batches.
          const requests = Requests.make(3, "fixed", Providers.models.moonshot).map((request, i) =>
            i === 1 ? { ...request, temperature: 0.3 } : request
          )
          const refused = yield* BatchWorkflow.start(requests, {
            provider: "moonshot",
            sink: Sink.file(Path.join(dir, "refused.jsonl"))
          })
          const error = yield* Effect.flip(BatchWorkflow.await(refused.executionId, { every: "20 millis" }))
          assert.strictEqual(error._tag, "InputValidationError")
          if (error._tag === "InputValidationError") {
            assert.deepStrictEqual(error.issues.map((issue) => issue.lineNumber), [2])
          }
          assert.strictEqual((yield* jobsOf("moonshot", emulator.urls)).length, 0)

          const sink = Sink.file(Path.join(dir, "dropped.jsonl"))
          const dropped = yield* BatchWorkflow.start(requests, { provider: "moonshot", sink, fixedParameters: "drop" })
          assert.notStrictEqual(dropped.executionId, refused.executionId, "the option is part of the submission")
          const outcome = yield* BatchWorkflow.await(dropped.executionId, { every: "20 millis" })
          assert.strictEqual(outcome.phase, "completed")
          assert.deepStrictEqual(
            outcome.dropped.map((d) => [d.lineNumber, d.customId, d.parameter, d.value]),
            [[2, "fixed-2", "temperature", 0.3]]
          )
          assert.deepStrictEqual(Requests.problems(requests, Requests.readSink(sink.path)), [])
        })
      ),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "cancel is a durable signal: the job is cancelled and what it produced is collected once",
    () =>
      withWorker(
        ({ dir, emulator }) =>
          Effect.gen(function*() {
            const requests = Requests.make(40, "cancel", Providers.models.moonshot)
            const sink = Sink.file(Path.join(dir, "out.jsonl"))
            const started = yield* BatchWorkflow.start(requests, { provider: "moonshot", sink })
            // Cancel once the job is visibly running, with requests left.
            yield* BatchWorkflow.watch(started.executionId, { every: "20 millis" }).pipe(
              Stream.takeUntil((e) => e.status !== undefined && e.status.counts.completed + e.status.counts.failed > 0),
              Stream.runDrain
            )
            const asked = yield* BatchWorkflow.cancel(started.executionId)
            assert.isTrue(asked.cancelRequested)
            const outcome = yield* BatchWorkflow.await(started.executionId, { every: "20 millis" })
            assert.strictEqual(outcome.phase, "cancelled")
            const results = Requests.readSink(sink.path)
            // Moonshot reports every request of a cancelled batch: the unfinished ones as batch_cancelled.
            assert.strictEqual(results.length, 40)
            assert.strictEqual(new Set(results.map((r) => r.customId)).size, 40)
            const cancelled = results.filter((r) => r._tag === "Failed" && r.error.code === "batch_cancelled")
            assert.isAbove(cancelled.length, 0)
            assert.isBelow(cancelled.length, 40)
            assert.strictEqual((yield* jobsOf("moonshot", emulator.urls)).length, 1)
          }),
        { timeScale: 20, processing: { perRequest: "2 seconds" } }
      ),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "an object sink gets every result once in one object, its parts cleaned up",
    () =>
      withWorker(() =>
        Effect.gen(function*() {
          const store = yield* Sink.ObjectStore
          const requests = Requests.make(11, "object", Providers.models.qianfan)
          const sink = Sink.object("results/object.jsonl")
          const started = yield* BatchWorkflow.start(requests, { provider: "qianfan", sink })
          const outcome = yield* BatchWorkflow.await(started.executionId, { every: "20 millis" })
          assert.strictEqual(outcome.results, 11)
          const text = new TextDecoder().decode(
            Chunk.toReadonlyArray(yield* Stream.runCollect(ObjectStorage.stream(store, sink.key))).reduce(
              (a, b) => new Uint8Array([...a, ...b]),
              new Uint8Array(0)
            )
          )
          const results = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
          assert.deepStrictEqual(Requests.problems(requests, results), [])
          // Chunks of 4: three parts were written, then joined and deleted.
          const left = yield* Stream.runCollect(store.list(`${sink.key}.parts/`))
          assert.strictEqual(left.length, 0)
          assert.strictEqual((yield* Stream.runCollect(BatchWorkflow.results(started.executionId))).length, 11)
        })
      ),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "a provider with no room for another job: the execution waits, then launches once jobs finish",
    () =>
      withWorker(
        ({ emulator }) =>
          Effect.gen(function*() {
            // Qianfan takes 20 active tasks per account; emulated time is stopped, so the first 20 stay queued.
            const started = yield* Effect.forEach(
              Array.from({ length: 21 }, (_, i) => i),
              (i) =>
                BatchWorkflow.start(Requests.make(2, `room-${i}`, Providers.models.qianfan), {
                  provider: "qianfan",
                  sink: Sink.file(Path.join(tempDir(), "out.jsonl"))
                }),
              { concurrency: 4 }
            )
            // Waits (re-reading every 50 ms) until 20 run and one waits for room.
            const waiting = yield* Effect.gen(function*() {
              const view = yield* Effect.forEach(started, (s) => BatchWorkflow.status(s.executionId))
              const running = view.filter((e) => e.stage === "running")
              const held = view.filter((e) => e.stage === "launching" && (e.error ?? "").startsWith("waiting"))
              return running.length === 20 && held.length === 1 ? held[0]! : yield* Effect.fail("not yet")
            }).pipe(Effect.retry({ schedule: Schedule.spaced("50 millis"), while: (e) => e === "not yet" }))
            assert.include(waiting.error, "TaskRunningNumberExceedLimit")
            assert.strictEqual((yield* jobsOf("qianfan", emulator.urls)).length, 20)
            // Emulated time moves on: the 20 finish, the 21st launches, and finishes in turn.
            const clock = yield* Effect.fork(Effect.repeat(emulator.advance("1 hour"), Schedule.spaced("100 millis")))
            const outcomes = yield* Effect.forEach(
              started,
              (s) => BatchWorkflow.await(s.executionId, { every: "50 millis" }),
              { concurrency: "unbounded" }
            )
            yield* Fiber.interrupt(clock)
            assert.isTrue(outcomes.every((o) => o.phase === "completed" && o.results === 2))
            assert.strictEqual((yield* jobsOf("qianfan", emulator.urls)).length, 21)
          }),
        { timeScale: 0.0001 }
      ),
    { timeout: 90_000 }
  )
})
