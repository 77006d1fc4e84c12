/**
 * BOS (Baidu Object Storage) for batch input and output: put from a Stream, get as a Stream (with `Range`), head,
 * delete, list by prefix, and resumable line reads. Requests go to `/v1/<bucket>/<key>` (BOS's documented
 * path-style form) and are signed with `bce-auth-v1`, the same signer as the Qianfan console.
 *
 * @example
 * ```ts
 * import { Storage } from "@barge/qianfan"
 * import { Signer } from "@barge/core"
 * import { Effect, Redacted, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const bos = yield* Storage.make({
 *     endpoint: "https://bj.bcebos.com",
 *     bucket: "my-bucket",
 *     signer: Signer.bce({ accessKeyId: "ak", secretAccessKey: Redacted.make("sk") })
 *   })
 *   const bytes = new TextEncoder().encode("{\"id\":\"1\",\"query\":\"hi\"}\n")
 *   yield* bos.put("input/a.jsonl", Stream.make(bytes), { contentLength: bytes.length })
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Download from "@barge/core/Download"
import type * as Jsonl from "@barge/core/Jsonl"
import type * as Signer from "@barge/core/Signer"
import * as Transport from "@barge/core/Transport"
import * as TransportError from "@barge/core/TransportError"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Errors from "./Errors.js"
import * as Wire from "./Wire.js"

/**
 * What `head` reports about an object.
 *
 * @since 0.1.0
 * @category models
 */
