/**
 * The provider contract filled once for every OpenAI-compatible platform: a profile's data plus the raw Files and
 * Batches calls of `./client.ts`. Core runs the lifecycle on it (`Provider.make`).
 */
import * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import * as CompletionWindow from "@barge/core/CompletionWindow"
import type * as Provider from "@barge/core/Provider"
import * as ResultLine from "@barge/core/ResultLine"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Profile from "../Profile.js"
import * as Wire from "../Wire.js"
import type * as Client from "./client.js"

/** The metadata key that carries a part's idempotency key (what `find` looks for). */
export const keyField = "barge_idempotency_key"

/** The metadata key that carries a part's line count (the total before the platform has validated the file). */
export const linesField = "barge_lines"

/** Metadata keys Barge writes itself. */
export const reserved: ReadonlyArray<string> = [keyField, linesField]

/** The raw create, in the platform's terms. */
export interface CreateRequest {
  readonly inputFileId: string
  /** A window as a user writes it (`"24h"`, `"3 days"`); mapped onto what the platform accepts. Default: its default. */
  readonly completionWindow?: CompletionWindow.Input | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
}

/** The batches `list` filter. */
export interface ListFilter {
  /** Batches per page (`limit`); default 100. */
  readonly pageSize?: number | undefined
}

/** Metadata the platform would refuse: Barge's own keys, too many pairs, keys or values too long. */
export const metadataIssues = (
  profile: Profile.Profile,
  metadata: Readonly<Record<string, string>> | undefined
): ReadonlyArray<string> => {
  const entries = Object.entries(metadata ?? {})
  const limits = profile.metadata
  const issues: Array<string> = []
  const taken = entries.filter(([key]) => reserved.includes(key)).map(([key]) => key)
  if (taken.length > 0) issues.push(`metadata key ${taken.join(", ")} is Barge's own; use another name`)
  const room = limits.maxPairs - reserved.length
  if (entries.length > room) {
    issues.push(
      `metadata has ${entries.length} pairs; ${profile.title} takes ${limits.maxPairs}, ` +
        `of which Barge uses ${reserved.length}: at most ${room}`
    )
  }
  for (const [key, value] of entries) {
    if (key.length > limits.maxKeyLength || value.length > limits.maxValueLength) {
      issues.push(
        `metadata "${key.slice(0, 80)}" is longer than ${profile.title} takes ` +
          `(keys ${limits.maxKeyLength}, values ${limits.maxValueLength} characters)`
      )
    }
  }
  return issues
}

/** The request as one line of a batch input file: the OpenAI batch line with the profile's endpoint. */
export const encodeLine = (profile: Profile.Profile) => (request: ChatRequest.ChatRequest): string =>
  ChatRequest.toOpenAiLine(request, profile.endpoint)

const utc = (seconds: number | null | undefined): DateTime.Utc | undefined =>
  seconds === null || seconds === undefined ? undefined : DateTime.unsafeMake(seconds * 1000)

/** The shared status of a batch under a profile. */
export const status = (profile: Profile.Profile) => (batch: Wire.Batch): Batch.JobStatus => {
  const counts = batch.request_counts
  const declared = Number(batch.metadata?.[linesField] ?? 0)
  const reasons = batch.errorItems.flatMap((e) => {
    const message = e.message ?? e.code
    return message === null || message === undefined ? [] : [e.line == null ? message : `line ${e.line}: ${message}`]
  })
  return new Batch.JobStatus({
    jobId: batch.id,
    phase: Profile.phaseOf(profile, batch.status ?? undefined),
    providerStatus: batch.status ?? "",
    counts: new Batch.Counts({
      // Before the platform has validated the file it may report no total: the count submitted is known.
      total: Math.max(counts?.total ?? 0, Number.isSafeInteger(declared) && declared > 0 ? declared : 0),
      completed: counts?.completed ?? 0,
      failed: counts?.failed ?? 0
    }),
    ...(batch.model == null ? {} : { model: batch.model }),
    ...(reasons.length === 0 ? {} : { message: reasons.slice(0, 10).join("; ") }),
    createdAt: utc(batch.created_at),
    startedAt: utc(batch.in_progress_at),
    finishedAt: utc(batch.completed_at ?? batch.failed_at ?? batch.expired_at ?? batch.cancelled_at),
    expiresAt: utc(batch.expires_at)
  })
}

