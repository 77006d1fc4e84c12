/**
 * The OpenAI-compatible batch client, written once: Files and Batches calls, `submit` (validate, upload, create,
 * idempotently), `await`/`watch` (polling bounded by `expires_at`) and `results` (output and error files,
 * streamed, resumed on a dropped download). A `Profile` supplies what differs between platforms: base URL,
 * completion windows, limits and how error types map. Moonshot is the first profile; OpenAI proves the shape.
 *
 * @since 0.1.0
 */
import * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import * as Download from "@barge/core/Download"
import * as InputValidation from "@barge/core/InputValidation"
import * as Jsonl from "@barge/core/Jsonl"
import * as Polling from "@barge/core/Polling"
import * as Signer from "@barge/core/Signer"
import * as Transport from "@barge/core/Transport"
import * as TransportError from "@barge/core/TransportError"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import * as Errors from "./Errors.js"
import * as Multipart from "./internal/multipart.js"
import type * as Profile from "./Profile.js"
import * as Wire from "./Wire.js"

// ---------------------------------------------------------------------------------------------------------------
// Inputs and errors of the client
// ---------------------------------------------------------------------------------------------------------------

/**
 * A batch input file: a path on disk (needs `FileSystem` in the context) or a re-runnable byte stream. The
 * stream is read twice by `submit` (once to validate, once to upload), never held whole.
 *
 * @since 0.1.0
 * @category inputs
 */
export type Source =
  | { readonly _tag: "Path"; readonly path: string }
  | {
    readonly _tag: "Bytes"
    readonly filename: string
    readonly bytes: Stream.Stream<Uint8Array, Errors.SourceError>
    readonly size?: number | undefined
  }

/**
 * @since 0.1.0
 * @category inputs
 */
export const fromPath = (path: string): Source => ({ _tag: "Path", path })

/**
 * @since 0.1.0
 * @category inputs
 */
export const fromStream = (
  filename: string,
  bytes: Stream.Stream<Uint8Array, Errors.SourceError>,
  size?: number
): Source => ({ _tag: "Bytes", filename, bytes, size })

/**
 * Input lines given as values, each written as one JSON line.
 *
 * @since 0.1.0
 * @category inputs
 */
export const fromLines = (filename: string, lines: Iterable<unknown>): Source => {
  const encoder = new TextEncoder()
  return fromStream(
    filename,
    Stream.suspend(() => Stream.fromIterable(lines)).pipe(
      Stream.map((line) => encoder.encode(`${JSON.stringify(line)}\n`))
    )
  )
}

/**
 * Every failure of `submit`.
 *
 * @since 0.1.0
 * @category errors
 */
export type SubmitError = Errors.MoonshotError | InputValidation.InputValidationError | Errors.SourceError

/**
 * Every failure of `await`.
 *
 * @since 0.1.0
 * @category errors
 */
export type AwaitError = Errors.MoonshotError | Errors.BatchEnded | Errors.AwaitTimedOut

// ---------------------------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------------------------

/**
 * Options of `submit`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SubmitOptions {
  /** Default: the profile's default window. */
  readonly completionWindow?: string | undefined
  /** Stored on the batch, alongside the idempotency key. */
  readonly metadata?: Readonly<Record<string, string>> | undefined
  /**
   * Identifies this submission: a retry or a restarted process with the same key attaches to the batch created
   * before instead of creating another. Default: the SHA-256 of the input file. Pass a new key to force a new batch.
   */
  readonly idempotencyKey?: string | undefined
}

/**
 * Options of `await` and `watch`.
 *
 * @since 0.1.0
 * @category models
 */
export interface PollOptions {
  /** Delays between polls; default {@link defaultPollSchedule}. Polling stops when it ends. */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** How long past `expires_at` to keep polling a batch the provider has not ended; default 10 minutes. */
  readonly expiryGrace?: Duration.DurationInput | undefined
  /**
   * Cancel the batch if this wait is interrupted. Default `false`: interrupting only stops polling and the batch
   * keeps running.
   */
  readonly cancelOnInterrupt?: boolean | undefined
}

