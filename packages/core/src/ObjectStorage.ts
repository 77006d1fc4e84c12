/**
 * The shape every object-storage module in Barge implements (TOS for Ark, BOS for Qianfan), so upload of batch
 * input and download of results are written once against it. Generic in its error type: each provider keeps its
 * own typed failures.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Download from "./Download.js"
import type * as Jsonl from "./Jsonl.js"
import type * as Transport from "./Transport.js"
import type * as TransportError from "./TransportError.js"

/**
 * What `head` and `list` report about one object.
 *
 * @since 0.1.0
 * @category models
 */
export interface ObjectInfo {
  readonly key: string
  readonly size: number
  readonly etag?: string | undefined
  readonly lastModified?: Date | undefined
  readonly contentType?: string | undefined
}

/**
 * An inclusive byte range; `end` omitted means "to the end of the object" (`Range: bytes=start-`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ByteRange {
  readonly start: number
  readonly end?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PutOptions {
  /** Required: bodies are streamed, never buffered whole, so the length must be known up front. */
  readonly contentLength: number
  readonly contentType?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PutResult {
  readonly key: string
  readonly etag?: string | undefined
}

/**
 * A byte body with what the server said about it, for resumable reads (see `Download.fromResponse`).
 *
 * @since 0.1.0
 * @category models
 */
export interface GetResult<E> {
  /** `200` for the whole object, `206` for a range. */
  readonly status: number
  /** Where `body` starts in the object. */
  readonly start: number
  /** The whole object's size, when the server said. */
  readonly totalSize?: number | undefined
  readonly body: Stream.Stream<Uint8Array, E>
}

/**
 * One bucket, addressed by key. `E` is the provider's error union.
 *
 * @since 0.1.0
 * @category models
 */
export interface ObjectStorage<E> {
  /** The bucket this storage writes to, for building provider locations (`tos://bucket/key`). */
  readonly bucket: string
  /** Writes `body` to `key` (`options.contentLength` bytes). */
  readonly put: (
    key: string,
    body: Stream.Stream<Uint8Array, E>,
    options: PutOptions
  ) => Effect.Effect<PutResult, E>
  /** Opens the object (or a range of it); the body streams in constant memory. */
  readonly get: (key: string, options?: { readonly range?: ByteRange | undefined }) => Effect.Effect<GetResult<E>, E>
  /** The object's size, ETag and type, without its body. */
  readonly head: (key: string) => Effect.Effect<ObjectInfo, E>
  /** Removes the object. */
  readonly delete: (key: string) => Effect.Effect<void, E>
  /** Every object under `prefix`, following the provider's pagination. */
  readonly list: (prefix: string) => Stream.Stream<ObjectInfo, E>
}

/**
 * Formats a `Range` header value.
 *
 * @since 0.1.0
 * @category utils
 */
export const rangeHeader = (range: ByteRange): string =>
  range.end === undefined ? `bytes=${range.start}-` : `bytes=${range.start}-${range.end}`

/**
 * The whole object as a byte stream.
 *
 * @since 0.1.0
 * @category utils
 */
export const stream = <E>(storage: ObjectStorage<E>, key: string): Stream.Stream<Uint8Array, E> =>
  Stream.unwrap(Effect.map(storage.get(key), (result) => result.body))

/**
 * Reads an object as JSONL lines that survive dropped connections (see `Download.resumableLines`). A `get` at an
 * offset equal to the object's size should answer an empty body (map the server's 416 to that).
 *
 * @since 0.1.0
 * @category utils
 */
export const resumableLines = <E, R2 = never>(
  storage: ObjectStorage<E>,
  key: string,
  options?: Download.Options<E, R2>
): Stream.Stream<Jsonl.Line, E | Download.DownloadTruncated | Jsonl.JsonlError, R2> =>
  Download.resumableLines(
    (offset) =>
      Effect.map(
        storage.get(key, offset === 0 ? undefined : { range: { start: offset } }),
        (result): Download.Opened<E> => ({ body: result.body, start: result.start, totalSize: result.totalSize })
      ),
    options
  )

/**
 * What a bucket API over HTTP adds to {@link ObjectStorage}: an upload of bytes that may be retried, a body
 * stream, and JSONL reading that resumes.
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpObjectStorage<E> extends ObjectStorage<E> {
  /** Streams `body` (`contentLength` bytes) to `key`. A streamed body is sent once; see `putBytes` for retries. */
  readonly put: <E2 = never>(
    key: string,
    body: Stream.Stream<Uint8Array, E2>,
    options: PutOptions
  ) => Effect.Effect<PutResult, E | E2>
  /** Stores bytes at `key`; retried after a transient failure, since bytes can be sent again. */
  readonly putBytes: (
    key: string,
    body: Uint8Array,
    options?: { readonly contentType?: string | undefined }
  ) => Effect.Effect<PutResult, E>
  /** The object's bytes (or the inclusive `range` of them) as a stream. */
  readonly stream: (key: string, options?: { readonly range?: ByteRange | undefined }) => Stream.Stream<Uint8Array, E>
  /** The object as JSONL lines, resuming with `Range` after a dropped or truncated body. */
  readonly lines: (key: string) => Stream.Stream<Jsonl.Line, E | Download.DownloadTruncated | Jsonl.JsonlError>
}

/**
 * One page of a listing and the token of the next (`undefined` at the end).
 *
 * @since 0.1.0
 * @category models
 */
