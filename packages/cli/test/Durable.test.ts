/**
 * The durable commands against an emulator over loopback: `barge worker` on an embedded database in its own
 * process (as a user runs it), and in this process, as clients of the same database, `submit --durable` printing a
 * `durable:` id (and joining on a second submit), `watch`, `status`, `results` and `cancel` on that id, and the
 * exit codes of their failures.
 */
import { Emulator } from "@barge/emulator"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Cli, Providers } from "../src/index.js"
import { barge } from "./support/barge.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "barge-cli-durable-"))
const db = path.join(tmp, "barge.db")

/** `barge worker …` as a child process, once it says it runs; killed when the scope closes. */
const spawnWorker = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.async<{ readonly kill: () => void; readonly stderr: () => string }, Error>((resume) => {
      const child = spawn("node", ["--import", "tsx", "src/bin.ts", "worker", ...args], {
        cwd: path.resolve(import.meta.dirname, ".."),
        stdio: "pipe"
      })
      let stderr = ""
      let ready = false
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString()
        if (!ready && stderr.includes("barge worker on")) {
          ready = true
          resume(Effect.succeed({ kill: () => child.kill("SIGKILL"), stderr: () => stderr }))
        }
      })
      child.on("close", (code) => {
        if (!ready) resume(Effect.fail(new Error(`barge worker exited ${code}: ${stderr}`)))
      })
    }),
    (worker) => Effect.sync(worker.kill)
  )

const input = (name: string, n: number) => {
  const file = path.join(tmp, name)
  fs.writeFileSync(
    file,
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        customId: `d-${i + 1}`,
        model: "kimi-k2.6",
        messages: [{ role: "user", content: `question ${i + 1}${i === 1 ? " [[barge:fail]]" : ""}` }]
      })).join("\n") + "\n"
  )
  return file
}

describe("barge durable", () => {
  layer(
    Layer.mergeAll(Emulator.layer({ timeScale: 50 }), NodeContext.layer, NodeHttpClient.layerUndici),
    { excludeTestServices: true }
  )((it) => {
    it.scoped("worker, submit --durable (twice), watch, status, results, cancel", () =>
      Effect.gen(function*() {
        const urls = JSON.stringify((yield* Emulator.Emulator).urls)
        const worker = yield* spawnWorker(["--db", db, "--emulator-urls", urls, "--poll", "100ms"])
        // Against an emulator a worker serves every provider of the registry.
        assert.include(worker.stderr(), `serving ${Providers.names.join(", ")} (emulator)`)
        const file = input("in.jsonl", 8)
        const sink = path.join(tmp, "out.jsonl")

        const submitted = yield* barge(["submit", "--durable", "--db", db, "-p", "moonshot", "-o", sink, file])
        assert.strictEqual(submitted.code, Cli.ExitCode.Ok, submitted.stderr)
        const id = submitted.stdout.trim()
        assert.match(id, /^durable:[0-9a-f]{32}$/)
        assert.include(submitted.stderr, "started a durable batch")

        const again = yield* barge(["submit", "--durable", "--db", db, "-p", "moonshot", "-o", sink, file])
        assert.strictEqual(again.stdout.trim(), id)
        assert.include(again.stderr, "joined")

        const watched = yield* barge(["watch", id, "--db", db])
        assert.strictEqual(watched.code, Cli.ExitCode.Ok, watched.stderr)
        assert.match(watched.stdout.trim().split("\n").at(-1)!, /done completed 8\/8 sink=8$/)

        const status = yield* barge(["status", id, "--db", db, "--json"])
        const parsed = JSON.parse(status.stdout)
        assert.strictEqual(parsed.stage, "done")
        assert.strictEqual(parsed.results, 8)
        assert.strictEqual(parsed.succeeded, 7)
        assert.include((yield* barge(["status", id, "--db", db])).stdout, `id:        ${id}`)

        const copy = path.join(tmp, "copy.jsonl")
        const results = yield* barge(["results", id, "--db", db, "-o", copy])
        assert.strictEqual(results.code, Cli.ExitCode.Ok, results.stderr)
        assert.strictEqual(fs.readFileSync(copy, "utf8"), fs.readFileSync(sink, "utf8"))
        assert.strictEqual(fs.readFileSync(sink, "utf8").trim().split("\n").length, 8)

        // Cancelling a finished execution changes nothing.
        const cancelled = yield* barge(["cancel", id, "--db", db])
        assert.strictEqual(cancelled.code, Cli.ExitCode.Ok, cancelled.stderr)
        assert.include(cancelled.stdout, "done")

        const unknown = yield* barge(["status", "durable:0123", "--db", db])
        assert.strictEqual(unknown.code, Cli.ExitCode.InvalidId)
        const misused = yield* barge(["submit", "--durable", "--emulator", "--db", db, "-p", "ark", file])
        assert.strictEqual(misused.code, Cli.ExitCode.Usage)
        assert.notInclude(worker.stderr(), "Error")
      }), { timeout: 60_000 })
  })
})
