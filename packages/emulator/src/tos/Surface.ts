/**
 * The emulated TOS surface, path-style on loopback (`/<bucket>/<key>`): PUT, GET (with `Range`), HEAD and DELETE
 * of objects, `ListObjectsType2` (`GET /<bucket>?list-type=2`) and the v1 listing, all verified with
 * `TOS4-HMAC-SHA256` (`UNSIGNED-PAYLOAD` accepted). Errors carry TOS's JSON body `{ Code, Message, RequestId,
 * HostId }` and the `x-tos-request-id` header, as `@volcengine/tos-sdk` reads them.
 *
 * Buckets: writing an object to a bucket that does not exist creates it (the emulator has no console to create
 * buckets in); reading or listing a bucket nobody has written to is `NoSuchBucket`. `PUT /<bucket>` also creates one.
 */
import * as Bytes from "@barge/core/Bytes"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import type { EmulatorContext, ObjectStore, StoredObject, Surface } from "../internal/Context.js"
import * as Credentials from "../internal/Credentials.js"
import * as Http from "../internal/Http.js"
import * as Verifier from "../Verifier.js"
import type { TosError } from "./Errors.js"
import { errors } from "./Errors.js"

/** The bucket that exists from the start (`Emulator.bucket`). */
export const defaultBucket = "barge"

/** Inspectable state of this surface. */
export interface State {
  /** The TOS object store (shared with the Ark surface, which reads inputs from it and writes outputs to it). */
  readonly store: ObjectStore
}

