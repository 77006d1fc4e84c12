import { Polling } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Exit, Fiber, Schedule, Stream, TestClock } from "effect"

interface Job {
  readonly status: "queued" | "running" | "completed"
  readonly done: number
}

/** A job whose state follows a script indexed by poll count; records when each poll happened. */
const scripted = (script: ReadonlyArray<Job>) => {
  const times: Array<number> = []
  const poll = Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.sync(() => {
      times.push(now)
      return script[Math.min(times.length - 1, script.length - 1)]!
    }))
  return { poll, times }
}

const isTerminal = (job: Job) => job.status === "completed"

describe("Polling", () => {
  it.effect("awaitTerminal returns the terminal state after backing off between polls", () =>
    Effect.gen(function*() {
      const job = scripted([
        { status: "queued", done: 0 },
        { status: "running", done: 1 },
        { status: "running", done: 2 },
        { status: "completed", done: 3 }
      ])
      const fiber = yield* Effect.fork(
        Polling.awaitTerminal(job.poll, { isTerminal, schedule: Schedule.exponential("10 seconds") })
      )
      yield* TestClock.adjust("10 minutes")
      const result = yield* Fiber.join(fiber)
      assert.deepStrictEqual(result, { status: "completed", done: 3 })
      assert.deepStrictEqual(job.times, [0, 10_000, 30_000, 70_000])
    }))

  it.effect("fails with PollingTimeout when the schedule ends first, carrying the last state", () =>
    Effect.gen(function*() {
      const job = scripted([{ status: "running", done: 1 }])
      const fiber = yield* Effect.fork(
        Polling.awaitTerminal(job.poll, {
          isTerminal,
          schedule: Schedule.spaced("1 minute").pipe(Schedule.upTo("5 minutes"))
        })
      )
      yield* TestClock.adjust("1 hour")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error.reason, "ScheduleEnded")
      assert.strictEqual(error.polls, job.times.length)
      assert.deepStrictEqual(error.lastObserved, { status: "running", done: 1 })
      assert.include(error.message, "may still be running")
    }))

  it.effect("never sleeps past the expiry, and gives up once expiry plus grace has passed", () =>
    Effect.gen(function*() {
      const job = scripted([{ status: "running", done: 1 }])
      const fiber = yield* Effect.fork(
        Polling.awaitTerminal(job.poll, {
          isTerminal,
          expiresAt: 25_000,
          expiryGrace: "1 minute",
          schedule: Schedule.spaced("20 seconds")
        })
      )
      yield* TestClock.adjust("1 hour")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error.reason, "Expired")
      // 0, 20 s, then clamped to the expiry at 25 s, then every 20 s until 25 s + 60 s has passed.
      assert.deepStrictEqual(job.times, [0, 20_000, 25_000, 45_000, 65_000, 85_000, 105_000])
    }))

  it.effect("watch emits each observed change once and ends after the terminal state", () =>
    Effect.gen(function*() {
      const job = scripted([
        { status: "queued", done: 0 },
        { status: "queued", done: 0 },
        { status: "running", done: 1 },
        { status: "running", done: 1 },
        { status: "running", done: 2 },
        { status: "completed", done: 3 },
        { status: "completed", done: 3 }
      ])
      const fiber = yield* Effect.fork(
        Polling.watch(job.poll, { isTerminal, schedule: Schedule.spaced("5 seconds") }).pipe(
          Stream.runCollect,
          Effect.map(Chunk.toReadonlyArray)
        )
      )
      yield* TestClock.adjust("1 minute")
      const seen = yield* Fiber.join(fiber)
      assert.deepStrictEqual(seen.map((j) => `${j.status}:${j.done}`), [
        "queued:0",
        "running:1",
        "running:2",
        "completed:3"
      ])
      assert.strictEqual(job.times.length, 6, "no poll after the terminal state")
    }))

  it.effect("interrupting await stops polling", () =>
    Effect.gen(function*() {
      const job = scripted([{ status: "running", done: 1 }])
      const fiber = yield* Effect.fork(
        Polling.awaitTerminal(job.poll, { isTerminal, schedule: Schedule.spaced("10 seconds") })
      )
      yield* TestClock.adjust("35 seconds")
      const pollsBefore = job.times.length
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual(job.times.length, pollsBefore)
      assert.strictEqual(pollsBefore, 4)
    }))

  it.effect("the default schedule backs off with jitter and is capped", () =>
    Effect.gen(function*() {
      const delays = yield* Schedule.run(
        Schedule.delays(Polling.defaultSchedule({ initial: "2 seconds", max: "60 seconds" })),
        0,
        Array.from({ length: 20 }, () => undefined)
      )
      const millis = Chunk.toReadonlyArray(delays).map(Duration.toMillis)
      assert.isTrue(millis[0]! >= 1600 && millis[0]! <= 2400, `first delay ${millis[0]}`)
      assert.isTrue(millis.every((d) => d <= 72_000), "capped at the max (plus jitter)")
      assert.isTrue(millis[19]! >= 48_000, "reaches the cap")
    }))
})