export interface ListPage {
  readonly objects: ReadonlyArray<ObjectInfo>
  readonly next: string | undefined
}

/**
 * The provider-specific parts of a bucket API over a `Transport` (signing lives in the transport).
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpOptions<E> {
  readonly bucket: string
  /** Whose base URL addresses the service (or the bucket, for virtual-host addressing). */
  readonly transport: Transport.Transport
  /** The request path of an object, relative to the transport's base URL. */
  readonly objectPath: (key: string) => string
  /** The provider's failure for a transport failure of `action` (on `key`, when there is one). */
  readonly mapError: (action: string, key?: string) => (error: TransportError.TransportError) => E
  /** One page of the objects under `prefix`, after `token` (`undefined` for the first page). */
  readonly listPage: (prefix: string, token: string | undefined) => Effect.Effect<ListPage, E>
}

/**
 * What object headers say about it (`HEAD`, or a `GET`).
 *
 * @since 0.1.0
 * @category utils
 */
export const infoFromHeaders = (key: string, headers: Headers.Headers): ObjectInfo => ({
  key,
  size: Number(headers["content-length"] ?? "0"),
  etag: unquoteEtag(headers.etag),
  lastModified: headers["last-modified"] === undefined ? undefined : new Date(headers["last-modified"]),
  contentType: headers["content-type"]
})

/**
 * An ETag without its quotes (servers quote it; listings and comparisons use the bare value).
 *
 * @since 0.1.0
 * @category utils
 */
export const unquoteEtag = (etag: string | undefined): string | undefined => etag?.replace(/"/g, "")

/**
 * Every object of a paginated listing as one stream, a page fetched only when the previous one is consumed.
 *
 * @since 0.1.0
 * @category utils
 */
export const paginate = <E>(
  listPage: (token: string | undefined) => Effect.Effect<ListPage, E>
): Stream.Stream<ObjectInfo, E> =>
  Stream.paginateChunkEffect(
    undefined as string | undefined,
    (token) =>
      Effect.map(listPage(token), (page) => [Chunk.fromIterable(page.objects), Option.fromNullable(page.next)] as const)
  )

/**
 * The object operations every bucket API over HTTP shares (TOS, BOS, S3-style): streamed put of known length,
 * ranged get (a `416` at a resumed end reads as empty), head, delete, paginated listing and resumable lines. The
 * provider supplies addressing, listing and its error mapping.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromTransport = <E>(options: HttpOptions<E>): HttpObjectStorage<E> => {
  const { bucket, mapError, objectPath, transport } = options

  const putWith = (key: string, request: HttpClientRequest.HttpClientRequest, idempotent: boolean) =>
    transport.execute(request, { action: "PutObject", idempotent }).pipe(
      Effect.map((response): PutResult => ({ key, etag: unquoteEtag(response.headers.etag) })),
      Effect.mapError(mapError("PutObject", key))
    )

  const put = <E2>(key: string, body: Stream.Stream<Uint8Array, E2>, putOptions: PutOptions) =>
    Effect.suspend(() => {
      // The body's own failure is kept aside so it surfaces as itself, not as a transport failure.
      let bodyError: { readonly error: E2 } | undefined
      const guarded = Stream.tapError(body, (error) => Effect.sync(() => (bodyError = { error })))
      const request = HttpClientRequest.put(objectPath(key)).pipe(
        HttpClientRequest.bodyStream(guarded, {
          contentType: putOptions.contentType ?? "application/octet-stream",
          contentLength: putOptions.contentLength
        })
      )
      return putWith(key, request, false).pipe(
        Effect.catchAll((error): Effect.Effect<never, E | E2> =>
          bodyError === undefined ? Effect.fail(error) : Effect.fail(bodyError.error)
        )
      )
    })

  const putBytes: HttpObjectStorage<E>["putBytes"] = (key, body, putOptions) =>
    putWith(
      key,
      HttpClientRequest.put(objectPath(key)).pipe(
        HttpClientRequest.bodyUint8Array(body, putOptions?.contentType ?? "application/octet-stream")
      ),
      true
    )

  const get: HttpObjectStorage<E>["get"] = (key, getOptions) =>
    Download.openRange(transport, HttpClientRequest.get(objectPath(key)), getOptions?.range, { action: "GetObject" })
      .pipe(
        Effect.map((opened): GetResult<E> => ({
          ...opened,
          body: Stream.mapError(opened.body, mapError("GetObject", key))
        })),
        Effect.mapError(mapError("GetObject", key))
      )

  const head: HttpObjectStorage<E>["head"] = (key) =>
    transport.execute(HttpClientRequest.head(objectPath(key)), { action: "HeadObject" }).pipe(
      Effect.map((response) => infoFromHeaders(key, response.headers)),
      Effect.mapError(mapError("HeadObject", key))
    )

  const storage: ObjectStorage<E> = {
    bucket,
    put,
    get,
    head,
    delete: (key) =>
      transport.execute(HttpClientRequest.del(objectPath(key)), { action: "DeleteObject" }).pipe(
        Effect.asVoid,
        Effect.mapError(mapError("DeleteObject", key))
      ),
    list: (prefix) => paginate((token) => options.listPage(prefix, token))
  }
  return {
    ...storage,
    put,
    putBytes,
    stream: (key, streamOptions) => Stream.unwrap(Effect.map(get(key, streamOptions), (result) => result.body)),
    lines: (key) => resumableLines(storage, key)
  }
}
