/**
 * The emulated BOS (Baidu Object Storage) surface: path-style `/<bucket>/<key>` (and `/v1/<bucket>/<key>`, BOS's
 * documented form) on loopback, bce-auth-v1 on every request, BOS's JSON errors.
 *
 * `@baiducloud/sdk`'s `BosClient` switches to path style for an IP endpoint and then sends `/<bucket>/<key>`
 * without the `/v1` prefix (its `sendRequest` joins `'/'` whatever the version prefix), so both are accepted. No
 * bucket can be named `v1` (BOS names are 3–63 characters), so the prefix is unambiguous.
 *
 * Operations: PutBucket, HeadBucket, ListObjects (`prefix`, `marker`, `maxKeys`, `delimiter`), PutObject (with
 * `Content-MD5` checked), GetObject (with `Range` → 206), HeadObject, DeleteObject. The bucket `barge` exists
 * from the start; unlike BOS, a PutObject into a bucket nobody has created creates it (as the TOS emulator does),
 * so a program can name its own bucket. Reading or listing a bucket nobody has written to is `NoSuchBucket`,
 * naming the buckets that exist.
 */
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import type { EmulatorContext, ObjectStore, StoredObject, Surface } from "../internal/Context.js"
import * as Http from "../internal/Http.js"
import * as Bce from "./Bce.js"
import * as Pending from "./Pending.js"

/** The bucket that exists when the emulator starts. */
export const defaultBucket = "barge"

/** Inspectable state of this surface. */
export interface State {
  /** The store behind BOS (the same as `Emulator.state.objects.bos`). */
  readonly objects: ObjectStore
}

const bucketName = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/

const httpDate = (millis: number): string => new Date(millis).toUTCString()
const isoDate = (millis: number): string => new Date(millis).toISOString().slice(0, 19) + "Z"

const objectHeaders = (id: string, object: StoredObject): Record<string, string> => ({
  "x-bce-request-id": id,
  etag: `"${object.etag}"`,
  "last-modified": httpDate(object.lastModified),
  "accept-ranges": "bytes",
  "x-bce-storage-class": "STANDARD"
})

const noSuchBucket = (store: ObjectStore, bucket: string) =>
  Bce.error(
    404,
    "NoSuchBucket",
    `The specified bucket does not exist: ${bucket} (buckets: ${store.buckets().join(", ")}; a PutObject creates one)`
  )
const noSuchKey = (key: string) => Bce.error(404, "NoSuchKey", `The specified key does not exist: ${key}`)

const listObjects = (
  store: ObjectStore,
  id: string,
  bucket: string,
  query: Record<string, string>
): HttpServerResponse.HttpServerResponse => {
  const prefix = query.prefix ?? ""
  const marker = query.marker ?? ""
  const delimiter = query.delimiter ?? ""
  const requested = query.maxKeys === undefined ? 1000 : Number(query.maxKeys)
  if (!Number.isInteger(requested) || requested < 1) {
    return Bce.fail(
      id,
      Bce.error(400, "InvalidArgument", `maxKeys must be an integer from 1 to 1000, got ${query.maxKeys}`)
    )
  }
  const maxKeys = Math.min(requested, 1000)
  const contents: Array<unknown> = []
  const commonPrefixes: Array<string> = []
  let isTruncated = false
  let last = ""
  for (const object of store.list(bucket, prefix)) {
    if (object.key <= marker) continue
    let entry: string = object.key
    if (delimiter !== "") {
      const at = object.key.indexOf(delimiter, prefix.length)
      if (at >= 0) entry = object.key.slice(0, at + delimiter.length)
    }
    if (entry !== object.key && commonPrefixes[commonPrefixes.length - 1] === entry) continue
    if (contents.length + commonPrefixes.length === maxKeys) {
      isTruncated = true
      break
    }
    last = entry
    if (entry !== object.key) {
      commonPrefixes.push(entry)
    } else {
      contents.push({
        key: object.key,
        lastModified: isoDate(object.lastModified),
        eTag: object.etag,
        size: object.size,
        storageClass: "STANDARD",
        owner: { id: "barge-emulator", displayName: "barge-emulator" }
      })
    }
  }
  return Bce.ok(id, {
    name: bucket,
    prefix,
    ...(delimiter === "" ? {} : { delimiter }),
    marker,
    maxKeys,
    isTruncated,
    ...(isTruncated ? { nextMarker: last } : {}),
    contents,
    ...(commonPrefixes.length > 0 ? { commonPrefixes: commonPrefixes.map((p) => ({ prefix: p })) } : {})
  })
}

const putObject = (
  store: ObjectStore,
  id: string,
  bucket: string,
  key: string,
  request: Http.IncomingRequest
): HttpServerResponse.HttpServerResponse => {
  const declaredMd5 = request.headers["content-md5"]
  if (declaredMd5 !== undefined && declaredMd5 !== "") {
    const actual = createHash("md5").update(request.body).digest("base64")
    if (actual !== declaredMd5) {
      return Bce.fail(id, Bce.error(400, "BadDigest", "The Content-MD5 you specified did not match what was received."))
    }
  }
  const declaredLength = request.headers["content-length"]
  if (declaredLength !== undefined && Number(declaredLength) !== request.body.byteLength) {
    return Bce.fail(id, Bce.error(400, "IncompleteBody", "The request body is shorter than its Content-Length."))
  }
  const object = store.put(bucket, key, request.body, request.headers["content-type"] || "application/octet-stream")
  return HttpServerResponse.empty({ status: 200, headers: { "x-bce-request-id": id, etag: `"${object.etag}"` } })
}

