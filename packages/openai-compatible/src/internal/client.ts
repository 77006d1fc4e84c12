/**
 * The raw Files and Batches calls of an OpenAI-compatible platform, on core `Transport` with Bearer auth; every
 * refusal mapped through the profile's error table. The provider (`./provider.ts`) is written on top of these.
 */
import type * as ApiError from "@barge/core/ApiError"
import * as Download from "@barge/core/Download"
import type * as Jsonl from "@barge/core/Jsonl"
import type * as Provider from "@barge/core/Provider"
import * as Signer from "@barge/core/Signer"
import * as Transport from "@barge/core/Transport"
import * as TransportError from "@barge/core/TransportError"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Errors from "../Errors.js"
import type * as OpenAiCompatible from "../OpenAiCompatible.js"
import type * as Profile from "../Profile.js"
import * as Wire from "../Wire.js"
import * as Multipart from "./multipart.js"

/** What the client is built with: the service's options that concern the wire. */
export type ClientOptions = Pick<
  OpenAiCompatible.Options,
  "apiKey" | "baseUrl" | "retry" | "timeout" | "allowInsecureHttp" | "downloadSchedule"
>

/** A file to upload: its bytes as a re-runnable stream of known length. */
export interface UploadInput<E> {
  readonly filename: string
  readonly content: Stream.Stream<Uint8Array, E>
  readonly size: number
  /** Default `batch`. */
  readonly purpose?: string | undefined
}

type Failure = Provider.Failure

/** The raw calls. */
export interface Client {
  readonly profile: Profile.Profile
  readonly baseUrl: string
  readonly upload: <E>(input: UploadInput<E>) => Effect.Effect<Wire.FileObject, Failure | E>
  /** Every file, paged where the platform pages (no filter is sent: Moonshot documents no query parameters). */
  readonly listFiles: Stream.Stream<Wire.FileObject, Failure>
  readonly retrieveFile: (fileId: string) => Effect.Effect<Wire.FileObject, Failure>
  readonly deleteFile: (fileId: string) => Effect.Effect<Wire.FileDeleted, Failure>
  readonly content: (fileId: string, offset: number) => Stream.Stream<Uint8Array, Failure>
  /** A file's lines, resumed from the last complete line when a download breaks. */
  readonly fileLines: (fileId: string) => Stream.Stream<Jsonl.Line, Provider.ResultsFailure>
  readonly createBatch: (body: Wire.CreateBatchRequest) => Effect.Effect<Wire.Batch, Failure>
  readonly retrieveBatch: (batchId: string) => Effect.Effect<Wire.Batch, Failure>
  readonly listBatches: (pageSize?: number) => Stream.Stream<Wire.Batch, Failure>
  readonly cancelBatch: (batchId: string) => Effect.Effect<Wire.Batch, Failure>
  /** A refusal made here, before any request (same shape as the platform's). */
  readonly refuse: (action: string, description: string) => ApiError.ApiError
}

/** Skips the first `count` bytes of a stream (a server that ignored `Range` sent them). */
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

const path = (kind: "files" | "batches", id: string, tail = "") => `/${kind}/${encodeURIComponent(id)}${tail}`

