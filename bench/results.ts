/**
 * Results streaming: a Moonshot output file of chat completions with usage (100 MB and 1 GB) sits in the emulator;
 * each side reads it in its own child process (bench/results-worker.ts) so its peak RSS is its own:
 * Barge's `MoonshotBatch.results` Stream, the usual whole-body-as-text approach, and the bare `JSON.parse` floor.
 * The loopback transfer alone is measured too, to show how much of Barge's time is the download itself.
 *
 * A missed goal gets a CPU profile of Barge's side (`node --cpu-prof`) summarised by where the time goes.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { hotspots } from "./profile.js"
import { fmt, type Goal, mib, type Report, type Table } from "./report.js"
import * as Worker from "./results-worker.js"

/** One measured phase (see results-worker.ts). */
export type Measured = Worker.Measured

const root = new URL("..", import.meta.url).pathname
const worker = new URL("./results-worker.ts", import.meta.url).pathname

/** The emulator process, serving. */
export interface Served {
  readonly url: string
  readonly tos: string
  readonly batchId: string
  readonly lines: number
  readonly bytes: number
}

/** V8 flags that keep the collector from growing the heap far past what is live. */
export const cappedHeap: ReadonlyArray<string> = ["--max-old-space-size=48", "--max-semi-space-size=1"]

const nodeArgs = (extra: ReadonlyArray<string>) => ["--expose-gc", ...extra, "--import", "tsx", worker]

/** Runs a worker mode in a fresh process and returns every JSON line it printed (or the crash as an error). */
export const runWorker = (
  args: ReadonlyArray<string>,
  flags: ReadonlyArray<string> = []
): Promise<ReadonlyArray<Measured>> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs(flags), ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (data) => (out += data))
    child.stderr.on("data", (data) => (err += data))
    child.on("close", (code) => {
      const measured = out.split("\n").filter((line) => line.startsWith("{")).map((line) =>
        JSON.parse(line) as Measured
      )
      if (code === 0 && measured.length > 0) return resolve(measured)
      const reason = err.split("\n").find((l) => /Error|heap/i.test(l))?.trim() ?? `exit code ${code}`
      resolve([...measured, {
        lines: 0,
        seconds: 0,
        baseRss: 0,
        peakRss: 0,
        maxRss: 0,
        error: `process died: ${reason}`
      }])
    })
  })

/**
 * Runs a worker mode: in a child process when measuring; in this process in smoke mode, which only proves every
 * side still runs (starting a process per side would cost seconds a test suite should not spend).
 */
export const runMode = async (
  smoke: boolean,
  args: ReadonlyArray<string>,
  flags: ReadonlyArray<string> = []
): Promise<ReadonlyArray<Measured>> => {
  if (!smoke) return runWorker(args, flags)
  const [mode, a, b] = args as [string, string, string]
  switch (mode) {
    case "raw":
      return [await Worker.raw(a)]
    case "lines":
      return [await Worker.lines(a)]
    case "decoded":
      return [await Worker.lines(a, true)]
    case "barge":
      return [await Worker.barge(a, b)]
    case "text":
      return [await Worker.text(a, b)]
    case "parse":
      return [await Worker.parse(Number(a))]
    case "upload":
      return Worker.upload(a, b)
    default:
      throw new Error(`unknown mode ${mode}`)
  }
}

const measure = async (args: ReadonlyArray<string>, flags: ReadonlyArray<string> = [], smoke = false) =>
  (await runMode(smoke, args, flags)).at(-1)!

/** Starts the emulator with the file (its own process unless `smoke`); resolves once it is serving. */
export const serve = (bytes: number, smoke: boolean): Promise<Served & { readonly stop: () => Promise<void> | void }> =>
  smoke ? Worker.startEmulator(bytes) : serveProcess(bytes)

const serveProcess = (bytes: number): Promise<Served & { readonly stop: () => void }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs(["--max-old-space-size=4096"]), "serve", String(bytes)], {
      cwd: root,
      stdio: ["pipe", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (data) => {
      out += data
      const newline = out.indexOf("\n")
      if (newline !== -1) resolve({ ...(JSON.parse(out.slice(0, newline)) as Served), stop: () => child.stdin.end() })
    })
    child.on("error", reject)
    child.on("close", (code) => reject(new Error(`the emulator process exited (${code}) before serving`)))
  })

export const lineRate = (m: Measured) => (m.error === undefined && m.seconds > 0 ? m.lines / m.seconds : 0)
export const growth = (m: Measured) => Math.max(0, m.peakRss - m.baseRss)

const sizeName = (bytes: number) => (bytes >= 1e9 ? `${fmt(bytes / 1e9, 0)} GB` : `${fmt(bytes / 1e6, 0)} MB`)

