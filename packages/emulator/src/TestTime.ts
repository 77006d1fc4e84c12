/**
 * Time in tests that talk to the emulator over real loopback HTTP while Effect's `TestClock` holds the time.
 *
 * The emulator's time follows the `TestClock` of the fiber that built it, so a test moves the emulated providers by
 * moving the clock. The clock must move only while the program under test waits on it: moved while a request is
 * in flight, it lets the emulated job run ahead by however long the machine takes, and what the program observes
 * then depends on the machine's speed. {@link run} moves it exactly then; {@link waitUntil} waits for an event in
 * real time. Neither sleeps a fixed stretch of wall-clock time and then assumes something happened.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"

/**
 * A few milliseconds of real time (the event loop turns, loopback IO progresses), whatever `Clock` is in use.
 *
 * @since 0.1.0
 * @category waiting
 */
export const realPause: Effect.Effect<void> = Effect.async<void>((resume) => {
  const timer = setTimeout(() => resume(Effect.void), 2)
  return Effect.sync(() => clearTimeout(timer))
})

/**
 * Waits until `condition` holds, however long that takes on this machine (the test's own timeout is the only
 * bound), checking again every few real milliseconds. Works under `it.live` and `it.effect` alike.
 *
 * @example
 * ```ts
 * import { Emulator, TestTime } from "@barge/emulator"
 * import { Effect } from "effect"
 *
 * const threeRequests = (emulator: Emulator.Service) =>
 *   TestTime.waitUntil(Effect.map(emulator.requests, (counts) => counts.moonshot >= 3))
 * ```
 *
 * @since 0.1.0
 * @category waiting
 */
export const waitUntil = <E, R>(condition: Effect.Effect<boolean, E, R>): Effect.Effect<void, E, R> =>
  Effect.flatMap(condition, (holds) => holds ? Effect.void : Effect.zipRight(realPause, waitUntil(condition)))

/**
 * Options for {@link run}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /**
   * The least the clock moves when the program waits; a longer move only delays the program's wake-up, so a
   * program that polls every second can be taken through a day in a few hundred polls. Default: to the wake-up.
   */
  readonly step?: Duration.DurationInput | undefined
  /**
   * A sleep due further away than this is not a wait the program is blocked on but a timeout around work in
   * progress (an HTTP call's); the clock never moves to it. Default 30 days: give calls a longer timeout.
   */
  readonly horizon?: Duration.DurationInput | undefined
}

/**
 * Runs `effect` under the `TestClock`, moving the clock only when the program waits on it — a sleep is due within
 * the horizon — and then to that sleep (or by `step`, when longer); while a call is in flight, real time passes
 * and the clock stays put. So the program sees the same sequence of states however fast the machine is.
 *
 * Sleeps that an interrupted fiber left behind (a finished call's timeout) still count as waits: give calls
 * timeouts beyond the horizon.
 *
 * @since 0.1.0
 * @category running
 */
export const run = <A, E, R>(effect: Effect.Effect<A, E, R>, options?: RunOptions): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const step = Duration.toMillis(options?.step ?? Duration.zero)
    const horizon = Duration.toMillis(options?.horizon ?? Duration.days(30))
    const fiber = yield* Effect.fork(effect)
    // A loop rather than `Effect.repeat`: each turn decides between moving the clock and waiting in real time.
    while (Option.isNone(yield* Fiber.poll(fiber))) {
      const now = yield* Clock.currentTimeMillis
      const due = Chunk.reduce(yield* TestClock.sleeps(), Infinity, (min, at) => (at > now && at < min ? at : min))
      if (due - now <= horizon) yield* TestClock.adjust(Math.max(step, due - now))
      else yield* realPause
    }
    return yield* Fiber.join(fiber)
  })
