/**
 * Every `barge` command, run in-process (`Cli.run` with captured output) against an emulator over loopback.
 * The spawned-process forms (real stdout, a pty, exit statuses) are in `Cli.e2e.test.ts`.
 */
import { Emulator } from "@barge/emulator"
import { FileSystem } from "@effect/platform"
import { NodeContext, NodeHttpClient, NodePath, NodeTerminal } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Console, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Cli, Providers } from "../src/index.js"
import { barge } from "./support/barge.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "barge-cli-"))

const writeInput = (name: string, lines: ReadonlyArray<unknown>) => {
  const file = path.join(tmp, name)
  fs.writeFileSync(file, lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n")
  return file
}

const models: Record<string, string> = Object.fromEntries(Providers.entries.map((entry) => [entry.name, entry.model]))
const providers = Providers.names

/** OpenAI batch lines (no `url`: it would have to be each provider's own endpoint); the third fails on purpose. */
const openAiLines = (n: number, model: string) =>
  Array.from({ length: n }, (_, i) => ({
    custom_id: `c-${i + 1}`,
    body: { model, messages: [{ role: "user", content: `question ${i + 1}${i === 2 ? " [[barge:fail]]" : ""}` }] }
  }))

const withUrls = Effect.map(Emulator.Emulator, (e) => ["--emulator-urls", JSON.stringify(e.urls), "--poll", "50ms"])

describe("barge", () => {
  layer(
    Layer.mergeAll(Emulator.layer({ timeScale: 300 }), NodeContext.layer, NodeHttpClient.layerUndici),
    { excludeTestServices: true }
  )((it) => {
    it.effect("submit → status → watch → results → list, on every provider", () =>
      Effect.gen(function*() {
        const urls = yield* withUrls
        for (const provider of providers) {
          const input = writeInput(`${provider}.jsonl`, openAiLines(12, models[provider]))
          const submitted = yield* barge(["submit", "--provider", provider, ...urls, input])
          assert.strictEqual(submitted.code, Cli.ExitCode.Ok, submitted.stderr)
          assert.include(submitted.stderr, "submitted 12 requests")
          const id = submitted.stdout.trim()
          assert.match(id, new RegExp(`^${provider}:`))

          const watched = yield* barge(["watch", id, ...urls])
          assert.strictEqual(watched.code, Cli.ExitCode.Ok, watched.stderr)
          const lines = watched.stdout.trim().split("\n")
          assert.match(lines[lines.length - 1]!, /^completed \(.+\) completed=\d+ failed=\d+ total=12 rate=/)
          assert.notInclude(watched.stdout, "\r")
          // Plain lines only when something changed: no two consecutive lines alike.
          assert.isTrue(lines.every((line, i) => i === 0 || line !== lines[i - 1]))

          const status = yield* barge(["status", id, "--json", ...urls])
          const parsed = JSON.parse(status.stdout)
          assert.strictEqual(parsed.id, id)
          assert.strictEqual(parsed.phase, "completed")
          assert.strictEqual(parsed.counts.total, 12)

          const human = yield* barge(["status", id, ...urls])
          assert.include(human.stdout, `id:        ${id}`)
          assert.include(human.stdout, "phase:     completed")

          const out = path.join(tmp, `${provider}-results.jsonl`)
          const results = yield* barge(["results", id, "-o", out, ...urls])
          assert.strictEqual(results.code, Cli.ExitCode.Ok, results.stderr)
          assert.include(results.stderr, "12 results: 11 succeeded, 1 failed")
          const rows = fs.readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l))
          assert.deepStrictEqual(
            rows.map((r) => r.customId).sort(),
            openAiLines(12, "m").map((l) => l.custom_id).sort()
          )
          assert.strictEqual(rows.find((r) => r.customId === "c-3")._tag, "Failed")

          const toStdout = yield* barge(["results", id, ...urls])
          assert.strictEqual(toStdout.stdout.trim().split("\n").length, 12)

          const listed = yield* barge(["list", "-p", provider, "--json", ...urls])
          assert.strictEqual(listed.code, Cli.ExitCode.Ok, listed.stderr)
          assert.include(listed.stdout.split("\n").map((l) => (l === "" ? "" : JSON.parse(l).id)), id)
        }
      }), { timeout: 60_000 })

    it.effect("watch draws a bar in place on a terminal, and JSON lines with --json", () =>
      Effect.gen(function*() {
        const urls = yield* withUrls
        const input = writeInput("tty.jsonl", openAiLines(40, models.moonshot))
        const id = (yield* barge(["submit", "-p", "moonshot", ...urls, input])).stdout.trim()
        const bar = yield* barge(["watch", id, ...urls], true)
        assert.strictEqual(bar.code, Cli.ExitCode.Ok, bar.stderr)
        assert.include(bar.stdout, "\r\x1b[2K[")
        assert.match(bar.stdout, /\[█{24}\] 40\/40 ✓39 ✗1 .* completed \(completed\)/)
        assert.isTrue(bar.stdout.endsWith("\n"))
        const json = yield* barge(["watch", id, "--json", ...urls], true)
        const last = JSON.parse(json.stdout.trim().split("\n").at(-1)!)
        assert.strictEqual(last.status.phase, "completed")
        assert.strictEqual(last.polls, json.stdout.trim().split("\n").length)
      }), { timeout: 30_000 })

    it.effect(
      "a window and a default model are passed on; bad durations are usage errors",
      () =>
        Effect.gen(function*() {
          const urls = yield* withUrls
          const noModel = writeInput("nomodel.jsonl", [{
            custom_id: "x",
            body: { messages: [{ role: "user", content: "hi" }] }
          }])
          const ok = yield* barge([
            "submit",
            "-p",
            "moonshot",
            "--model",
            models.moonshot,
            "--window",
            "2d",
            ...urls,
            noModel
          ])
          assert.strictEqual(ok.code, Cli.ExitCode.Ok, ok.stderr)
          const emulator = yield* Emulator.Emulator
          const batch = [...emulator.state.moonshot.batches.values()].find((b) => ok.stdout.includes(b.id))
          assert.strictEqual(batch?.completionWindow, "48h")
          const bad = yield* barge(["submit", "-p", "moonshot", "--window", "soon", ...urls, noModel])
          assert.strictEqual(bad.code, Cli.ExitCode.Usage)
          assert.include(bad.stderr, "--window")
        }),
      { timeout: 30_000 }
    )

    it.effect("invalid lines are all reported with line numbers and nothing is submitted (exit 3)", () =>
      Effect.gen(function*() {
        const urls = yield* withUrls
        const emulator = yield* Emulator.Emulator
        const before = emulator.state.moonshot.batches.size
        const bad = writeInput("bad.jsonl", [
          { custom_id: "a", body: { model: "kimi-k2.6", messages: [{ role: "user", content: "x" }] } },
          "{not json",
          { custom_id: "a", body: { model: "kimi-k2.6", messages: [{ role: "user", content: "y" }] } },
          { body: { model: "kimi-k2.6", messages: [{ role: "user", content: "z" }] } }
        ])
        const ran = yield* barge(["submit", "-p", "moonshot", ...urls, bad])
        assert.strictEqual(ran.code, Cli.ExitCode.InvalidInput)
        assert.include(ran.stderr, "3 problem(s) in the input; nothing was uploaded")
        assert.include(ran.stderr, "line 2 [InvalidJson]")
        assert.include(ran.stderr, "line 3 [DuplicateId]")
        assert.include(ran.stderr, "line 4 [MissingField]")
        assert.strictEqual(emulator.state.moonshot.batches.size, before)
      }))

    it.effect(
      "submit --emulator without --watch warns that the batch dies with the command; with --watch it does not",
      () =>
        Effect.gen(function*() {
          const input = writeInput("embedded.jsonl", openAiLines(3, models.moonshot))
          const alone = yield* barge(["submit", "-p", "moonshot", "--emulator", input])
          assert.strictEqual(alone.code, Cli.ExitCode.Ok, alone.stderr)
          const id = alone.stdout.trim()
          assert.match(id, /^moonshot:/)
          assert.include(alone.stderr, `warning: --emulator runs the emulator inside this command, so ${id} is gone`)
          assert.include(alone.stderr, "--watch")
          const watched = yield* barge(["submit", "-p", "moonshot", "--emulator", "--watch", "--poll", "50ms", input])
          assert.strictEqual(watched.code, Cli.ExitCode.Ok, watched.stderr)
          assert.notInclude(watched.stderr, "warning")
          // A running emulator keeps the batch: no warning either.
          const remote = yield* barge(["submit", "-p", "moonshot", ...(yield* withUrls), input])
          assert.notInclude(remote.stderr, "warning")
        }),
      { timeout: 30_000 }
    )

    it.effect("--poll's help states the default schedule the code uses", () =>
      Effect.gen(function*() {
        let help = ""
        yield* Console.consoleWith((current) =>
          Cli.run(["watch", "--help"]).pipe(Effect.withConsole({
            ...current,
            log: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void (help += args.join(" ") + "\n"))
          }))
        )
        const text = help.replace(/\s+/g, " ")
        assert.include(text, "adaptive, 5s to 10m")
        assert.include(text, "backing off from 2s to 60s while the provider reports no counts")
      }))

    it.effect("without credentials a real provider is a configuration error (exit 6)", () =>
      Effect.gen(function*() {
        const saved = process.env.MOONSHOT_API_KEY
        delete process.env.MOONSHOT_API_KEY
        const ran = yield* barge(["list", "-p", "moonshot"]).pipe(
          Effect.ensuring(Effect.sync(() => {
            if (saved !== undefined) process.env.MOONSHOT_API_KEY = saved
          }))
        )
        assert.strictEqual(ran.code, Cli.ExitCode.Configuration)
        assert.include(ran.stderr, "MOONSHOT_API_KEY")
      }))
  })
})

