import { Polling } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, FastCheck, Fiber, Schedule, TestClock } from "effect"

interface Job {
  readonly status: "running" | "finalizing" | "completed"
  readonly counts: { readonly completed: number; readonly failed: number; readonly total: number }
}

/**
 * A job of `total` requests finished evenly over `runFor` ms (optionally stalling from `stallAt` to `stallUntil`),
 * then finalizing for `finalizeFor` ms; records when each poll happened.
 */
const simulated = (options: {
  readonly total: number
  readonly runFor: number
  readonly finalizeFor: number
  readonly stallAt?: number
  readonly stallUntil?: number
}) => {
  const times: Array<number> = []
  const { finalizeFor, runFor, total } = options
  const stall = options.stallAt === undefined ? 0 : options.stallUntil! - options.stallAt
  const doneAt = runFor + stall
  const completedAt = (t: number) => {
    const working = options.stallAt === undefined || t < options.stallAt
      ? t
      : t < options.stallUntil!
      ? options.stallAt
      : t - stall
    return Math.min(total, Math.floor((total * working) / runFor))
  }
  const poll = Effect.map(Clock.currentTimeMillis, (now): Job => {
    times.push(now)
    return {
      status: now >= doneAt + finalizeFor ? "completed" : now >= doneAt ? "finalizing" : "running",
      counts: { completed: completedAt(now), failed: 0, total }
    }
  })
  const gaps = () => times.slice(1).map((t, i) => t - times[i]!)
  return { poll, times, gaps, endsAt: doneAt + finalizeFor }
}

const isTerminal = (job: Job) => job.status === "completed"
const progress = (job: Job): Polling.Progress => ({ completed: job.counts.completed, total: job.counts.total })

const run = <A, E>(effect: Effect.Effect<A, E>, horizon: Duration.DurationInput) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust(horizon)
    return yield* Fiber.join(fiber)
  })

describe("Polling.adaptive", () => {
  it.effect("never polls sooner than the floor nor later than the cap", () =>
    Effect.gen(function*() {
      const job = simulated({ total: 10_000, runFor: 6 * 3600_000, finalizeFor: 40_000 })
      const schedule = Polling.adaptive({ progress, floor: "10 seconds", cap: "15 minutes" })
      const last = yield* run(Polling.awaitTerminal(job.poll, { isTerminal, schedule }), "7 hours")
      assert.strictEqual(last.status, "completed")
      const gaps = job.gaps()
      assert.isTrue(gaps.every((gap) => gap >= 10_000), `a gap under the floor: ${gaps}`)
      assert.isTrue(gaps.every((gap) => gap <= 15 * 60_000), `a gap over the cap: ${gaps}`)
      assert.isTrue(gaps.includes(15 * 60_000), "waits the cap while the end is far")
    }))

  it.effect("polls closer together as the ETA nears, and notices the end within the floor's reach", () =>
    Effect.gen(function*() {
      const job = simulated({ total: 5_000, runFor: 3600_000, finalizeFor: 20_000 })
      yield* run(Polling.awaitTerminal(job.poll, { isTerminal, schedule: Polling.adaptive({ progress }) }), "2 hours")
      const running = job.times.filter((t) => t < 3600_000)
      const runningGaps = running.slice(1).map((t, i) => t - running[i]!)
      // Once an ETA exists (two intervals of progress, so from the third poll on) each wait is half the time left.
      const approach = runningGaps.slice(3)
      assert.isTrue(approach.length >= 4, `too few polls: ${job.times}`)
      assert.isTrue(approach.every((gap, i) => i === 0 || gap <= approach[i - 1]!), `not tightening: ${approach}`)
      const latency = job.times[job.times.length - 1]! - job.endsAt
      assert.isTrue(latency >= 0 && latency <= 20_000, `noticed ${latency} ms after the end`)
      assert.isTrue(job.times.length <= 60 / 3, `${job.times.length} polls for an hour (fixed 60 s makes 60)`)
    }))

  it.effect("never sleeps past the expiry", () =>
    Effect.gen(function*() {
      // The ETA (10 hours) lies past the expiry (1 hour): a poll must land exactly on the expiry.
      const job = simulated({ total: 1_000, runFor: 10 * 3600_000, finalizeFor: 0 })
      const error = yield* run(
        Effect.flip(
          Polling.awaitTerminal(job.poll, { isTerminal, progress, expiresAt: 3600_000, expiryGrace: "1 minute" })
        ),
        "3 hours"
      )
      assert.strictEqual(error.reason, "Expired")
      assert.isTrue(job.times.includes(3600_000), `no poll at the expiry: ${job.times}`)
      assert.isTrue(job.times.every((t) => t <= 3600_000 + 60_000 + 10 * 60_000))
    }))

  it.effect("does not trust the first interval after a queue: it measures again at the floor", () =>
    Effect.gen(function*() {
      // Queued (nothing done) for 10 minutes, then 9,000 requests in 30 minutes, finalizing for 10 s.
      const times: Array<number> = []
      const poll = Effect.map(Clock.currentTimeMillis, (now): Job => {
        times.push(now)
        const done = Math.max(0, Math.min(9_000, Math.floor((now - 600_000) / 200)))
        const status = now >= 2_410_000 ? "completed" : "running"
        return { status, counts: { completed: done, failed: 0, total: 9_000 } }
      })
      yield* run(Polling.awaitTerminal(poll, { isTerminal, schedule: Polling.adaptive({ progress }) }), "1 hour")
      const firstMoving = times.findIndex((t) => t > 600_000)
      assert.strictEqual(times[firstMoving + 1]! - times[firstMoving]!, 5_000, `${times}`)
      const latency = times[times.length - 1]! - 2_410_000
      assert.isTrue(latency <= 60_000, `noticed ${latency} ms after the end: ${times}`)
    }))

  it.effect("after a stall it backs off from the floor again", () =>
    Effect.gen(function*() {
      const job = simulated({
        total: 2_000,
        runFor: 3600_000,
        finalizeFor: 10_000,
        stallAt: 600_000,
        stallUntil: 3 * 3600_000
      })
      yield* run(Polling.awaitTerminal(job.poll, { isTerminal, schedule: Polling.adaptive({ progress }) }), "5 hours")
      const stalled = job.times.filter((t) => t > 600_000 && t < 3 * 3600_000)
      // From the first poll that saw no movement: floor, floor, then growing by half each time.
      const gaps = stalled.slice(2).map((t, i) => t - stalled[i + 1]!)
      assert.isTrue(gaps.length >= 5, `${stalled}`)
      assert.strictEqual(gaps[0], 5_000)
      assert.isTrue(gaps.every((gap, i) => i === 0 || gap >= gaps[i - 1]!), `stalled gaps should grow: ${gaps}`)
      assert.strictEqual(gaps[gaps.length - 1], 10 * 60_000, "up to the cap")
    }))

  it.effect("without progress it is the backoff: 2 s first, then growing", () =>
    Effect.gen(function*() {
      const delays = yield* Schedule.run(
        Polling.adaptive({ progress: () => undefined }),
        0,
        Array.from({ length: 4 }, () => undefined)
      )
      const millis = Array.from(delays, Duration.toMillis)
      assert.isTrue(millis[0]! >= 1600 && millis[0]! <= 2400, `first delay ${millis[0]}`)
      assert.isTrue(millis[3]! > millis[0]!, `${millis}`)
    }))

  it.effect("is the default: a job with counts gets it without any option", () =>
    Effect.gen(function*() {
      const job = simulated({ total: 100_000, runFor: 24 * 3600_000, finalizeFor: 30_000 })
      const last = yield* run(Polling.awaitTerminal(job.poll, { isTerminal }), "25 hours")
      assert.strictEqual(last.status, "completed")
      assert.isTrue(job.times.length < 1440 / 3, `${job.times.length} polls for a day`)
    }))

  it.effect("composes like any Schedule", () =>
    Effect.gen(function*() {
      const bounded = simulated({ total: 100, runFor: 3600_000, finalizeFor: 0 })
      const error = yield* run(
        Effect.flip(Polling.awaitTerminal(bounded.poll, {
          isTerminal,
          schedule: Polling.defaultSchedule().pipe(Schedule.upTo("10 minutes"))
        })),
        "2 hours"
      )
      assert.strictEqual(error.reason, "ScheduleEnded")
    }))
})

