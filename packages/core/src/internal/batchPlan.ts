/**
 * The pure parts of the batch lifecycle: how a logical batch id names its parts, how part statuses add up, and how fast a batch is going.
 */
import type * as Arr from "effect/Array"
import * as DateTime from "effect/DateTime"
import type { Phase } from "../Batch.js"
import type { Limits } from "../Provider.js"

const terminal: ReadonlySet<Phase> = new Set<Phase>(["completed", "failed", "cancelled", "expired"])
const isTerminal = (phase: Phase) => terminal.has(phase)

const separator = "+"

/**
 * `<provider>:<job>[+<job>…]`, each job id percent-encoded so no provider id can collide with the separators.
 * Readable in a shell and stable: the id alone is enough to find every part again, in any process.
 */
export const encodeId = (provider: string, jobIds: ReadonlyArray<string>): string =>
  `${provider}:${jobIds.map(encodeURIComponent).join(separator)}`

/** The provider and job ids of a logical id, or a reason it is not one. */
export const decodeId = (
  id: string
): { readonly _tag: "Right"; readonly provider: string; readonly jobIds: ReadonlyArray<string> } | {
  readonly _tag: "Left"
  readonly reason: string
} => {
  const colon = id.indexOf(":")
  if (colon <= 0) return { _tag: "Left", reason: "expected `<provider>:<job id>[+<job id>…]`" }
  const provider = id.slice(0, colon)
  const rest = id.slice(colon + 1)
  if (rest.length === 0) return { _tag: "Left", reason: "no job id after the provider" }
  const jobIds: Array<string> = []
  for (const piece of rest.split(separator)) {
    if (piece.length === 0) return { _tag: "Left", reason: "empty job id between separators" }
    try {
      jobIds.push(decodeURIComponent(piece))
    } catch {
      return { _tag: "Left", reason: `job id "${piece}" is not valid percent-encoding` }
    }
  }
  return { _tag: "Right", provider, jobIds }
}

/** One observation of progress, for the rate. */
export interface Sample {
  readonly at: number
  readonly done: number
}

/**
 * How many recent observations the rate is taken over: enough to smooth a poll's noise, few enough to follow a
 * provider that speeds up or slows down (a queue draining, a rate limit) instead of averaging over the whole run.
 */
export const rateWindow = 10

/**
 * Requests finished per second over the recent `samples` (oldest first): from the oldest to the newest.
 * `undefined` until two observations apart in time show movement — a guess from one poll would swing wildly.
 */
export const rate = (samples: ReadonlyArray<Sample>): number | undefined => {
  const first = samples[0]
  const latest = samples[samples.length - 1]
  if (first === undefined || latest === undefined) return undefined
  const seconds = (latest.at - first.at) / 1000
  const done = latest.done - first.done
  return seconds > 0 && done > 0 ? done / seconds : undefined
}

/** Milliseconds left at `perSecond`, or `undefined` without a rate. */
export const eta = (remaining: number, perSecond: number | undefined): number | undefined =>
  perSecond === undefined ? undefined : Math.ceil((Math.max(0, remaining) / perSecond) * 1000)

/** The latest of the defined times. */
export const maxOf = (ts: ReadonlyArray<DateTime.Utc | undefined>): DateTime.Utc | undefined =>
  ts.reduce<DateTime.Utc | undefined>(
    (acc, t) => (t === undefined ? acc : acc === undefined || DateTime.greaterThan(t, acc) ? t : acc),
    undefined
  )

/** The earliest of the defined times. */
export const minOf = (ts: ReadonlyArray<DateTime.Utc | undefined>): DateTime.Utc | undefined =>
  ts.reduce<DateTime.Utc | undefined>(
    (acc, t) => (t === undefined ? acc : acc === undefined || DateTime.lessThan(t, acc) ? t : acc),
    undefined
  )

/** The phase of a logical batch from its parts' (rules in `BatchStatus`'s doc). */
export const combinePhase = (phases: Arr.NonEmptyReadonlyArray<Phase>): Phase => {
  if (phases.every(isTerminal)) {
    if (phases.every((p) => p === "completed")) return "completed"
    for (const worst of ["failed", "expired", "cancelled"] as const) {
      if (phases.includes(worst)) return worst
    }
  }
  const moving = phases.filter((p) => !isTerminal(p))
  if (moving.includes("cancelling")) return "cancelling"
  if (phases.every((p) => p === "pending")) return "pending"
  if (moving.every((p) => p === "finalizing")) return "finalizing"
  if (moving.every((p) => p === "unknown")) return "unknown"
  return "running"
}

/** `limits` lowered to `tighter` where that is lower; never raised. */
export const tightened = (limits: Limits, tighter: Partial<Limits>): Limits => {
  const min = (a: number | undefined, b: number | undefined) =>
    a === undefined ? b : b === undefined ? a : Math.min(a, b)
  const files = min(limits.maxFilesPerJob, tighter.maxFilesPerJob)
  const fileBytes = min(limits.maxBytesPerFile, tighter.maxBytesPerFile)
  return {
    maxBytesPerJob: min(limits.maxBytesPerJob, tighter.maxBytesPerJob)!,
    maxLinesPerJob: min(limits.maxLinesPerJob, tighter.maxLinesPerJob)!,
    ...(files === undefined ? {} : { maxFilesPerJob: files }),
    ...(fileBytes === undefined ? {} : { maxBytesPerFile: fileBytes })
  }
}