describe("barge against a slow emulator", () => {
  // Queued for an hour: the batch is still queued when `results` and the cancel arrive, however slow the machine.
  layer(
    Layer.mergeAll(
      Emulator.layer({ timeScale: 1, processing: { queuedFor: "1 hour" } }),
      NodeContext.layer,
      NodeHttpClient.layerUndici
    ),
    { excludeTestServices: true }
  )((it) => {
    it.effect("cancel, then watch exits 4; malformed and unknown ids exit 7", () =>
      Effect.gen(function*() {
        const urls = yield* withUrls
        const emulator = yield* Emulator.Emulator
        const input = writeInput("cancel.jsonl", openAiLines(20, models.moonshot))
        const id = (yield* barge(["submit", "-p", "moonshot", ...urls, input])).stdout.trim()
        const early = yield* barge(["results", id, ...urls])
        assert.strictEqual(early.code, Cli.ExitCode.NotFinished)
        assert.include(early.stderr, "barge watch")
        const cancelled = yield* barge(["cancel", id, "--json", ...urls])
        assert.strictEqual(cancelled.code, Cli.ExitCode.Ok, cancelled.stderr)
        assert.oneOf(JSON.parse(cancelled.stdout).phase, ["cancelling", "cancelled"])
        yield* emulator.advance("1 hour")
        const watched = yield* barge(["watch", id, ...urls])
        assert.strictEqual(watched.code, Cli.ExitCode.BatchUnsuccessful)
        assert.include(watched.stderr, "ended cancelled")

        const unknown = yield* barge(["status", "nobody:123", ...urls])
        assert.strictEqual(unknown.code, Cli.ExitCode.InvalidId)
        assert.include(unknown.stderr, "not a barge batch id")
        // Well formed, but the provider knows no such job: the README's "unknown batch id".
        const missing = yield* barge(["status", "moonshot:batch_nope", ...urls])
        assert.strictEqual(missing.code, Cli.ExitCode.InvalidId)
        assert.include(missing.stderr, "moonshot has no batch moonshot:batch_nope")
        assert.include(missing.stderr, "barge list -p moonshot")
        const badUrls = yield* barge(["list", "-p", "ark", "--emulator-urls", "nonsense"])
        assert.strictEqual(badUrls.code, Cli.ExitCode.Usage)
        assert.include(badUrls.stderr, "--emulator-urls")
      }), { timeout: 30_000 })
  })
})

