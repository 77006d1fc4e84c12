/**
 * BOS (Baidu Object Storage) for batch input and output, as core `ObjectStorage`: put from a stream of known length,
 * get as a stream (with `Range`), head, delete, prefix listing, and JSONL reading that resumes a dropped or truncated
 * download from the last complete line. Requests go to `/v1/<bucket>/<key>` (BOS's documented
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
import * as ApiError from "@barge/core/ApiError"
import * as ObjectStorage from "@barge/core/ObjectStorage"
import type * as Provider from "@barge/core/Provider"
import type * as Signer from "@barge/core/Signer"
import * as Transport from "@barge/core/Transport"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Errors from "./Errors.js"
import * as Wire from "./Wire.js"

/**
 * Failures of a storage call: BOS's refusal (an `ApiError`, its code kept) or a call without an answer.
 *
 * @since 0.1.0
 * @category models
 */
export type StorageError = Provider.Failure

/**
 * What HEAD and listing report about an object.
 *
 * @since 0.1.0
 * @category models
 */
export type ObjectInfo = ObjectStorage.ObjectInfo

/**
 * One BOS bucket as core `ObjectStorage` (so shared upload/download code works on it), plus conveniences.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends ObjectStorage.HttpObjectStorage<StorageError> {
  /** `bos:/<bucket>/<prefix>`, the form Qianfan's Create takes. */
  readonly uri: (prefix: string) => string
  /** The object's size and ETag, or `None` when there is no such object. */
  readonly exists: (key: string) => Effect.Effect<Option.Option<ObjectInfo>, StorageError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Storage extends Context.Tag("@barge/qianfan/Storage")<Storage, Service>() {}

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
 * A key as a URL path under its bucket: `/v1/<bucket>/<key>`, each segment percent-encoded, `/` kept.
 *
 * @since 0.1.0
 * @category addressing
 */
export const objectPath = (bucket: string, key: string): string =>
  `/v1/${encodeURIComponent(bucket)}/${key.split("/").map(encodeURIComponent).join("/")}`

/**
 * Builds a BOS client for one bucket.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
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
export const fromTransport = (transport: Transport.Transport, bucket: string): Service => {
  const storage = ObjectStorage.fromTransport<StorageError>({
    bucket,
    transport,
    objectPath: (key) => objectPath(bucket, key),
    mapError: () => Errors.fromTransport,
    listPage: (prefix, marker) =>
      transport.json(
        HttpClientRequest.get(`/v1/${encodeURIComponent(bucket)}`).pipe(
          HttpClientRequest.setUrlParams({ prefix, maxKeys: "1000", ...(marker === undefined ? {} : { marker }) })
        ),
        Wire.ListObjectsResponse,
        { action: "ListObjects" }
      ).pipe(
        Effect.mapError(Errors.fromTransport),
        Effect.map((page) => ({
          objects: page.contents.map((item): ObjectInfo => ({
            key: item.key,
            size: item.size,
            etag: ObjectStorage.unquoteEtag(item.eTag),
            lastModified: item.lastModified === undefined ? undefined : new Date(item.lastModified)
          })),
          // BOS may leave `nextMarker` out of a truncated page; the last key is then the marker.
          next: page.isTruncated ? page.nextMarker ?? page.contents[page.contents.length - 1]?.key : undefined
        }))
      )
  })
  return {
    ...storage,
    uri: (prefix) => `bos:/${bucket}/${prefix}`,
    // Deleting a missing object succeeds, so a cleanup can be repeated.
    delete: (key) => storage.delete(key).pipe(Effect.catchIf(ApiError.is("NotFound"), () => Effect.void)),
    exists: (key) =>
      storage.head(key).pipe(
        Effect.map(Option.some),
        Effect.catchIf(
          (error) => ApiError.is("NotFound")(error) && error.code !== "NoSuchBucket",
          () => Effect.succeed(Option.none())
        )
      )
  }
}

/**
 * A `bos:/bucket/prefix` location (Qianfan's form, one slash; `bos://` is read too), the prefix ending in `/`.
 *
 * @since 0.1.0
 * @category addressing
 */
export const parseUri = (uri: string): { readonly bucket: string; readonly prefix: string } | undefined => {
  const match = /^bos:\/+([^/]+)\/?(.*)$/.exec(uri)
  if (match === null) return undefined
  const prefix = match[2]!
  return { bucket: match[1]!, prefix: prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/` }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Storage, never, HttpClient.HttpClient> =>
  Layer.effect(Storage, make(options))
