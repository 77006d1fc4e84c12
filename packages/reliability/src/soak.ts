/**
 * The fault-injection soak: run after run, a seeded provider and fault profile, a batch taken from submit to the
 * last result against a fresh in-process emulator, then checked against the emulator's own state — every result
 * exactly once and equal to the emulator's answer, exactly the planned jobs, no defect, no unhandled rejection, no
 * fiber or socket left behind.
 *
 * ```sh
 * pnpm soak                      # 200 runs from seed 1
 * pnpm soak --runs 20 --seed 77  # runs with seeds 77..96
 * pnpm soak --seed 123 --runs 1  # replay the run a failure printed
 * ```
 *
 * @since 0.1.0
 */
import * as Emulator from "@barge/emulator/Emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as Supervisor from "effect/Supervisor"
import { pathToFileURL } from "node:url"
import * as Flows from "./flows.js"

/** The emulator's profiles a run picks from (every one that injects faults), in a fixed order so seeds replay. */
const profileNames = ["server-errors", "throttle", "resets", "downloads", "slow", "lost-create", "chaos"] as const

/**
 * The fault profiles a run picks from: the emulator's named profiles with delays shortened to keep runs short.
 *
 * @since 0.1.0
 */
export const profiles: Readonly<Record<string, Emulator.FaultSpec>> = Object.fromEntries(
  profileNames.map((name) => [name, Emulator.faultProfile(name, { delayScale: 0.1 })!])
)

/** A small integer hash, so neighbouring seeds pick unrelated profiles and sizes. */
const mix = (seed: number, salt: number): number => {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 0x27d4eb2f, 0xc2b2ae35)
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d)
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b)
  return (h ^ (h >>> 16)) >>> 0
}

/**
 * What a seed decides: provider, fault profile and batch size. The provider and the profile are the seed modulo
 * their counts (5 and 7, which share no factor), so neighbouring seeds differ in both and any 35 consecutive seeds
 * take every provider through every profile; the size is hashed.
 *
 * @since 0.1.0
 */
export const plan = (seed: number) => ({
  provider: Flows.providers[seed % Flows.providers.length]!,
  profile: profileNames[seed % profileNames.length]!,
  requests: 10 + (mix(seed, 3) % 21)
})

/**
 * @since 0.1.0
 */
export interface RunReport {
  readonly seed: number
  readonly provider: Flows.Provider
  readonly profile: string
  readonly requests: number
  readonly faults: Emulator.FaultCounts
  readonly resultsChecked: number
  readonly duplicates: number
  readonly defects: number
  readonly jobs: number
  readonly problems: ReadonlyArray<string>
  readonly millis: number
}

/**
 * @since 0.1.0
 */
export interface Report {
  readonly runs: number
  readonly failed: ReadonlyArray<RunReport>
  readonly faults: Emulator.FaultCounts
  readonly resultsChecked: number
  readonly duplicates: number
  readonly defects: number
  readonly unhandledRejections: number
  readonly leakedFibers: number
  readonly leakedSockets: number
  readonly millis: number
  /** Runs left out because the time budget ran out. */
  readonly skipped: number
}

/** A real-time pause (the emulator and the sockets live on real time). */
const pause = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

/** Polls `read` until it returns true or `ms` pass. */
const eventually = (read: Effect.Effect<boolean>, ms: number) =>
  Effect.gen(function*() {
    const until = Date.now() + ms
    while (Date.now() < until) {
      if (yield* read) return true
      yield* pause(5)
    }
    return yield* read
  })

/** Unhandled rejections seen while the soak runs (a process-wide listener). */
let rejections: Array<unknown> = []
const onRejection = (reason: unknown) => {
  rejections.push(reason)
}

/**
 * One run: a fresh emulator with the seed's fault profile, a flow from submit to the last result, then the checks.
 *
 * @since 0.1.0
 */