/** Builds the surface. */
export const make = (ctx: EmulatorContext): Effect.Effect<Surface<State>> =>
  Effect.sync(() => {
    const store = ctx.objects.tos
    const hostId = "barge-emulator-tos"
    // The bucket `Registry.Emulated` names exists from the start, as in the BOS store.
    store.createBucket(defaultBucket)

    const lookupSecret = Credentials.secretLookup(ctx.credentials.volcengine)

    const app: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> = Effect
      .gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const requestId = ctx.nextId("tos").replace(/[^0-9a-z]/gi, "")
        const baseHeaders = { "x-tos-request-id": requestId, "x-tos-id-2": hostId, server: "TosServer" }
        const isHead = request.method === "HEAD"
        const fail = (error: TosError, resource?: { bucket?: string; key?: string }) =>
          isHead
            ? HttpServerResponse.empty({ status: error.status, headers: { ...baseHeaders, "x-tos-ec": error.ec } })
            : HttpServerResponse.unsafeJson({
              Code: error.code,
              Message: error.message,
              RequestId: requestId,
              HostId: hostId,
              EC: error.ec,
              ...(resource?.bucket === undefined ? {} : { BucketName: resource.bucket }),
              ...(resource?.key === undefined ? {} : { Key: resource.key })
            }, { status: error.status, headers: { ...baseHeaders, "x-tos-ec": error.ec } })

        const { path: rawPath, query: rawQuery } = Http.splitUrl(request.url)
        const query = new URLSearchParams(rawQuery)
        const chunks = yield* Effect.either(Stream.runCollect(request.stream))
        if (Either.isLeft(chunks)) return fail(errors.incompleteBody())
        const parts = Chunk.toReadonlyArray(chunks.right)
        const body = Bytes.concat(parts)
        const wallClock = yield* Clock.currentTimeMillis
        const verified = Verifier.verifyTos(
          { method: request.method, path: rawPath, query: rawQuery, headers: request.headers, body },
          { lookupSecret, now: wallClock, service: "tos" }
        )
        if (Either.isLeft(verified)) return fail(authError(verified.left))

        const resource = parsePath(rawPath)
        if (resource === undefined) return fail(errors.invalidObjectName())
        const { bucket, key } = resource
        if (bucket === "") return fail(errors.methodNotAllowed(request.method))
        const objectHeaders = (object: StoredObject) => ({
          ...baseHeaders,
          etag: `"${object.etag}"`,
          "last-modified": new Date(object.lastModified).toUTCString(),
          "accept-ranges": "bytes"
        })

        if (key === "") {
          if (request.method === "PUT") {
            store.createBucket(bucket)
            return HttpServerResponse.empty({ status: 200, headers: { ...baseHeaders, location: `/${bucket}` } })
          }
          if (request.method === "HEAD") {
            return store.hasBucket(bucket)
              ? HttpServerResponse.empty({
                status: 200,
                headers: { ...baseHeaders, "x-tos-bucket-region": "cn-beijing" }
              })
              : fail(errors.noSuchBucket(bucket, store.buckets()))
          }
          if (request.method !== "GET") return fail(errors.methodNotAllowed(request.method))
          if (!store.hasBucket(bucket)) return fail(errors.noSuchBucket(bucket, store.buckets()), { bucket })
          return list(store, bucket, query, baseHeaders, fail)
        }

        switch (request.method) {
          case "PUT": {
            const object = store.putChunks(
              bucket,
              key,
              parts,
              request.headers["content-type"] ?? "application/octet-stream"
            )
            return HttpServerResponse.empty({ status: 200, headers: { ...baseHeaders, etag: `"${object.etag}"` } })
          }
          case "GET":
          case "HEAD": {
            if (!store.hasBucket(bucket)) return fail(errors.noSuchBucket(bucket, store.buckets()), { bucket })
            const object = store.get(bucket, key)
            if (object === undefined) return fail(errors.noSuchKey(key), { bucket, key })
            const range = request.headers.range
            const slice = range === undefined ? undefined : parseRange(range, object.size)
            if (slice === "unsatisfiable") {
              return isHead
                ? HttpServerResponse.empty({ status: 416, headers: baseHeaders })
                : HttpServerResponse.unsafeJson({
                  Code: "InvalidRange",
                  Message: "The requested range is not satisfiable",
                  RequestId: requestId,
                  HostId: hostId,
                  ActualObjectSize: String(object.size)
                }, { status: 416, headers: { ...baseHeaders, "content-range": `bytes */${object.size}` } })
            }
            const [start, end] = slice ?? [0, object.size]
            const headers = {
              ...objectHeaders(object),
              ...(slice === undefined ? {} : { "content-range": `bytes ${start}-${end - 1}/${object.size}` })
            }
            const status = slice === undefined ? 200 : 206
            if (isHead) {
              return HttpServerResponse.empty({
                status,
                headers: { ...headers, "content-length": String(end - start), "content-type": object.contentType }
              })
            }
            return HttpServerResponse.stream(Stream.fromIterable(object.slice(start, end)), {
              status,
              headers,
              contentType: object.contentType,
              contentLength: end - start
            })
          }
          case "DELETE": {
            // Deleting a missing key succeeds, as in S3 and TOS; a missing bucket does not.
            if (!store.hasBucket(bucket)) return fail(errors.noSuchBucket(bucket, store.buckets()), { bucket })
            store.delete(bucket, key)
            return HttpServerResponse.empty({ status: 204, headers: baseHeaders })
          }
          default:
            return fail(errors.methodNotAllowed(request.method))
        }
      })

    return { app, state: { store } }
  })

/** `/<bucket>/<key...>` with the key percent-decoded; `undefined` when the encoding is broken. */
const parsePath = (rawPath: string): { bucket: string; key: string } | undefined => {
  const trimmed = rawPath.startsWith("/") ? rawPath.slice(1) : rawPath
  const slash = trimmed.indexOf("/")
  try {
    return slash < 0
      ? { bucket: decodeURIComponent(trimmed), key: "" }
      : { bucket: decodeURIComponent(trimmed.slice(0, slash)), key: decodeURIComponent(trimmed.slice(slash + 1)) }
  } catch {
    return undefined
  }
}

/**
 * `bytes=a-b`, `bytes=a-` or `bytes=-n` → `[start, endExclusive)`; `undefined` for a header that is not a single
 * byte range (ignored, as HTTP allows); `"unsatisfiable"` when it starts at or past the end.
 */
