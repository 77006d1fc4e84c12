/**
 * TOS object storage for one bucket, over TOS's native API signed with `TOS4-HMAC-SHA256`: put from a stream of
 * known length, get as a stream (with `Range`), head, delete, prefix listing, and JSONL reading that resumes a
 * dropped or truncated download from the last complete line.
 *
 * Addressing: virtual-host (`https://<bucket>.tos-cn-beijing.volces.com/<key>`) for real endpoints, path style
 * (`http://127.0.0.1:port/<bucket>/<key>`) for loopback and IP endpoints such as the emulator.
 *
 * @since 0.1.0
 */
import * as Download from "@barge/core/Download"
import type * as Jsonl from "@barge/core/Jsonl"
import * as ObjectStorage from "@barge/core/ObjectStorage"
import * as Signer from "@barge/core/Signer"
import * as Transport from "@barge/core/Transport"
import type * as TransportError from "@barge/core/TransportError"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Errors from "./Errors.js"
import * as Wire from "./Wire.js"

/**
 * Failures of a storage call: TOS's error (with its code) or a transport failure.
 *
 * @since 0.1.0
 * @category models
 */
export type StorageError = Errors.TosError | TransportError.TransportError

/**
 * What HEAD and listing report about an object.
 *
 * @since 0.1.0
 * @category models
 */
export type ObjectInfo = ObjectStorage.ObjectInfo

