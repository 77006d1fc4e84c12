/**
 * Durable batches (`@barge/workflow`) against the emulator:
 *
 * 1. Overhead per batch, against the in-memory path in the same run: the same batches through `Batch.submit` /
 *    `await` / `results` and through `BatchWorkflow` in the embedded deployment (SQLite), both polling every
 *    200 ms. Reported: wall time, storage writes (rows the cluster wrote, and the executions view's updates) and
 *    the latency each poll adds (how late each status read comes after its planned wait, minus the in-memory
 *    path's own lateness).
 * 2. Batches tracked by one runner: many batches in progress at once in one embedded runner (a child process run
 *    with `--expose-gc`, the emulator in another), heap per batch.
 * 3. Time for a shard to move after a runner dies: PostgreSQL, two runner processes with `BargeCluster.layerPg`'s
 *    default health checks, batches polling every 100 ms–1 s; one runner is SIGKILLed and the time until every
 *    batch is polled again is measured. Needs the machine's PostgreSQL binaries (skipped without them).
 */
import * as Batch from "@barge/core/Batch"
import type * as ChatRequest from "@barge/core/ChatRequest"
import * as Polling from "@barge/core/Polling"
import * as Emulator from "@barge/emulator/Emulator"
import { BargeCluster, BatchProviders, BatchWorkflow, Executions, Sink } from "@barge/workflow"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import * as SqlClient from "@effect/sql/SqlClient"
import { Chunk, Duration, Effect, Layer, ManagedRuntime, Redacted, Schedule, Stream } from "effect"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Postgres from "../packages/workflow/test/support/postgres.js"
import * as Processes from "../packages/workflow/test/support/processes.js"
import * as Providers from "../packages/workflow/test/support/providers.js"
import * as Requests from "../packages/workflow/test/support/requests.js"
import { fmt, median, type Report, type Table } from "./report.js"

const pollEvery = 200

// ---------------------------------------------------------------------------------------------------------------
// 1. Overhead against the in-memory path
// ---------------------------------------------------------------------------------------------------------------

/** Each provider's `Batch`, its status reads timestamped per batch id (so poll gaps can be measured). */
const timedProviders = (urls: Emulator.Urls, reads: Map<string, Array<number>>) =>
  Layer.effect(
    BatchProviders.BatchProviders,
    Effect.gen(function*() {
      const inner = yield* BatchProviders.BatchProviders
      const services: Record<string, Batch.Service> = {}
      for (const name of inner.names) {
        const batch = yield* Effect.orDie(inner.get(name))
        const record = (id: string) =>
          Effect.sync(() => {
            const list = reads.get(id) ?? []
            list.push(performance.now())
            reads.set(id, list)
          })
        services[name] = { ...batch, get: (id) => Effect.tap(batch.get(id), () => record(id)) }
      }
      return BatchProviders.make(services)
    })
  ).pipe(Layer.provide(Providers.layer(urls)))

interface Run {
  readonly seconds: number
  readonly polls: number
  /** Mean of (gap between two status reads − the planned wait), ms. */
  readonly lateness: number
}

const lateness = (reads: ReadonlyArray<number>): number => {
  const gaps = reads.slice(1).map((t, i) => t - reads[i]! - pollEvery)
  return gaps.length === 0 ? 0 : gaps.reduce((a, b) => a + b, 0) / gaps.length
}

const inMemory = (requests: ReadonlyArray<ChatRequest.ChatRequest>, sink: string, reads: Map<string, Array<number>>) =>
  Effect.gen(function*() {
    const started = performance.now()
    const batch = yield* (yield* BatchProviders.BatchProviders).get("moonshot")
    const submitted = yield* batch.submit(requests)
    // What `batch.await` runs, over the timed `get`.
    yield* Polling.awaitTerminal(batch.get(submitted.id), {
      isTerminal: (status) => Batch.isTerminal(status.phase),
      schedule: Schedule.spaced(Duration.millis(pollEvery))
    })
    const lines = yield* Stream.runCollect(Stream.map(batch.results(submitted.id), Sink.encodeLine))
    Fs.writeFileSync(sink, Chunk.toReadonlyArray(lines).join(""))
    const polls = reads.get(submitted.id) ?? []
    return { seconds: (performance.now() - started) / 1000, polls: polls.length, lateness: lateness(polls) } as Run
  })