/** The input file's custom ids, in order (lines that do not read are skipped: the platform refused them too). */
const CustomId = Schema.parseJson(Schema.Struct({ custom_id: Schema.String }))

/** Options of the provider beyond the client's. */
export interface ProviderOptions {
  /** Delete a batch's input file once the batch is final and its results no longer need it; default `true`. */
  readonly deleteInputFiles?: boolean | undefined
}

/** The contract over a client. */
export const make = (
  client: Client.Client,
  options: ProviderOptions
): {
  readonly provider: Provider.Provider<Wire.Batch, {}, ListFilter>
  readonly create: (request: CreateRequest) => Effect.Effect<Wire.Batch, Provider.Failure>
} => {
  const profile = client.profile
  const toStatus = status(profile)

  const create = (request: CreateRequest): Effect.Effect<Wire.Batch, Provider.Failure> =>
    Effect.suspend(() => {
      const window = CompletionWindow.resolve(profile.window, profile.name, request.completionWindow)
      if (Either.isLeft(window)) return Effect.fail(client.refuse("CreateBatch", window.left))
      return client.createBatch(
        new Wire.CreateBatchRequest({
          input_file_id: request.inputFileId,
          endpoint: profile.endpoint,
          ...(window.right === undefined ? {} : { completion_window: window.right }),
          ...(request.metadata === undefined ? {} : { metadata: { ...request.metadata } })
        })
      )
    })

  /** Whether the platform's own files still list every request of a final batch without its input file. */
  const inputStillNeeded = (phase: Batch.Phase) =>
    phase === "failed" || (!profile.reportsUnprocessed && phase !== "completed")

  const inputIds = (batch: Wire.Batch): Stream.Stream<string, Provider.ResultsFailure> => {
    const input = batch.input_file_id
    if (!inputStillNeeded(toStatus(batch).phase) || input == null) return Stream.empty
    const decode = Schema.decodeUnknownEither(CustomId)
    return client.fileLines(input).pipe(
      Stream.filterMap((line) => Either.getRight(Either.map(decode(line.text), (l) => l.custom_id))),
      Stream.catchAll((error) =>
        error._tag === "ApiError" && error.reason === "NotFound"
          ? Stream.drain(Stream.fromEffect(Effect.logWarning(
            `${profile.name}: the input file ${input} of batch ${batch.id} is gone; requests the batch never ran ` +
              `cannot be listed`
          )))
          : Stream.fail(error)
      )
    )
  }

  const provider: Provider.Provider<Wire.Batch, {}, ListFilter> = {
    name: profile.name,
    limits: profile.limits,
    window: profile.window,
    endpoint: profile.endpoint,
    fixedParameters: profile.fixedParameters,
    checkSubmission: (options) => metadataIssues(profile, options.metadata),
    encodeLine: encodeLine(profile),
    upload: (upload) =>
      // One file per job (the profile's limits leave `maxFilesPerJob` at 1): a batch takes one input file.
      Effect.map(
        client.upload({
          filename: `barge-${upload.key.slice(0, 16)}-${upload.index + 1}-of-${upload.count}.jsonl`,
          content: upload.files[0].body,
          size: upload.files[0].bytes
        }),
        (file) => file.id
      ),
    create: (part) =>
      create({
        inputFileId: part.input,
        completionWindow: part.window,
        metadata: { ...part.metadata, [keyField]: part.key, [linesField]: String(part.lines) }
      }),
    find: (key) => Stream.filter(client.listBatches(), (batch) => batch.metadata?.[keyField] === key),
    get: client.retrieveBatch,
    list: (filter) => client.listBatches(filter?.pageSize),
    cancel: client.cancelBatch,
    status: toStatus,
    results: (batch) =>
      Stream.fromIterable([batch.output_file_id, batch.error_file_id]).pipe(
        Stream.filter((id): id is string => typeof id === "string" && id.length > 0),
        Stream.flatMap(client.fileLines),
        ResultLine.decodeLines
      ),
    inputIds,
    onFinal: (batch) => {
      const input = batch.input_file_id
      if (options.deleteInputFiles === false || input == null || inputStillNeeded(toStatus(batch).phase)) {
        return Effect.void
      }
      return client.deleteFile(input).pipe(
        Effect.asVoid,
        // Deleted already (by cleanup, or another process): nothing left to do.
        Effect.catchIf((error) => error._tag === "ApiError" && error.reason === "NotFound", () => Effect.void)
      )
    }
  }
  return { provider, create }
}
