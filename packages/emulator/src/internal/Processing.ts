/**
 * Lazy job progress. A surface stores only when a job started; every read asks `progress` where the job stands
 * at the emulated `now`. No background fiber moves jobs along, so progress follows the `Clock` exactly (and
 * `TestClock`) and nothing is left running when the emulator stops.
 */
import * as Duration from "effect/Duration"
import type { ProcessingModel } from "./Context.js"

/** 2 s queued, 50 ms per request, 1 s finalizing — all in emulated time. */
export const defaults: ProcessingModel = {
  queuedFor: Duration.seconds(2),
  perRequest: Duration.millis(50),
  finalizingFor: Duration.seconds(1)
}

/** Overrides merged over the defaults. */
export const make = (overrides?: Partial<Record<keyof ProcessingModel, Duration.DurationInput>>): ProcessingModel => ({
  queuedFor: Duration.decode(overrides?.queuedFor ?? defaults.queuedFor),
  perRequest: Duration.decode(overrides?.perRequest ?? defaults.perRequest),
  finalizingFor: Duration.decode(overrides?.finalizingFor ?? defaults.finalizingFor)
})

/** Where a job stands. */
export type Phase = "queued" | "running" | "finalizing" | "done"

/** A job's position at one instant, with the instants (epoch ms, emulated) of each transition. */
export interface Progress {
  readonly phase: Phase
  /** Requests processed by `now` (`total` once the job is finalizing or done). */
  readonly processed: number
  readonly total: number
  /** When the job leaves the queue. */
  readonly runningAt: number
  /** When the last request is processed. */
  readonly finalizingAt: number
  /** When the job is done. */
  readonly doneAt: number
}

/**
 * Where a job that started at `startedAt` stands at `now`. Pure; the same inputs always give the same answer.
 * `total` is the number of requests (0 runs straight through to finalizing).
 */
export const progress = (
  model: ProcessingModel,
  options: { readonly startedAt: number; readonly now: number; readonly total: number }
): Progress => {
  const total = Math.max(0, Math.floor(options.total))
  const perRequest = Duration.toMillis(model.perRequest)
  const runningAt = options.startedAt + Duration.toMillis(model.queuedFor)
  const finalizingAt = runningAt + perRequest * total
  const doneAt = finalizingAt + Duration.toMillis(model.finalizingFor)
  const base = { total, runningAt, finalizingAt, doneAt }
  const now = options.now
  if (now < runningAt) return { ...base, phase: "queued", processed: 0 }
  if (now < finalizingAt) {
    // perRequest > 0 here, otherwise finalizingAt === runningAt and this branch is unreachable.
    return { ...base, phase: "running", processed: Math.min(total, Math.floor((now - runningAt) / perRequest)) }
  }
  if (now < doneAt) return { ...base, phase: "finalizing", processed: total }
  return { ...base, phase: "done", processed: total }
}

/** The emulated instant at which request number `index` (0-based) finishes processing. */
export const processedAt = (model: ProcessingModel, startedAt: number, index: number): number =>
  startedAt + Duration.toMillis(model.queuedFor) + Duration.toMillis(model.perRequest) * (index + 1)
