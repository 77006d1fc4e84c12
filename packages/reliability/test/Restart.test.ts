/**
 * Restarts: a real child process runs a batch against an emulator (in the test's process) and is SIGKILLed during
 * the upload, right after the create, while polling and while reading results — then started again with the same
 * input, each time, on every provider. It must attach to the job it created (the provider lists exactly that job, or
 * exactly the planned jobs where the flow splits the input) and end with every result exactly once.
 *
 * Nothing depends on how fast the children start: jobs stay queued until every provider's third run has attached
 * and been killed, and only then does the test move the emulator's clock on so they complete; the windows to kill
 * in are held open ten seconds, far beyond the moment the test kills.
 */
import { Emulator } from "@barge/emulator"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Flows from "../src/flows.js"
import { readRecorded } from "../src/restartDriver.js"

const root = Path.resolve(import.meta.dirname, "../../..")
const driver = Path.resolve(import.meta.dirname, "../src/restartDriver.ts")

/** Windows to kill inside: the first upload per service waits, the first result downloads crawl (10 s each). */
const hold = 10_000
/** The OpenAI-compatible platforms: uploads are `POST /v1/files` (`/v2` on Qianfan's), results the file content. */
const filePlatforms = ["moonshot", "openai", "qianfan-v2"] as const
const faults: Emulator.FaultSpec = {
  rules: [
    { kind: "latency", rate: 1, services: ["tos"], match: "^PUT /", limit: 1, delayMs: hold },
    { kind: "latency", rate: 1, services: ["bos"], match: "^PUT /", limit: 1, delayMs: hold },
    ...filePlatforms.map((service) => ({
      kind: "latency" as const,
      rate: 1,
      services: [service],
      match: String.raw`^POST /v[12]/files$`,
      limit: 1,
      delayMs: hold
    })),
    // The create is processed at once, its answer then trickles out: a window to kill in "right after create".
    ...(["ark", "qianfan", ...filePlatforms] as const).map((service) => ({
      kind: "slowBody" as const,
      rate: 1,
      services: [service],
      match: String.raw`^POST (/v[12]/batches$|.*[?&]Action=CreateBatchInference(Job|Task)(&|$))`,
      limit: 1,
      delayMs: hold
    })),
    { kind: "slowBody", rate: 1, services: ["tos"], match: String.raw`^GET /[^/?]+/[^?]+`, limit: 1, delayMs: hold },
    { kind: "slowBody", rate: 1, services: ["bos"], match: String.raw`^GET /[^/?]+/[^?]+`, limit: 1, delayMs: hold },
    ...filePlatforms.map((service) => ({
      kind: "slowBody" as const,
      rate: 1,
      services: [service],
      match: String.raw`^GET /v[12]/files/[^/]+/content$`,
      limit: 1,
      delayMs: hold
    }))
  ],
  maxConsecutive: 100
}

interface Child {
  readonly process: ChildProcessWithoutNullStreams
  readonly lines: Array<string>
  readonly exited: Promise<number | null>
}

