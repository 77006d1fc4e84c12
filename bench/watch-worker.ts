/**
 * The processes of the many-jobs benchmark (bench/watch.ts starts each one separately):
 *
 * - `serve-jobs COUNT`: runs the emulator with COUNT running batches (bench/providers.ts `seedJobs`), prints
 *   `{ urls }` and serves until its stdin closes.
 * - `watch URLS COUNT`: watches every job at once in this process with Barge (today's provider `watch`, default
 *   adaptive polling) until all are terminal.
 * - `bare URLS COUNT INTERVAL_MS`: the baseline — one plain async loop per job (undici request, `JSON.parse`, a
 *   `setTimeout` of INTERVAL_MS) until the job is terminal: no Effect, no schema, no adaptive schedule.
 *
 * Each watcher prints one JSON line (`Watched`).
 */
import { phaseProfiler } from "./phase-profile.js"
import type { Urls } from "./providers.js"
import { batchLayer, jobId, seedJobs, watcher } from "./providers.js"
import { serveUntilStdinCloses } from "./serving.js"

/** A small seeded generator (mulberry32), so every run watches the same jobs. */
const prng = (state: number) => () => {
  state = (state + 0x6d2b79f5) | 0
  let t = Math.imul(state ^ (state >>> 15), 1 | state)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Requests per job: 20–600, i.e. 1–30 s of running at the emulator's 50 ms per request (plus 2 s queued, 1 s finalizing). */
export const jobTotals = (count: number): ReadonlyArray<number> => {
  const random = prng(16)
  return Array.from({ length: count }, () => 20 + Math.floor(random() * 580))
}

/** The emulator serving `count` fresh jobs (emulated time running `timeScale` times real time), and how to stop it. */
export const startJobs = async (count: number, timeScale = 1) => {
  const Effect = await import("effect/Effect")
  const Exit = await import("effect/Exit")
  const Scope = await import("effect/Scope")
  const { Emulator } = await import("../packages/emulator/src/index.js")
  const scope = await Effect.runPromise(Scope.make())
  const emulator = await Effect.runPromise(Scope.extend(Emulator.make({ timeScale }), scope))
  seedJobs(emulator, await Effect.runPromise(emulator.now), jobTotals(count))
  return {
    urls: emulator.urls,
    stop: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

/** What a watcher measured. */
export interface Watched {
  readonly jobs: number
  /** Status requests sent. */
  readonly requests: number
  /** From the start until every job was seen terminal. */
  readonly seconds: number
  /** CPU time of the whole watcher process (all threads) over `seconds`. */
  readonly cpuSeconds: number
  readonly baseRss: number
  readonly peakRss: number
  /** Heap still reachable per tracked job, a few seconds in (after a full collection), in bytes. */
  readonly heapPerJob: number
  readonly error?: string
}

/** How long after the start the retained heap is read: every job has been polled and is waiting for its next poll. */
const checkpointMillis = 4_000

const watched = async (
  jobs: number,
  run: (counted: () => void) => Promise<void>
): Promise<Watched> => {
  global.gc?.()
  const stopProfile = await phaseProfiler()
  const base = process.memoryUsage()
  let peakRss = base.rss
  let heapAtCheckpoint = base.heapUsed
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20)
  const checkpoint = setTimeout(() => {
    global.gc?.()
    heapAtCheckpoint = process.memoryUsage().heapUsed
  }, checkpointMillis)
  let requests = 0
  const cpu = process.cpuUsage()
  const start = performance.now()
  let error: string | undefined
  try {
    await run(() => requests++)
  } catch (cause) {
    error = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
  }
  const seconds = (performance.now() - start) / 1000
  const used = process.cpuUsage(cpu)
  clearInterval(sampler)
  clearTimeout(checkpoint)
  await stopProfile?.()
  return {
    jobs,
    requests,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    baseRss: base.rss,
    peakRss: Math.max(peakRss, process.memoryUsage.rss()),
    heapPerJob: Math.max(0, heapAtCheckpoint - base.heapUsed) / jobs,
    ...(error === undefined ? {} : { error })
  }
}

/** Barge: every job watched at once with the lifecycle's `watch` (default adaptive polling). */
export const watch = async (urls: Urls, count: number): Promise<Watched> => {
  const Effect = await import("effect/Effect")
  const Layer = await import("effect/Layer")
  const ManagedRuntime = await import("effect/ManagedRuntime")
  const HttpClient = await import("@effect/platform/HttpClient")
  const { NodeHttpClient } = await import("@effect/platform-node")
  let onRequest = () => {}
  // Counts what leaves the process: every status request.
  const counting = Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) => HttpClient.tapRequest(client, () => Effect.sync(() => onRequest())))
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))
  const runtime = ManagedRuntime.make(Layer.provide(await batchLayer(watcher.provider, urls), counting))
  await runtime.runtime()
  const watchOne = await watcher.watch()
  try {
    return await watched(count, (counted) => {
      onRequest = counted
      return runtime.runPromise(
        Effect.forEach(Array.from({ length: count }, (_, i) => jobId(i)), watchOne, {
          concurrency: "unbounded",
          discard: true
        })
      )
    })
  } finally {
    await runtime.dispose()
  }
}

/** The baseline: a plain loop per job polling every `intervalMillis`. */
export const bare = async (urls: Urls, count: number, intervalMillis: number): Promise<Watched> => {
  const { request } = await import("@effect/platform-node/Undici")
  const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))
  return watched(count, async (counted) => {
    await Promise.all(Array.from({ length: count }, async (_, i) => {
      const url = watcher.statusUrl(urls, jobId(i))
      for (;;) {
        counted()
        const response = await request(url, { headers: watcher.headers })
        if (watcher.isTerminal(JSON.parse(await response.body.text()))) return
        await sleep(intervalMillis)
      }
    }))
  })
}

const serve = async (count: number) => {
  const started = await startJobs(count)
  return serveUntilStdinCloses(started, { urls: started.urls })
}

const [mode, a, b, c] = process.argv.slice(2)
// Only as a process of its own: importing this module (smoke mode) must not start a mode.
if (process.argv[1]?.endsWith("watch-worker.ts")) {
  switch (mode) {
    case "serve-jobs":
      await serve(Number(a))
      break
    case "watch":
      process.stdout.write(JSON.stringify(await watch(JSON.parse(a!) as Urls, Number(b))) + "\n")
      break
    case "bare":
      process.stdout.write(JSON.stringify(await bare(JSON.parse(a!) as Urls, Number(b), Number(c))) + "\n")
      break
    default:
      console.error(`unknown mode ${mode}`)
      process.exit(2)
  }
}
