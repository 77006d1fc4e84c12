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
import * as ApiError from "@barge/core/ApiError"
import * as ObjectStorage from "@barge/core/ObjectStorage"
import * as Signer from "@barge/core/Signer"
import * as Transport from "@barge/core/Transport"
import type * as TransportError from "@barge/core/TransportError"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Errors from "./Errors.js"
import * as Wire from "./Wire.js"

/**
 * Failures of a storage call: TOS refused (`ApiError` with provider `tos` and TOS's code) or no usable answer came.
 *
 * @since 0.1.0
 * @category models
 */
export type StorageError = ApiError.ApiError | TransportError.TransportFailure

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
export interface Service extends ObjectStorage.HttpObjectStorage<StorageError> {
  /** The object's size and ETag, or `None` when there is no such object. */
  readonly exists: (key: string) => Effect.Effect<Option.Option<ObjectInfo>, StorageError>
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
  /**
   * Allow plain `http://` endpoints on hosts other than loopback (credentials and data would travel
   * unencrypted). Default `false`: such endpoints are refused with `RequestFailed` (`InsecureEndpoint`).
   */
  readonly allowInsecureHttp?: boolean | undefined
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
      allowInsecureHttp: options.allowInsecureHttp,
      requestIdHeader: "x-tos-request-id"
    })

    const storage = ObjectStorage.fromTransport<StorageError>({
      bucket,
      transport,
      objectPath: keyPath,
      mapError: (_action, key) => mapError(bucket, key),
      listPage: (prefix, token) =>
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
          Effect.mapError(mapError(bucket)),
          Effect.map((page) => ({
            objects: (page.Contents ?? []).map((item): ObjectInfo => ({
              key: item.Key,
              size: item.Size,
              etag: ObjectStorage.unquoteEtag(item.ETag),
              lastModified: item.LastModified === undefined ? undefined : new Date(item.LastModified)
            })),
            next: page.IsTruncated ? page.NextContinuationToken : undefined
          }))
        )
    })

    const exists: Service["exists"] = (key) =>
      storage.head(key).pipe(
        Effect.map(Option.some),
        Effect.catchIf(isAbsent, () => Effect.succeed(Option.none()))
      )

    return Storage.of({ ...storage, exists })
  })

/**
 * TOS's refusal through its table. A `HEAD` answers without a body, so the object is named in the description.
 *
 * @since 0.1.0
 * @category errors
 */
export const mapError = (bucket: string, key?: string) => {
  const fromTransport = ApiError.fromTransport(Errors.tosTable)
  const target = key === undefined ? `tos://${bucket}` : `tos://${bucket}/${key}`
  return (error: TransportError.TransportError): StorageError => {
    const mapped = fromTransport(error)
    return mapped._tag === "ApiError" && !mapped.description.includes(target)
      ? new ApiError.ApiError({ ...mapped, description: `${target}: ${mapped.description}` })
      : mapped
  }
}

/**
 * Whether a failure says the object is not there (a missing bucket is not that: it is a setup error).
 *
 * @since 0.1.0
 * @category errors
 */
export const isAbsent = (error: StorageError): boolean =>
  error._tag === "ApiError" && error.reason === "NotFound" && error.code !== "NoSuchBucket"

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Storage, never, HttpClient.HttpClient> =>
  Layer.effect(Storage, make(options))
