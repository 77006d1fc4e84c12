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
 * What HEAD reports about an object.
 *
 * @since 0.1.0
 * @category models
 */
export interface ObjectInfo {
  readonly key: string
  readonly size: number
  readonly etag?: string | undefined
  readonly lastModified?: Date | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly bucket: string
  /** Stores `body` (a stream of `contentLength` bytes, or bytes) at `key`, replacing any object there. */
  readonly put: <E>(
    key: string,
    body: Stream.Stream<Uint8Array, E> | Uint8Array,
    options: { readonly contentLength: number; readonly contentType?: string | undefined }
  ) => Effect.Effect<{ readonly etag: string | undefined }, StorageError | E>
  /** The object's bytes, from `range.start` (inclusive) to `range.end` (exclusive) when given. */
  readonly get: (
    key: string,
    options?: { readonly range?: { readonly start: number; readonly end?: number | undefined } | undefined }
  ) => Stream.Stream<Uint8Array, StorageError>
  /** The object's size and ETag, or `None` when there is no such object. */
  readonly head: (key: string) => Effect.Effect<Option.Option<ObjectInfo>, StorageError>
  /** Removes the object (succeeds when it is already absent). */
  readonly delete: (key: string) => Effect.Effect<void, StorageError>
  /** Every object whose key starts with `prefix`, in key order, across all listing pages. */
  readonly list: (prefix: string) => Stream.Stream<ObjectInfo, StorageError>
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

    const put: Service["put"] = (key, body, putOptions) => {
      const contentType = putOptions.contentType ?? "application/octet-stream"
      const request = HttpClientRequest.put(keyPath(key)).pipe(
        body instanceof Uint8Array
          ? HttpClientRequest.bodyUint8Array(body, contentType)
          : HttpClientRequest.bodyStream(body, { contentType, contentLength: putOptions.contentLength })
      )
      // A streamed body can be sent once; bytes can be sent again after a transient failure.
      return transport.execute(request, { action: "PutObject", idempotent: body instanceof Uint8Array }).pipe(
        Effect.map((response) => ({ etag: response.headers.etag?.replace(/"/g, "") })),
        Effect.mapError((error) =>
          Errors.fromTosTransport("PutObject", bucket, key)(error as TransportError.TransportError)
        )
      ) as Effect.Effect<{ readonly etag: string | undefined }, StorageError>
    }

    const get: Service["get"] = (key, getOptions) => {
      const range = getOptions?.range
      const request = range === undefined
        ? HttpClientRequest.get(keyPath(key))
        : HttpClientRequest.get(keyPath(key)).pipe(
          HttpClientRequest.setHeader("range", `bytes=${range.start}-${range.end === undefined ? "" : range.end - 1}`)
        )
      return transport.stream(request, { action: "GetObject" }).pipe(
        Stream.mapError(Errors.fromTosTransport("GetObject", bucket, key))
      )
    }

    const head: Service["head"] = (key) =>
      transport.execute(HttpClientRequest.head(keyPath(key)), { action: "HeadObject" }).pipe(
        Effect.map((response) =>
          Option.some<ObjectInfo>({
            key,
            size: Number(response.headers["content-length"] ?? "0"),
            etag: response.headers.etag?.replace(/"/g, ""),
            lastModified: response.headers["last-modified"] === undefined
              ? undefined
              : new Date(response.headers["last-modified"])
          })
        ),
        Effect.mapError(Errors.fromTosTransport("HeadObject", bucket, key)),
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

    const lines: Service["lines"] = (key) =>
      Download.resumableLines(
        Download.rangeOpener(transport, HttpClientRequest.get(keyPath(key)), { action: "GetObject" })
      ).pipe(
        Stream.mapError((error) =>
          error._tag === "DownloadTruncated" || error._tag === "JsonlError"
            ? error
            : Errors.fromTosTransport("GetObject", bucket, key)(error)
        )
      )

    return Storage.of({ bucket, put, get, head, delete: remove, list, lines })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Storage, never, HttpClient.HttpClient> =>
  Layer.effect(Storage, make(options))
