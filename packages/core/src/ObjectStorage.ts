/**
 * The shape every object-storage module in Barge implements (TOS for Ark, BOS for Qianfan), so upload of batch
 * input and download of results are written once against it. Generic in its error type: each provider keeps its
 * own typed failures.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Download from "./Download.js"
import type * as Jsonl from "./Jsonl.js"

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
  readonly put: (
    key: string,
    body: Stream.Stream<Uint8Array, E>,
    options: PutOptions
  ) => Effect.Effect<PutResult, E>
  /** Opens the object (or a range of it); the body streams in constant memory. */
  readonly get: (key: string, options?: { readonly range?: ByteRange | undefined }) => Effect.Effect<GetResult<E>, E>
  readonly head: (key: string) => Effect.Effect<ObjectInfo, E>
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