/** Buckets profile entries into the areas a reader cares about. */
const area = (name: string): string =>
  name.startsWith("(garbage collector)")
    ? "garbage collection"
    : name.startsWith("(idle)")
    ? "idle (waiting for bytes from the emulator process)"
    : /Jsonl\.ts|Download\.ts|InputValidation\.ts/.test(name)
    ? "core Jsonl/Download/InputValidation (line splitting, checks)"
    : /^decode node:internal\/encoding/.test(name)
    ? "TextDecoder (UTF-8 → string)"
    : /ParseResult|Schema\.js|SchemaAST/.test(name)
    ? "Schema decoding (ResultLine, ChatResponse)"
    : /parse$|JSON/.test(name)
    ? "JSON.parse"
    : /effect\/dist\/esm\/internal\/(channel|stream|fiberRuntime|core|sink)|effect\/dist\/esm\/(Chunk|Either|Option|Function|Predicate|Array)/
        .test(name)
    ? "Effect Stream/fiber machinery"
    : /undici|node:internal\/(deps\/undici|streams|net)|platform-node/.test(name)
    ? "HTTP client (undici, platform-node)"
    : /modules|loader|compile|tsx|esbuild|source_map/.test(name)
    ? "module loading (tsx, once per process)"
    : "other"

/**
 * Runs a worker mode under `node --cpu-prof` and summarises where its time went: by area, then the top functions
 * by self time. `what` names the run in the note.
 */
