import { Signer } from "@barge/core"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { createRequire } from "node:module"
import * as Emulator from "../src/Emulator.js"
import * as Utils from "./utils.js"

const require = createRequire(import.meta.url)

const sdk = require("@baiducloud/sdk") as any

const credentials = Emulator.defaultCredentials.bce
const bucket = "barge"

type Json = any

const signer = (secret = credentials.secretAccessKey) =>
  Signer.bce({ accessKeyId: credentials.accessKeyId, secretAccessKey: Redacted.make(secret) })

const send = (
  method: "GET" | "PUT" | "HEAD" | "DELETE",
  path: string,
  options: {
    readonly body?: string
    readonly headers?: Record<string, string>
    readonly query?: Record<string, string>
    readonly signer?: Signer.Service
  } = {}
) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(`${emulator.urls.bos}${path}`).pipe(
      HttpClientRequest.setUrlParams(options.query ?? {}),
      HttpClientRequest.setHeaders(options.headers ?? {}),
      options.body === undefined ? (r) => r : HttpClientRequest.bodyText(options.body, "text/plain")
    )
    request = yield* (options.signer ?? signer()).sign(request)
    const response = yield* client.execute(request)
    const text = method === "HEAD" ? "" : yield* response.text
    const isJson = (response.headers["content-type"] ?? "").includes("json")
    return {
      status: response.status,
      headers: response.headers,
      text,
      json: (isJson ? JSON.parse(text) : undefined) as Json
    }
  }).pipe(Effect.orDie)

const withEmulator = Utils.withEmulator()

