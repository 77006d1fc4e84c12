/**
 * `pnpm bench [NAME…] [--smoke]`: runs the registered benchmarks (all of them by default), prints their tables and
 * goals, and writes bench/RESULTS.md with the machine and date. Naming benchmarks runs only those, and RESULTS.md
 * then holds only them: run the whole set before committing it.
 */
import { writeFileSync } from "node:fs"
import * as os from "node:os"
import * as durable from "./durable.js"
import * as polling from "./polling.js"
import { type Bench, markdown, type Report } from "./report.js"
import * as results from "./results.js"
import * as signing from "./signing.js"
import * as upload from "./upload.js"
import * as watch from "./watch.js"

const signingBench: Bench = {
  name: "signing",
  run: async (options) => {
    const rows = await signing.run(options)
    return {
      tables: [{
        title: "Signing: Barge vs the official SDK signer, same inputs, same process",
        columns: ["scheme", "Barge ops/s", "SDK ops/s", "ratio"],
        rows: rows.map((row) => [row.name, row.barge_ops, row.baseline_ops, `${row.ratio.toFixed(2)}×`])
      }],
      goals: rows.map((row) => ({
        name: `signing: ${row.name}`,
        target: "≥ 1.00× the SDK",
        actual: `${row.ratio.toFixed(2)}×`,
        met: row.ratio >= 1
      })),
      notes: []
    }
  }
}

const benches: ReadonlyArray<Bench> = [
  { name: "results", run: results.run },
  { name: "upload", run: upload.run },
  signingBench,
  { name: "polling", run: polling.run },
  { name: "watch", run: watch.run },
  { name: "durable", run: durable.run }
]

const args = process.argv.slice(2)
const smoke = args.includes("--smoke")
const names = args.filter((arg) => !arg.startsWith("--"))
const unknown = names.filter((name) => !benches.some((bench) => bench.name === name))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(", ")}; known: ${benches.map((b) => b.name).join(", ")}`)
  process.exit(2)
}
const selected = names.length === 0 ? benches : benches.filter((bench) => names.includes(bench.name))

const loadBefore = os.loadavg()
const started = performance.now()
const reports: Array<readonly [string, Report, number]> = []
for (const bench of selected) {
  const start = performance.now()
  console.log(`▶ ${bench.name}${smoke ? " (smoke)" : ""}`)
  const report = await bench.run({ smoke })
  const seconds = (performance.now() - start) / 1000
  reports.push([bench.name, report, seconds])
  for (const table of report.tables) console.log(`\n${markdown(table)}\n`)
  for (const goal of report.goals) {
    console.log(`${goal.met ? "✓" : "✗"} ${goal.name}: ${goal.actual} (goal ${goal.target})`)
  }
  console.log(`  (${bench.name}: ${seconds.toFixed(1)} s)\n`)
}
const totalSeconds = (performance.now() - started) / 1000

const cpus = os.cpus()
const machine = [
  `- date: ${new Date().toISOString()}`,
  `- node: ${process.version}`,
  `- cpu: ${cpus[0]?.model ?? "unknown"} × ${cpus.length} cores`,
  `- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  `- platform: ${os.platform()} ${os.arch()}`,
  `- load average (1 min) before / after: ${loadBefore[0]!.toFixed(1)} / ${os.loadavg()[0]!.toFixed(1)} — ` +
  "other work on the machine shares the cores; above ~2 it slows every side, the baselines included",
  `- mode: ${smoke ? "smoke (tiny sizes, numbers not meaningful)" : "full"}`,
  `- benchmarks: ${selected.map((b) => b.name).join(", ")}; wall time ${totalSeconds.toFixed(0)} s (${
    reports.map(([name, , s]) => `${name} ${s.toFixed(0)} s`).join(", ")
  })`
]
const goals = reports.flatMap(([, report]) => report.goals)
const goalTable = [
  "| goal | target | this run | met |",
  "|---|---|---|---|",
  ...goals.map((goal) => `| ${goal.name} | ${goal.target} | ${goal.actual} | ${goal.met ? "yes" : "**no**"} |`)
].join("\n")
const body = reports.map(([name, report]) =>
  [
    `## ${name}`,
    ...report.tables.map(markdown),
    ...(report.notes.length === 0 ? [] : [report.notes.map((note) => `- ${note}`).join("\n")])
  ].join("\n\n")
)
writeFileSync(
  new URL("./RESULTS.md", import.meta.url),
  [
    "# Benchmark results",
    "Written by `pnpm bench` (bench/run.ts). Every baseline is measured in the same run, on the same machine.",
    machine.join("\n"),
    "## Goals",
    goalTable,
    ...body
  ].join("\n\n") + "\n"
)
console.log(`wrote bench/RESULTS.md (${totalSeconds.toFixed(0)} s)`)
