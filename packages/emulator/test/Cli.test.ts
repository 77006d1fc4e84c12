import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Url from "node:url"
import * as Emulator from "../src/Emulator.js"
import * as Cli from "../src/internal/Cli.js"
import type * as Faults from "../src/internal/Faults.js"

const packageDir = Path.resolve(Path.dirname(Url.fileURLToPath(import.meta.url)), "..")

/** Starts the CLI under node + tsx; killed when the test's scope closes if it is still running. */
const spawn = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      ChildProcess.spawn(process.execPath, ["--import", "tsx", "src/bin.ts", ...args], {
        cwd: packageDir,
        stdio: ["ignore", "pipe", "pipe"]
      })
    ),
    (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
  )

const firstLine = (child: ChildProcess.ChildProcess) =>
  Effect.async<string, Error>((resume) => {
    let buffered = ""
    let stderr = ""
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString()
      const newline = buffered.indexOf("\n")
      if (newline >= 0) resume(Effect.succeed(buffered.slice(0, newline)))
    })
    child.once("exit", (code) => resume(Effect.fail(new Error(`exited with ${code} before printing: ${stderr}`))))
  })

const exitOf = (child: ChildProcess.ChildProcess) =>
  Effect.async<{ code: number | null; stdout: string; stderr: string }>((resume) => {
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.once("exit", (code) => resume(Effect.succeed({ code, stdout, stderr })))
  })

describe.concurrent("barge-emulator CLI", () => {
  it.scoped("prints one JSON line of URLs, serves, and exits 0 on SIGTERM", () =>
    Effect.gen(function*() {
      const child = yield* spawn(["--", "--port", "0", "--seed", "4", "--time-scale", "60", "--faults", "none"])
      const line = yield* firstLine(child)
      const urls = JSON.parse(line) as Record<string, string>
      assert.deepStrictEqual(Object.keys(urls), [...Emulator.services])
      for (const url of Object.values(urls)) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const response = yield* Effect.promise(() =>
        fetch(`${urls.moonshot}/v1/files`, { headers: { authorization: "Bearer sk-barge-emulator" } })
      )
      assert.strictEqual(response.status, 200)
      const exited = exitOf(child)
      child.kill("SIGTERM")
      const { code, stdout } = yield* exited
      assert.strictEqual(code, 0)
      assert.strictEqual(stdout, "")
    }), { timeout: 30_000 })

  it.scoped("exits 2 with the reason on a bad flag", () =>
    Effect.gen(function*() {
      const child = yield* spawn(["--faults", "nope"])
      const { code, stderr } = yield* exitOf(child)
      assert.strictEqual(code, 2)
      assert.include(stderr, "known profiles: none, flaky")
    }), { timeout: 30_000 })
})

describe("Cli.parseArgs", () => {
  it("reads every flag, in both spellings, and skips a bare --", () => {
    assert.deepStrictEqual(
      Cli.parseArgs(["--", "--host", "::1", "--port=9100", "--time-scale", "3600", "--faults", "chaos", "--seed=7"]),
      { host: "::1", port: 9100, timeScale: 3600, faults: "chaos", seed: 7 }
    )
    assert.deepStrictEqual(Cli.parseArgs([]), {})
  })

  it("explains what is wrong with a bad command line", () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["--port", "http"], "--port must be an integer"],
      [["--port", "65533"], "7 consecutive ports"],
      [["--time-scale", "0"], "--time-scale must be a number"],
      [["--seed", "-1"], "--seed must be an integer"],
      [["--faults", "nope"], "known profiles: none, flaky"],
      [["--seed"], "--seed needs a value"],
      [["--verbose", "x"], "Unknown argument"]
    ]
    for (const [argv, message] of cases) {
      const parsed = Cli.parseArgs(argv)
      assert.isString(parsed)
      assert.include(parsed, message)
    }
    assert.strictEqual(Cli.parseArgs(["--help"]), Cli.usage)
  })

  it("takes a JSON fault spec and explains a bad one", () => {
    const spec: Faults.FaultSpec = {
      rules: [{ kind: "throttle", rate: 0.5, services: ["moonshot"], match: "^GET " }],
      maxFaults: 3
    }
    assert.deepStrictEqual(Cli.parseArgs(["--faults", JSON.stringify(spec)]), { faults: spec })
    const bad = Cli.parseArgs(["--faults", JSON.stringify({ rules: [{ kind: "explode", rate: 2 }] })])
    assert.isString(bad)
    assert.include(bad, "Invalid fault spec")
    assert.include(bad, "kind")
    assert.include(
      Cli.parseArgs(["--faults", `{"rules":[{"kind":"reset","rate":1,"match":"("}]}`]) as string,
      "not a regular expression"
    )
  })
})