/**
 * The metadata key that carries a submission's idempotency key.
 *
 * @since 0.1.0
 * @category idempotency
 */
export const idempotencyMetadataKey = "barge_idempotency_key"

/**
 * Core `Polling.defaultSchedule()`: adaptive while the batch reports `request_counts` (half the estimated time left,
 * 5 s to 10 min, re-measured at the floor after a stall); backing off from 2 s by half each poll to 1 minute,
 * jittered, while it reports none (validating, finalizing).
 *
 * @since 0.1.0
 * @category polling
 */
export const defaultPollSchedule: Schedule.Schedule<unknown, unknown> = Polling.defaultSchedule()

/**
 * The OpenAI-compatible batch client.
 *
 * @since 0.1.0
 * @category models
 */
export interface Client {
  readonly profile: Profile.Profile
  readonly files: {
    /** Uploads a file as a streamed multipart body (`purpose` default `batch`). */
    readonly upload: (
      source: Source,
      options?: { readonly purpose?: string | undefined }
    ) => Effect.Effect<Wire.FileObject, Errors.MoonshotError | Errors.SourceError>
    readonly list: Effect.Effect<ReadonlyArray<Wire.FileObject>, Errors.MoonshotError>
    /** One file's metadata. */
    readonly retrieve: (fileId: string) => Effect.Effect<Wire.FileObject, Errors.MoonshotError>
    /** Deletes a file. */
    readonly delete: (fileId: string) => Effect.Effect<Wire.FileDeleted, Errors.MoonshotError>
    /** The file's bytes from `offset` (a `Range` request when above 0). */
    readonly content: (
      fileId: string,
      options?: { readonly offset?: number | undefined }
    ) => Stream.Stream<Uint8Array, Errors.MoonshotError>
  }
  readonly batches: {
    /** Creates a batch over an uploaded file (not idempotent on the server: prefer `submit`). */
    readonly create: (params: {
      readonly inputFileId: string
      readonly completionWindow?: string | undefined
      readonly metadata?: Readonly<Record<string, string>> | undefined
    }) => Effect.Effect<Wire.Batch, Errors.MoonshotError>
    /** The batch as the provider reports it now. */
    readonly retrieve: (batchId: string) => Effect.Effect<Wire.Batch, Errors.MoonshotError>
    /** Every batch, page by page (`after`/`limit`). */
    readonly list: (
      options?: { readonly pageSize?: number | undefined }
    ) => Stream.Stream<Wire.Batch, Errors.MoonshotError>
    /** Asks the provider to cancel the batch (it passes through `cancelling`). */
    readonly cancel: (batchId: string) => Effect.Effect<Wire.Batch, Errors.MoonshotError>
  }
  /** Validates every line, uploads, creates — or attaches to the batch an earlier attempt created. */
  readonly submit: (source: Source, options?: SubmitOptions) => Effect.Effect<Wire.Batch, SubmitError>
  /** Polls until the batch is final: `completed` succeeds, `failed`/`expired`/`cancelled` fail typed. */
  readonly await: (batchId: string, options?: PollOptions) => Effect.Effect<Wire.Batch, AwaitError>
  /** Every observed change of status or counts, ending with the final one. */
  readonly watch: (
    batchId: string,
    options?: PollOptions
  ) => Stream.Stream<Wire.Batch, Errors.MoonshotError | Errors.AwaitTimedOut>
  /** Every result from the output file, then the error file; constant memory, resumed on a dropped download. */
  readonly results: (
    batchId: string
  ) => Stream.Stream<Batch.BatchResult, Errors.MoonshotError | Download.DownloadTruncated | Jsonl.JsonlError>
}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category constructors
 */