/** Builds the client for a profile. */
export const make = (
  profile: Profile.Profile,
  options: ClientOptions
): Effect.Effect<Client, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const baseUrl = (options.baseUrl ?? profile.baseUrl).replace(/\/+$/, "")
    const neverRetried = Errors.isNeverRetried(profile)
    const transport = yield* Transport.make({
      provider: profile.name,
      baseUrl,
      signer: Signer.bearer(options.apiKey),
      retry: options.retry === false ? false : {
        ...options.retry,
        schedule: Schedule.intersect(
          Schedule.recurWhile<TransportError.TransportError>((error) => !neverRetried(error)),
          options.retry?.schedule ?? Transport.defaultRetrySchedule()
        )
      },
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      allowInsecureHttp: options.allowInsecureHttp,
      requestIdHeader: profile.requestIdHeaders,
      isErrorEnvelope: (body) => Option.isSome(profile.errors.read(body))
    })
    const mapError = Errors.mapper(profile, baseUrl)
    const call = <A, I>(
      request: HttpClientRequest.HttpClientRequest,
      schema: Schema.Schema<A, I>,
      action: string,
      idempotent?: boolean
    ): Effect.Effect<A, Failure> =>
      transport.json(request, schema, { action, ...(idempotent === undefined ? {} : { idempotent }) }).pipe(
        Effect.mapError(mapError)
      )

    /** Every item of a paged list, following `has_more` with `after` (a platform without paging sends one page). */
    const paged = <A, I>(
      url: string,
      params: Readonly<Record<string, string>>,
      schema: Schema.Schema<A, I>,
      action: string,
      what: string
    ): Stream.Stream<A, Failure> =>
      Stream.paginateChunkEffect(undefined as string | undefined, (after) =>
        call(
          HttpClientRequest.get(url).pipe(
            HttpClientRequest.setUrlParams({ ...params, ...(after === undefined ? {} : { after }) })
          ),
          Wire.Page,
          action
        ).pipe(
          Effect.flatMap((page) => Wire.decodePage(schema, page, what)),
          Effect.map(({ items, next }) => [Chunk.fromIterable(items), next] as const)
        ))

    const upload = <E>(input: UploadInput<E>): Effect.Effect<Wire.FileObject, Failure | E> =>
      Effect.gen(function*() {
        const boundary = `barge-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`
        const body = Multipart.body({
          boundary,
          fields: { purpose: input.purpose ?? "batch" },
          fileField: "file",
          filename: input.filename,
          contentType: "application/jsonl",
          content: input.content,
          size: input.size
        })
        // Safe to send again: a repeated upload at worst leaves an unused file (cleanup removes it), never a batch.
        return yield* call(
          HttpClientRequest.post("/files").pipe(HttpClientRequest.setBody(body)),
          Wire.FileObject,
          "UploadFile",
          true
        )
      })

    const content = (fileId: string, offset: number): Stream.Stream<Uint8Array, Failure> =>
      Stream.unwrap(
        Download.openRange(
          transport,
          HttpClientRequest.get(path("files", fileId, "/content")),
          offset > 0 ? { start: offset } : undefined,
          { action: "FileContent" }
        ).pipe(
          Effect.mapError(mapError),
          Effect.map((opened) => {
            const body = Stream.mapError(opened.body, mapError)
            return opened.start < offset ? dropBytes(body, offset - opened.start) : body
          })
        )
      )

    const fileLines = (fileId: string): Stream.Stream<Jsonl.Line, Provider.ResultsFailure> =>
      Download.resumableLines(
        Download.rangeOpener(transport, HttpClientRequest.get(path("files", fileId, "/content")), {
          action: "FileContent"
        }),
        options.downloadSchedule === undefined ? undefined : { schedule: options.downloadSchedule }
      ).pipe(Stream.mapError((error) => (TransportError.isTransportError(error) ? mapError(error) : error)))

    return {
      profile,
      baseUrl,
      upload,
      listFiles: paged("/files", {}, Wire.FileObject, "ListFiles", "file"),
      retrieveFile: (fileId) => call(HttpClientRequest.get(path("files", fileId)), Wire.FileObject, "RetrieveFile"),
      deleteFile: (fileId) => call(HttpClientRequest.del(path("files", fileId)), Wire.FileDeleted, "DeleteFile"),
      content,
      fileLines,
      createBatch: (body) =>
        call(
          HttpClientRequest.post("/batches").pipe(HttpClientRequest.bodyUnsafeJson(body)),
          Wire.Batch,
          "CreateBatch",
          false
        ),
      retrieveBatch: (batchId) => call(HttpClientRequest.get(path("batches", batchId)), Wire.Batch, "RetrieveBatch"),
      listBatches: (pageSize) =>
        paged("/batches", { limit: String(pageSize ?? 100) }, Wire.Batch, "ListBatches", "batch"),
      // Cancelling twice is harmless, so a lost answer may be retried.
      cancelBatch: (batchId) =>
        call(HttpClientRequest.post(path("batches", batchId, "/cancel")), Wire.Batch, "CancelBatch", true),
      refuse: (action, description) => Errors.refusal(profile, action, description)
    }
  })
