/**
 * The PostgreSQL deployment with real parts: a throwaway PostgreSQL started from the machine's binaries on
 * loopback, the emulator in its own process, three runner processes talking over sockets, and this process as a
 * client. Batches across every provider run while one runner is SIGKILLed mid-poll: every batch finishes on the
 * runners left, each result once in its sink, one provider job per batch. Then several processes submit the same
 * input at once: one execution, one provider job.
 *
 * Nothing depends on how fast the machine is: the emulator runs in this process with its clock all but stopped, so
 * every batch is still queued (and polled) when the runner is killed, however slow the start; the test then moves
 * emulated time on and every batch completes.
 *
 * CI size: 3 runners, 10 batches (2 per provider of the registry), 3 submitting processes. `pnpm durable:large`
 * runs 100 batches and 20 submitting processes (`BARGE_DURABLE_*` below).
 */
import * as Emulator from "@barge/emulator/Emulator"
import { BargeCluster, BatchProviders, BatchWorkflow, Executions, Sink } from "@barge/workflow"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Layer, ManagedRuntime, Redacted, Scope, Stream } from "effect"
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
  batches: Number(process.env.BARGE_DURABLE_BATCHES ?? 10),
  requests: Number(process.env.BARGE_DURABLE_REQUESTS ?? 5),
  submitters: Number(process.env.BARGE_DURABLE_SUBMITTERS ?? 3)
}

const runnerScript = Path.resolve(import.meta.dirname, "support/runner.ts")
const submitScript = Path.resolve(import.meta.dirname, "support/submit.ts")

let pg: Postgres.Server
const emulatorScope = Effect.runSync(Scope.make())
let emulator: Emulator.Service
let urls: Emulator.Urls
let runners: Array<Processes.Child> = []
let client: ManagedRuntime.ManagedRuntime<BargeCluster.Services | NodeContext.NodeContext, unknown>
const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-durable-pg-"))

beforeAll(async () => {
  pg = await Postgres.start()
  emulator = await Effect.runPromise(Scope.extend(Emulator.make({ timeScale: 0.0001 }), emulatorScope))
  urls = emulator.urls
  for (let i = 0; i < size.runners; i++) {
    const port = await Postgres.freePort()
    runners.push(Processes.start([runnerScript, JSON.stringify({ pg: pg.url, port, urls })]))
  }
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
  await Effect.runPromise(Scope.close(emulatorScope, Exit.void))
  pg?.stop()
}, 60_000)

/** Moves emulated time on by an hour every 200 ms until `promise` settles. */
const withClockRunning = async <A>(promise: Promise<A>): Promise<A> => {
  const clock = setInterval(() => void Effect.runPromise(emulator.advance("1 hour")), 200)
  try {
    return await promise
  } finally {
    clearInterval(clock)
  }
}

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
        const batches = Array.from({ length: size.batches }, (_, i) => {
          const provider = Providers.providers[i % Providers.providers.length]!
          return { provider, tag: `pg-${provider}-${i}`, sink: Path.join(dir, `${provider}-${i}.jsonl`) }
        })
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

        // Every batch launched and being polled (their jobs stay queued: emulated time is all but stopped) — or,
        // past a provider's limit of active jobs (Qianfan: 20), waiting for room to launch.
        const entities = (runner: Processes.Child) =>
          Number(runner.lines.filter((l) => l.startsWith("entities ")).at(-1)?.split(" ")[1] ?? 0)
        const settled = (e: Executions.Execution) =>
          (e.stage === "running" && e.polls >= 1) || (e.stage === "launching" && (e.error ?? "").startsWith("waiting"))
        assert.isTrue(
          await Processes.until(runners[0]!, async () => {
            const ready = (await executions()).filter((e) => ids.has(e.executionId) && settled(e))
            return ready.length === batches.length && runners.some((runner) => entities(runner) > 0)
          }, 60_000 + 2_000 * batches.length),
          runners.map(Processes.describe).join("\n")
        )
        // Kill the runner holding the most workflows, mid-poll.
        const victim = runners.reduce((a, b) => entities(b) > entities(a) ? b : a)
        const atKill = (await executions()).filter((e) => ids.has(e.executionId))
        const heldAtKill = entities(victim)
        await Processes.kill(victim)

        // The jobs finish: emulated time moves on by hours (again and again: waiting batches launch late).
        const outcomes = await withClockRunning(client.runPromise(Effect.all(
          started.map((s) => BatchWorkflow.await(s.executionId, { every: "100 millis" })),
          { concurrency: "unbounded" }
        )))
        const context = `held ${heldAtKill}; stages at kill: ${atKill.map((e) => `${e.stage}/${e.polls}`).join(" ")}`
        assert.isAbove(heldAtKill, 0, context)
        assert.isTrue(atKill.every(settled), context)
        assert.isTrue(atKill.some((e) => e.stage === "running"), context)
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
    { timeout: 120_000 + 5_000 * size.batches }
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
        const outcome = await withClockRunning(
          client.runPromise(BatchWorkflow.await(lines[0]![1]!, { every: "100 millis" }))
        )
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
    { timeout: 60_000 + 15_000 * size.submitters }
  )
})
