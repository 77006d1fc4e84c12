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
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import * as Intervals from "effect/ScheduleIntervals"
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
  /** Whether the job is finished (polling stops after this state). */
  readonly isTerminal: (state: S) => boolean
  /** The job's expiry: delays never sleep past it, and polling stops `expiryGrace` after it. */
  readonly expiresAt?: ExpiresAt<S> | undefined
  /** How long after the expiry a provider may take to report the job expired; default 10 minutes. */
  readonly expiryGrace?: Duration.DurationInput | undefined
  /** Delays between status checks; its input is the state just observed. Default {@link defaultSchedule}. */
  readonly schedule?: Schedule.Schedule<unknown, S> | undefined
  /**
   * Reads the job's progress from a state, for the default (adaptive) schedule; default {@link progressFromCounts}.
   * Ignored when `schedule` is given.
   */
  readonly progress?: ((state: S) => Progress | undefined) | undefined
  /**
   * Runs when the polling is interrupted (not when it ends by itself or its consumer stops early), e.g. to cancel
   * the remote job — an explicit choice: by default interrupting just stops polling and the job keeps running.
   */
  readonly onInterrupt?: Effect.Effect<void> | undefined
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
 * delay jittered by ±20 %, forever. What {@link defaultSchedule} does while a job reports no progress.
 *
 * @since 0.1.0
 * @category schedules
 */
export const backoff = (options?: {
  readonly initial?: Duration.DurationInput | undefined
  readonly max?: Duration.DurationInput | undefined
  readonly factor?: number | undefined
}): Schedule.Schedule<unknown, unknown> =>
  Schedule.exponential(options?.initial ?? "2 seconds", options?.factor ?? 1.5).pipe(
    Schedule.union(Schedule.spaced(options?.max ?? "60 seconds")),
    Schedule.jittered,
    Schedule.map(() => undefined)
  )

/**
 * How far a job has got: `completed` counts every finished request (succeeded or failed) out of `total`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Progress {
  readonly completed: number
  readonly total: number
}

/**
 * Reads the `counts: { completed, failed?, total }` every Barge job and status carries (Ark jobs, Moonshot
 * batches, `Batch.BatchStatus`); `undefined` for anything else or while the total is unknown (zero).
 *
 * @since 0.1.0
 * @category progress
 */
