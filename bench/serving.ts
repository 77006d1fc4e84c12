/**
 * The emulator in a process of its own, shared by the benchmarks: a worker mode serves until its stdin closes; the
 * runner starts it and reads the first line it prints (where it serves).
 */
import { spawn } from "node:child_process"

const root = new URL("..", import.meta.url).pathname

/** In a worker: prints `info` as one JSON line, serves until stdin closes, then stops and exits. */
export const serveUntilStdinCloses = async (
  started: { readonly stop: () => Promise<void> },
  info: unknown
): Promise<never> => {
  process.stdout.write(JSON.stringify(info) + "\n")
  await new Promise<void>((resolve) => {
    process.stdin.on("end", resolve)
    process.stdin.on("close", resolve)
    process.stdin.resume()
  })
  await started.stop()
  process.exit(0)
}

/** In the runner: starts `node …args` and resolves with the first line it prints, and how to stop it. */
export const startServer = <A>(args: ReadonlyArray<string>): Promise<A & { readonly stop: () => void }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["pipe", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (data) => {
      out += data
      const newline = out.indexOf("\n")
      if (newline !== -1) resolve({ ...(JSON.parse(out.slice(0, newline)) as A), stop: () => child.stdin.end() })
    })
    child.on("error", reject)
    child.on("close", (code) => reject(new Error(`the emulator process exited (${code}) before serving`)))
  })
