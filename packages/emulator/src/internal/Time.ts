/**
 * Emulated time: the `Clock` of the fiber that built the emulator, sped up by the time scale, plus any manual
 * advance. Reading the captured clock (rather than the reading fiber's) keeps every surface on one timeline even
 * when a request fiber runs with other services.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { EmulatorTime } from "./Context.js"

/** Builds the emulated clock; `timeScale` must be positive (1 = real speed, 3600 = an hour per second). */
export const make = (timeScale: number): Effect.Effect<EmulatorTime> =>
  Effect.gen(function*() {
    if (!(Number.isFinite(timeScale) && timeScale > 0)) {
      return yield* Effect.dieMessage(`The emulator's time scale must be a positive number, got ${timeScale}`)
    }
    const clock = yield* Effect.clock
    const startedAt = yield* clock.currentTimeMillis
    let offset = 0
    const unsafeNow = () => Math.floor(startedAt + (clock.unsafeCurrentTimeMillis() - startedAt) * timeScale + offset)
    return {
      now: Effect.sync(unsafeNow),
      unsafeNow,
      timeScale,
      startedAt,
      advance: (duration) =>
        Effect.sync(() => {
          offset += Math.max(0, Duration.toMillis(Duration.decode(duration)))
        })
    }
  })

/** Converts an emulated duration to the real duration the `Clock` has to move for it. */
export const toReal = (time: EmulatorTime, emulated: Duration.DurationInput): Duration.Duration =>
  Duration.millis(Duration.toMillis(Duration.decode(emulated)) / time.timeScale)
