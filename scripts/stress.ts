/**
 * `pnpm test:stress`: the whole suite while busy processes hold every core, so a test that depends on the
 * machine's speed (a wall-clock sleep followed by an assertion) shows itself here rather than on a loaded CI box.
 *
 * Starts one CPU burner per core (at least two), runs `vitest run` with the arguments given, stops the burners
 * and exits with vitest's status. `--burners N` overrides the count. The duration is printed at the end.
 */
import * as ChildProcess from "node:child_process"
import * as Os from "node:os"
import * as Path from "node:path"

const root = Path.resolve(import.meta.dirname, "..")
const args = process.argv.slice(2)
const flag = args.indexOf("--burners")
const burnerCount = flag === -1 ? Math.max(2, Os.availableParallelism()) : Number(args[flag + 1])
const vitestArgs = flag === -1 ? args : [...args.slice(0, flag), ...args.slice(flag + 2)]

// A busy loop that never yields: each one holds a core for as long as it runs.
const burners = Array.from(
  { length: burnerCount },
  () => ChildProcess.spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" })
)
const stopBurners = () => {
  for (const burner of burners) {
    if (burner.exitCode === null && burner.signalCode === null) burner.kill("SIGKILL")
  }
}
process.on("exit", stopBurners)

console.log(`test:stress: ${burnerCount} CPU burners (pids ${burners.map((b) => b.pid).join(", ")}), then vitest run`)
const started = performance.now()
const vitest = ChildProcess.spawn(
  process.execPath,
  [Path.join(root, "node_modules", "vitest", "vitest.mjs"), "run", ...vitestArgs],
  { cwd: root, stdio: "inherit" }
)
// Stopped from outside: pass it on to vitest, and leave no burner behind.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    vitest.kill(signal)
    stopBurners()
    process.exit(128 + (Os.constants.signals[signal] ?? 0))
  })
}
vitest.on("exit", (code, signal) => {
  stopBurners()
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  const status = code ?? 128 + (signal === null ? 0 : Os.constants.signals[signal] ?? 0)
  console.log(`test:stress: vitest ${status === 0 ? "passed" : `failed (exit ${status})`} in ${seconds} s`)
  process.exit(status)
})