export const runOne = (
  seed: number,
  options: { readonly timeScale?: number; readonly budget?: Duration.DurationInput } = {}
): Effect.Effect<RunReport & { readonly leakedFibers: number; readonly leakedSockets: number }> =>
  Effect.scoped(Effect.gen(function*() {
    const started = Date.now()
    const { profile, provider, requests: size } = plan(seed)
    const rejectionsBefore = rejections.length
    const emulator = yield* Emulator.make({
      seed,
      faults: profiles[profile]!,
      timeScale: options.timeScale ?? 200,
      processing: Flows.processing
    }).pipe(Effect.orDie)
    const requests = Flows.makeRequests(size, `s${seed}`)
    const supervisor = yield* Supervisor.track
    const problems: Array<string> = []

    const flow = Effect.gen(function*() {
      const flow = yield* Flows.make(provider, emulator)
      const submitted = yield* flow.submit(requests)
      yield* flow.await(submitted)
      const outcomes = yield* Stream.runCollect(flow.results(submitted))
      return { submitted, outcomes: Chunk.toReadonlyArray(outcomes) }
    }).pipe(
      Effect.provide(NodeHttpClient.layerUndici),
      Effect.timeoutFail({
        duration: options.budget ?? "60 seconds",
        onTimeout: () => new Error("the run did not finish in its time budget")
      }),
      Effect.supervised(supervisor)
    )
    const exit = yield* Effect.exit(flow)

    let defects = 0
    let checked = 0
    let duplicates = 0
    if (Exit.isFailure(exit)) {
      if (Cause.isDie(exit.cause)) defects++
      problems.push(`the flow failed: ${Cause.pretty(exit.cause).split("\n")[0]}`)
    } else {
      const verdict = Flows.checkResults(requests, exit.value.outcomes)
      problems.push(...verdict.problems)
      checked = verdict.checked
      duplicates = verdict.duplicates
      const remote = Flows.remoteJobs(emulator, provider)
      const local = exit.value.submitted.jobIds
      const same = remote.length === local.length && local.every((id) => remote.includes(id))
      if (!same) {
        problems.push(`the emulator holds jobs [${remote.join(", ")}] but the submission is [${local.join(", ")}]`)
      }
    }
    const jobs = Flows.remoteJobs(emulator, provider).length

    // The client's scope has closed: its fibers must be done and its sockets closed (the server sees the close a
    // moment later, hence the short wait).
    const fibersDone = yield* eventually(
      Effect.map(supervisor.value, (fibers) => fibers.every((fiber) => fiber.unsafePoll() !== null)),
      1000
    )
    const leakedFibers = fibersDone
      ? 0
      : (yield* supervisor.value).filter((fiber) => fiber.unsafePoll() === null).length
    if (leakedFibers > 0) {
      problems.push(`${leakedFibers} fiber(s) still running after the flow ended`)
      yield* Effect.forEach(yield* supervisor.value, Fiber.interrupt)
    }
    const socketsClosed = yield* eventually(Effect.map(emulator.openConnections, (n) => n === 0), 2000)
    const leakedSockets = socketsClosed ? 0 : yield* emulator.openConnections
    if (leakedSockets > 0) problems.push(`${leakedSockets} socket(s) still open after the client's scope closed`)
    const newRejections = rejections.length - rejectionsBefore
    if (newRejections > 0) problems.push(`${newRejections} unhandled rejection(s): ${String(rejections.at(-1))}`)

    return {
      seed,
      provider,
      profile,
      requests: size,
      faults: yield* emulator.faults.counts,
      resultsChecked: checked,
      duplicates,
      defects,
      jobs,
      problems,
      millis: Date.now() - started,
      leakedFibers,
      leakedSockets
    }
  }))

const zeroCounts = Emulator.noFaults

const addCounts = (a: Emulator.FaultCounts, b: Emulator.FaultCounts): Emulator.FaultCounts => {
  const sum: Record<string, number> = {}
  for (const key of Object.keys(zeroCounts) as Array<keyof Emulator.FaultCounts>) sum[key] = a[key] + b[key]
  return sum as unknown as Emulator.FaultCounts
}

/**
 * @since 0.1.0
 */
export interface Options {
  readonly runs: number
  /** The first run's seed; run `i` uses `seed + i`, so a failing run replays with `--seed <its seed> --runs 1`. */
  readonly seed: number
  /** Stop starting runs after this long (default 15 minutes). */
  readonly maxDuration?: Duration.DurationInput | undefined
  readonly timeScale?: number | undefined
  readonly onRun?: ((run: RunReport) => void) | undefined
}

/**
 * Runs the soak and reports the figures. Never fails: problems are in `failed`.
 *
 * @since 0.1.0
 */
