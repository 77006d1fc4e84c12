/**
 * First contact, as an npm user has it: every public package built and packed, the tarballs installed with
 * `npm install` into a scratch project outside the workspace (in the OS temp folder) beside the Effect 3 peers at
 * the ranges the packages state, then:
 *
 * - every tarball passes the package checks (`src/packaging.ts`);
 * - a program (`fixtures/consumer/program.ts`) type-checks with `skipLibCheck: false` and runs a batch on each of the
 *   five providers against the emulator;
 * - `npx barge --version` runs the installed executable;
 * - `npx barge-emulator` prints its JSON line of URLs, serves a `barge submit` / `watch` / `results` / `status`
 *   round trip whose `--json` output parses (also through `pnpm --silent barge` in the repository), and stops on
 *   SIGTERM.
 *
 * `npx --no` everywhere: a missing executable fails instead of fetching some package of that name from the registry.
 */
import { Emulator } from "@barge/emulator"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as Packaging from "../src/packaging.js"

const root = path.resolve(import.meta.dirname, "../../..")
const fixture = path.join(import.meta.dirname, "fixtures", "consumer")
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "barge-consumer-"))
const tarballs = path.join(scratch, "tarballs")
const project = path.join(scratch, "project")

/**
 * The environment of a user's shell: without what pnpm and vitest put there for the workspace (`npm_config_*`
 * would configure the scratch project's npm as the workspace's).
 */
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(npm_|pnpm_|PNPM_|VITEST|NODE_OPTIONS)/.test(key))
  ),
  npm_config_update_notifier: "false",
  npm_config_fund: "false",
  npm_config_audit: "false",
  BARGE_FORCE_TTY: "0"
}

/** Runs a command in the scratch project (or `cwd`) with a user's environment; fails unless it exits 0. */
const run = (command: string, args: ReadonlyArray<string>, options: { readonly cwd?: string } = {}) =>
  Packaging.exec(command, args, { cwd: options.cwd ?? project, env })

const barge = (...args: ReadonlyArray<string>) => run("npx", ["--no", "--", "barge", ...args])

const jsonLines = (text: string): Array<any> =>
  text.split("\n").filter((line) => line.trim().length > 0).map((line) => JSON.parse(line))

/** Resolves once nothing accepts connections at `url` any more. */
const refusing = async (url: string): Promise<void> => {
  const { hostname, port } = new URL(url)
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(Number(port), hostname)
      socket.once("connect", () => {
        socket.destroy()
        resolve(false)
      })
      socket.once("error", () => resolve(true))
    })
    if (refused) return
    // The emulator may close its listeners a moment after npx exits: look again shortly (bounded by the timeout).
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const packed = new Map<string, string>()

/** Fails on what an install must not print: ERESOLVE (Effect 4 beside Effect 3), a peer conflict, unknown config. */
const install = async (args: ReadonlyArray<string>) => {
  const installed = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...args])
  assert.notMatch(installed.stderr, /ERESOLVE|peer dep|conflicting peer|Unknown (project|env|user) config/i)
}

beforeAll(async () => {
  fs.mkdirSync(project)
  fs.writeFileSync(
    path.join(project, "package.json"),
    JSON.stringify({
      name: "barge-consumer",
      private: true,
      type: "module",
      // The peers as the README tells a user to install them.
      dependencies: Object.fromEntries(Object.entries(Packaging.effectPeers).map(([name, { range }]) => [name, range])),
      // The workspace's TypeScript type-checks the program (one download fewer); the types come from here.
      devDependencies: {
        "@types/node": "^20.19.0",
        // @effect/platform-node's declarations import "ws" types, which a type-check with skipLibCheck off reads.
        "@types/ws": "^8.5.0"
      }
    })
  )
  // The peers install while the packages build (one core each), then the tarballs join them.
  const [tarballsByName] = await Promise.all([Packaging.buildAndPack(Packaging.workspace(root), tarballs), install([])])
  for (const [name, tarball] of tarballsByName) packed.set(name, tarball)
  await install([...packed.values()])
  for (const file of fs.readdirSync(fixture)) fs.copyFileSync(path.join(fixture, file), path.join(project, file))
}, 300_000)

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

