/**
 * The PostgreSQL deployment with real parts: a throwaway PostgreSQL started from the machine's binaries on
 * loopback, the emulator in its own process, three runner processes talking over sockets, and this process as a
 * client. Batches across every provider run while one runner is SIGKILLed mid-poll: every batch finishes on the
 * runners left, each result once in its sink, one provider job per batch. Then several processes submit the same
 * input at once: one execution, one provider job.
 *
 * CI size: 3 runners, 4 batches per provider, 4 submitting processes. `pnpm durable:large` runs it bigger.
 */
import type * as Emulator from "@barge/emulator/Emulator"
import { BargeCluster, BatchProviders, BatchWorkflow, Executions, Sink } from "@barge/workflow"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer, ManagedRuntime, Redacted, Stream } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Postgres from "./support/postgres.js"
import * as Processes from "./support/processes.js"
import * as Providers from "./support/providers.js"
import * as Requests from "./support/requests.js"
import { shardingConfig } from "./support/runner.js"

const size = {
  runners: Number(process.env.BARGE_DURABLE_RUNNERS ?? 3),
  batchesPerProvider: Number(process.env.BARGE_DURABLE_BATCHES ?? 4),
  requests: Number(process.env.BARGE_DURABLE_REQUESTS ?? 6),
  submitters: Number(process.env.BARGE_DURABLE_SUBMITTERS ?? 4)
}

const runnerScript = Path.resolve(import.meta.dirname, "support/runner.ts")
const submitScript = Path.resolve(import.meta.dirname, "support/submit.ts")
const basePort = 36_000 + (process.pid % 1000) * 10

let pg: Postgres.Server
let emulator: Processes.Child
let urls: Emulator.Urls
let runners: Array<Processes.Child> = []
let client: ManagedRuntime.ManagedRuntime<BargeCluster.Services | NodeContext.NodeContext, unknown>
const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-durable-pg-"))

beforeAll(async () => {
  pg = await Postgres.start()
  emulator = Processes.start(["packages/emulator/src/bin.ts", "--port", "0", "--time-scale", "4"])
  assert.isTrue(await Processes.until(emulator, () => emulator.lines.length > 0), Processes.describe(emulator))
  urls = JSON.parse(emulator.lines[0]!) as Emulator.Urls
  runners = Array.from(
    { length: size.runners },
    (_, i) => Processes.start([runnerScript, JSON.stringify({ pg: pg.url, port: basePort + i, urls })])
  )
  for (const runner of runners) {
    assert.isTrue(await Processes.until(runner, () => runner.lines.includes("ready")), Processes.describe(runner))
  }
  client = ManagedRuntime.make(
    Layer.merge(BargeCluster.layerPg({ url: Redacted.make(pg.url), shardingConfig }), NodeContext.layer)
  )
}, 180_000)

afterAll(async () => {
  await client?.dispose()
  await Promise.all(runners.map((runner) => Processes.kill(runner)))
  if (emulator !== undefined) await Processes.kill(emulator)
  pg?.stop()
}, 60_000)

/** Every job the provider lists, as logical batch ids. */
const jobsOf = (provider: Providers.Provider) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const batch = yield* (yield* BatchProviders.BatchProviders).get(provider)
      return Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.map(batch.list, (status) => status.id)))
    }).pipe(Effect.provide(Providers.layer(urls)), Effect.provide(NodeHttpClient.layerUndici), Effect.scoped)
  )

const executions = () => client.runPromise(Effect.flatMap(Executions.Executions, (view) => view.list({ limit: 1000 })))