export const soak = (options: Options): Effect.Effect<Report> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      rejections = []
      process.on("unhandledRejection", onRejection)
    }),
    () =>
      Effect.gen(function*() {
        const started = Date.now()
        const deadline = started + Duration.toMillis(options.maxDuration ?? "15 minutes")
        const failed: Array<RunReport> = []
        let faults = zeroCounts
        let resultsChecked = 0
        let duplicates = 0
        let defects = 0
        let leakedFibers = 0
        let leakedSockets = 0
        let runs = 0
        for (let i = 0; i < options.runs; i++) {
          if (Date.now() > deadline) break
          const run = yield* runOne(options.seed + i, { timeScale: options.timeScale ?? 200 })
          runs++
          faults = addCounts(faults, run.faults)
          resultsChecked += run.resultsChecked
          duplicates += run.duplicates
          defects += run.defects
          leakedFibers += run.leakedFibers
          leakedSockets += run.leakedSockets
          if (run.problems.length > 0) failed.push(run)
          options.onRun?.(run)
        }
        return {
          runs,
          failed,
          faults,
          resultsChecked,
          duplicates,
          defects,
          unhandledRejections: rejections.length,
          leakedFibers,
          leakedSockets,
          millis: Date.now() - started,
          skipped: options.runs - runs
        }
      }),
    () => Effect.sync(() => process.off("unhandledRejection", onRejection))
  )

/**
 * The figures as printed lines.
 *
 * @since 0.1.0
 */
export const summary = (report: Report): ReadonlyArray<string> => {
  const kinds = (Object.keys(zeroCounts) as Array<keyof Emulator.FaultCounts>)
    .filter((kind) => kind !== "total")
    .map((kind) => `${kind} ${report.faults[kind]}`)
    .join(", ")
  return [
    `runs: ${report.runs} (${report.runs - report.failed.length} passed, ${report.failed.length} failed${
      report.skipped > 0 ? `, ${report.skipped} skipped for time` : ""
    }) in ${(report.millis / 1000).toFixed(1)} s`,
    `faults injected: ${report.faults.total} (${kinds})`,
    `results checked: ${report.resultsChecked}`,
    `duplicates: ${report.duplicates}`,
    `defects: ${report.defects}`,
    `unhandled rejections: ${report.unhandledRejections}`,
    `leaked fibers: ${report.leakedFibers}, leaked sockets: ${report.leakedSockets}`,
    ...report.failed.map((run) =>
      `FAILED seed ${run.seed} (${run.provider}, ${run.profile}; replay: pnpm soak --seed ${run.seed} --runs 1): ${
        run.problems.slice(0, 3).join("; ")
      }`
    )
  ]
}

const parseArgs = (argv: ReadonlyArray<string>): Options | string => {
  let runs = 200
  let seed = 1
  let maxSeconds = 900
  let verbose = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const value = argv[i + 1]
    const int = () => (value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined)
    if (arg === "--") continue
    if (arg === "--verbose") {
      verbose = true
      continue
    }
    if (arg !== "--runs" && arg !== "--seed" && arg !== "--max-seconds") {
      return `unknown option ${arg}; usage: soak [--runs N] [--seed S] [--max-seconds T] [--verbose]`
    }
    const n = int()
    if (n === undefined) return `${arg} needs a whole number; usage: soak [--runs N] [--seed S] [--max-seconds T]`
    if (arg === "--runs") runs = n
    else if (arg === "--seed") seed = n
    else maxSeconds = n
    i++
  }
  return {
    runs,
    seed,
    maxDuration: Duration.seconds(maxSeconds),
    onRun: (run) => {
      if (verbose || run.problems.length > 0) {
        const status = run.problems.length === 0 ? "ok" : `FAILED: ${run.problems.slice(0, 3).join("; ")}`
        process.stdout.write(
          `seed ${run.seed} ${run.provider} ${run.profile} ${run.requests} requests, ${run.faults.total} faults, ${run.millis} ms: ${status}\n`
        )
      }
    }
  }
}

const main = async () => {
  const options = parseArgs(process.argv.slice(2))
  if (typeof options === "string") {
    process.stderr.write(`${options}\n`)
    process.exit(2)
  }
  process.stdout.write(`soak: ${options.runs} runs from seed ${options.seed}\n`)
  const report = await Effect.runPromise(soak(options))
  for (const line of summary(report)) process.stdout.write(`${line}\n`)
  const ok = report.failed.length === 0 && report.unhandledRejections === 0 && report.skipped === 0
  process.exit(ok ? 0 : 1)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main()
}
