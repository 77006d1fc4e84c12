/**
 * `pnpm bench`: runs every registered benchmark, prints one table and writes bench/RESULTS.md with the machine.
 * Add a benchmark by appending `{ name, run }` to `benches`; `run` returns rows of Barge vs baseline ops/s.
 */
import { writeFileSync } from "node:fs"
import * as os from "node:os"
import * as signing from "./signing.js"

interface Row {
  readonly name: string
  readonly barge_ops: number
  readonly baseline_ops: number
  readonly ratio: number
}

interface Bench {
  readonly name: string
  readonly run: (options: { readonly smoke: boolean }) => Promise<ReadonlyArray<Row>>
}

const benches: ReadonlyArray<Bench> = [{ name: "signing", run: signing.run }]

const smoke = process.argv.includes("--smoke")
const lines: Array<string> = [
  "| bench | case | Barge ops/s | baseline ops/s | ratio |",
  "|---|---|---:|---:|---:|"
]
for (const bench of benches) {
  for (const row of await bench.run({ smoke })) {
    lines.push(`| ${bench.name} | ${row.name} | ${row.barge_ops} | ${row.baseline_ops} | ${row.ratio.toFixed(2)}× |`)
  }
}
const machine = [
  `- date: ${new Date().toISOString()}`,
  `- node: ${process.version}`,
  `- cpu: ${os.cpus()[0]?.model ?? "unknown"} × ${os.cpus().length} cores`,
  `- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  `- platform: ${os.platform()} ${os.arch()}`,
  smoke ? "- mode: smoke (tiny iteration count, numbers not meaningful)" : "- mode: full"
]
const table = lines.join("\n")
console.log(table)
writeFileSync(
  new URL("./RESULTS.md", import.meta.url),
  `# Benchmark results\n\nRatio = Barge ops/s ÷ baseline ops/s (≥ 1.00× means Barge is at least as fast).\n\n${
    machine.join("\n")
  }\n\n${table}\n`
)