describe("an npm user's first contact", () => {
  it("every tarball passes the package checks", () => {
    assert.deepStrictEqual([...packed.keys()].sort(), Packaging.workspace(root).packages.map((p) => p.name).sort())
    for (const [name, tarball] of packed) {
      assert.deepStrictEqual(Packaging.problems(Packaging.readTarball(tarball)), [], name)
    }
    // The installed manifest is the packed one: a bin npm links to compiled JavaScript.
    const cli = JSON.parse(fs.readFileSync(path.join(project, "node_modules/@barge/cli/package.json"), "utf8"))
    assert.deepStrictEqual(cli.bin, { barge: "./bin/barge.js" })
    assert.strictEqual(cli.exports["."].import, "./dist/index.js")
  })

  it.concurrent(
    "a program type-checks with skipLibCheck off and runs through every provider on the emulator",
    async () => {
      const tsconfig = JSON.parse(fs.readFileSync(path.join(project, "tsconfig.json"), "utf8"))
      assert.isFalse(tsconfig.compilerOptions.skipLibCheck)
      await run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "."])
      const ran = await run(process.execPath, ["out/program.js"])
      const expected = { succeeded: 11, failed: 1 }
      assert.deepStrictEqual(JSON.parse(ran.stdout), {
        ark: expected,
        moonshot: expected,
        openai: expected,
        qianfan: expected,
        "qianfan-v2": expected
      })
    },
    180_000
  )

  it.concurrent(
    "npx barge and npx barge-emulator: a submit / watch / results round trip whose --json parses",
    async () => {
      const version = await barge("--version")
      assert.strictEqual(version.stdout.trim(), "0.1.0")

      // The emulator as its own process group, so SIGTERM reaches it behind npx's shell.
      const emulator = spawn("npx", ["--no", "--", "barge-emulator", "--port", "0", "--time-scale", "200"], {
        cwd: project,
        env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"]
      })
      let emulatorErr = ""
      emulator.stderr.on("data", (chunk) => (emulatorErr += chunk))
      const exited = new Promise<number | null>((resolve) => emulator.on("exit", (code) => resolve(code)))
      let urls: Record<string, string> = {}
      try {
        const firstLine = await new Promise<string>((resolve, reject) => {
          let out = ""
          emulator.stdout.on("data", (chunk) => {
            out += chunk
            if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")))
          })
          void exited.then((code) => reject(new Error(`barge-emulator exited ${code}:\n${out}\n${emulatorErr}`)))
        })
        urls = JSON.parse(firstLine) as Record<string, string>
        assert.deepStrictEqual(Object.keys(urls).sort(), [...Emulator.services].sort())
        const target = ["--emulator-urls", firstLine]

        const input = path.join(project, "requests.jsonl")
        fs.writeFileSync(
          input,
          Array.from({ length: 20 }, (_, i) =>
            JSON.stringify({
              customId: `r-${i + 1}`,
              model: "kimi-k2.6",
              messages: [{ role: "user", content: `Question ${i + 1}${i === 6 ? " [[barge:fail]]" : ""}` }]
            })).join("\n") + "\n"
        )
        const submitted = JSON.parse((await barge("submit", "-p", "moonshot", "--json", ...target, input)).stdout)
        assert.match(submitted.id, /^moonshot:/)
        assert.strictEqual(submitted.counts.total, 20)

        const watched = jsonLines((await barge("watch", submitted.id, "--json", "--poll", "100ms", ...target)).stdout)
        assert.strictEqual(watched.at(-1).status.phase, "completed")

        const results = jsonLines((await barge("results", submitted.id, "--json", ...target)).stdout)
        assert.deepStrictEqual(
          results.map((r) => r.customId).sort(),
          Array.from({ length: 20 }, (_, i) => `r-${i + 1}`).sort()
        )
        assert.deepStrictEqual(results.filter((r) => r._tag === "Failed").map((r) => r.customId), ["r-7"])

        // From the repository, pnpm's banner must stay off stdout: `pnpm --silent barge … --json` parses.
        const fromRepo = await run("npx", [
          "-y",
          "pnpm@10",
          "--silent",
          "barge",
          "status",
          submitted.id,
          "--json",
          ...target
        ], {
          cwd: root
        })
        const status = JSON.parse(fromRepo.stdout)
        // npm reads the repository's .npmrc too: pnpm-only settings there would make every npx warn.
        assert.notInclude(fromRepo.stderr, "Unknown project config")
        assert.strictEqual(status.phase, "completed")
        assert.deepStrictEqual(status.counts, { ...status.counts, total: 20, completed: 19, failed: 1 })
      } finally {
        process.kill(-emulator.pid!, "SIGTERM")
      }
      await exited
      // Stopped: every one of its ports refuses connections.
      await Promise.all(Object.values(urls).map(refusing))
    },
    180_000
  )
})
