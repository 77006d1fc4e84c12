/**
 * How the CLI shows a batch: a live bar on a terminal, one plain line per change otherwise, and one-line
 * summaries. Pure functions of a {@link Batch.Progress} / {@link Batch.BatchStatus}, so they are tested without
 * a terminal.
 *
 * @since 0.1.0
 */
import type * as Batch from "@barge/core/Batch"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

/**
 * A duration as a short clock reading: `42s`, `3m05s`, `2h07m`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const shortDuration = (duration: Duration.Duration): string => {
  const seconds = Math.max(0, Math.round(Duration.toMillis(duration) / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`
}

const rateText = (progress: Batch.Progress): string =>
  Option.match(progress.ratePerSecond, {
    onNone: () => "–/s",
    onSome: (rate) => `${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)}/s`
  })

const etaText = (progress: Batch.Progress): string =>
  Option.match(progress.eta, { onNone: () => "ETA –", onSome: (eta) => `ETA ${shortDuration(eta)}` })

/**
 * The terminal bar: `[██████░░░░] 640/1000 ✓620 ✗20  35.2/s  ETA 10s  running (in_progress)`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const bar = (progress: Batch.Progress, width = 24): string => {
  const { counts, phase, providerStatus } = progress.status
  const done = counts.completed + counts.failed
  const filled = counts.total === 0 ? 0 : Math.min(width, Math.round((done / counts.total) * width))
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${done}/${counts.total} ` +
    `✓${counts.completed} ✗${counts.failed}  ${rateText(progress)}  ${etaText(progress)}  ` +
    `${phase} (${providerStatus})  ${shortDuration(progress.elapsed)}`
}

/**
 * The plain line for logs and pipes: `running completed=620 failed=20 total=1000 rate=35.2/s eta=10s elapsed=12s`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const line = (progress: Batch.Progress): string => {
  const { counts, phase, providerStatus } = progress.status
  const eta = Option.match(progress.eta, { onNone: () => "-", onSome: shortDuration })
  return `${phase} (${providerStatus}) completed=${counts.completed} failed=${counts.failed} total=${counts.total} ` +
    `rate=${rateText(progress)} eta=${eta} elapsed=${shortDuration(progress.elapsed)}`
}

/**
 * What identifies a change worth a plain line: the phase and the counts (not the clock).
 *
 * @since 0.1.0
 * @category formatting
 */
export const changeKey = (status: Batch.BatchStatus): string =>
  `${status.phase}|${status.providerStatus}|${status.counts.completed}|${status.counts.failed}|${status.counts.total}`

/**
 * A human summary of a status, several lines: id, phase, counts, times, and each part when there are several.
 *
 * @since 0.1.0
 * @category formatting
 */
export const status = (status: Batch.BatchStatus): string => {
  const time = (t: DateTime.Utc | undefined) => (t === undefined ? "-" : DateTime.formatIso(t))
  const lines = [
    `id:        ${status.id}`,
    `phase:     ${status.phase} (${status.providerStatus})`,
    `requests:  ${status.counts.total} total, ${status.counts.completed} completed, ${status.counts.failed} failed`,
    `created:   ${time(status.createdAt)}`,
    `expires:   ${time(status.expiresAt)}`
  ]
  if (status.finishedAt !== undefined) lines.push(`finished:  ${time(status.finishedAt)}`)
  if (status.parts.length > 1) {
    lines.push(`parts:     ${status.parts.length} provider jobs`)
    for (const part of status.parts) {
      lines.push(
        `  ${part.jobId}  ${part.phase} (${part.providerStatus})  ${
          part.counts.completed + part.counts.failed
        }/${part.counts.total}`
      )
    }
  }
  for (const part of status.parts) {
    if (part.message !== undefined && part.message.length > 0) lines.push(`message:   ${part.jobId}: ${part.message}`)
  }
  return lines.join("\n")
}

/**
 * One row of `barge list`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const listRow = (status: Batch.BatchStatus): string => {
  const created = status.createdAt === undefined ? "-" : DateTime.formatIso(status.createdAt)
  return `${status.id}\t${status.phase}\t${status.providerStatus}\t` +
    `${status.counts.completed + status.counts.failed}/${status.counts.total}\t${created}`
}