export const parseRange = (header: string, size: number): readonly [number, number] | "unsatisfiable" | undefined => {
  const match = /^\s*bytes=(\d*)-(\d*)\s*$/i.exec(header)
  if (match === null || (match[1] === "" && match[2] === "")) return undefined
  if (match[1] === "") {
    const suffix = Number(match[2])
    if (suffix === 0) return "unsatisfiable"
    return [Math.max(0, size - suffix), size]
  }
  const start = Number(match[1])
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1)
  if (start >= size || end < start) return "unsatisfiable"
  return [start, end + 1]
}

const list = (
  store: ObjectStore,
  bucket: string,
  query: URLSearchParams,
  headers: Record<string, string>,
  fail: (error: TosError) => HttpServerResponse.HttpServerResponse
): HttpServerResponse.HttpServerResponse => {
  const prefix = query.get("prefix") ?? ""
  const delimiter = query.get("delimiter") ?? ""
  const maxKeysText = query.get("max-keys")
  const maxKeys = maxKeysText === null ? 1000 : Number(maxKeysText)
  if (!Number.isInteger(maxKeys) || maxKeys < 0 || maxKeys > 1000) {
    return fail(errors.invalidArgument("max-keys must be an integer from 0 to 1000"))
  }
  const v2 = query.get("list-type") === "2"
  // V2 resumes after the continuation token (the last key returned), v1 after the marker.
  const after = (v2 ? query.get("continuation-token") ?? query.get("start-after") : query.get("marker")) ?? ""
  const contents: Array<StoredObject> = []
  const commonPrefixes: Array<string> = []
  let truncated = false
  let last = ""
  for (const object of store.list(bucket, prefix)) {
    if (after !== "" && object.key <= after) continue
    let entryKey = object.key
    let isPrefix = false
    if (delimiter !== "") {
      const index = object.key.indexOf(delimiter, prefix.length)
      if (index >= 0) {
        entryKey = object.key.slice(0, index + delimiter.length)
        isPrefix = true
      }
    }
    if (isPrefix && commonPrefixes[commonPrefixes.length - 1] === entryKey) {
      last = object.key
      continue
    }
    if (contents.length + commonPrefixes.length >= maxKeys) {
      truncated = true
      break
    }
    if (isPrefix) commonPrefixes.push(entryKey)
    else contents.push(object)
    last = object.key
  }
  const items = contents.map((object) => ({
    Key: object.key,
    LastModified: new Date(object.lastModified).toISOString(),
    ETag: `"${object.etag}"`,
    Size: object.size,
    StorageClass: "STANDARD",
    Owner: { ID: "barge-emulator", DisplayName: "barge-emulator" }
  }))
  const prefixes = commonPrefixes.map((Prefix) => ({ Prefix }))
  const body = v2
    ? {
      Name: bucket,
      Prefix: prefix,
      MaxKeys: maxKeys,
      Delimiter: delimiter,
      EncodingType: "",
      IsTruncated: truncated,
      KeyCount: items.length + prefixes.length,
      ...(query.get("continuation-token") === null ? {} : { ContinuationToken: query.get("continuation-token") }),
      ...(query.get("start-after") === null ? {} : { StartAfter: query.get("start-after") }),
      ...(truncated ? { NextContinuationToken: last } : {}),
      CommonPrefixes: prefixes,
      Contents: items
    }
    : {
      Name: bucket,
      Prefix: prefix,
      Marker: query.get("marker") ?? "",
      MaxKeys: maxKeys,
      Delimiter: delimiter,
      IsTruncated: truncated,
      ...(truncated ? { NextMarker: last } : {}),
      CommonPrefixes: prefixes,
      Contents: items
    }
  return HttpServerResponse.unsafeJson(body, { headers })
}

const authError = (failure: Verifier.VerificationFailure): TosError => {
  switch (failure.reason) {
    case "MissingAuthorization":
      return errors.accessDenied("Anonymous access is not allowed; sign the request with TOS4-HMAC-SHA256.")
    case "MalformedAuthorization":
      return errors.invalidArgument(failure.message)
    case "MissingDate":
      return errors.invalidArgument("The request has no x-tos-date header.")
    case "UnknownAccessKey":
      return errors.invalidAccessKeyId()
    case "SignatureMismatch":
      return errors.signatureDoesNotMatch()
    case "Expired":
      return errors.requestTimeTooSkewed()
  }
}