export interface ObjectInfo {
  readonly key: string
  readonly size: number
  readonly etag: string | undefined
  readonly contentType: string | undefined
  readonly lastModified: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** BOS endpoint, e.g. `https://bj.bcebos.com` (or the emulator's BOS URL). */
  readonly endpoint: string
  readonly bucket: string
  readonly signer: Signer.Service
  readonly retry?: Transport.RetryOptions | false | undefined
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * A bucket on BOS.
 *
 * @since 0.1.0
 * @category models
 */
export interface BosStorage {
  readonly bucket: string
  /** `bos:/<bucket>/<prefix>`, the form Qianfan's Create takes. */
  readonly uri: (prefix: string) => string
  /**
   * Uploads `body` (exactly `contentLength` bytes) to `key`. Safe to repeat when `body` can be run again. A
   * failure of `body` itself ends the upload as a `RequestFailed` carrying it as the cause.
   */
  readonly put: <E, R>(
    key: string,
    body: Stream.Stream<Uint8Array, E, R>,
    options: { readonly contentLength: number; readonly contentType?: string | undefined }
  ) => Effect.Effect<void, Errors.QianfanError, R>
  /** Reads an object; with `range`, bytes from `start` (inclusive) to `end` (exclusive; the end when omitted). */
  readonly get: (
    key: string,
    options?: { readonly range?: { readonly start: number; readonly end?: number | undefined } | undefined }
  ) => Stream.Stream<Uint8Array, Errors.QianfanError>
  /** The object's metadata, or `None` when it does not exist. */
  readonly head: (key: string) => Effect.Effect<Option.Option<ObjectInfo>, Errors.QianfanError>
  /** Deletes an object; deleting a missing one succeeds. */
  readonly delete: (key: string) => Effect.Effect<void, Errors.QianfanError>
  /** Every object whose key starts with `prefix`, in key order, page by page. */
  readonly list: (prefix: string) => Stream.Stream<Wire.BosObject, Errors.QianfanError>
  /**
   * Reads an object as JSONL lines, resuming with `Range` from the last complete line when the connection drops
   * or the body ends short, in constant memory.
   */
  readonly lines: (
    key: string
  ) => Stream.Stream<Jsonl.Line, Errors.QianfanError | Download.DownloadTruncated | Jsonl.JsonlError>
}

/** Each `/`-separated segment percent-encoded; slashes kept. */
const encodeKey = (key: string): string => key.split("/").map(encodeURIComponent).join("/")

/**
 * Builds a BOS client for one bucket.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<BosStorage, never, HttpClient.HttpClient> =>
  Effect.map(
    Transport.make({
      provider: "bos",
      baseUrl: options.endpoint.replace(/\/+$/, ""),
      signer: options.signer,
      retry: options.retry,
      timeout: options.timeout,
      requestIdHeader: "x-bce-request-id"
    }),
    (transport) => fromTransport(transport, options.bucket)
  )

/**
 * A BOS client over an existing transport (whose base URL is the BOS endpoint).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromTransport = (transport: Transport.Transport, bucket: string): BosStorage => {
  const objectPath = (key: string) => `/v1/${encodeURIComponent(bucket)}/${encodeKey(key)}`
  const mapError = Errors.fromTransportError

  const listPage = (prefix: string, marker: string | undefined) =>
    transport.json(
      HttpClientRequest.get(`/v1/${encodeURIComponent(bucket)}`).pipe(
        HttpClientRequest.setUrlParams({ prefix, maxKeys: "1000", ...(marker === undefined ? {} : { marker }) })
      ),
      Wire.ListObjectsResponse,
      { action: "ListObjects" }
    ).pipe(Effect.mapError(mapError))

  return {
    bucket,
    uri: (prefix) => `bos:/${bucket}/${prefix}`,
    put: <E, R>(
      key: string,
      body: Stream.Stream<Uint8Array, E, R>,
      putOptions: { readonly contentLength: number; readonly contentType?: string | undefined }
    ) =>
      Effect.gen(function*() {
        // A request body has no requirements: the caller's are provided here.
        const provided = Stream.provideContext(body, yield* Effect.context<R>())
        const request = HttpClientRequest.put(objectPath(key)).pipe(
          HttpClientRequest.bodyStream(provided, {
            contentLength: putOptions.contentLength,
            contentType: putOptions.contentType ?? "application/octet-stream"
          })
        )
        yield* transport.execute(request, { action: "PutObject" }).pipe(Effect.mapError(mapError))
      }),
    get: (key, getOptions) => {
      const range = getOptions?.range
      const request = HttpClientRequest.get(objectPath(key)).pipe(
        range === undefined
          ? (r) => r
          : HttpClientRequest.setHeader("range", `bytes=${range.start}-${range.end === undefined ? "" : range.end - 1}`)
      )
      return transport.stream(request, { action: "GetObject" }).pipe(Stream.mapError(mapError))
    },
    head: (key) =>
      transport.execute(HttpClientRequest.head(objectPath(key)), { action: "HeadObject" }).pipe(
        Effect.map((response) =>
          Option.some<ObjectInfo>({
            key,
            size: Number(response.headers["content-length"] ?? "0"),
            etag: response.headers.etag?.replace(/"/g, ""),
            contentType: response.headers["content-type"],
            lastModified: response.headers["last-modified"]
          })
        ),
        Effect.mapError(mapError),
        Effect.catchTag("NotFound", () => Effect.succeed(Option.none()))
      ),
    delete: (key) =>
      transport.execute(HttpClientRequest.del(objectPath(key)), { action: "DeleteObject" }).pipe(
        Effect.asVoid,
        Effect.mapError(mapError),
        Effect.catchTag("NotFound", () => Effect.void)
      ),
    list: (prefix) =>
      Stream.paginateChunkEffect(
        undefined as string | undefined,
        (marker) =>
          Effect.map(listPage(prefix, marker), (page) => {
            const last = page.contents[page.contents.length - 1]
            const next = page.isTruncated ? page.nextMarker ?? last?.key : undefined
            return [Chunk.fromIterable(page.contents), Option.fromNullable(next)] as const
          })
      ),
    lines: (key) =>
      Download.resumableLines(
        Download.rangeOpener(transport, HttpClientRequest.get(objectPath(key)), { action: "GetObject" })
      ).pipe(Stream.mapError((error) => TransportError.isTransportError(error) ? mapError(error) : error))
  }
}
