/**
 * Polling: many simulated jobs — run times log-uniform from one minute to a day, a queue before and a finalizing
 * step after, counts advancing unevenly — each awaited with Barge's default schedule and with fixed 15 s and 60 s
 * polling. Counts status requests and detection latency (job terminal → the first poll that sees it).
 *
 * Each schedule is the exact value `Polling.watch`/`awaitTerminal` run (`Polling.scheduleFor`, clamped to the
 * expiry), stepped directly at each poll's instant instead of sleeping through `Effect.repeat`, with a `Clock` that
 * reads the simulated instant: the same decisions `TestClock` would drive, without its live yield of several
 * milliseconds per step (`TestClock.setTime` alone cost ~4 ms a step — 50 s for 12 jobs).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import * as Polling from "../packages/core/src/Polling.js"
import { fmt, type Goal, median, quantile, type Report } from "./report.js"

interface State {
  readonly status: "queued" | "running" | "finalizing" | "completed"
  readonly counts: { readonly completed: number; readonly failed: number; readonly total: number }
}

interface Job {
  readonly endsAt: number
  readonly expiresAt: number
  readonly at: (t: number) => State
}

/** A small seeded generator (mulberry32), so every run simulates the same jobs. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const segments = 12

/** One job: queued 5 s–3 min, runs 1 min–1 day at a rate that varies ±60 % between segments, finalizes 5 s–2 min. */
const makeJob = (random: () => number): Job => {
  const runFor = Math.round(60_000 * Math.pow(1440, random()))
  const queuedFor = Math.round(5_000 + random() * 175_000)
  const finalizeFor = Math.round(5_000 + random() * 115_000)
  const total = Math.max(20, Math.round(runFor / 200))
  const weights = Array.from({ length: segments }, () => 0.4 + random() * 1.2)
  const sum = weights.reduce((a, b) => a + b, 0)
  const cumulative = [0]
  for (const w of weights) cumulative.push(cumulative[cumulative.length - 1]! + w / sum)
  const runningAt = queuedFor
  const countedAt = runningAt + runFor
  const endsAt = countedAt + finalizeFor
  const completed = (t: number) => {
    const x = ((t - runningAt) / runFor) * segments
    const i = Math.min(segments - 1, Math.floor(x))
    const share = cumulative[i]! + (cumulative[i + 1]! - cumulative[i]!) * (x - i)
    return Math.min(total, Math.floor(total * share))
  }
  return {
    endsAt,
    expiresAt: 3 * 24 * 3600_000,
    at: (t) => ({
      status: t < runningAt ? "queued" : t < countedAt ? "running" : t < endsAt ? "finalizing" : "completed",
      counts: { completed: t < runningAt ? 0 : t >= countedAt ? total : completed(t), failed: 0, total }
    })
  }
}

interface Outcome {
  readonly polls: number
  readonly latency: number
}

/** The simulated instant, read by the `Clock` the schedules see. */
let now = 0

const simulatedClock: Clock.Clock = {
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => now,
  currentTimeMillis: Effect.sync(() => now),
  unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
  currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
  // Never reached: the simulation steps schedules, it does not sleep.
  sleep: () => Effect.dieMessage("the polling simulation does not sleep")
}

/** Awaits one job with `schedule`, stepping it at each poll's instant; returns polls made and detection latency. */
const simulate = (job: Job, schedule: Schedule.Schedule<State, State>) =>
  Effect.gen(function*() {
    now = 0
    let state = schedule.initial
    let polls = 0
    for (;;) {
      const observed = job.at(now)
      polls++
      if (observed.status === "completed") return { polls, latency: now - job.endsAt } satisfies Outcome
      const [next, , decision] = yield* schedule.step(now, observed, state)
      if (ScheduleDecision.isDone(decision)) return yield* Effect.dieMessage("a polling schedule ended")
      state = next
      now = Math.max(now, Intervals.start(decision.intervals))
    }
  })

const isTerminal = (state: State) => state.status === "completed"

/** The schedules compared, each exactly as `awaitTerminal` would run it for these options. */
const schedules = (job: Job): ReadonlyArray<readonly [string, Schedule.Schedule<State, State>]> => {
  const base = { isTerminal, expiresAt: job.expiresAt }
  return [
    ["Barge default (adaptive)", Polling.scheduleFor<State>(base)],
    ["fixed 15 s", Polling.scheduleFor<State>({ ...base, schedule: Schedule.spaced("15 seconds") })],
    ["fixed 60 s", Polling.scheduleFor<State>({ ...base, schedule: Schedule.spaced("60 seconds") })]
  ]
}

/**
 * Runs the simulation; `smoke` simulates a handful of jobs.
 */
export const run = async (options: { readonly smoke: boolean }): Promise<Report> => {
  const count = options.smoke ? 12 : 500
  const random = prng(8)
  const jobs = Array.from({ length: count }, () => makeJob(random))
  const names = schedules(jobs[0]!).map(([name]) => name)
  const outcomes = new Map<string, Array<Outcome>>(names.map((name) => [name, []]))
  const started = performance.now()
  await Effect.runPromise(
    Effect.gen(function*() {
      for (const job of jobs) {
        for (const [name, schedule] of schedules(job)) outcomes.get(name)!.push(yield* simulate(job, schedule))
      }
    }).pipe(Effect.withRandom(Random.make(8)), Effect.withClock(simulatedClock))
  )
  const seconds = (performance.now() - started) / 1000
  const summary = names.map((name) => {
    const list = outcomes.get(name)!
    const latencies = list.map((o) => o.latency / 1000)
    return {
      name,
      polls: list.reduce((n, o) => n + o.polls, 0),
      median: median(latencies),
      p90: quantile(latencies, 0.9),
      max: Math.max(...latencies)
    }
  })
  const barge = summary[0]!
  const fixed60 = summary[2]!
  const fewer = fixed60.polls / barge.polls
  const goals: Array<Goal> = [
    {
      name: "polling: status requests vs fixed 60 s",
      target: "≥ 3× fewer",
      actual: `${fmt(fewer, 2)}× fewer (${fmt(barge.polls)} vs ${fmt(fixed60.polls)})`,
      met: fewer >= 3
    },
    {
      name: "polling: median detection latency vs fixed 60 s",
      target: "equal or better",
      actual: `${fmt(barge.median, 1)} s vs ${fmt(fixed60.median, 1)} s`,
      met: barge.median <= fixed60.median
    }
  ]
  const durations = jobs.map((job) => job.endsAt / 1000)
  return {
    tables: [{
      title: `Polling: ${count} simulated jobs (end-to-end ${fmt(Math.min(...durations) / 60, 1)} min – ${
        fmt(Math.max(...durations) / 3600, 1)
      } h, median ${fmt(median(durations) / 60, 1)} min)`,
      columns: [
        "schedule",
        "status requests",
        "per job (mean)",
        "× fewer than fixed 60 s",
        "detection latency median",
        "p90",
        "max"
      ],
      rows: summary.map((s) => [
        s.name,
        fmt(s.polls),
        fmt(s.polls / count, 1),
        `${fmt(fixed60.polls / s.polls, 2)}×`,
        `${fmt(s.median, 1)} s`,
        `${fmt(s.p90, 1)} s`,
        `${fmt(s.max, 1)} s`
      ])
    }],
    goals,
    notes: [
      `Polling: jobs queue 5 s–3 min, run 1 min–1 day (log-uniform) with the rate varying ±60 % across ${segments} ` +
      `segments, then finalize 5 s–2 min with every request counted. Simulated in ${fmt(seconds, 1)} s of wall time.`
    ]
  }
}