const start = (args: ReadonlyArray<string>): Child => {
  const child = spawn("node", ["--import", "tsx", ...args], { cwd: root, stdio: "pipe" })
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
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      if (code !== 0 && code !== null && stderr !== "") lines.push(`stderr: ${stderr}`)
      resolve(code)
    })
  )
  return { process: child, lines, exited }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Waits until `ready()` or the child exits, however long that takes (the test's timeout bounds it); `true` when
 * ready first. */
const until = async (child: Child, ready: () => boolean | Promise<boolean>): Promise<boolean> => {
  let exited = false
  void child.exited.then(() => (exited = true))
  for (;;) {
    if (await ready()) return true
    if (exited) return false
    await sleep(5)
  }
}

const kill = async (child: Child) => {
  child.process.kill("SIGKILL")
  await child.exited
}

const lastPhase = (child: Child) => child.lines.filter((l) => l.startsWith("phase ")).at(-1) ?? "(none)"

interface Started {
  readonly provider: Flows.Provider
  readonly args: ReadonlyArray<string>
  readonly state: string
  readonly killedAt: Array<string>
}

const count = 12

/** One provider's first three runs, each killed: during the upload, right after the create, while polling. */
const firstRuns = async (
  provider: Flows.Provider,
  emulator: Emulator.Service,
  random: () => number
): Promise<Started> => {
  const state = Fs.mkdtempSync(Path.join(Os.tmpdir(), `barge-restart-${provider}-`))
  const args = [driver, provider, JSON.stringify(emulator.urls), state, String(count), `rs-${provider}`]
  const remote = () => Flows.remoteJobs(emulator, provider)
  const killedAt: Array<string> = []

  // 1. During the upload: the first upload is held by the emulator, far longer than the random wait.
  let child = start(args)
  assert.isTrue(
    await until(child, () => child.lines.includes("phase submit")),
    `${provider}: ${child.lines.join("\n")}`
  )
  await sleep(300 + random() * 800)
  // Killed first, then looked at: what the dead process left cannot change while the test reads it.
  await kill(child)
  killedAt.push(`upload: ${lastPhase(child)}, jobs ${remote().length}`)

  // 2. Right after the create: the provider holds the job, its answer still trickling out, not yet recorded.
  child = start(args)
  assert.isTrue(await until(child, () => remote().length > 0), `${provider}: ${child.lines.join("\n")}`)
  await kill(child)
  killedAt.push(`create: ${lastPhase(child)}, recorded ${Fs.existsSync(Path.join(state, "submission.json"))}`)

  // 3. While polling: the job is queued until the test moves the clock.
  child = start(args)
  assert.isTrue(
    await until(child, () => child.lines.includes("phase polling")),
    `${provider}: ${child.lines.join("\n")}`
  )
  await sleep(50 + random() * 400)
  await kill(child)
  killedAt.push(`polling: ${lastPhase(child)}`)
  return { provider, args, state, killedAt }
}

/** The last two runs, once the jobs may complete: killed while reading results, then to the end. */
const lastRuns = async ({ args, killedAt, provider, state }: Started, emulator: Emulator.Service) => {
  const resultsFile = Path.join(state, "results.jsonl")

  // 4. While reading results: once at least one is recorded (the first download crawls).
  let child = start(args)
  assert.isTrue(
    await until(child, () => readRecorded(resultsFile).length > 0),
    `${provider}: ${child.lines.join("\n")}`
  )
  await kill(child)
  killedAt.push(`results: ${lastPhase(child)}, recorded ${readRecorded(resultsFile).length}/${count}`)

  // 5. To the end.
  child = start(args)
  const code = await child.exited
  assert.strictEqual(code, 0, `${provider}: ${child.lines.join("\n")}`)

  const submission = JSON.parse(Fs.readFileSync(Path.join(state, "submission.json"), "utf8")) as Flows.Submitted
  return {
    killedAt,
    submission,
    jobs: Flows.remoteJobs(emulator, provider),
    outcomes: readRecorded(resultsFile),
    requests: Flows.makeRequests(count, `rs-${provider}`),
    lines: child.lines
  }
}

describe("restart", () => {
  it.live(
    "killed during upload, after create, while polling and while reading results, it attaches and finishes once",
    () =>
      Effect.scoped(Effect.gen(function*() {
        // Queued for two hours of a 24-hour window: no job moves on before the test says so (the test takes
        // minutes), and all complete, none expires, when it moves the clock three hours on.
        const emulator = yield* Emulator.make({ timeScale: 1, faults, processing: { queuedFor: "2 hours" } })
        yield* Effect.promise(async () => {
          const seed = Date.now() % 100_000
          let state = seed
          const random = () => ((state = (state * 48271) % 2147483647) / 2147483647)
          const started = await Promise.all(Flows.providers.map((provider) => firstRuns(provider, emulator, random)))
          // Every provider's third run attached and was killed: now the jobs may complete.
          await Effect.runPromise(emulator.advance("3 hours"))
          const outcomes = await Promise.all(started.map((run) => lastRuns(run, emulator)))
          for (const [i, provider] of Flows.providers.entries()) {
            const run = outcomes[i]!
            const context = `${provider} (seed ${seed}): killed at ${run.killedAt.join("; ")}`
            // Each kill landed where it was meant to.
            assert.match(run.killedAt[0]!, /^upload: phase submit, jobs 0$/, context)
            assert.match(run.killedAt[1]!, /^create: phase submit, recorded false$/, context)
            assert.match(run.killedAt[2]!, /^polling: phase polling$/, context)
            assert.match(run.killedAt[3]!, /^results: phase results, recorded \d+\/12$/, context)
            assert.notMatch(run.killedAt[3]!, /recorded 12\/12/, context)
            // Attached, never submitted twice: the provider holds exactly the recorded jobs — one, or the planned
            // jobs where the flow's limits split the input.
            assert.deepStrictEqual([...run.jobs].sort(), [...run.submission.jobIds].sort(), context)
            if (Flows.wiring[provider]!.limits === undefined) assert.strictEqual(run.jobs.length, 1, context)
            // Every result exactly once, each the emulator's answer.
            const verdict = Flows.checkResults(run.requests, run.outcomes)
            assert.deepStrictEqual(verdict.problems, [], context)
            assert.strictEqual(run.outcomes.length, 12, context)
          }
        })
      })),
    // Twenty-five child processes, each loading TypeScript: generous, so a loaded machine is slow, not failing.
    { timeout: 480_000 }
  )
})