describe("Polling.nextDelay", () => {
  /** The delays `adaptive` chooses when stepped at exactly these times with exactly these states. */
  const scheduleDelays = (observations: ReadonlyArray<Polling.Observation>) =>
    Effect.gen(function*() {
      const schedule = Polling.adaptive<Polling.Observation>({
        progress: (o) => o.progress,
        fallback: Polling.backoff().pipe(Schedule.modifyDelay(() => Duration.zero))
      })
      let state = schedule.initial
      const delays: Array<number> = []
      for (const observation of observations) {
        const [next, delay] = yield* schedule.step(observation.at, observation, state)
        state = next
        delays.push(Duration.toMillis(delay))
      }
      return delays
    })

  const observation = FastCheck.record({
    gap: FastCheck.integer({ min: 0, max: 3 * 3600_000 }),
    moved: FastCheck.integer({ min: 0, max: 500 }),
    known: FastCheck.boolean()
  })

  it.effect.prop(
    "chooses what the adaptive schedule chooses at the same observations",
    [FastCheck.array(observation, { minLength: 1, maxLength: 40 })],
    ([steps]) =>
      Effect.gen(function*() {
        let at = 1_000_000
        let completed = 0
        const observations: Array<Polling.Observation> = steps.map((step) => {
          at += step.gap
          completed = Math.min(5_000, completed + step.moved)
          return { at, progress: step.known ? { completed, total: 5_000 } : undefined }
        })
        const expected = yield* scheduleDelays(observations)
        for (let i = 0; i < observations.length; i++) {
          if (observations[i]!.progress === undefined) continue
          assert.strictEqual(Duration.toMillis(Polling.nextDelay(observations.slice(0, i + 1))), expected[i])
        }
      })
  )

  it("backs off without jitter while progress is unknown: initial × factor, up to max", () => {
    const unknown = (n: number) => Array.from({ length: n }, (_, i) => ({ at: i * 1000, progress: undefined }))
    const delays = [1, 2, 3, 4, 12].map((n) => Duration.toMillis(Polling.nextDelay(unknown(n))))
    assert.deepStrictEqual(delays, [2_000, 3_000, 4_500, 6_750, 60_000])
  })

  it("is the same after a replay of the same observations, and follows the floor and cap", () => {
    const observations: Array<Polling.Observation> = [
      { at: 0, progress: { completed: 0, total: 100_000 } },
      { at: 60_000, progress: { completed: 100, total: 100_000 } },
      { at: 120_000, progress: { completed: 200, total: 100_000 } }
    ]
    const first = Duration.toMillis(Polling.nextDelay(observations, { floor: "1 second", cap: "5 minutes" }))
    assert.strictEqual(first, 5 * 60_000)
    assert.strictEqual(
      Duration.toMillis(Polling.nextDelay([...observations], { floor: "1 second", cap: "5 minutes" })),
      first
    )
  })
})