export interface Options {
  readonly profile: Profile.Profile
  readonly apiKey: Redacted.Redacted<string>
  /** Retry policy of idempotent calls (see core `Transport`); quota errors are never retried. */
  readonly retry?: Transport.RetryOptions | false | undefined
  /** Per-attempt time to response headers; default 60 s. */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Allow plain `http://` endpoints on hosts other than loopback (credentials and data would travel
   * unencrypted). Default `false`: such endpoints are refused with `RequestFailed` (`InsecureEndpoint`).
   */
  readonly allowInsecureHttp?: boolean | undefined
  /**
   * How many times `submit` sends a create in all when outcomes are unknown (it looks for the batch before each
   * new attempt); default 5, like the transport's retries.
   */
  readonly createAttempts?: number | undefined
  /** Delays between reopening a dropped result download (see core `Download.resumableLines`). */
  readonly downloadSchedule?: Schedule.Schedule<unknown, unknown> | undefined
}

const isAmbiguous = (error: Errors.MoonshotError): boolean =>
  error._tag === "RequestFailed" ? error.reason === "Transport" : error._tag === "RequestTimeout" ||
    error._tag === "ServerError" || (error._tag === "UnknownApiError" && error.status >= 500)

const isErrorEnvelope = (body: unknown): boolean => Option.isSome(Schema.decodeUnknownOption(Wire.ErrorEnvelope)(body))

const errorBody = Schema.decodeUnknownOption(Schema.Struct({
  error: Schema.Struct({
    type: Schema.optional(Schema.NullOr(Schema.String)),
    code: Schema.optional(Schema.NullOr(Schema.Union(Schema.String, Schema.Number))),
    message: Schema.optional(Schema.NullOr(Schema.String))
  })
}))

/**
 * One output/error line as a result: a 2xx response with a completion succeeds, anything else is a failure
 * carrying the provider's code, message and status.
 *
 * @since 0.1.0
 * @category results
 */