/**
 * One TOS bucket as core `ObjectStorage` (so shared upload/download code works on it), plus conveniences.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends ObjectStorage.ObjectStorage<StorageError> {
  /** Streams `body` (`contentLength` bytes) to `key`. A streamed body is sent once; see `putBytes` for retries. */
  readonly put: <E = never>(
    key: string,
    body: Stream.Stream<Uint8Array, E>,
    options: ObjectStorage.PutOptions
  ) => Effect.Effect<ObjectStorage.PutResult, StorageError | E>
  /** Stores bytes at `key`; retried after a transient failure, since bytes can be sent again. */
  readonly putBytes: (
    key: string,
    body: Uint8Array,
    options?: { readonly contentType?: string | undefined }
  ) => Effect.Effect<ObjectStorage.PutResult, StorageError>
  /** The object's bytes (or the inclusive `range` of them) as a stream. */
  readonly stream: (
    key: string,
    options?: { readonly range?: ObjectStorage.ByteRange | undefined }
  ) => Stream.Stream<Uint8Array, StorageError>
  /** The object's size and ETag, or `None` when there is no such object. */
  readonly exists: (key: string) => Effect.Effect<Option.Option<ObjectInfo>, StorageError>
  /** The object as JSONL lines, resuming with `Range` after a dropped or truncated body. */
  readonly lines: (
    key: string
  ) => Stream.Stream<Jsonl.Line, StorageError | Download.DownloadTruncated | Jsonl.JsonlError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Storage extends Context.Tag("@barge/ark/Storage")<Storage, Service>() {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The TOS endpoint, e.g. `https://tos-cn-beijing.volces.com` (a bare host gets `https://`). */
  readonly endpoint: string
  readonly region: string
  readonly bucket: string
  readonly accessKeyId: string
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string> | undefined
  readonly retry?: Transport.RetryOptions | false | undefined
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * Whether a host is addressed path-style: loopback names and IP literals have no per-bucket subdomain.
 *
 * @since 0.1.0
 * @category addressing
 */
export const isPathStyleHost = (hostname: string): boolean =>
  hostname === "localhost" || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.startsWith("[")

/**
 * The base URL of a bucket: `<origin>/<bucket>` path-style, `<scheme>://<bucket>.<host>` otherwise.
 *
 * @since 0.1.0
 * @category addressing
 */
export const bucketBaseUrl = (endpoint: string, bucket: string): string => {
  const url = new URL(/^[a-z]+:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`)
  return isPathStyleHost(url.hostname)
    ? `${url.origin}/${encodeURIComponent(bucket)}`
    : `${url.protocol}//${bucket}.${url.host}`
}

/**
 * A key as a URL path: each segment percent-encoded, `/` kept.
 *
 * @since 0.1.0
 * @category addressing
 */
export const keyPath = (key: string): string => `/${key.split("/").map(encodeURIComponent).join("/")}`

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const bucket = options.bucket
    const transport = yield* Transport.make({
      provider: "tos",
      baseUrl: bucketBaseUrl(options.endpoint, bucket),
      signer: Signer.tos({
        accessKeyId: options.accessKeyId,
        secretAccessKey: options.secretAccessKey,
        sessionToken: options.sessionToken,
        region: options.region,
        unsignedPayload: true
      }),
      retry: options.retry,
      timeout: options.timeout,
      requestIdHeader: "x-tos-request-id"
    })

    const putWith = (
      key: string,
      request: HttpClientRequest.HttpClientRequest,
      idempotent: boolean
    ): Effect.Effect<ObjectStorage.PutResult, StorageError> =>
      transport.execute(request, { action: "PutObject", idempotent }).pipe(
        Effect.map((response) => ({ key, etag: response.headers.etag?.replace(/"/g, "") })),
        Effect.mapError(Errors.fromTosTransport("PutObject", bucket, key))
      )

    const put: Service["put"] = <E>(
      key: string,
      body: Stream.Stream<Uint8Array, E>,
      putOptions: ObjectStorage.PutOptions
    ) =>
      Effect.suspend(() => {
        // The body's own failure is kept aside so it surfaces as itself, not as a transport failure.
        let bodyError: { readonly error: E } | undefined
        const guarded = Stream.tapError(body, (error) => Effect.sync(() => (bodyError = { error })))
        const request = HttpClientRequest.put(keyPath(key)).pipe(
          HttpClientRequest.bodyStream(guarded, {
            contentType: putOptions.contentType ?? "application/octet-stream",
            contentLength: putOptions.contentLength
          })
        )
        return putWith(key, request, false).pipe(
          Effect.catchAll((error): Effect.Effect<never, StorageError | E> =>
            bodyError === undefined ? Effect.fail(error) : Effect.fail(bodyError.error)
          )
        )
      })

    const putBytes: Service["putBytes"] = (key, body, putOptions) =>
      putWith(
        key,
        HttpClientRequest.put(keyPath(key)).pipe(
          HttpClientRequest.bodyUint8Array(body, putOptions?.contentType ?? "application/octet-stream")
        ),
        true
      )

    const get: Service["get"] = (key, getOptions) => {
      const range = getOptions?.range
      const request = range === undefined
        ? HttpClientRequest.get(keyPath(key))
        : HttpClientRequest.get(keyPath(key)).pipe(
          HttpClientRequest.setHeader("range", ObjectStorage.rangeHeader(range))
        )
      return transport.open(request, { action: "GetObject" }).pipe(
        Effect.map((response): ObjectStorage.GetResult<StorageError> => {
          const opened = Download.fromResponse(response, range?.start ?? 0)
          return {
            status: response.status,
            start: opened.start,
            totalSize: opened.totalSize,
            body: Stream.mapError(response.body, Errors.fromTosTransport("GetObject", bucket, key))
          }
        }),
        // Reading from exactly the end of the object (a resumed download that had everything) is an empty body.
        Effect.catchIf(
          (error) => range !== undefined && range.start > 0 && error._tag === "StatusError" && error.status === 416,
          () =>
            Effect.succeed<ObjectStorage.GetResult<StorageError>>({
              status: 206,
              start: range!.start,
              body: Stream.empty
            })
        ),
        Effect.mapError(Errors.fromTosTransport("GetObject", bucket, key))
      )
    }

    const stream: Service["stream"] = (key, streamOptions) =>
      Stream.unwrap(Effect.map(get(key, streamOptions), (result) => result.body))

    const head: Service["head"] = (key) =>
      transport.execute(HttpClientRequest.head(keyPath(key)), { action: "HeadObject" }).pipe(
        Effect.map((response): ObjectInfo => ({
          key,
          size: Number(response.headers["content-length"] ?? "0"),
          etag: response.headers.etag?.replace(/"/g, ""),
          lastModified: response.headers["last-modified"] === undefined
            ? undefined
            : new Date(response.headers["last-modified"]),
          contentType: response.headers["content-type"]
        })),
        Effect.mapError(Errors.fromTosTransport("HeadObject", bucket, key))
      )

    const exists: Service["exists"] = (key) =>
      head(key).pipe(
        Effect.map(Option.some),
        Effect.catchIf(
          (error) => error._tag === "TosError" && error.status === 404 && error.code !== "NoSuchBucket",
          () => Effect.succeed(Option.none())
        )
      )

    const remove: Service["delete"] = (key) =>
      transport.execute(HttpClientRequest.del(keyPath(key)), { action: "DeleteObject" }).pipe(
        Effect.asVoid,
        Effect.mapError(Errors.fromTosTransport("DeleteObject", bucket, key))
      )

    const list: Service["list"] = (prefix) =>
      Stream.paginateChunkEffect(undefined as string | undefined, (token) =>
        transport.json(
          HttpClientRequest.get("/").pipe(
            HttpClientRequest.setUrlParams({
              "list-type": "2",
              prefix,
              "max-keys": "1000",
              ...(token === undefined ? {} : { "continuation-token": token })
            })
          ),
          Wire.TosListObjectsResult,
          { action: "ListObjectsType2" }
        ).pipe(
          Effect.mapError(Errors.fromTosTransport("ListObjectsType2", bucket)),
          Effect.map((page) => {
            const items = (page.Contents ?? []).map((item): ObjectInfo => ({
              key: item.Key,
              size: item.Size,
              etag: item.ETag?.replace(/"/g, ""),
              lastModified: item.LastModified === undefined ? undefined : new Date(item.LastModified)
            }))
            const next = page.IsTruncated && page.NextContinuationToken !== undefined
              ? Option.some(page.NextContinuationToken)
              : Option.none()
            return [Chunk.unsafeFromArray(items), next] as const
          })
        ))

    const storage = { bucket, put, putBytes, get, stream, head, exists, delete: remove, list }
    const lines: Service["lines"] = (key) => ObjectStorage.resumableLines<StorageError>(storage, key)

    return Storage.of({ ...storage, lines })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Storage, never, HttpClient.HttpClient> =>
  Layer.effect(Storage, make(options))
