/**
 * Ark batch inference jobs as plain records plus a pure timeline: a job's phase and request counts at any instant
 * are computed from when it was (re)queued, the processing model and any stop or expiry. Nothing runs in the
 * background, so `TestClock` and `Emulator.advance` drive every transition.
 */
import * as Duration from "effect/Duration"
import type { ProcessingModel } from "../internal/Context.js"
import * as Processing from "../internal/Processing.js"

/** The six phases of Ark's official enum. */
export type Phase = "Queued" | "Running" | "Completed" | "Terminating" | "Terminated" | "Failed"

/** All phases, in the order the official enum lists them. */
export const phases: ReadonlyArray<Phase> = ["Queued", "Running", "Completed", "Terminating", "Terminated", "Failed"]

/** A bucket + object key pair as Ark's wire carries it. */
export interface TosLocation {
  readonly BucketName: string
  readonly ObjectKey: string
}

/** One parsed input line. `fails` is decided up front from the emulator's completions. */
export interface InputLine {
  readonly customId: string
  readonly body: unknown
  readonly fails: boolean
}

/** The input as read when the job was created: either lines or the reason the file is unusable. */
export type Input =
  | { readonly _tag: "Lines"; readonly lines: ReadonlyArray<InputLine>; readonly failedBefore: Int32Array }
  | { readonly _tag: "Invalid"; readonly reason: string }

/** A stored job. Mutable fields change only through the surface's synchronous handlers. */
export interface Job {
  readonly id: string
  readonly accessKeyId: string
  name: string
  description: string | undefined
  readonly projectName: string
  readonly modelReference: {
    readonly FoundationModel?: { readonly Name: string; readonly ModelVersion: string }
    readonly CustomModelId?: string
  }
  readonly modelName: string
  readonly input: TosLocation
  readonly output: TosLocation
  readonly errorFile: TosLocation
  readonly completionWindow: string
  readonly windowMillis: number
  readonly tags: ReadonlyArray<{ readonly Key: string; readonly Value: string }>
  readonly createTime: number
  updateTime: number
  expireTime: number
  source: Input
  /** When the current run was queued: the creation, or the last resume. */
  queuedAt: number
  /** Lines processed by earlier runs (before the last resume). */
  processedBefore: number
  /** When a stop was requested during the current run. */
  stoppedAt: number | undefined
  /** The terminal state whose output files were written, so they are written once per run. */
  materialized: Phase | undefined
}

/** What a job looks like at one instant. */
export interface View {
  readonly phase: Phase
  readonly phaseTime: number
  readonly message: string
  readonly total: number
  readonly processed: number
  readonly completed: number
  readonly failed: number
}

const messages: Record<Phase, string> = {
  Queued: "The batch inference job is queued",
  Running: "The batch inference job is running",
  Completed: "The batch inference job has completed",
  Terminating: "The batch inference job is terminating",
  Terminated: "The batch inference job has been terminated",
  Failed: "The batch inference job has failed"
}

/** The job's phase and counts at `now` (emulated epoch milliseconds). */
export const view = (job: Job, now: number, processing: ProcessingModel): View => {
  if (job.source._tag === "Invalid") {
    const startsAt = Processing.progress(processing, { startedAt: job.queuedAt, now, total: 0 }).runningAt
    return now < startsAt
      ? { phase: "Queued", phaseTime: job.queuedAt, message: messages.Queued, ...noCounts }
      : { phase: "Failed", phaseTime: startsAt, message: job.source.reason, ...noCounts }
  }
  const total = job.source.lines.length
  // A stop or the end of the completion window freezes processing; what ran until then is kept.
  const cutoff = Math.min(job.stoppedAt ?? Number.POSITIVE_INFINITY, job.expireTime)
  const run = Processing.progress(processing, {
    startedAt: job.queuedAt,
    now: Math.min(now, cutoff),
    total: total - job.processedBefore
  })
  const processed = job.processedBefore + run.processed
  const failed = job.source.failedBefore[processed]!
  const counts = { total, processed, completed: processed - failed, failed }
  if (run.doneAt <= cutoff && now >= run.doneAt) {
    return { phase: "Completed", phaseTime: run.doneAt, message: messages.Completed, ...counts }
  }
  if (now >= cutoff) {
    const expired = job.stoppedAt === undefined || job.expireTime < job.stoppedAt
    const reason = expired ? "the completion window elapsed" : "a stop was requested"
    const terminatedAt = cutoff + Duration.toMillis(processing.finalizingFor)
    return now < terminatedAt
      ? { phase: "Terminating", phaseTime: cutoff, message: `${messages.Terminating}: ${reason}`, ...counts }
      : { phase: "Terminated", phaseTime: terminatedAt, message: `${messages.Terminated}: ${reason}`, ...counts }
  }
  return now < run.runningAt
    ? { phase: "Queued", phaseTime: job.queuedAt, message: messages.Queued, ...counts }
    : { phase: "Running", phaseTime: run.runningAt, message: messages.Running, ...counts }
}

const noCounts = { total: 0, processed: 0, completed: 0, failed: 0 }

/** Queued and Running jobs block a duplicate submission (the idempotency rule). */
export const isActive = (phase: Phase): boolean => phase === "Queued" || phase === "Running"

/** Completed, Terminated and Failed never change again on their own. */
export const isTerminal = (phase: Phase): boolean =>
  phase === "Completed" || phase === "Terminated" || phase === "Failed"

/**
 * Parses a completion window as Ark documents it: `"<N>d"`, whole days from 1 to 28 (DOC-1339603). Other spellings
 * (`"3 days"`, hours) are refused: Ark documents none (UNCONFIRMED that it refuses them; the emulator keeps clients
 * to the documented form). Returns the days, or `undefined` when the value is not one of those.
 */
export const parseCompletionWindow = (text: string): number | undefined => {
  const match = /^([1-9]\d?)d$/.exec(text)
  if (match === null) return undefined
  const days = Number(match[1])
  return days <= 28 ? days : undefined
}

/** The documented default window. */
export const defaultCompletionWindow = "28d"

/** Counts failures before each index, so `failedBefore[n]` is the failures among the first `n` lines. */
export const prefixFailures = (lines: ReadonlyArray<InputLine>): Int32Array => {
  const failedBefore = new Int32Array(lines.length + 1)
  for (let i = 0; i < lines.length; i++) failedBefore[i + 1] = failedBefore[i]! + (lines[i]!.fails ? 1 : 0)
  return failedBefore
}

/** RFC 3339 without milliseconds, as Ark writes times (`2024-09-18T11:46:41Z`). */
export const rfc3339 = (epochMillis: number): string => new Date(epochMillis).toISOString().replace(/\.\d{3}Z$/, "Z")

/** `yyyyMMddHHmmss` in UTC, the time part of an Ark job id. */
export const idTimestamp = (epochMillis: number): string => rfc3339(epochMillis).replace(/[-:TZ]/g, "")

/** Console rule for names (DOC-1305505): 1–200 letters (any script), digits, `-` or `_`. */
export const isValidName = (name: string): boolean => /^[\p{L}\p{N}_-]{1,200}$/u.test(name)