export const toResult = (line: Wire.ResultLine): Batch.BatchResult => {
  const customId = line.custom_id
  const response = line.response
  if (response !== undefined && response !== null) {
    if (response.status_code >= 200 && response.status_code < 300) {
      const chat = ChatRequest.decodeResponse(response.body)
      if (Either.isRight(chat)) return { _tag: "Succeeded", customId, response: chat.right }
      return {
        _tag: "Failed",
        customId,
        error: new Batch.RequestError({
          code: "invalid_response",
          message: "the response body is not a chat completion",
          statusCode: response.status_code
        })
      }
    }
    const body = Option.getOrUndefined(errorBody(response.body))?.error
    return {
      _tag: "Failed",
      customId,
      error: new Batch.RequestError({
        code: String(body?.type ?? body?.code ?? `http_${response.status_code}`),
        message: body?.message ?? `HTTP ${response.status_code}`,
        statusCode: response.status_code
      })
    }
  }
  return {
    _tag: "Failed",
    customId,
    error: new Batch.RequestError({
      code: line.error?.code ?? "unknown_error",
      message: line.error?.message ?? "the provider reported no detail"
    })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation before upload (shared with the mock)
// ---------------------------------------------------------------------------------------------------------------

/** File-level checks core `InputValidation` leaves to the provider: file name, completion window, metadata. */
const checkParameters = (
  profile: Profile.Profile,
  filename: string,
  window: string,
  metadata: Readonly<Record<string, string>>
): Array<InputValidation.Issue> => {
  const issues: Array<InputValidation.Issue> = []
  const report = (message: string) =>
    issues.push(new InputValidation.Issue({ lineNumber: 0, rule: "InvalidParameter", message }))
  if (!filename.toLowerCase().endsWith(".jsonl")) report(`the file name "${filename}" must end in .jsonl`)
  const windowProblem = profile.completionWindow.check(window)
  if (windowProblem !== undefined) report(`completion window ${windowProblem}`)
  const entries = Object.entries(metadata)
  const limits = profile.limits
  if (entries.length > limits.metadataPairs) {
    report(`metadata has ${entries.length} pairs with the idempotency key; the limit is ${limits.metadataPairs}`)
  }
  for (const [key, value] of entries) {
    if (key.length > limits.metadataKeyLength || value.length > limits.metadataValueLength) {
      report(
        `metadata "${key}" exceeds ${limits.metadataKeyLength} key / ${limits.metadataValueLength} value characters`
      )
    }
  }
  return issues
}

/**
 * Everything `submit` checks before any network call, in one streaming pass over the input with core
 * `InputValidation` (JSON; `custom_id` present, unique; `method` `POST`; `url` the endpoint; `body` an object; one
 * model; non-empty; within the profile's size and request limits), plus the file name (`.jsonl`), the completion
 * window and the metadata. Every problem is reported at once. Also returns the idempotency key (default: the
 * SHA-256 of the bytes) and the metadata that carries it.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = <E, R>(
  profile: Profile.Profile,
  filename: string,
  bytes: Stream.Stream<Uint8Array, E, R>,
  options?: SubmitOptions
): Effect.Effect<
  {
    readonly bytes: number
    readonly requests: number
    readonly key: string
    readonly window: string
    readonly metadata: Record<string, string>
  },
  E | InputValidation.InputValidationError,
  R
> =>
  Effect.gen(function*() {
    const hash = createHash("sha256")
    const hashed = Stream.mapChunks(bytes, (chunk) => {
      for (const piece of chunk) hash.update(piece)
      return chunk
    })
    const window = options?.completionWindow ?? profile.completionWindow.default
    let metadata: Record<string, string> = {}
    const summary = yield* InputValidation.validate({
      idField: "custom_id",
      requiredFields: ["method", "url", "body"],
      objectFields: ["body"],
      fieldValues: { method: "POST", url: profile.endpoint },
      modelPath: "body.model",
      maxBytes: profile.limits.maxFileBytes,
      maxLines: profile.limits.maxRequests,
      emptyLines: "skip"
    })(hashed).pipe(
      InputValidation.withIssues(() => {
        // The default key is the file's hash, known only once the scan is done.
        const key = options?.idempotencyKey ?? `sha256:${hash.digest("hex")}`
        metadata = { ...options?.metadata, [idempotencyMetadataKey]: key }
        return checkParameters(profile, filename, window, metadata)
      })
    )
    const key = metadata[idempotencyMetadataKey]!
    return { bytes: summary.bytes, requests: summary.lines, key, window, metadata }
  })

// ---------------------------------------------------------------------------------------------------------------
// Polling (shared with the mock)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Polls `retrieve` on `schedule`, emitting every change of status or counts and ending with the final status.
 * Fails with {@link Errors.AwaitTimedOut} once the batch is `expiryGrace` past `expires_at` without the provider ending it.
 *
 * @since 0.1.0
 * @category polling
 */
export const watchWith = <E>(
  provider: string,
  retrieve: (batchId: string) => Effect.Effect<Wire.Batch, E>,
  batchId: string,
  options?: PollOptions,
  /** How to cancel the batch, for `cancelOnInterrupt`. */
  cancel?: (batchId: string) => Effect.Effect<unknown, unknown>
): Stream.Stream<Wire.Batch, E | Errors.AwaitTimedOut> =>
  Polling.watch(retrieve(batchId), {
    ...(options?.cancelOnInterrupt === true && cancel !== undefined
      ? { onInterrupt: Effect.ignore(cancel(batchId)) }
      : {}),
    isTerminal: (batch) => Wire.isTerminal(batch.status),
    expiresAt: (batch) => batch.expires_at == null ? undefined : batch.expires_at * 1000,
    expiryGrace: options?.expiryGrace,
    schedule: options?.schedule ?? defaultPollSchedule,
    equivalence: (a, b) =>
      a.status === b.status && a.counts.completed === b.counts.completed && a.counts.failed === b.counts.failed &&
      a.counts.total === b.counts.total
  }).pipe(
    Stream.mapError((error): E | Errors.AwaitTimedOut =>
      error instanceof Polling.PollingTimeout
        ? new Errors.AwaitTimedOut({
          provider,
          batchId,
          ...(error.lastObserved instanceof Wire.Batch ? { batch: error.lastObserved } : {}),
          reason: error.reason === "Expired"
            ? "it is past expires_at and the provider has not ended it"
            : "the polling schedule ended"
        })
        : error as E
    )
  )

/**
 * Polls until the batch is final: `completed` succeeds; `failed`, `expired` and `cancelled` fail with the typed
 * error carrying the batch; a schedule that ends first fails with {@link Errors.AwaitTimedOut}.
 *
 * @since 0.1.0
 * @category polling
 */
export const awaitWith = <E>(
  provider: string,
  retrieve: (batchId: string) => Effect.Effect<Wire.Batch, E>,
  batchId: string,
  options?: PollOptions,
  cancel?: (batchId: string) => Effect.Effect<unknown, unknown>
): Effect.Effect<Wire.Batch, E | Errors.BatchEnded | Errors.AwaitTimedOut> =>
  watchWith(provider, retrieve, batchId, options, cancel).pipe(
    Stream.runLast,
    Effect.flatMap((last): Effect.Effect<Wire.Batch, Errors.BatchEnded | Errors.AwaitTimedOut> => {
      if (Option.isNone(last)) return Effect.dieMessage("watch ended without a single observation")
      const batch = last.value
      switch (batch.status) {
        case "completed":
          return Effect.succeed(batch)
        case "failed":
          return new Errors.BatchFailed({ provider, batch })
        case "expired":
          return new Errors.BatchExpired({ provider, batch })
        case "cancelled":
          return new Errors.BatchCancelled({ provider, batch })
        default:
          return new Errors.AwaitTimedOut({ provider, batchId, batch, reason: "the polling schedule ended" })
      }
    }),
    Effect.withSpan(`${provider}.await`, { attributes: { "barge.batch": batchId } })
  )

/** Skips the first `count` bytes of a byte stream (not the first `count` chunks). */
const dropBytes = <E>(body: Stream.Stream<Uint8Array, E>, count: number): Stream.Stream<Uint8Array, E> =>
  Stream.suspend(() => {
    let remaining = count
    return Stream.map(body, (bytes) => {
      if (remaining === 0) return bytes
      const skip = Math.min(remaining, bytes.length)
      remaining -= skip
      return bytes.subarray(skip)
    }).pipe(Stream.filter((bytes) => bytes.length > 0))
  })

/**
 * Builds a client for a profile on the ambient `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Client, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const profile = options.profile
    const provider = profile.name
    const downloadSchedule = options.downloadSchedule
    const neverRetried = Schedule.recurWhile<TransportError.TransportError>((e) => !Errors.isNeverRetried(e))
    const transport = yield* Transport.make({
      provider,
      baseUrl: profile.baseUrl,
      signer: Signer.bearer(options.apiKey),
      retry: options.retry === false ? false : {
        ...options.retry,
        schedule: Schedule.intersect(
          neverRetried,
          options.retry?.schedule ?? Transport.defaultRetrySchedule()
        )
      },
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      allowInsecureHttp: options.allowInsecureHttp,
      requestIdHeader: ["x-request-id", "msh-request-id", "request-id"],
      isErrorEnvelope: isErrorEnvelope
    })
    const mapError = (error: TransportError.TransportError) => Errors.fromTransport(error, profile.errorTypes)
    const call = <A, I>(
      request: HttpClientRequest.HttpClientRequest,
      schema: Schema.Schema<A, I>,
      action: string,
      idempotent?: boolean
    ) =>
      transport.json(request, schema, { action, ...(idempotent === undefined ? {} : { idempotent }) }).pipe(
        Effect.mapError(mapError)
      )

    // --- Files -------------------------------------------------------------------------------------------------

    const open = (source: Source) =>
      Effect.gen(function*() {
        if (source._tag === "Bytes") {
          return { filename: source.filename, bytes: source.bytes, size: source.size }
        }
        const fs = yield* Effect.serviceOption(FileSystem.FileSystem)
        if (Option.isNone(fs)) {
          return yield* new Errors.SourceError({
            source: source.path,
            description: "reading a path needs a FileSystem; provide NodeContext.layer (or pass a Stream)"
          })
        }
        const info = yield* fs.value.stat(source.path).pipe(
          Effect.mapError((cause) => new Errors.SourceError({ source: source.path, description: cause.message, cause }))
        )
        const bytes = fs.value.stream(source.path).pipe(
          Stream.mapError((cause) => new Errors.SourceError({ source: source.path, description: cause.message, cause }))
        )
        const filename = source.path.split(/[\\/]/).pop() ?? source.path
        return { filename, bytes, size: Number(info.size) as number | undefined }
      })

    const countBytes = (bytes: Stream.Stream<Uint8Array, Errors.SourceError>) =>
      Stream.runFold(bytes, 0, (n, chunk) => n + chunk.length)

    const uploadOpened = (
      opened: { filename: string; bytes: Stream.Stream<Uint8Array, Errors.SourceError>; size: number },
      purpose: string
    ) =>
      Effect.gen(function*() {
        const boundary = `barge-${(yield* Clock.currentTimeMillis).toString(36)}-${Math.random().toString(36).slice(2)}`
        const body = Multipart.body({
          boundary,
          fields: { purpose },
          fileField: "file",
          filename: opened.filename,
          contentType: "application/jsonl",
          content: opened.bytes,
          size: opened.size
        })
        // Safe to send again: a repeated upload at worst leaves an unused file, never a second batch.
        return yield* call(
          HttpClientRequest.post("/files").pipe(HttpClientRequest.setBody(body)),
          Wire.FileObject,
          "UploadFile",
          true
        )
      })

    const upload: Client["files"]["upload"] = (source, uploadOptions) =>
      Effect.gen(function*() {
        const opened = yield* open(source)
        const size = opened.size ?? (yield* countBytes(opened.bytes))
        return yield* uploadOpened({ ...opened, size }, uploadOptions?.purpose ?? "batch")
      })

    const listFiles = call(HttpClientRequest.get("/files"), Wire.FileList, "ListFiles").pipe(
      Effect.map((list) => list.data)
    )
    const retrieveFile = (fileId: string) =>
      call(HttpClientRequest.get(`/files/${encodeURIComponent(fileId)}`), Wire.FileObject, "RetrieveFile")
    const deleteFile = (fileId: string) =>
      call(HttpClientRequest.del(`/files/${encodeURIComponent(fileId)}`), Wire.FileDeleted, "DeleteFile")

    const content: Client["files"]["content"] = (fileId, contentOptions) => {
      const offset = contentOptions?.offset ?? 0
      const request = HttpClientRequest.get(`/files/${encodeURIComponent(fileId)}/content`).pipe(
        offset > 0 ? HttpClientRequest.setHeader("range", `bytes=${offset}-`) : (r) => r
      )
      return Stream.unwrap(
        transport.execute(request, { action: "FileContent" }).pipe(
          Effect.mapError(mapError),
          Effect.map((response) => {
            const body = Stream.mapError(response.stream, (cause) =>
              mapError(
                new TransportError.RequestFailed({
                  provider,
                  action: "FileContent",
                  method: "GET",
                  url: `${profile.baseUrl}/files/${fileId}/content`,
                  reason: "Transport",
                  description: cause.message,
                  attempts: 1,
                  cause
                })
              ))
            // A server that ignores `Range` sends the whole file: skip what was asked to be skipped.
            return offset > 0 && response.status === 200 ? dropBytes(body, offset) : body
          })
        )
      )
    }

    // --- Batches -----------------------------------------------------------------------------------------------

    const createBatch: Client["batches"]["create"] = (params) =>
      call(
        HttpClientRequest.post("/batches").pipe(
          HttpClientRequest.bodyUnsafeJson(
            new Wire.CreateBatchRequest({
              input_file_id: params.inputFileId,
              endpoint: profile.endpoint,
              completion_window: params.completionWindow ?? profile.completionWindow.default,
              ...(params.metadata === undefined ? {} : { metadata: { ...params.metadata } })
            })
          )
        ),
        Wire.Batch,
        "CreateBatch",
        false
      )
    const retrieveBatch = (batchId: string) =>
      call(HttpClientRequest.get(`/batches/${encodeURIComponent(batchId)}`), Wire.Batch, "RetrieveBatch")
    const cancelBatch = (batchId: string) =>
      // Cancelling twice is harmless, so a lost response may be retried.
      call(HttpClientRequest.post(`/batches/${encodeURIComponent(batchId)}/cancel`), Wire.Batch, "CancelBatch", true)
    const listBatches: Client["batches"]["list"] = (listOptions) =>
      Stream.paginateChunkEffect(undefined as string | undefined, (after) =>
        call(
          HttpClientRequest.get("/batches").pipe(
            HttpClientRequest.setUrlParams({
              limit: listOptions?.pageSize ?? 100,
              ...(after === undefined ? {} : { after })
            })
          ),
          Wire.BatchList,
          "ListBatches"
        ).pipe(
          Effect.map((page) => {
            const last = page.data.at(-1)
            const next = page.has_more === true && last !== undefined ? Option.some(last.id) : Option.none()
            return [Chunk.fromIterable(page.data), next] as const
          })
        ))

    // --- submit ------------------------------------------------------------------------------------------------

    const findByKey = (key: string) =>
      listBatches().pipe(
        Stream.filter((batch) => batch.metadata?.[idempotencyMetadataKey] === key),
        Stream.runHead
      )

    const submit: Client["submit"] = (source, submitOptions) =>
      Effect.gen(function*() {
        const opened = yield* open(source)
        const { bytes, key, metadata, window } = yield* validate(profile, opened.filename, opened.bytes, submitOptions)
        const existing = yield* findByKey(key)
        if (Option.isSome(existing)) {
          yield* Effect.annotateCurrentSpan("barge.attached", true)
          return existing.value
        }
        const file = yield* uploadOpened({ ...opened, size: bytes }, "batch")
        const attempts = Math.max(1, options.createAttempts ?? 5)
        const create = createBatch({ inputFileId: file.id, completionWindow: window, metadata }).pipe(
          Effect.catchIf(isAmbiguous, (error) =>
            // The create may have happened even though the answer was lost: look before trying again.
            findByKey(key).pipe(
              Effect.flatMap(Option.match({ onSome: Effect.succeed, onNone: () => Effect.fail(error) }))
            ))
        )
        // Spaced like the transport's retries: a failing server often fails several requests in a row.
        const spacing = options.retry === false ? Schedule.forever : Transport.defaultRetrySchedule()
        return yield* Effect.retry(create, {
          schedule: Schedule.intersect(spacing, Schedule.recurs(attempts - 1)),
          while: isAmbiguous
        })
      }).pipe(Effect.withSpan(`${provider}.submit`))

    // --- await / watch -----------------------------------------------------------------------------------------

    const watch: Client["watch"] = (batchId, pollOptions) =>
      watchWith(provider, retrieveBatch, batchId, pollOptions, cancelBatch)
    const awaitBatch: Client["await"] = (batchId, pollOptions) =>
      awaitWith(provider, retrieveBatch, batchId, pollOptions, cancelBatch)

    // --- results -----------------------------------------------------------------------------------------------

    const fileLines = (fileId: string) =>
      Download.resumableLines(
        Download.rangeOpener(
          transport,
          HttpClientRequest.get(`/files/${encodeURIComponent(fileId)}/content`),
          { action: "FileContent" }
        ),
        downloadSchedule === undefined ? undefined : { schedule: downloadSchedule }
      ).pipe(Stream.mapError((error) => TransportError.isTransportError(error) ? mapError(error) : error))

    const results: Client["results"] = (batchId) =>
      Stream.unwrap(
        Effect.map(retrieveBatch(batchId), (batch) => {
          const ids = [batch.output_file_id, batch.error_file_id].filter((id): id is string => typeof id === "string")
          return Stream.fromIterable(ids).pipe(
            Stream.flatMap((fileId) => fileLines(fileId)),
            // Chunk by chunk, no Effect per line: result files run to gigabytes. Blank lines are skipped.
            Jsonl.decodeLines(Wire.ResultLine, { fast: Wire.fastResultLine }),
            Stream.map(toResult)
          )
        })
      )

    return {
      profile,
      files: { upload, list: listFiles, retrieve: retrieveFile, delete: deleteFile, content },
      batches: { create: createBatch, retrieve: retrieveBatch, list: listBatches, cancel: cancelBatch },
      submit,
      await: awaitBatch,
      watch,
      results
    }
  })
