/**
 * Crashes in the embedded deployment: a real worker process (SQLite in a file) runs one durable batch against an
 * emulator in another process and is SIGKILLed during the upload, right after the create, while polling and while
 * collecting — then started again with the same input each time. It must join the same execution, resume from its
 * last stored step, end with every result exactly once in the sink, and leave exactly one provider job. Where each
 * kill landed is read from the database by this process, through the client layer.
 *
 * Nothing here depends on how fast the machine is: the emulator runs in this process with its clock all but
 * stopped (jobs stay queued, however slow the restarts, until the test moves emulated time on), and the windows to
 * kill in are requests the emulator holds open far longer than the test needs to see them (each only once: the
 * next run is not slowed).
 */
import * as Batch from "@barge/core/Batch"
import * as Emulator from "@barge/emulator/Emulator"
import { BargeCluster, BatchProviders, BatchWorkflow, type Executions } from "@barge/workflow"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer, ManagedRuntime, Option, Stream } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Processes from "./support/processes.js"
import * as Providers from "./support/providers.js"
import * as Requests from "./support/requests.js"

const worker = Path.resolve(import.meta.dirname, "support/worker.ts")

/** The OpenAI-compatible platforms of the emulator (Files + Batches under `/v1` or `/v2`). */
const openAiServices = ["moonshot", "openai", "qianfan-v2"] as const

/** Windows to kill in: the first upload waits, the create's answer trickles, the first result download crawls. */
const faults: Emulator.FaultSpec = {
  rules: [
    { kind: "latency" as const, rate: 1, services: ["tos"], match: "^PUT /", limit: 1, delayMs: 20_000 },
    { kind: "latency" as const, rate: 1, services: ["bos"], match: "^PUT /", limit: 1, delayMs: 20_000 },
    ...openAiServices.map((service) => ({
      kind: "latency" as const,
      rate: 1,
      services: [service],
      match: "^POST /v[12]/files$",
      limit: 1,
      delayMs: 20_000
    })),
    ...(["ark", "qianfan", ...openAiServices] as const).map((service) => ({
      kind: "slowBody" as const,
      rate: 1,
      services: [service],
      match: String.raw`^POST (/v[12]/batches$|.*[?&]Action=CreateBatchInference(Job|Task)(&|$))`,
      limit: 1,
      delayMs: 20_000
    })),
    {
      kind: "slowBody" as const,
      rate: 1,
      services: ["tos"],
      match: String.raw`^GET /[^/?]+/[^?]+`,
      limit: 1,
      delayMs: 20_000
    },
    {
      kind: "slowBody" as const,
      rate: 1,
      services: ["bos"],
      // An object (`/v1/<bucket>/<key>`), not a listing (`/v1/<bucket>?prefix=…`).
      match: String.raw`^GET /v1/[^/?]+/[^?]+`,
      limit: 1,
      delayMs: 20_000
    },
    ...openAiServices.map((service) => ({
      kind: "slowBody" as const,
      rate: 1,
      services: [service],
      match: String.raw`^GET /v[12]/files/[^/]+/content$`,
      limit: 1,
      delayMs: 20_000
    }))
  ],
  maxConsecutive: 100
}

/** Every job the provider lists, as logical batch ids. */
const jobsOf = (provider: Providers.Provider, urls: Emulator.Urls) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const batch = yield* (yield* BatchProviders.BatchProviders).get(provider)
      return Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.map(batch.list, (status) => status.id)))
    }).pipe(Effect.provide(Providers.layer(urls)), Effect.provide(NodeHttpClient.layerUndici), Effect.scoped)
  )

const count = 12

/**
 * The providers whose restart scenario runs (they run side by side). CI: Ark, whose duplicate rule (it refuses an
 * identical job only while the first is queued or running) makes the re-run create the most delicate, and
 * Moonshot for the OpenAI-compatible platforms; `BARGE_DURABLE_RESTART=all` (what `pnpm durable:large` sets) runs
 * every provider of the registry.
 */
const restartSetting = process.env.BARGE_DURABLE_RESTART ?? "ark,moonshot"
const restartProviders = (restartSetting === "all" ? Providers.providers : restartSetting.split(",")).map((name) => {
  assert.include(Providers.providers, name)
  return name as Providers.Provider
})

