/**
 * An OpenAI-compatible surface's state: files and batches, held in maps that are only touched synchronously, so concurrent
 * requests never interleave inside an update. Batches advance lazily: every read computes the phase at the emulated
 * `now` and, the first time a batch is seen terminal, writes its output and error files.
 */
import type { CompletionOutcome, EmulatorContext } from "../internal/Context.js"
import * as Lifecycle from "./Lifecycle.js"
import type { Profile } from "./Profile.js"
import type { BatchRequest } from "./Validation.js"
import { type BatchErrorItem, type BatchObject, type FileObject, type ResultLine, toSeconds } from "./Wire.js"

/** A stored file and its bytes (kept as received, chunk by chunk, never joined). */
export interface StoredFile {
  readonly id: string
  readonly filename: string
  readonly purpose: string
  readonly bytes: number
  readonly createdAt: number
  readonly chunks: ReadonlyArray<Uint8Array>
}

/** A stored batch: what was decided at create, plus the result files once it is terminal. */
export interface StoredBatch {
  readonly id: string
  readonly endpoint: string
  readonly inputFileId: string
  readonly completionWindow: string
  readonly metadata: Record<string, string> | null
  plan: Lifecycle.BatchPlan
  readonly requests: ReadonlyArray<BatchRequest>
  readonly outcomes: ReadonlyArray<CompletionOutcome>
  /** `failedBefore[i]` = failures among the first `i` requests, so counts at any instant are O(1). */
  readonly failedBefore: Int32Array
  readonly errors: ReadonlyArray<BatchErrorItem>
  results: { readonly outputFileId: string | null; readonly errorFileId: string | null } | undefined
}

/**
 * Ways a test makes the surface answer like a platform that changed: each batch object is passed through
 * `batchObject` before it is sent (a new status word, a field of another type, an item without an id).
 */
export interface Quirks {
  batchObject: ((batch: BatchObject) => unknown) | undefined
}

/** The inspectable state of an OpenAI-compatible surface. */
export interface State {
  readonly profile: Profile
  readonly files: Map<string, StoredFile>
  readonly batches: Map<string, StoredBatch>
  readonly quirks: Quirks
}

/** Creates empty state. */
export const makeState = (profile: Profile): State => ({
  profile,
  files: new Map(),
  batches: new Map(),
  quirks: { batchObject: undefined }
})

/** The JSON of a stored file. */
export const fileObject = (state: State, file: StoredFile): FileObject => ({
  id: file.id,
  object: "file",
  bytes: file.bytes,
  created_at: toSeconds(file.createdAt),
  filename: file.filename,
  purpose: file.purpose,
  status: state.profile.fileStatus,
  status_details: null
})

/** Stores a file and returns it. */
export const putFile = (
  state: State,
  ctx: EmulatorContext,
  file: Omit<StoredFile, "id" | "createdAt"> & { readonly createdAt: number }
): StoredFile => {
  const stored: StoredFile = { ...file, id: ctx.nextId(state.profile.idPrefixes.file) }
  state.files.set(stored.id, stored)
  return stored
}

/** How many files with `purpose` exist. */
export const countFiles = (state: State, purpose: string): number => {
  let count = 0
  for (const file of state.files.values()) if (file.purpose === purpose) count++
  return count
}

const encoder = new TextEncoder()

const lineOf = (line: ResultLine): Uint8Array => encoder.encode(JSON.stringify(line) + "\n")

const requestIdOf = (outcome: CompletionOutcome, batchId: string, index: number): string =>
  outcome._tag === "Success" ? outcome.body.id : `${batchId}-req-${index + 1}`

/** The per-line record of a finished request (the OpenAI format; UNCONFIRMED for Moonshot, spec A3). */
const finishedLine = (batch: StoredBatch, index: number): ResultLine => {
  const request = batch.requests[index]!
  const outcome = batch.outcomes[index]!
  const requestId = requestIdOf(outcome, batch.id, index)
  return {
    id: `batch_req_${batch.id}_${index + 1}`,
    custom_id: request.customId,
    response: outcome._tag === "Success"
      ? { status_code: 200, request_id: requestId, body: outcome.body }
      : {
        status_code: outcome.statusCode,
        request_id: requestId,
        body: { error: { type: outcome.code, message: outcome.message } }
      },
    error: null
  }
}

/** The record of a request the batch never ran (OpenAI's `batch_expired` / `batch_cancelled` convention). */
const unfinishedLine = (batch: StoredBatch, index: number, status: "expired" | "cancelled"): ResultLine => ({
  id: `batch_req_${batch.id}_${index + 1}`,
  custom_id: batch.requests[index]!.customId,
  response: null,
  error: status === "expired"
    ? { code: "batch_expired", message: "This request could not be executed before the completion window expired." }
    : { code: "batch_cancelled", message: "This request was not executed because the batch was cancelled." }
})