const getObject = (
  id: string,
  object: StoredObject,
  request: Http.IncomingRequest,
  headOnly: boolean
): HttpServerResponse.HttpServerResponse => {
  const headers = objectHeaders(id, object)
  const range = headOnly ? undefined : Http.parseRange(request.headers.range || undefined, object.size)
  if (range === "unsatisfiable") {
    return Bce.fail(
      id,
      Bce.error(416, "InvalidRange", `The requested range is not satisfiable for an object of ${object.size} bytes.`)
    )
  }
  const start = range?.start ?? 0
  const end = range === undefined ? object.size : range.end + 1
  if (range !== undefined) headers["content-range"] = `bytes ${start}-${end - 1}/${object.size}`
  const status = range === undefined ? 200 : 206
  if (headOnly) {
    return HttpServerResponse.empty({
      status,
      headers: { ...headers, "content-length": String(object.size), "content-type": object.contentType }
    })
  }
  return HttpServerResponse.stream(Stream.fromIterable(object.slice(start, end)), {
    status,
    headers,
    contentType: object.contentType,
    contentLength: end - start
  })
}

const route = (
  ctx: EmulatorContext,
  request: Http.IncomingRequest,
  id: string
): HttpServerResponse.HttpServerResponse => {
  const store = ctx.objects.bos
  const rawPath = request.path.startsWith("/v1/") ? request.path.slice(3) : request.path
  const slash = rawPath.indexOf("/", 1)
  const bucket = Http.decodePath(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash))
  const key = slash < 0 ? "" : Http.decodePath(rawPath.slice(slash + 1))
  const query = Http.parseQuery(request.query)
  const method = request.method.toUpperCase()
  if (bucket === "") {
    if (method !== "GET") return Bce.fail(id, Bce.error(405, "MethodNotAllowed", `${method} / is not supported.`))
    return Bce.ok(id, {
      owner: { id: "barge-emulator", displayName: "barge-emulator" },
      buckets: store.buckets().map((name) => ({ name, location: "bj", creationDate: isoDate(ctx.time.startedAt) }))
    })
  }
  if (key === "") {
    switch (method) {
      case "PUT": {
        if (!bucketName.test(bucket)) {
          return Bce.fail(id, Bce.error(400, "InvalidBucketName", `The bucket name "${bucket}" is not valid.`))
        }
        if (store.hasBucket(bucket)) {
          return Bce.fail(id, Bce.error(409, "BucketAlreadyExists", `The bucket "${bucket}" already exists.`))
        }
        store.createBucket(bucket)
        return HttpServerResponse.empty({ status: 200, headers: { "x-bce-request-id": id, location: `/${bucket}` } })
      }
      case "HEAD":
        return store.hasBucket(bucket)
          ? HttpServerResponse.empty({ status: 200, headers: { "x-bce-request-id": id } })
          : HttpServerResponse.empty({ status: 404, headers: { "x-bce-request-id": id } })
      case "GET":
        return store.hasBucket(bucket)
          ? listObjects(store, id, bucket, query)
          : Bce.fail(id, noSuchBucket(store, bucket))
      default:
        return Bce.fail(id, Bce.error(405, "MethodNotAllowed", `${method} on a bucket is not supported here.`))
    }
  }
  if (!store.hasBucket(bucket) && method !== "PUT") {
    // A HEAD response has no body, so only the status tells the client what went wrong.
    return method === "HEAD"
      ? HttpServerResponse.empty({ status: 404, headers: { "x-bce-request-id": id } })
      : Bce.fail(id, noSuchBucket(store, bucket))
  }
  switch (method) {
    case "PUT":
      if (!bucketName.test(bucket)) {
        return Bce.fail(id, Bce.error(400, "InvalidBucketName", `The bucket name "${bucket}" is not valid.`))
      }
      return putObject(store, id, bucket, key, request)
    case "GET":
    case "HEAD": {
      const object = store.get(bucket, key)
      if (object === undefined) {
        return method === "HEAD"
          ? HttpServerResponse.empty({ status: 404, headers: { "x-bce-request-id": id } })
          : Bce.fail(id, noSuchKey(key))
      }
      return getObject(id, object, request, method === "HEAD")
    }
    case "DELETE":
      return store.delete(bucket, key)
        ? HttpServerResponse.empty({ status: 200, headers: { "x-bce-request-id": id } })
        : Bce.fail(id, noSuchKey(key))
    default:
      return Bce.fail(id, Bce.error(405, "MethodNotAllowed", `${method} on an object is not supported here.`))
  }
}

const handle = (
  ctx: EmulatorContext
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  HttpServerError.RequestError,
  HttpServerRequest.HttpServerRequest
> =>
  Effect.gen(function*() {
    const request = yield* Http.currentIncoming
    const id = Bce.requestId()
    const verified = yield* Bce.authenticate(ctx, request)
    if (Either.isLeft(verified)) {
      return request.method.toUpperCase() === "HEAD"
        ? HttpServerResponse.empty({ status: verified.left.status, headers: { "x-bce-request-id": id } })
        : Bce.fail(id, verified.left)
    }
    // Batch tasks write their output lazily: bring them up to date before anyone reads the bucket.
    Pending.settle(ctx.objects.bos)
    return route(ctx, request, id)
  })

/** Builds the surface. */
export const make = (ctx: EmulatorContext): Effect.Effect<Surface<State>> =>
  Effect.sync(() => {
    ctx.objects.bos.createBucket(defaultBucket)
    const app = handle(ctx).pipe(
      Effect.catchAll(() =>
        Effect.succeed(
          Bce.fail(Bce.requestId(), Bce.error(400, "InvalidHTTPRequest", "The request body could not be read."))
        )
      )
    )
    return { app, state: { objects: ctx.objects.bos } }
  })