/** One provider: four killed runs and one that finishes; returns where each kill landed and the end state. */
const scenario = async (provider: Providers.Provider, emulator: Emulator.Service, random: () => number) => {
  const urls = emulator.urls
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), `barge-durable-restart-${provider}-`))
  const db = Path.join(dir, "barge.db")
  const sink = Path.join(dir, "results.jsonl")
  const tag = `dr-${provider}`
  const args = [worker, JSON.stringify({ urls, db, sink, provider, count, tag })]
  const client = ManagedRuntime.make(
    Layer.merge(BargeCluster.layerEmbedded({ file: db, runner: false }), NodeContext.layer)
  )
  try {
    let executionId: string | undefined
    const read = async (): Promise<Executions.Execution | undefined> =>
      executionId === undefined
        ? undefined
        : Option.getOrUndefined(await client.runPromise(Effect.option(BatchWorkflow.status(executionId))))
    const started = async (child: Processes.Child) => {
      assert.isTrue(
        await Processes.until(child, () => child.lines.some((l) => l.startsWith("started "))),
        `${provider}: ${Processes.describe(child)}`
      )
      const [, id, how] = child.lines.find((l) => l.startsWith("started "))!.split(" ")
      executionId ??= id
      assert.strictEqual(id, executionId, "a restart joins the same execution")
      return how ?? ""
    }
    const killedAt: Array<string> = []
    const joins: Array<string> = []

    // 1. During the upload (held by the emulator), in the prepare step: no job yet.
    let child = Processes.start(args)
    joins.push(await started(child))
    assert.isTrue(
      await Processes.until(child, async () => (await read())?.stage === "preparing"),
      `${provider}: ${JSON.stringify(await read())}\n${Processes.describe(child)}`
    )
    await new Promise((resolve) => setTimeout(resolve, random() * 500))
    killedAt.push(`upload: ${(await read())?.stage}, jobs ${(await jobsOf(provider, urls)).length}`)
    await Processes.kill(child)

    // 2. Right after the create: the provider lists the job, the execution has not stored it.
    child = Processes.start(args)
    joins.push(await started(child))
    assert.isTrue(
      await Processes.until(child, async () => (await jobsOf(provider, urls)).length > 0),
      `${provider}: ${JSON.stringify(await read())}\n${Processes.describe(child)}`
    )
    killedAt.push(`create: batch ${(await read())?.batchId === undefined ? "unrecorded" : "recorded"}`)
    await Processes.kill(child)

    // 3. While polling.
    child = Processes.start(args)
    joins.push(await started(child))
    assert.isTrue(
      await Processes.until(child, async () => {
        const execution = await read()
        return execution?.stage === "running" && execution.polls >= 1
      }),
      `${provider}: ${JSON.stringify(await read())}\n${Processes.describe(child)}`
    )
    killedAt.push(`polling: ${(await read())?.stage}`)
    await Processes.kill(child)
    // Let the job finish: emulated time jumps past its queue, run and finalizing.
    await Effect.runPromise(emulator.advance("1 hour"))

    // 4. While collecting: some results committed (chunks of 2), not all.
    child = Processes.start(args)
    joins.push(await started(child))
    assert.isTrue(
      await Processes.until(child, async () => ((await read())?.results ?? 0) > 0),
      `${provider}: ${JSON.stringify(await read())}\n${Processes.describe(child)}`
    )
    const collecting = await read()
    killedAt.push(`collecting: ${collecting?.stage} ${collecting?.results}/${count}`)
    await Processes.kill(child)
    const committed = collecting?.results ?? 0

    // 5. To the end.
    child = Processes.start(args)
    joins.push(await started(child))
    const code = await child.exited
    assert.strictEqual(code, 0, `${provider}: ${Processes.describe(child)}`)
    const execution = await read()
    return {
      killedAt,
      joins,
      committed,
      execution,
      jobs: await jobsOf(provider, urls),
      results: Requests.readSink(sink),
      requests: Requests.make(count, tag, Providers.models[provider])
    }
  } finally {
    await client.dispose()
  }
}

describe("restart (embedded, SQLite)", () => {
  it.live(
    "killed during upload, after create, while polling and while collecting: one job, every result once",
    () =>
      Effect.gen(function*() {
        const providers = restartProviders
        // One emulator per scenario, its time all but stopped: a job stays queued until its test advances it.
        const emulators = yield* Effect.forEach(providers, () => Emulator.make({ timeScale: 0.0001, faults }))
        yield* Effect.promise(async () => {
          const seed = Date.now() % 100_000
          let state = seed
          const random = () => ((state = (state * 48271) % 2147483647) / 2147483647)
          const runs = await Promise.all(providers.map((provider, i) => scenario(provider, emulators[i]!, random)))
          for (const [i, provider] of providers.entries()) {
            const run = runs[i]!
            const context = `${provider} (seed ${seed}): killed at ${run.killedAt.join("; ")}`
            // Each kill landed where it was meant to.
            assert.match(run.killedAt[0]!, /^upload: preparing, jobs 0$/, context)
            assert.match(run.killedAt[1]!, /^create: batch unrecorded$/, context)
            assert.match(run.killedAt[2]!, /^polling: running$/, context)
            assert.match(run.killedAt[3]!, /^collecting: collecting \d+\/12$/, context)
            assert.isBelow(run.committed, count, context)
            assert.deepStrictEqual(run.joins, ["created", "joined", "joined", "joined", "joined"], context)
            // One execution, one job: the provider lists exactly the job(s) of the execution's batch id.
            assert.strictEqual(run.execution?.stage, "done", context)
            assert.deepStrictEqual(run.jobs, [run.execution!.batchId!], context)
            assert.strictEqual(run.execution?.status?.phase, "completed", context)
            // Every result exactly once in the sink, each the emulator's answer.
            assert.deepStrictEqual(Requests.problems(run.requests, run.results), [], context)
            assert.strictEqual(run.results.length, count, context)
            assert.isTrue(Batch.isTerminal(run.execution!.status!.phase))
          }
        })
      }).pipe(Effect.scoped),
    { timeout: 240_000 }
  )
})