export const profile = async (args: ReadonlyArray<string>, what: string): Promise<Array<string>> => {
  const dir = mkdtempSync(join(tmpdir(), "barge-prof-"))
  try {
    const phases = await runWorker(args, [`--cpu-prof`, `--cpu-prof-dir=${dir}`])
    const files = readdirSync(dir).map((f) => join(dir, f))
    // The main thread's profile has the most samples (tsx's loader thread writes a small one too).
    const total = (spots: ReadonlyArray<{ readonly millis: number }>) => spots.reduce((n, s) => n + s.millis, 0)
    const main = files.map((f) => ({ f, spots: hotspots(f, 10_000) })).sort((a, b) =>
      total(b.spots) - total(a.spots)
    )[0]
    if (main === undefined) return [`${what}: no profile was written`]
    const sampled = total(main.spots)
    const areas = new Map<string, number>()
    for (const spot of main.spots) areas.set(area(spot.name), (areas.get(area(spot.name)) ?? 0) + spot.millis)
    const byArea = [...areas.entries()].sort((a, b) => b[1] - a[1])
      .map(([name, millis]) => `${name} ${fmt((millis / sampled) * 100, 0)} %`)
    const top = main.spots.slice(0, 8).map((s) => `\`${s.name}\` ${fmt(s.share * 100, 1)} %`)
    return [
      `Profile of ${what} (\`node --cpu-prof\`, ${fmt(sampled / 1000, 1)} s sampled incl. process start-up; ` +
      `measured phases ${phases.map((m) => `${fmt(m.seconds, 1)} s`).join(" + ")}): by area — ${byArea.join("; ")}.`,
      `Top functions by self time: ${top.join(", ")}.`
    ]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Runs the benchmark; `smoke` uses a 2 MB file.
 */
export const run = async (options: { readonly smoke: boolean }): Promise<Report> => {
  const sizes = options.smoke ? [2e6] : [1e8, 1e9]
  const rows: Array<Array<string | number>> = []
  const goals: Array<Goal> = []
  const notes: Array<string> = []
  let profileNotes: Array<string> = []
  for (const size of sizes) {
    const served = await serve(size, options.smoke)
    let raw: Measured, split: Measured, decoded: Measured, barge: Measured, text: Measured
    let capped: Measured | undefined
    try {
      const modes = [
        ["raw", served.url],
        ["lines", served.url],
        ["decoded", served.url],
        ["barge", served.url, served.batchId],
        ["text", served.url, served.batchId]
      ]
      const measured: Array<Measured> = []
      for (const args of modes) measured.push(await measure(args, [], options.smoke))
      ;[raw, split, decoded, barge, text] = measured as [Measured, Measured, Measured, Measured, Measured]
      // Same run with V8's heap held small: if Barge kept anything per line it would die here; if it completes,
      // the default run's growth is the collector's headroom, not data held.
      if (size === sizes[sizes.length - 1] && !options.smoke) {
        capped = await measure(["barge", served.url, served.batchId], cappedHeap)
      }
      const floorFirst = size === sizes[0]
      if (!options.smoke && floorFirst) {
        profileNotes = await profile(
          ["barge", served.url, served.batchId],
          `Barge's \`results\` at ${sizeName(served.bytes)}`
        )
      }
    } finally {
      await served.stop()
    }
    const floor = await measure(["parse", String(size)], ["--max-old-space-size=8192"], options.smoke)
    const name = sizeName(served.bytes)
    const floorRate = lineRate(floor)
    const cell = (m: Measured, what: string, bytesOnly = false) => [
      `${name}: ${what}`,
      m.error === undefined && !bytesOnly ? fmt(m.lines) : "—",
      m.error === undefined ? fmt(m.seconds, 2) : "—",
      m.error === undefined && !bytesOnly ? fmt(lineRate(m)) : "—",
      m.error === undefined ? `${fmt((served.bytes / 2 ** 20) / m.seconds, 0)} MiB/s` : "—",
      m.error === undefined && floorRate > 0 && !bytesOnly ? `${fmt(lineRate(m) / floorRate, 2)}×` : "—",
      mib(growth(m)),
      m.heapGrowth === undefined ? "—" : `${mib(m.heapGrowth)} / ${mib(m.buffersGrowth ?? 0)}`,
      mib(m.maxRss),
      m.error ?? "ok"
    ]
    rows.push(
      cell(barge, "Barge `results` Stream"),
      cell(text, "text() + split + JSON.parse"),
      cell(floor, "bare JSON.parse (floor)"),
      cell(split, "Barge download + line split only (core Transport/Download/Jsonl, no JSON/schema)"),
      cell(
        decoded,
        "Barge path without the ResultLine fast path: split + Jsonl.decodeLines(ResultLine) + map(toResult)"
      ),
      cell(raw, "loopback download only (no split, no parse)", true)
    )
    if (capped !== undefined) rows.push(cell(capped, `Barge \`results\` Stream, heap capped (${cappedHeap.join(" ")})`))
    for (const [m, what] of [[barge, "Barge"], [text, "baseline"], [floor, "floor"]] as const) {
      if (m.error === undefined && m.lines !== served.lines) {
        notes.push(`${name}: ${what} counted ${m.lines} lines, the file has ${served.lines}.`)
      }
    }
    const ratio = floorRate > 0 ? lineRate(barge) / floorRate : 0
    if ([raw, split, barge, floor].every((m) => m.error === undefined && m.seconds > 0)) {
      notes.push(
        `${name}, where Barge's ${fmt(barge.seconds, 1)} s go (from the rows above): the loopback transfer alone ` +
          `${fmt(raw.seconds, 1)} s; download + line split (Transport, Download, Jsonl, Effect Stream) ` +
          `${fmt(split.seconds, 1)} s, i.e. ${fmt(split.seconds - raw.seconds, 1)} s over the transfer; JSON.parse + ` +
          `ResultLine/ChatResponse decode (chunk by chunk, hand-written fast paths) ${
            fmt(barge.seconds - split.seconds, 1)
          } s. ` +
          `The same with the ResultLine schema interpreter on every line (no fast path) took ${
            decoded.error === undefined ? `${fmt(decoded.seconds, 1)} s` : `— (${decoded.error})`
          }. 0.5× the floor needs the whole path within ${fmt(2 * floor.seconds, 1)} s.`
      )
    }
    goals.push({
      name: `results ${name}: Barge lines/s vs bare JSON.parse`,
      target: "≥ 0.50×",
      actual: barge.error === undefined
        ? `${fmt(ratio, 2)}× (${fmt(lineRate(barge))} vs ${fmt(floorRate)} lines/s)${
          ratio < 0.5 ? `: short by ${fmt(0.5 / Math.max(ratio, 1e-9), 1)}×` : ""
        }`
        : `failed: ${barge.error}`,
      met: barge.error === undefined && ratio >= 0.5
    })
    if (size >= 1e9 || options.smoke) {
      goals.push({
        name: `results ${name}: Barge peak RSS growth`,
        target: "≤ 64 MiB",
        actual: `${mib(growth(barge))} (baseline: ${
          text.error === undefined ? mib(growth(text)) : `failed — ${text.error}`
        })`,
        met: barge.error === undefined && growth(barge) <= 64 * 2 ** 20
      })
      if (capped !== undefined) {
        goals.push({
          name: `results ${name}: Barge peak RSS growth with the heap capped (${cappedHeap.join(" ")})`,
          target: "≤ 64 MiB (completes: nothing held per line)",
          actual: capped.error === undefined
            ? `${mib(growth(capped))}, ${fmt(lineRate(capped))} lines/s`
            : `failed: ${capped.error}`,
          met: capped.error === undefined && growth(capped) <= 64 * 2 ** 20
        })
      }
    }
  }
  const table: Table = {
    title: "Results streaming: Moonshot output file served by the emulator over loopback",
    columns: [
      "case",
      "lines",
      "seconds",
      "lines/s",
      "throughput",
      "× floor",
      "peak RSS growth",
      "heap / buffers growth",
      "max RSS",
      "outcome"
    ],
    rows
  }
  return {
    tables: [table],
    goals,
    notes: [
      "Each side runs in its own process. Peak RSS growth = highest sampled RSS (every 20 ms and every 8,192 " +
      "lines) minus RSS just before reading; max RSS = `process.resourceUsage().maxRSS` (includes startup). The " +
      "floor parses lines made in memory beforehand (not timed). Barge counts `Succeeded` results of " +
      "`MoonshotBatch.results` (download via core Download/Jsonl, ResultLine + ChatResponse schema decode). The " +
      "emulator runs in a separate process on the same 2 cores, so its serving competes with the reader.",
      ...notes,
      ...profileNotes
    ]
  }
}