describe("PostgreSQL deployment", () => {
  it.live(
    "a runner SIGKILLed mid-poll: its batches move, every batch finishes, each result once, one job each",
    () =>
      Effect.promise(async () => {
        const batches = Providers.providers.flatMap((provider) =>
          Array.from({ length: size.batchesPerProvider }, (_, i) => ({
            provider,
            tag: `pg-${provider}-${i}`,
            sink: Path.join(dir, `${provider}-${i}.jsonl`)
          }))
        )
        const started = await client.runPromise(Effect.all(
          batches.map((batch) =>
            BatchWorkflow.start(Requests.make(size.requests, batch.tag, Providers.models[batch.provider]), {
              provider: batch.provider,
              sink: Sink.file(batch.sink)
            })
          ),
          { concurrency: "unbounded" }
        ))
        const ids = new Set(started.map((s) => s.executionId))
        assert.strictEqual(ids.size, batches.length)

        // Kill the first runner while it holds workflows and the batches are being polled.
        const victim = runners[0]!
        const holding = () => Number(victim.lines.filter((l) => l.startsWith("entities ")).at(-1)?.split(" ")[1] ?? 0)
        assert.isTrue(
          await Processes.until(victim, async () => {
            const polled = (await executions()).filter((e) => ids.has(e.executionId) && e.polls >= 1)
            return holding() > 0 && polled.length >= batches.length / 2
          }, 120_000),
          Processes.describe(victim)
        )
        const atKill = (await executions()).filter((e) => ids.has(e.executionId))
        const heldAtKill = holding()
        await Processes.kill(victim)

        const outcomes = await client.runPromise(Effect.all(
          started.map((s) => BatchWorkflow.await(s.executionId, { every: "100 millis" })),
          { concurrency: "unbounded" }
        ))
        const context = `held ${heldAtKill}; stages at kill: ${atKill.map((e) => `${e.stage}/${e.polls}`).join(" ")}`
        assert.isAbove(heldAtKill, 0, context)
        assert.isTrue(atKill.some((e) => !Executions.isFinal(e.stage)), context)
        for (const [i, batch] of batches.entries()) {
          const outcome = outcomes[i]!
          assert.strictEqual(outcome.phase, "completed", `${batch.tag}: ${context}`)
          const requests = Requests.make(size.requests, batch.tag, Providers.models[batch.provider])
          assert.deepStrictEqual(Requests.problems(requests, Requests.readSink(batch.sink)), [], batch.tag)
        }
        // One job per batch: each provider lists exactly the jobs of its batches.
        for (const provider of Providers.providers) {
          const expected = outcomes.filter((o, i) => batches[i]!.provider === provider).map((o) => o.batchId).sort()
          assert.deepStrictEqual([...(await jobsOf(provider))].sort(), expected, provider)
        }
      }),
    { timeout: 300_000 }
  )

  it.live(
    "processes submitting the same input at once: one execution, one provider job",
    () =>
      Effect.promise(async () => {
        const args = JSON.stringify({
          pg: pg.url,
          provider: "moonshot",
          count: size.requests,
          tag: "pg-same",
          sink: Path.join(dir, "same.jsonl")
        })
        const before = (await jobsOf("moonshot")).length
        const submitters = Array.from({ length: size.submitters }, () => Processes.start([submitScript, args]))
        const codes = await Promise.all(submitters.map((child) => child.exited))
        assert.deepStrictEqual(codes, submitters.map(() => 0), submitters.map(Processes.describe).join("\n"))
        const lines = submitters.map((child) => child.lines.find((l) => l.startsWith("started "))!.split(" "))
        assert.strictEqual(new Set(lines.map((l) => l[1])).size, 1, "one execution")
        assert.strictEqual(lines.filter((l) => l[2] === "created").length, 1, "created once, joined by the others")
        const outcome = await client.runPromise(BatchWorkflow.await(lines[0]![1]!, { every: "100 millis" }))
        assert.strictEqual(outcome.phase, "completed")
        assert.strictEqual((await jobsOf("moonshot")).length, before + 1, "one provider job")
        assert.deepStrictEqual(
          Requests.problems(
            Requests.make(size.requests, "pg-same", Providers.models.moonshot),
            Requests.readSink(
              Path.join(dir, "same.jsonl")
            )
          ),
          []
        )
      }),
    { timeout: 300_000 }
  )
})
