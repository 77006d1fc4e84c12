import { Signer } from "@barge/core"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { TosClient } from "@volcengine/tos-sdk"
import { Effect, Redacted } from "effect"
import * as Emulator from "../src/Emulator.js"
import * as Utils from "./utils.js"

const credentials = Emulator.defaultCredentials.volcengine

const signer = (secret = credentials.secretAccessKey, accessKeyId = credentials.accessKeyId) =>
  Signer.tos({ accessKeyId, secretAccessKey: Redacted.make(secret), region: "cn-beijing", unsignedPayload: true })

const send = (
  method: "GET" | "PUT" | "HEAD" | "DELETE",
  path: string,
  options: { body?: string; headers?: Record<string, string>; signer?: Signer.Service | null } = {}
) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(`${emulator.urls.tos}${path}`).pipe(
      HttpClientRequest.setHeaders(options.headers ?? {})
    )
    if (options.body !== undefined) request = HttpClientRequest.bodyText(request, options.body, "text/plain")
    if (options.signer !== null) request = yield* (options.signer ?? signer()).sign(request)
    const response = yield* client.execute(request)
    const text = method === "HEAD" ? "" : yield* response.text
    return { status: response.status, headers: response.headers, text }
  }).pipe(Effect.orDie)

const withEmulator = Utils.withEmulator()

describe("TOS surface", () => {
  it.effect("puts, gets (whole and ranged), heads, lists and deletes objects path-style", () =>
    withEmulator(Effect.gen(function*() {
      const put = yield* send("PUT", "/bucket-a/dir/hello%20world.txt", { body: "0123456789" })
      assert.strictEqual(put.status, 200)
      assert.match(put.headers.etag!, /^"[0-9a-f]{32}"$/)
      const whole = yield* send("GET", "/bucket-a/dir/hello%20world.txt")
      assert.deepStrictEqual([whole.status, whole.text], [200, "0123456789"])
      const ranged = yield* send("GET", "/bucket-a/dir/hello%20world.txt", { headers: { range: "bytes=4-" } })
      assert.deepStrictEqual([ranged.status, ranged.text, ranged.headers["content-range"]], [
        206,
        "456789",
        "bytes 4-9/10"
      ])
      const suffix = yield* send("GET", "/bucket-a/dir/hello%20world.txt", { headers: { range: "bytes=-3" } })
      assert.strictEqual(suffix.text, "789")
      const past = yield* send("GET", "/bucket-a/dir/hello%20world.txt", { headers: { range: "bytes=10-" } })
      assert.strictEqual(past.status, 416)
      const head = yield* send("HEAD", "/bucket-a/dir/hello%20world.txt")
      assert.deepStrictEqual([head.status, head.headers["content-length"]], [200, "10"])

      yield* send("PUT", "/bucket-a/dir/b.txt", { body: "b" })
      yield* send("PUT", "/bucket-a/other/c.txt", { body: "c" })
      const listed = JSON.parse((yield* send("GET", "/bucket-a?list-type=2&prefix=dir%2F&max-keys=1")).text)
      assert.deepStrictEqual(listed.Contents.map((c: { Key: string }) => c.Key), ["dir/b.txt"])
      assert.isTrue(listed.IsTruncated)
      const next = JSON.parse(
        (yield* send(
          "GET",
          `/bucket-a?list-type=2&prefix=dir%2F&continuation-token=${encodeURIComponent(listed.NextContinuationToken)}`
        )).text
      )
      assert.deepStrictEqual(next.Contents.map((c: { Key: string }) => c.Key), ["dir/hello world.txt"])
      assert.isFalse(next.IsTruncated)

      assert.strictEqual((yield* send("DELETE", "/bucket-a/dir/b.txt")).status, 204)
      const gone = yield* send("GET", "/bucket-a/dir/b.txt")
      assert.strictEqual(gone.status, 404)
      const error = JSON.parse(gone.text)
      assert.strictEqual(error.Code, "NoSuchKey")
      assert.isString(error.RequestId)
      assert.strictEqual(gone.headers["x-tos-request-id"], error.RequestId)
      const noBucket = JSON.parse((yield* send("GET", "/nobody/key")).text)
      assert.strictEqual(noBucket.Code, "NoSuchBucket")
      // The message names the buckets that exist, and a first write creates a bucket.
      assert.include(noBucket.Message, "Buckets that exist: barge, bucket-a")
      assert.strictEqual((yield* send("PUT", "/nobody/key", { body: "x" })).status, 200)
      assert.strictEqual((yield* send("GET", "/nobody/key")).text, "x")
    })))

  it.effect("rejects unsigned, wrongly signed and unknown-key requests with TOS's codes", () =>
    withEmulator(Effect.gen(function*() {
      const anonymous = yield* send("GET", "/bucket-a/key", { signer: null })
      assert.deepStrictEqual([anonymous.status, JSON.parse(anonymous.text).Code], [403, "AccessDenied"])
      const wrong = yield* send("GET", "/bucket-a/key", { signer: signer("nope") })
      assert.deepStrictEqual([wrong.status, JSON.parse(wrong.text).Code], [403, "SignatureDoesNotMatch"])
      const unknown = yield* send("GET", "/bucket-a/key", { signer: signer(undefined, "AKLTwho") })
      assert.deepStrictEqual([unknown.status, JSON.parse(unknown.text).Code], [403, "InvalidAccessKeyId"])
    })))

  it.live("works with the official @volcengine/tos-sdk client unmodified", () =>
    withEmulator(Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = new TosClient({
        accessKeyId: credentials.accessKeyId,
        accessKeySecret: credentials.secretAccessKey,
        region: "cn-beijing",
        endpoint: new URL(emulator.urls.tos).host,
        secure: false,
        maxRetryCount: 0
      })
      const result = yield* Effect.promise(async () => {
        await client.putObject({ bucket: "sdk-bucket", key: "a/b.jsonl", body: Buffer.from("{\"x\":1}\n") })
        const got = await client.getObjectV2({ bucket: "sdk-bucket", key: "a/b.jsonl", dataType: "buffer" })
        const listed = await client.listObjectsType2({ bucket: "sdk-bucket", prefix: "a/" })
        // Object GETs are read as bytes, so the SDK parses error bodies only on JSON calls such as listing.
        const missing = await client.listObjectsType2({ bucket: "no-such-bucket" }).then(
          () => "found",
          (error: { code?: string; statusCode?: number }) => `${error.statusCode} ${error.code}`
        )
        return {
          body: (got.data.content as Buffer).toString("utf8"),
          keys: listed.data.Contents.map((c) => c.Key),
          missing
        }
      })
      assert.deepStrictEqual(result, { body: "{\"x\":1}\n", keys: ["a/b.jsonl"], missing: "404 NoSuchBucket" })
    })))
})