describe("barge on a defect", () => {
  // A file system whose `stat` dies: a defect inside the program, as a bug would raise.
  const dying = Layer.mergeAll(
    Layer.succeed(
      FileSystem.FileSystem,
      FileSystem.makeNoop({ stat: () => Effect.die(new Error("the disk caught fire")) })
    ),
    NodeHttpClient.layerUndici,
    NodePath.layer,
    NodeTerminal.layer
  )
  layer(dying)((it) => {
    it.effect("prints the cause and that it is a bug to report, and exits 1", () =>
      Effect.gen(function*() {
        const ran = yield* barge(["submit", "-p", "moonshot", "--emulator", "requests.jsonl"])
        assert.strictEqual(ran.code, Cli.ExitCode.Unexpected)
        assert.include(ran.stderr, "This is a bug in barge, not in your input or setup: please report it")
        assert.include(ran.stderr, "Error: the disk caught fire")
      }))
  })
})

describe("barge cleanup", () => {
  layer(
    Layer.mergeAll(Emulator.layer(), NodeContext.layer, NodeHttpClient.layerUndici),
    { excludeTestServices: true }
  )((it) => {
    it.effect("cleanup lists old batch input files no batch reads, deletes them only with --delete", () =>
      Effect.gen(function*() {
        const urls = yield* withUrls
        const emulator = yield* Emulator.Emulator
        const input = writeInput("cleanup.jsonl", openAiLines(4, models.moonshot!))
        // Submitted and never followed by this process: the batch's input file stays behind once it is done.
        // (Real time here: a file's upload time is the emulator's clock, the cutoff is this process's.)
        const submitted = yield* barge(["submit", "-p", "moonshot", ...urls, input])
        assert.strictEqual(submitted.code, Cli.ExitCode.Ok, submitted.stderr)
        yield* emulator.advance("2 hours")
        const dry = yield* barge(["cleanup", "-p", "moonshot", "--older-than", "1ms", ...urls])
        assert.strictEqual(dry.code, Cli.ExitCode.Ok, dry.stderr)
        assert.match(dry.stdout, /^would delete file-\S+ /m)
        assert.include(dry.stdout, "dry run")
        const deleted = yield* barge([
          "cleanup",
          "-p",
          "moonshot",
          "--older-than",
          "1ms",
          "--delete",
          "--json",
          ...urls
        ])
        assert.strictEqual(deleted.code, Cli.ExitCode.Ok, deleted.stderr)
        const report = JSON.parse(deleted.stdout)
        assert.isAbove(report.deleted, 0)
        assert.strictEqual(report.deleted, report.files.length)
        const after = yield* barge(["cleanup", "-p", "moonshot", "--older-than", "1ms", "--json", ...urls])
        assert.deepStrictEqual(JSON.parse(after.stdout).files, [])
        const ark = yield* barge(["cleanup", "-p", "ark", ...urls])
        assert.strictEqual(ark.code, Cli.ExitCode.Usage)
        assert.include(ark.stderr, "keeps none to clean up")
      }))
  })
})

describe("Cli helpers", () => {
  layer(Layer.empty)((it) => {
    it("parseDuration reads short forms and Duration inputs", () => {
      assert.deepStrictEqual(Cli.parseDuration("24h").pipe((d) => d._tag === "Some" && d.value.toJSON()), {
        _id: "Duration",
        _tag: "Millis",
        millis: 86_400_000
      })
      assert.strictEqual(Cli.parseDuration("nope")._tag, "None")
      assert.strictEqual(Cli.parseDuration("2 hours")._tag, "Some")
    })
    it("parseEmulatorUrls takes the JSON line or a first-port base URL", () => {
      const fromBase = Cli.parseEmulatorUrls("http://127.0.0.1:9100")
      assert.deepStrictEqual(fromBase._tag === "Some" && fromBase.value.bos, "http://127.0.0.1:9104")
      const line = JSON.stringify(Object.fromEntries(Emulator.services.map((name) => [name, `http://${name}`])))
      assert.deepStrictEqual(Cli.parseEmulatorUrls(line)._tag, "Some")
      assert.deepStrictEqual(Cli.parseEmulatorUrls(`{"ark":"a"}`)._tag, "None")
    })
  })
})