/** Writes the output and error files of a batch that just became terminal. */
const writeResults = (state: State, ctx: EmulatorContext, batch: StoredBatch, phase: Lifecycle.Phase) => {
  if (phase.status === "failed") {
    batch.results = { outputFileId: null, errorFileId: null }
    return
  }
  const output: Array<Uint8Array> = []
  const errors: Array<Uint8Array> = []
  for (let i = 0; i < batch.requests.length; i++) {
    if (i < phase.processed) {
      ;(batch.outcomes[i]!._tag === "Success" ? output : errors).push(lineOf(finishedLine(batch, i)))
    } else if (phase.status === "expired" || phase.status === "cancelled") {
      errors.push(lineOf(unfinishedLine(batch, i, phase.status)))
    }
  }
  const createdAt = phase.completedAt ?? phase.expiredAt ?? phase.cancelledAt ?? 0
  const store = (chunks: Array<Uint8Array>, kind: string) =>
    chunks.length === 0 ? null : putFile(state, ctx, {
      filename: `${batch.id}_${kind}.jsonl`,
      purpose: "batch_output",
      bytes: chunks.reduce((n, c) => n + c.length, 0),
      createdAt,
      chunks
    }).id
  batch.results = { outputFileId: store(output, "output"), errorFileId: store(errors, "error") }
}

/** The batch's phase at `now`, writing its result files the first time it is seen terminal. */
export const observe = (
  state: State,
  ctx: EmulatorContext,
  batch: StoredBatch,
  now: number
): Lifecycle.Phase => {
  const phase = Lifecycle.phaseAt(batch.plan, ctx.processing, now)
  if (batch.results === undefined && Lifecycle.isTerminal(phase.status)) writeResults(state, ctx, batch, phase)
  return phase
}

/** Brings every batch up to `now`, so result files appear in file listings as soon as they exist. */
export const observeAll = (state: State, ctx: EmulatorContext, now: number): void => {
  for (const batch of state.batches.values()) observe(state, ctx, batch, now)
}

const secondsOrNull = (millis: number | undefined): number | null => millis === undefined ? null : toSeconds(millis)

/** The JSON of a batch at `now`, as a test's quirks may have rewritten it. */
export const batchJson = (state: State, ctx: EmulatorContext, batch: StoredBatch, now: number): unknown => {
  const object = batchObject(state, ctx, batch, now)
  return state.quirks.batchObject === undefined ? object : state.quirks.batchObject(object)
}

/** The JSON of a batch at `now`. */
export const batchObject = (
  state: State,
  ctx: EmulatorContext,
  batch: StoredBatch,
  now: number
): BatchObject => {
  const profile = state.profile
  const phase = observe(state, ctx, batch, now)
  const validated = phase.status !== "validating" && phase.status !== "failed" &&
    !(phase.status.startsWith("cancel") && phase.inProgressAt === undefined)
  const failed = batch.failedBefore[phase.processed]!
  return {
    id: batch.id,
    object: "batch",
    endpoint: batch.endpoint,
    input_file_id: batch.inputFileId,
    completion_window: batch.completionWindow,
    status: profile.statuses[phase.status],
    ...(profile.openAiFields ? { model: batch.requests[0]?.model ?? null } : {}),
    created_at: toSeconds(batch.plan.createdAt),
    // UNCONFIRMED: like OpenAI, the total is only known once validation passed.
    request_counts: {
      total: validated ? batch.requests.length : 0,
      completed: phase.processed - failed,
      failed
    },
    output_file_id: batch.results?.outputFileId ?? null,
    error_file_id: batch.results?.errorFileId ?? null,
    in_progress_at: secondsOrNull(phase.inProgressAt),
    expires_at: toSeconds(batch.plan.expiresAt),
    finalizing_at: secondsOrNull(phase.finalizingAt),
    completed_at: secondsOrNull(phase.completedAt),
    failed_at: secondsOrNull(phase.failedAt),
    ...(profile.openAiFields ? { expired_at: secondsOrNull(phase.expiredAt) } : {}),
    cancelling_at: secondsOrNull(phase.cancellingAt),
    cancelled_at: secondsOrNull(phase.cancelledAt),
    metadata: batch.metadata,
    ...(batch.errors.length === 0 ? {} : { errors: { object: "list" as const, data: batch.errors } })
  }
}

/** Prefix sums of failures over the outcomes. */
export const failuresBefore = (outcomes: ReadonlyArray<CompletionOutcome>): Int32Array => {
  const prefix = new Int32Array(outcomes.length + 1)
  outcomes.forEach((outcome, i) => {
    prefix[i + 1] = prefix[i]! + (outcome._tag === "Failure" ? 1 : 0)
  })
  return prefix
}