describe("BOS surface", () => {
  it.effect("puts, gets (whole and by Range), heads and deletes an object", () =>
    withEmulator(Effect.gen(function*() {
      const put = yield* send("PUT", `/${bucket}/dir/hello.txt`, { body: "hello, world" })
      assert.strictEqual(put.status, 200)
      assert.isString(put.headers["x-bce-request-id"])
      const got = yield* send("GET", `/${bucket}/dir/hello.txt`)
      assert.deepStrictEqual([got.status, got.text], [200, "hello, world"])
      const ranged = yield* send("GET", `/${bucket}/dir/hello.txt`, { headers: { range: "bytes=7-" } })
      assert.deepStrictEqual([ranged.status, ranged.text], [206, "world"])
      assert.strictEqual(ranged.headers["content-range"], "bytes 7-11/12")
      const head = yield* send("HEAD", `/${bucket}/dir/hello.txt`)
      assert.deepStrictEqual([head.status, head.headers["content-length"]], [200, "12"])
      assert.strictEqual(head.headers.etag, got.headers.etag)
      const v1 = yield* send("GET", `/v1/${bucket}/dir/hello.txt`)
      assert.strictEqual(v1.text, "hello, world")
      assert.strictEqual((yield* send("DELETE", `/${bucket}/dir/hello.txt`)).status, 200)
      const gone = yield* send("GET", `/${bucket}/dir/hello.txt`)
      assert.deepStrictEqual([gone.status, gone.json.code], [404, "NoSuchKey"])
      assert.isString(gone.json.requestId)
      assert.strictEqual((yield* send("HEAD", `/${bucket}/dir/hello.txt`)).status, 404)
      const unsatisfiable = yield* send("GET", `/${bucket}/x`, { headers: { range: "bytes=0-" } })
      assert.strictEqual(unsatisfiable.json.code, "NoSuchKey")
    })))

  it.effect("lists objects by prefix in pages of maxKeys with the BOS JSON shape", () =>
    withEmulator(Effect.gen(function*() {
      for (const key of ["p/a", "p/b", "p/c", "q/d"]) yield* send("PUT", `/${bucket}/${key}`, { body: key })
      const first = (yield* send("GET", `/${bucket}`, { query: { prefix: "p/", maxKeys: "2" } })).json
      assert.strictEqual(first.name, bucket)
      assert.strictEqual(first.prefix, "p/")
      assert.strictEqual(first.isTruncated, true)
      assert.deepStrictEqual(first.contents.map((c: Json) => c.key), ["p/a", "p/b"])
      assert.deepStrictEqual(Object.keys(first.contents[0]).slice(0, 4), ["key", "lastModified", "eTag", "size"])
      const rest = (yield* send("GET", `/${bucket}`, { query: { prefix: "p/", marker: first.nextMarker } })).json
      assert.deepStrictEqual(rest.contents.map((c: Json) => c.key), ["p/c"])
      assert.strictEqual(rest.isTruncated, false)
    })))

  it.effect("answers BOS errors: NoSuchBucket, BadDigest, bad signature", () =>
    withEmulator(Effect.gen(function*() {
      const noBucket = yield* send("GET", "/no-such-bucket/key")
      assert.deepStrictEqual([noBucket.status, noBucket.json.code], [404, "NoSuchBucket"])
      const digest = yield* send("PUT", `/${bucket}/k`, {
        body: "abc",
        headers: { "content-md5": "AAAAAAAAAAAAAAAAAAAAAA==" }
      })
      assert.deepStrictEqual([digest.status, digest.json.code], [400, "BadDigest"])
      const forged = yield* send("GET", `/${bucket}`, { signer: signer("nope") })
      assert.deepStrictEqual([forged.status, forged.json.code], [403, "SignatureDoesNotMatch"])
      assert.strictEqual((yield* send("PUT", "/new-bucket")).status, 200)
      assert.strictEqual((yield* send("PUT", "/new-bucket/k", { body: "x" })).status, 200)
    })))

  it.effect("a PutObject creates the bucket it names; reading a bucket nobody wrote to names the buckets that exist", () =>
    withEmulator(Effect.gen(function*() {
      const missing = yield* send("GET", "/my-own-bucket/in/a.jsonl")
      assert.deepStrictEqual([missing.status, missing.json.code], [404, "NoSuchBucket"])
      assert.include(missing.json.message, "(buckets: barge;")
      const put = yield* send("PUT", "/my-own-bucket/in/a.jsonl", { body: "{}\n" })
      assert.strictEqual(put.status, 200)
      assert.strictEqual((yield* send("GET", "/my-own-bucket/in/a.jsonl")).text, "{}\n")
      const listed = yield* send("GET", "/my-own-bucket", { query: { prefix: "in/" } })
      assert.deepStrictEqual(listed.json.contents.map((o: Json) => o.key), ["in/a.jsonl"])
      const badName = yield* send("PUT", "/No_Such/k", { body: "x" })
      assert.deepStrictEqual([badName.status, badName.json.code], [400, "InvalidBucketName"])
    })))

  it.effect("keeps every object under concurrent writes", () =>
    withEmulator(Effect.gen(function*() {
      yield* Effect.forEach(
        Array.from({ length: 40 }, (_, i) => i),
        (i) => send("PUT", `/${bucket}/many/${String(i).padStart(2, "0")}`, { body: `object ${i}` }),
        { concurrency: "unbounded" }
      )
      const listed = (yield* send("GET", `/${bucket}`, { query: { prefix: "many/" } })).json
      assert.lengthOf(listed.contents, 40)
      assert.strictEqual((yield* send("GET", `/${bucket}/many/17`)).text, "object 17")
    })))

  it.live("works with @baiducloud/sdk's BosClient unmodified, and rejects its signature with one byte changed", () =>
    withEmulator(Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = new sdk.BosClient({
        endpoint: emulator.urls.bos,
        credentials: { ak: credentials.accessKeyId, sk: credentials.secretAccessKey }
      })
      yield* Effect.promise(() => client.putObjectFromString(bucket, "sdk/hello.jsonl", "{\"id\":\"1\"}\n"))
      const got = yield* Effect.promise(() => client.getObject(bucket, "sdk/hello.jsonl"))
      assert.strictEqual(String((got as Json).body), "{\"id\":\"1\"}\n")
      const listed = yield* Effect.promise(() => client.listObjects(bucket, { prefix: "sdk/" }))
      assert.deepStrictEqual((listed as Json).body.contents.map((c: Json) => c.key), ["sdk/hello.jsonl"])

      const url = new URL(emulator.urls.bos)
      const request = async (path: string) => {
        const headers: Record<string, string> = {
          host: url.host,
          "x-bce-date": new Date().toISOString().replace(/\.\d+Z$/, "Z")
        }
        headers.authorization = new sdk.Auth(credentials.accessKeyId, credentials.secretAccessKey)
          .generateAuthorization("GET", `/${bucket}/sdk/hello.jsonl`, {}, headers)
        return (await fetch(`${emulator.urls.bos}${path}`, { headers })).status
      }
      assert.strictEqual(yield* Effect.promise(() => request(`/${bucket}/sdk/hello.jsonl`)), 200)
      assert.strictEqual(yield* Effect.promise(() => request(`/${bucket}/sdk/hello.jsonm`)), 403)
    })))
})
