/**
 * Where an OpenAI-compatible batch stands at a given emulated instant, in OpenAI's status words (a profile renames
 * them on the wire). Pure: progress is computed from the clock on every
 * request (no background fibers), so `TestClock` and `Emulator.advance` drive it.
 *
 * Timeline: `validating` for `queuedFor`; then `failed` if validation found problems, else `in_progress` at
 * `perRequest` per line; `finalizing` for `finalizingFor`; `completed`. Past `expires_at` an unfinished batch is
 * `expired` with what it finished. A cancel makes it `cancelling` for `finalizingFor` (UNCONFIRMED: the platforms do
 * not say how long), then `cancelled`, keeping the requests finished before the cancel.
 */
import * as Duration from "effect/Duration"
import type { ProcessingModel } from "../internal/Context.js"
import * as Processing from "../internal/Processing.js"

/** The statuses of a batch (OpenAI's words). */
export type Status =
  | "validating"
  | "failed"
  | "in_progress"
  | "finalizing"
  | "completed"
  | "expired"
  | "cancelling"
  | "cancelled"

/** The fixed facts of a batch, decided when it is created. */
export interface BatchPlan {
  readonly createdAt: number
  readonly expiresAt: number
  readonly total: number
  readonly invalid: boolean
  readonly cancelRequestedAt: number | undefined
}

/** A batch's state at one instant. Times are epoch milliseconds. */
export interface Phase {
  readonly status: Status
  /** Requests processed so far (successes and failures). */
  readonly processed: number
  readonly inProgressAt: number | undefined
  readonly finalizingAt: number | undefined
  readonly completedAt: number | undefined
  readonly failedAt: number | undefined
  readonly expiredAt: number | undefined
  readonly cancellingAt: number | undefined
  readonly cancelledAt: number | undefined
}

const none: Omit<Phase, "status" | "processed"> = {
  inProgressAt: undefined,
  finalizingAt: undefined,
  completedAt: undefined,
  failedAt: undefined,
  expiredAt: undefined,
  cancellingAt: undefined,
  cancelledAt: undefined
}

/** The terminal statuses. */
export const isTerminal = (status: Status): boolean =>
  status === "completed" || status === "failed" || status === "expired" || status === "cancelled"

/** Statuses a cancel is accepted in (spec A2). */
export const isCancellable = (status: Status): boolean =>
  status === "validating" || status === "in_progress" || status === "finalizing"

/** The batch's phase at `now`, ignoring any cancel. */
const uncancelled = (plan: BatchPlan, model: ProcessingModel, now: number): Phase => {
  const at = (t: number) => Processing.progress(model, { startedAt: plan.createdAt, now: t, total: plan.total })
  const current = at(now)
  const { doneAt, finalizingAt, runningAt } = current
  if (plan.invalid) {
    return current.phase === "queued"
      ? { ...none, status: "validating", processed: 0 }
      : { ...none, status: "failed", processed: 0, failedAt: runningAt }
  }
  if (plan.expiresAt < doneAt && now >= plan.expiresAt) {
    return {
      ...none,
      status: "expired",
      processed: at(plan.expiresAt).processed,
      inProgressAt: plan.expiresAt >= runningAt ? runningAt : undefined,
      finalizingAt: plan.expiresAt >= finalizingAt ? finalizingAt : undefined,
      expiredAt: plan.expiresAt
    }
  }
  switch (current.phase) {
    case "queued":
      return { ...none, status: "validating", processed: 0 }
    case "running":
      return { ...none, status: "in_progress", processed: current.processed, inProgressAt: runningAt }
    case "finalizing":
      return { ...none, status: "finalizing", processed: current.total, inProgressAt: runningAt, finalizingAt }
    case "done":
      return {
        ...none,
        status: "completed",
        processed: current.total,
        inProgressAt: runningAt,
        finalizingAt,
        completedAt: doneAt
      }
  }
}

/** The batch's phase at `now`. */
export const phaseAt = (plan: BatchPlan, model: ProcessingModel, now: number): Phase => {
  const cancelAt = plan.cancelRequestedAt
  if (cancelAt === undefined || now < cancelAt) return uncancelled(plan, model, now)
  const before = uncancelled(plan, model, cancelAt)
  const cancelledAt = cancelAt + Duration.toMillis(model.finalizingFor)
  return {
    ...before,
    status: now < cancelledAt ? "cancelling" : "cancelled",
    cancellingAt: cancelAt,
    cancelledAt: now < cancelledAt ? undefined : cancelledAt
  }
}