export const progressFromCounts = (state: unknown): Progress | undefined => {
  const counts = typeof state === "object" && state !== null ? (state as { counts?: unknown }).counts : undefined
  if (typeof counts !== "object" || counts === null) return undefined
  const { completed, failed, total } = counts as { completed?: unknown; failed?: unknown; total?: unknown }
  if (typeof total !== "number" || typeof completed !== "number" || !(total > 0)) return undefined
  return { completed: completed + (typeof failed === "number" ? failed : 0), total }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface AdaptiveOptions<S> {
  /** Reads the progress from the state just observed; `undefined` = not known (the `fallback` decides). */
  readonly progress: (state: S) => Progress | undefined
  /** Never poll sooner than this (default 5 s). */
  readonly floor?: Duration.DurationInput | undefined
  /** Never wait longer than this (default 10 minutes). */
  readonly cap?: Duration.DurationInput | undefined
  /** The share of the remaining time (or of the time already spent stalled) to wait (default 0.5). */
  readonly fraction?: number | undefined
  /** The schedule while no progress is known (default {@link backoff}); its end ends this schedule. */
  readonly fallback?: Schedule.Schedule<unknown, unknown> | undefined
}

interface Sample {
  readonly at: number
  readonly completed: number
}

interface Rule {
  readonly floor: number
  readonly cap: number
  readonly fraction: number
}

const ruleOf = (options: {
  readonly floor?: Duration.DurationInput | undefined
  readonly cap?: Duration.DurationInput | undefined
  readonly fraction?: number | undefined
}): Rule => {
  const floor = Duration.toMillis(options.floor ?? "5 seconds")
  return {
    floor,
    cap: Math.max(floor, Duration.toMillis(options.cap ?? "10 minutes")),
    fraction: options.fraction ?? 0.5
  }
}

/** Where the adaptive rule stands between two observations that showed progress. */
interface Track {
  readonly previous: Sample | undefined
  /** When the job was first seen making no measurable progress (queued, stalled, or finalizing). */
  readonly stalledSince: number | undefined
}

const untracked: Track = { previous: undefined, stalledSince: undefined }

/** The adaptive rule for one observation with known progress: where it stands next and the delay it chooses. */
const adaptiveStep = (rule: Rule, track: Track, now: number, progress: Progress): readonly [Track, number] => {
  const clamp = (millis: number) => Math.round(Math.min(rule.cap, Math.max(rule.floor, millis)))
  const previous = track.previous
  const remaining = progress.total - progress.completed
  const moved = previous !== undefined && now > previous.at && progress.completed > previous.completed
  // After a stall (or a queue) the work restarted somewhere inside the last interval, so its rate is understated
  // (a job queued for minutes that ran for seconds would look ten times slower): measure once more, at the floor.
  const perMilli = moved && track.stalledSince === undefined
    ? (progress.completed - previous.completed) / (now - previous.at)
    : undefined
  const sample: Sample = { at: now, completed: progress.completed }
  if (remaining > 0 && perMilli !== undefined) {
    return [{ previous: sample, stalledSince: undefined }, clamp(rule.fraction * (remaining / perMilli))]
  }
  if (remaining > 0 && moved) return [{ previous: sample, stalledSince: undefined }, rule.floor]
  const stalledSince = track.stalledSince ?? now
  return [{ previous: sample, stalledSince }, clamp(rule.fraction * (now - stalledSince))]
}

interface AdaptiveState {
  readonly fallback: unknown
  readonly track: Track
}

/**
 * Polls by the job's own estimate of when it finishes. The rate between the last two observations gives an ETA
 * (once the job has moved in two intervals running: the first interval after a stall understates it); each delay
 * is `fraction` of it, so polls are rare while the end is far and close in on it geometrically. When no
 * ETA exists (nothing moved since the last poll, or every request is counted but the job is still finalizing), it
 * waits `fraction` of the time already spent that way — a back-off that restarts at the floor whenever the job
 * changes course. Every delay lies between `floor` and `cap`; `watch`/`awaitTerminal` also clamp it to the expiry.
 * The output is the delay chosen.
 *
 * No jitter: delays follow each job's own progress, so polls for many jobs do not line up.
 *
 * @example
 * ```ts
 * import { Polling } from "@barge/core"
 *
 * const schedule = Polling.adaptive({
 *   progress: (job: { done: number; of: number }) => ({ completed: job.done, total: job.of }),
 *   floor: "10 seconds",
 *   cap: "5 minutes"
 * })
 * ```
 *
 * @since 0.1.0
 * @category schedules
 */
export const adaptive = <S>(options: AdaptiveOptions<S>): Schedule.Schedule<Duration.Duration, S> => {
  const rule = ruleOf(options)
  const fallback = options.fallback ?? backoff()
  const initial: AdaptiveState = { fallback: fallback.initial, track: untracked }
  return Schedule.makeWithState(initial, (now, input: S, state: AdaptiveState) => {
    const progress = options.progress(input)
    if (progress === undefined) {
      return Effect.map(fallback.step(now, input, state.fallback), ([fallbackState, _, decision]) => {
        const delay = ScheduleDecision.isDone(decision)
          ? Duration.zero
          : Duration.millis(Math.max(0, Intervals.start(decision.intervals) - now))
        return [{ ...state, fallback: fallbackState }, delay, decision] as const
      })
    }
    const [track, delay] = adaptiveStep(rule, state.track, now, progress)
    return Effect.succeed(
      [
        { fallback: state.fallback, track },
        Duration.millis(delay),
        ScheduleDecision.continueWith(ScheduleInterval.after(now + delay))
      ] as const
    )
  })
}

/**
 * The parameters of the default schedule: {@link adaptive}'s `floor`, `cap` and `fraction`, and {@link backoff}'s
 * `initial`, `max` and `factor` for while no progress is known.
 *
 * @since 0.1.0
 * @category models
 */
export interface DefaultOptions {
  readonly floor?: Duration.DurationInput | undefined
  readonly cap?: Duration.DurationInput | undefined
  readonly fraction?: number | undefined
  readonly initial?: Duration.DurationInput | undefined
  readonly max?: Duration.DurationInput | undefined
  readonly factor?: number | undefined
}

/**
 * One status check as a durable poller keeps it: when it happened (epoch milliseconds) and the progress it showed,
 * `undefined` when none was known (or the check failed).
 *
 * @since 0.1.0
 * @category models
 */
export interface Observation {
  readonly at: number
  readonly progress: Progress | undefined
}

/**
 * The delay {@link defaultSchedule} chooses after the last of `observations` (oldest first), computed from the
 * observations alone: for a poller that stores its observations and sleeps on a durable clock, where a replay of
 * its history must choose the same delays. While progress is unknown it backs off like {@link backoff} without the
 * jitter (`initial` × `factor`ⁿ, at most `max`, n counting the observations without progress before this one).
 *
 * @example
 * ```ts
 * import { Polling } from "@barge/core"
 *
 * const delay = Polling.nextDelay([
 *   { at: 0, progress: { completed: 0, total: 1000 } },
 *   { at: 60_000, progress: { completed: 100, total: 1000 } }
 * ])
 * ```
 *
 * @since 0.1.0
 * @category schedules
 */
export const nextDelay = (
  observations: ReadonlyArray<Observation>,
  options?: DefaultOptions
): Duration.Duration => {
  const rule = ruleOf(options ?? {})
  const initial = Duration.toMillis(options?.initial ?? "2 seconds")
  const max = Duration.toMillis(options?.max ?? "60 seconds")
  const factor = options?.factor ?? 1.5
  let track = untracked
  let unknown = 0
  let delay = initial
  for (const observation of observations) {
    if (observation.progress === undefined) {
      delay = Math.round(Math.min(max, initial * Math.pow(factor, unknown)))
      unknown += 1
    } else {
      ;[track, delay] = adaptiveStep(rule, track, observation.at, observation.progress)
    }
  }
  return Duration.millis(delay)
}

/**
 * The schedule `await`/`watch` use unless given one: {@link adaptive} while the job reports progress (read by
 * `progress`, default {@link progressFromCounts}), {@link backoff} (`initial`, `factor`, `max`) while it does not.
 * Forever: combine it with `Schedule.upTo` or `Schedule.recurs` to bound it.
 *
 * @since 0.1.0
 * @category schedules
 */
export const defaultSchedule = <S = unknown>(
  options?: DefaultOptions & { readonly progress?: ((state: S) => Progress | undefined) | undefined }
): Schedule.Schedule<unknown, S> =>
  adaptive<S>({
    // Any state may carry the conventional `counts`; the default reader checks.
    progress: options?.progress ?? progressFromCounts,
    floor: options?.floor,
    cap: options?.cap,
    fraction: options?.fraction,
    fallback: backoff(options)
  })

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
 * The schedule `watch` and `awaitTerminal` run for `options`: the given one, or the default fed by
 * `options.progress`, clamped to the expiry. Exposed so a simulation can step exactly what users get.
 *
 * @since 0.1.0
 * @category schedules
 */
export const scheduleFor = <S>(options: Options<S>): Schedule.Schedule<S, S> => {
  const policy = options.schedule ?? defaultSchedule<S>({ progress: options.progress })
  return options.expiresAt === undefined
    ? Schedule.identity<S>().pipe(Schedule.zipLeft(policy))
    : clampToExpiry(options.expiresAt)(policy)
}

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
    const schedule = scheduleFor(options)

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

    const polled = Stream.repeatEffectWithSchedule(observe, schedule).pipe(
      Stream.takeUntil(options.isTerminal),
      Stream.changesWith(equivalence),
      Stream.concat(ended)
    )
    const onInterrupt = options.onInterrupt
    return onInterrupt === undefined ? polled : Stream.unwrapScoped(Effect.as(
      Effect.addFinalizer((exit) => Exit.isInterrupted(exit) ? onInterrupt : Effect.void),
      polled
    ))
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
