/**
 * The `barge` executable as a user runs it: a spawned process, its real stdout (a pipe, and a pseudo-terminal
 * through `script`), its exit status, an embedded emulator (`--emulator`) and an emulator running elsewhere
 * (`--emulator-urls`, here the one in this test process). Every command's behaviour is covered in-process by
 * `Cli.test.ts`; this file proves the wiring around it.
 */
import { Emulator } from "@barge/emulator"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const cwd = path.resolve(import.meta.dirname, "..")
const node = ["node", "--import", "tsx", "src/bin.ts"]

interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const quote = (arg: string) => `'${arg.replace(/'/g, "'\\''")}'`

/** Runs `barge ARGS`; with `pty`, under `script` so its stdout is a terminal as in a user's shell. */
const barge = (
  args: ReadonlyArray<string>,
  options: { readonly pty?: boolean; readonly env?: Record<string, string> } = {}
) =>
  Effect.promise(() =>
    new Promise<Ran>((resolve, reject) => {
      const [command, ...rest] = options.pty
        ? ["script", "-qec", [...node, ...args].map(quote).join(" "), "/dev/null"]
        : [...node, ...args]
      const child = spawn(command!, rest, {
        cwd,
        env: { ...process.env, BARGE_FORCE_TTY: "", ...options.env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk) => (stdout += chunk))
      child.stderr.on("data", (chunk) => (stderr += chunk))
      child.on("error", reject)
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }))
    })
  )

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "barge-e2e-"))

const writeInput = (name: string, n: number, model: string) => {
  const file = path.join(tmp, name)
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `c-${i + 1}`,
      body: { model, messages: [{ role: "user", content: `question ${i + 1}${i === 2 ? " [[barge:fail]]" : ""}` }] }
    }))
  fs.writeFileSync(file, lines.join("\n") + "\n")
  return file
}

const hasScript = spawnSync("script", ["--version"]).status === 0

describe("barge (spawned)", () => {
  layer(Emulator.layer({ timeScale: 200 }), { excludeTestServices: true })((it) => {
    it.effect(
      "plain progress on a pipe, a live bar on a terminal, state across processes, exit statuses",
      () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const urls = ["--emulator-urls", JSON.stringify(emulator.urls)]
          const out = path.join(tmp, "piped-results.jsonl")
          const embedded = ["--emulator", "--time-scale", "100", "--watch", "--poll", "100ms"]
          const bad = path.join(tmp, "bad.jsonl")
          fs.writeFileSync(bad, `{"custom_id":"a","body":{"model":"kimi-k2.6","messages":[]}}\nnot json\n`)

          // Independent runs side by side: each spawn loads the CLI afresh.
          const [piped, terminal, submitted, invalid] = yield* Effect.all([
            barge(["submit", "-p", "moonshot", ...embedded, "-o", out, writeInput("piped.jsonl", 12, "kimi-k2.6")]),
            barge(
              ["submit", "-p", "ark", ...embedded, writeInput("tty.jsonl", 12, "doubao-pro-32k")],
              hasScript ? { pty: true } : { env: { BARGE_FORCE_TTY: "1" } }
            ),
            barge(["submit", "-p", "qianfan", ...urls, writeInput("remote.jsonl", 12, "ernie-4.5-turbo-32k")]),
            barge(["submit", "-p", "moonshot", "--emulator", bad])
          ], { concurrency: "unbounded" })

          // Not a terminal: the id, then one plain line per change, never a carriage return.
          assert.strictEqual(piped.code, 0, piped.stderr)
          const lines = piped.stdout.trim().split("\n")
          assert.match(lines[0]!, /^moonshot:batch_/)
          assert.match(lines[lines.length - 1]!, /^completed \(completed\) completed=11 failed=1 total=12 rate=/)
          assert.notInclude(piped.stdout, "\r")
          assert.include(piped.stderr, "12 results: 11 succeeded, 1 failed")
          assert.strictEqual(fs.readFileSync(out, "utf8").trim().split("\n").length, 12)

          // A terminal: the bar redrawn in place, ending on the completed batch.
          assert.strictEqual(terminal.code, 0, terminal.stderr)
          assert.include(terminal.stdout, "\x1b[2K[")
          assert.match(terminal.stdout, /\[█{24}\] 12\/12 ✓11 ✗1 .* completed \(Completed\)/)

          // Invalid input: exit 3, every bad line named.
          assert.strictEqual(invalid.code, 3)
          assert.include(invalid.stderr, "line 1 [InvalidBody]")
          assert.include(invalid.stderr, "line 2 [InvalidJson]")

          // A batch submitted by one process, followed and read by others through the running emulator.
          assert.strictEqual(submitted.code, 0, submitted.stderr)
          const id = submitted.stdout.trim()
          const watched = yield* barge(["watch", id, "--json", "--poll", "100ms", ...urls])
          assert.strictEqual(watched.code, 0, watched.stderr)
          assert.strictEqual(JSON.parse(watched.stdout.trim().split("\n").at(-1)!).status.phase, "completed")
          const results = yield* barge(["results", id, ...urls])
          assert.strictEqual(results.code, 0, results.stderr)
          assert.deepStrictEqual(
            results.stdout.trim().split("\n").map((l) => JSON.parse(l).customId).sort(),
            Array.from({ length: 12 }, (_, i) => `c-${i + 1}`).sort()
          )

          const unknown = yield* barge(["status", "nobody:1", ...urls])
          assert.strictEqual(unknown.code, 7)
        }),
      { timeout: 120_000 }
    )
  })

  it.live(
    "pnpm demo (as pnpm runs it, bundled): 1,200 requests through each provider on the embedded emulator, and the summary table",
    () =>
      Effect.gen(function*() {
        const ran = yield* Effect.promise(() =>
          new Promise<Ran>((resolve, reject) => {
            const child = spawn("node", ["../../scripts/run-bundled.mjs", "../../examples/demo.ts"], {
              cwd,
              env: { ...process.env, BARGE_FORCE_TTY: "0", BARGE_DEMO_TIME_SCALE: "60" },
              stdio: ["ignore", "pipe", "pipe"]
            })
            let stdout = ""
            let stderr = ""
            child.stdout.on("data", (chunk) => (stdout += chunk))
            child.stderr.on("data", (chunk) => (stderr += chunk))
            child.on("error", reject)
            child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }))
          })
        )
        assert.strictEqual(ran.code, 0, ran.stderr + ran.stdout)
        for (const provider of ["ark", "moonshot", "qianfan"]) {
          assert.match(
            ran.stdout,
            new RegExp(`^${provider}\\s+emulator\\s+1200\\s+3\\s+1170\\s+30\\s+\\d+\\s+[\\d.]+ s$`, "m")
          )
        }
      }),
    { timeout: 120_000 }
  )
})
