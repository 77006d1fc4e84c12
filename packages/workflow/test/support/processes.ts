/**
 * Child processes for the crash tests: start one (`node --import tsx …`), collect its stdout lines, wait for a
 * condition or its exit, SIGKILL it.
 */
import { Effect } from "effect"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as Path from "node:path"

export const root = Path.resolve(import.meta.dirname, "../../../..")

export interface Child {
  readonly process: ChildProcessWithoutNullStreams
  readonly lines: Array<string>
  readonly exited: Promise<number | null>
  readonly stderr: () => string
}

export const start = (
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  nodeOptions: ReadonlyArray<string> = []
): Child => {
  const child = spawn("node", [...nodeOptions, "--import", "tsx", ...args], {
    cwd: root,
    stdio: "pipe",
    env: { ...process.env, ...env }
  })
  const lines: Array<string> = []
  let buffered = ""
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString()
    const parts = buffered.split("\n")
    buffered = parts.pop()!
    lines.push(...parts)
  })
  let stderr = ""
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
  return { process: child, lines, exited, stderr: () => stderr }
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 10))

/**
 * Waits until `ready()` holds (checked every 10 ms) or the child exits; `true` when ready first. Not a timing
 * assertion: the deadline only turns a hang into a failure.
 */
export const until = async (
  child: Child,
  ready: () => boolean | Promise<boolean>,
  deadlineMs = 120_000
): Promise<boolean> => {
  let exited = false
  void child.exited.then(() => (exited = true))
  const deadline = Date.now() + deadlineMs
  while (Date.now() < deadline) {
    if (await ready()) return true
    if (exited) return false
    await tick()
  }
  return false
}

export const kill = async (child: Child): Promise<void> => {
  child.process.kill("SIGKILL")
  await child.exited
}

export const describe = (child: Child): string => `${child.lines.join("\n")}\n${child.stderr()}`

/** Runs `effect` as a script's whole life: exit 0 once it succeeds, 1 with the cause on stderr if it fails. */
export const runScript = <A, E>(effect: Effect.Effect<A, E>): void => {
  void Effect.runPromiseExit(effect).then((exit) => {
    if (exit._tag === "Failure") {
      process.stderr.write(`${String(exit.cause)}\n`)
      process.exit(1)
    }
    process.exit(0)
  })
}

/** Whether the module at `url` is the script node was started with. */
export const isMain = (url: string): boolean =>
  process.argv[1] !== undefined && Path.resolve(process.argv[1]) === Path.resolve(new URL(url).pathname)
