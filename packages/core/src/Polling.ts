/**
 * Polling a remote job until it reaches a terminal state, driven by a plain `Schedule` the caller can replace.
 *
 * Interrupting {@link awaitTerminal} or {@link watch} just stops polling: nothing here touches the remote job.
 *
 * @example
 * ```ts
 * import { Polling } from "@barge/core"
 *
 * const done = Polling.awaitTerminal(getJob(id), {
 *   isTerminal: (job) => job.status === "completed" || job.status === "failed",
 *   expiresAt: (job) => job.expiresAt
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import type * as Equivalence from "effect/Equivalence"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Utils from "effect/Utils"

/**
 * Polling stopped before the job reached a terminal state: the schedule ended (`ScheduleEnded`), or the job's
 * expiry plus the grace period passed (`Expired`). `lastObserved` is the last state seen; the remote job may still
 * be running.
 *
 * @since 0.1.0
 * @category errors
 */
export class PollingTimeout extends Schema.TaggedError<PollingTimeout>("@barge/core/Polling/PollingTimeout")(
  "PollingTimeout",
  {
    reason: Schema.Literal("ScheduleEnded", "Expired"),
    polls: Schema.Number,
    lastObserved: Schema.Unknown
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return this.reason === "Expired"
      ? `the job passed its expiry without reaching a terminal state (after ${this.polls} status checks)`
      : `stopped waiting after ${this.polls} status checks: the polling schedule ended before the job finished; ` +
        `the job may still be running — wait again or use a longer schedule`
  }
}

/**
 * An epoch-millisecond expiry, a `Date`, or a function reading it from the latest state.
 *
 * @since 0.1.0
 * @category models
 */
export type ExpiresAt<S> = number | Date | ((state: S) => number | Date | undefined)

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<S> {
  readonly isTerminal: (state: S) => boolean
  /** The job's expiry: delays never sleep past it, and polling stops `expiryGrace` after it. */
  readonly expiresAt?: ExpiresAt<S> | undefined
  /** How long after the expiry a provider may take to report the job expired; default 10 minutes. */
  readonly expiryGrace?: Duration.DurationInput | undefined
  /** Delays between status checks; its input is the state just observed. Default {@link defaultSchedule}. */
  readonly schedule?: Schedule.Schedule<unknown, S> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface WatchOptions<S> extends Options<S> {
  /** When two consecutive states count as the same (not emitted twice); default structural equality. */
  readonly equivalence?: Equivalence.Equivalence<S> | undefined
}

/**
 * Backs off exponentially from `initial` (default 2 s) by `factor` (default 1.5) up to `max` (default 60 s), each
 * delay jittered by ±20 %, forever. Combine it with `Schedule.upTo` or `Schedule.recurs` to bound it.
 *
 * @since 0.1.0
 * @category schedules
 */
export const defaultSchedule = (options?: {
  readonly initial?: Duration.DurationInput | undefined
  readonly max?: Duration.DurationInput | undefined
  readonly factor?: number | undefined
}): Schedule.Schedule<unknown, unknown> =>
  Schedule.exponential(options?.initial ?? "2 seconds", options?.factor ?? 1.5).pipe(
    Schedule.union(Schedule.spaced(options?.max ?? "60 seconds")),
    Schedule.jittered,
    Schedule.map(() => undefined)
  )

const toMillis = <S>(expiresAt: ExpiresAt<S> | undefined, state: S): number | undefined => {
  if (expiresAt === undefined) return undefined
  const value = typeof expiresAt === "function" ? expiresAt(state) : expiresAt
  return value instanceof Date ? value.getTime() : value
}

/**
 * Shortens any delay that would sleep past the job's expiry, so the status check right at the expiry happens.
 *
 * @since 0.1.0
 * @category schedules
 */
export const clampToExpiry =
  <S>(expiresAt: ExpiresAt<S>) => <Out, R>(schedule: Schedule.Schedule<Out, S, R>): Schedule.Schedule<S, S, R> =>
    Schedule.identity<S>().pipe(
      Schedule.zipLeft(schedule),
      Schedule.modifyDelayEffect((state, delay) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const expiry = toMillis(expiresAt, state)
          if (expiry === undefined || now >= expiry) return delay
          return Duration.min(delay, Duration.millis(expiry - now))
        })
      )
    )

/**
 * A stream of every observed change of state: the first observation, then each state that differs from the one
 * before, ending after the terminal state. Fails with {@link PollingTimeout} if the schedule ends or the job expires
 * first.
 *
 * @since 0.1.0
 * @category polling
 */
export const watch = <S, E, R>(
  poll: Effect.Effect<S, E, R>,
  options: WatchOptions<S>
): Stream.Stream<S, E | PollingTimeout, R> =>
  Stream.suspend(() => {
    let polls = 0
    let last: Option.Option<S> = Option.none()
    let terminal = false
    const grace = Duration.toMillis(options.expiryGrace ?? "10 minutes")
    const equivalence = options.equivalence ?? structuralEquivalence
    const policy = options.schedule ?? defaultSchedule()
    const schedule = options.expiresAt === undefined
      ? Schedule.identity<S>().pipe(Schedule.zipLeft(policy))
      : clampToExpiry(options.expiresAt)(policy)

    const observe = Effect.flatMap(poll, (state) => {
      polls++
      last = Option.some(state)
      if (options.isTerminal(state)) {
        terminal = true
        return Effect.succeed(state)
      }
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const expiry = toMillis(options.expiresAt, state)
        return expiry !== undefined && now > expiry + grace
          ? Effect.fail(new PollingTimeout({ reason: "Expired", polls, lastObserved: state }))
          : Effect.succeed(state)
      })
    })

    const ended = Stream.suspend(() =>
      terminal
        ? Stream.empty
        : Stream.fail(
          new PollingTimeout({ reason: "ScheduleEnded", polls, lastObserved: Option.getOrUndefined(last) })
        )
    )

    return Stream.repeatEffectWithSchedule(observe, schedule).pipe(
      Stream.takeUntil(options.isTerminal),
      Stream.changesWith(equivalence),
      Stream.concat(ended)
    )
  })

/**
 * Polls until the state is terminal and returns it. Fails with {@link PollingTimeout} if the schedule ends or the
 * job expires first; failures of `poll` itself end the wait (retrying a status request is the transport's job).
 *
 * @since 0.1.0
 * @category polling
 */
export const awaitTerminal = <S, E, R>(
  poll: Effect.Effect<S, E, R>,
  options: Options<S>
): Effect.Effect<S, E | PollingTimeout, R> =>
  watch(poll, { ...options, equivalence: () => false }).pipe(
    Stream.runLast,
    Effect.flatMap(Option.match({
      onSome: Effect.succeed,
      // Unreachable: `watch` ends with the terminal state or fails.
      onNone: () => Effect.dieMessage("Polling.watch ended without a terminal state")
    }))
  )

const structuralEquivalence = <S>(a: S, b: S): boolean => Utils.structuralRegion(() => Equal.equals(a, b))