const durable = (requests: ReadonlyArray<ChatRequest.ChatRequest>, sink: string, reads: Map<string, Array<number>>) =>
  Effect.gen(function*() {
    const started = performance.now()
    const run = yield* BatchWorkflow.start(requests, { provider: "moonshot", sink: Sink.file(sink) })
    const outcome = yield* BatchWorkflow.await(run.executionId, { every: "10 millis" })
    // The launch's status is the first observation; the reads here are the polls after it.
    const polls = reads.get(outcome.batchId!) ?? []
    return {
      run: { seconds: (performance.now() - started) / 1000, polls: polls.length, lateness: lateness(polls) } as Run,
      executionId: run.executionId
    }
  })

const tables = ["cluster_messages", "cluster_replies", "barge_executions", "cluster_runners", "cluster_locks"] as const

/** Counts every row written (inserted, updated, deleted) in the deployment's tables, per table, with triggers. */
const countWrites = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS bench_writes (tbl TEXT PRIMARY KEY, n INTEGER NOT NULL)`
  for (const table of tables) {
    yield* sql`INSERT OR IGNORE INTO bench_writes (tbl, n) VALUES (${table}, 0)`
    for (const op of ["INSERT", "UPDATE", "DELETE"]) {
      yield* sql.unsafe(
        `CREATE TRIGGER IF NOT EXISTS bench_${table}_${op} AFTER ${op} ON ${table} ` +
          `BEGIN UPDATE bench_writes SET n = n + 1 WHERE tbl = '${table}'; END`
      )
    }
  }
  return Effect.map(
    sql<{ tbl: string; n: unknown }>`SELECT tbl, n FROM bench_writes`,
    (rows) => Object.fromEntries(rows.map((row) => [row.tbl, Number(row.n)])) as Record<typeof tables[number], number>
  )
})

const overhead = async (batches: number) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-bench-durable-"))
  const reads = new Map<string, Array<number>>()
  const program = Effect.gen(function*() {
    // 2 s queued, 20 × 50 ms, 1 s finalizing: about 4 s per batch, a dozen polls.
    const emulator = yield* Emulator.make({ timeScale: 1 })
    const providers = timedProviders(emulator.urls, reads)
    const memoryRuns: Array<Run> = []
    for (let i = 0; i < batches; i++) {
      memoryRuns.push(
        yield* inMemory(
          Requests.make(20, `mem-${i}`, Providers.models.moonshot),
          Path.join(dir, `mem-${i}.jsonl`),
          reads
        ).pipe(Effect.provide(providers))
      )
    }
    const fixed = `${pollEvery} millis`
    const worker = BatchWorkflow.layer.pipe(
      Layer.provide(providers),
      Layer.provideMerge(BargeCluster.layerEmbedded({ file: Path.join(dir, "barge.db") })),
      Layer.provide(BatchWorkflow.layerSettings({ poll: { floor: fixed, cap: fixed, initial: fixed, max: fixed } })),
      Layer.provideMerge(NodeContext.layer)
    )
    const { durableRuns, seconds, written } = yield* Effect.gen(function*() {
      const writes = yield* countWrites
      const started = performance.now()
      const runs: Array<Run> = []
      for (let i = 0; i < batches; i++) {
        const { run } = yield* durable(
          Requests.make(20, `dur-${i}`, Providers.models.moonshot),
          Path.join(dir, `dur-${i}.jsonl`),
          reads
        )
        runs.push(run)
      }
      return { durableRuns: runs, seconds: (performance.now() - started) / 1000, written: yield* writes }
    }).pipe(Effect.provide(worker))
    return { memoryRuns, durableRuns, seconds, written }
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))
  const { durableRuns, memoryRuns, seconds, written } = await Effect.runPromise(program)
  return {
    memoryRuns,
    durableRuns,
    clusterWrites: (written.cluster_messages + written.cluster_replies) / batches,
    viewWrites: written.barge_executions / batches,
    upkeepPerSecond: (written.cluster_runners + written.cluster_locks) / seconds
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Batches tracked by one runner (child process with --expose-gc)
// ---------------------------------------------------------------------------------------------------------------

const self = import.meta.filename

interface MemoryFigures {
  readonly batches: number
  readonly heapBefore: number
  readonly heapAfter: number
  readonly rssAfter: number
  readonly secondsToTrack: number
}

/** In the child: an embedded runner tracking `batches` slow batches at once, measured after a full GC. */
const memoryChild = async (batches: number, urls: Emulator.Urls) => {
  const gc = (globalThis as { gc?: () => void }).gc!
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-bench-memory-"))
  const runtime = ManagedRuntime.make(
    BatchWorkflow.layer.pipe(
      Layer.provide(Providers.layer(urls)),
      Layer.provideMerge(BargeCluster.layerEmbedded({ file: Path.join(dir, "barge.db") })),
      Layer.provideMerge(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici))
    )
  )
  await runtime.runPromise(Effect.void)
  gc()
  const heapBefore = process.memoryUsage().heapUsed
  const started = performance.now()
  const ids = await runtime.runPromise(Effect.forEach(
    Array.from({ length: batches }, (_, i) => i),
    (i) =>
      Effect.map(
        BatchWorkflow.start(Requests.make(5, `memory-${i}`, Providers.models.moonshot), {
          provider: "moonshot",
          sink: Sink.file(Path.join(dir, `${i}.jsonl`))
        }),
        (started) => started.executionId
      ),
    { concurrency: 20 }
  ))
  // Tracked: every batch launched and waiting on its next poll.
  for (const deadline = Date.now() + 600_000; Date.now() < deadline;) {
    const view = await runtime.runPromise(Effect.flatMap(Executions.Executions, (v) => v.list({ limit: batches })))
    if (view.filter((e) => ids.includes(e.executionId) && e.stage === "running").length === batches) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const secondsToTrack = (performance.now() - started) / 1000
  gc()
  const figures: MemoryFigures = {
    batches,
    heapBefore,
    heapAfter: process.memoryUsage().heapUsed,
    rssAfter: process.memoryUsage().rss,
    secondsToTrack
  }
  process.stdout.write(`figures ${JSON.stringify(figures)}\n`)
  process.exit(0)
}

const memory = async (batches: number): Promise<MemoryFigures> => {
  // The emulator's clock all but stopped: every job stays queued, so every batch is in progress when measured.
  const emulator = Processes.start(["packages/emulator/src/bin.ts", "--port", "0", "--time-scale", "0.0001"])
  try {
    await Processes.until(emulator, () => emulator.lines.length > 0)
    const child = Processes.start([self, "--memory-child", String(batches), emulator.lines[0]!], {}, ["--expose-gc"])
    const code = await child.exited
    const line = child.lines.find((l) => l.startsWith("figures "))
    if (code !== 0 || line === undefined) throw new Error(`memory child failed: ${Processes.describe(child)}`)
    return JSON.parse(line.slice("figures ".length)) as MemoryFigures
  } finally {
    await Processes.kill(emulator)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Shard move after a runner dies (PostgreSQL)
// ---------------------------------------------------------------------------------------------------------------

const havePostgres = (): boolean => {
  try {
    execFileSync("pg_ctl", ["--version"], { stdio: "pipe" })
    return true
  } catch {
    return false
  }
}

const shardMove = async (batches: number) => {
  const pg = await Postgres.start()
  // The emulator's clock all but stopped: the jobs stay queued and polled, however long the setup takes.
  const emulator = Processes.start(["packages/emulator/src/bin.ts", "--port", "0", "--time-scale", "0.0001"])
  const runners: Array<Processes.Child> = []
  const runnerScript = Path.resolve(import.meta.dirname, "../packages/workflow/test/support/runner.ts")
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-bench-move-"))
  let client: ManagedRuntime.ManagedRuntime<BargeCluster.Services, unknown> | undefined
  try {
    await Processes.until(emulator, () => emulator.lines.length > 0)
    const urls = JSON.parse(emulator.lines[0]!) as Emulator.Urls
    for (let i = 0; i < 2; i++) {
      const port = await Postgres.freePort()
      runners.push(Processes.start([runnerScript, JSON.stringify({ pg: pg.url, port, urls, cluster: "library" })]))
    }
    for (const runner of runners) await Processes.until(runner, () => runner.lines.includes("ready"))
    client = ManagedRuntime.make(BargeCluster.layerPg({ url: Redacted.make(pg.url) }))
    const ids = await client.runPromise(Effect.forEach(
      Array.from({ length: batches }, (_, i) => i),
      (i) =>
        Effect.map(
          BatchWorkflow.start(Requests.make(5, `move-${i}`, Providers.models.moonshot), {
            provider: "moonshot",
            sink: Sink.file(Path.join(dir, `${i}.jsonl`))
          }),
          (started) => started.executionId
        ),
      { concurrency: 10 }
    ))
    const view = () =>
      client!.runPromise(Effect.flatMap(Executions.Executions, (v) => v.list({ limit: 10 * batches })))
        .then((all) => all.filter((e) => ids.includes(e.executionId)))
    // Every batch polled at least twice: each runner is busy polling its share.
    for (const deadline = Date.now() + 300_000; Date.now() < deadline;) {
      const executions = await view()
      if (executions.length === batches && executions.every((e) => e.polls >= 2)) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const before = new Map((await view()).map((e) => [e.executionId, e.polls]))
    const killedAt = Date.now()
    await Processes.kill(runners[0]!)
    const resumed = new Map<string, number>()
    const deadline = Date.now() + 300_000
    while (resumed.size < batches && Date.now() < deadline) {
      for (const e of await view()) {
        if (!resumed.has(e.executionId) && e.polls > before.get(e.executionId)!) {
          resumed.set(e.executionId, e.updatedAt.epochMillis - killedAt)
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return [...resumed.values()].map((ms) => Math.max(0, ms) / 1000)
  } finally {
    await client?.dispose()
    for (const runner of runners) await Processes.kill(runner)
    await Processes.kill(emulator)
    pg.stop()
  }
}

// ---------------------------------------------------------------------------------------------------------------

export const run = async (options: { readonly smoke: boolean }): Promise<Report> => {
  const sizes = options.smoke ? { batches: 2, tracked: 10, moved: 0 } : { batches: 8, tracked: 300, moved: 16 }
  const { clusterWrites, durableRuns, memoryRuns, upkeepPerSecond, viewWrites } = await overhead(sizes.batches)
  const memSeconds = median(memoryRuns.map((r) => r.seconds))
  const durSeconds = median(durableRuns.map((r) => r.seconds))
  const memLate = median(memoryRuns.map((r) => r.lateness))
  const durLate = median(durableRuns.map((r) => r.lateness))
  const polls = median(durableRuns.map((r) => r.polls))
  const tables: Array<Table> = [{
    title:
      `Durable overhead per batch: ${sizes.batches} Moonshot batches of 20 requests, polled every ${pollEvery} ms ` +
      `(medians)`,
    columns: ["path", "wall time", "status polls", "lateness per poll", "rows written", "rows per poll"],
    rows: [
      [
        "in memory (Batch.submit / await / results)",
        `${fmt(memSeconds, 2)} s`,
        fmt(median(memoryRuns.map((r) => r.polls))),
        `${fmt(memLate, 1)} ms`,
        "—",
        "—"
      ],
      [
        "durable, embedded SQLite (BatchWorkflow)",
        `${fmt(durSeconds, 2)} s`,
        fmt(polls),
        `${fmt(durLate, 1)} ms`,
        `${fmt(clusterWrites + viewWrites)} rows (${fmt(clusterWrites)} workflow, ${fmt(viewWrites)} view)`,
        fmt((clusterWrites + viewWrites) / Math.max(1, polls), 1)
      ]
    ]
  }]
  const notes = [
    `Added latency per poll (durable − in memory): ${fmt(durLate - memLate, 1)} ms: each wait suspends the ` +
    "execution on the durable clock; the runner finds the due wake-up when it next reads its storage (every 500 ms " +
    "by default, `BargeCluster` `shardingConfig.entityMessagePollInterval`) and replays the execution's stored steps.",
    `Wall time per batch: ${
      fmt(durSeconds - memSeconds, 2)
    } s more durable than in memory (the lateness of each poll ` +
    "plus the stored prepare, launch and collect steps).",
    "Rows written: every row inserted, updated or deleted in the workflow's tables (messages and replies of the " +
    "execution, its clock and its signals) and the executions view (stages, polls, cursor commits), counted by " +
    `SQLite triggers. Besides those, the runner itself writes ${fmt(upkeepPerSecond, 1)} rows/s (heartbeat and shard ` +
    "leases), whatever the number of batches."
  ]
  const tracked = await memory(sizes.tracked)
  const perBatch = (tracked.heapAfter - tracked.heapBefore) / tracked.batches
  tables.push({
    title: "Batches tracked by one embedded runner (all launched and waiting on the durable clock)",
    columns: ["batches", "heap before", "heap after", "heap per batch", "RSS", "time to launch all"],
    rows: [[
      fmt(tracked.batches),
      `${fmt(tracked.heapBefore / 2 ** 20, 1)} MiB`,
      `${fmt(tracked.heapAfter / 2 ** 20, 1)} MiB`,
      `${fmt(perBatch / 1024, 1)} KiB`,
      `${fmt(tracked.rssAfter / 2 ** 20, 0)} MiB`,
      `${fmt(tracked.secondsToTrack, 1)} s`
    ]]
  })
  if (sizes.moved > 0 && havePostgres()) {
    const moved = await shardMove(sizes.moved)
    const stalled = moved.filter((s) => s > 1)
    tables.push({
      title: `Shard move after a runner dies: PostgreSQL, 2 runners (layerPg defaults), ${sizes.moved} batches polling`,
      columns: ["batches", "stalled by the kill", "resumed after (median of stalled)", "all resumed after"],
      rows: [[
        fmt(moved.length),
        fmt(stalled.length),
        `${fmt(median(stalled), 1)} s`,
        `${fmt(Math.max(...moved), 1)} s`
      ]]
    })
    notes.push(
      "Shard move: a runner pings the others every 5 s (`runnerHealthCheckInterval`); a dead one fails its pings, " +
        "is marked unhealthy and its shards are reassigned (the PostgreSQL advisory locks it held were freed when " +
        "its connection dropped). The check is a cluster singleton: when it ran on the runner that died, the move " +
        "waits for that runner's heartbeat to lapse (10 s, `shardLockExpiration`). Lower both to move sooner."
    )
  } else {
    notes.push(
      sizes.moved === 0 ? "Shard move: skipped in smoke mode." : "Shard move: skipped (no PostgreSQL binaries)."
    )
  }
  return { tables, goals: [], notes }
}

if (process.argv[2] === "--memory-child") {
  void memoryChild(Number(process.argv[3]), JSON.parse(process.argv[4]!) as Emulator.Urls)
}
