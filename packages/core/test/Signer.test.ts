import { Headers, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Inspectable, Redacted, Stream, TestClock } from "effect"
import * as Signer from "../src/Signer.js"

const volcAk = "AKLTYWViMTVmZGYzM2E0NDI5Mzk2MDZjNjFmMjc2MjRjMzg"
const volcSk = "WkRZeE1EQmxPVGhsWWpWak5HVmtNbUUxTXpZeU9UVXlOMlE1TmpZeVlqTQ=="
const vectorD =
  "HMAC-SHA256 Credential=AKLTYWViMTVmZGYzM2E0NDI5Mzk2MDZjNjFmMjc2MjRjMzg/20250329/cn-beijing/ark/request, SignedHeaders=host;x-content-sha256;x-date, Signature=c81c8fbb3e44016757e275489f0b755e034cdf4ee835245c2949e56351f46f2a"

const ark = Signer.volcengine({
  accessKeyId: volcAk,
  secretAccessKey: Redacted.make(volcSk),
  region: "cn-beijing",
  service: "ark"
})
const body = "{\"Id\":\"bi-20240918194641-r2nwq\"}"

/** What a server would receive for a signed request (the client sends the URL's host and the body bytes). */
describe("Signer", () => {
  it.effect("volcengine: reproduces vector D from an HttpClientRequest under TestClock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2025, 2, 29, 18, 9, 37))
      const fromUrl = yield* ark.sign(
        HttpClientRequest.post("https://open.volcengineapi.com/?Action=GetBatchInferenceJob&Version=2024-01-01").pipe(
          HttpClientRequest.bodyText(body, "application/json")
        )
      )
      assert.strictEqual(fromUrl.headers["authorization"], vectorD)
      assert.strictEqual(fromUrl.headers["x-date"], "20250329T180937Z")
      assert.strictEqual(
        fromUrl.headers["x-content-sha256"],
        "58082be17412e6897bcdf0f799478edeb75fe6c71363a349a07a149f2d8301ad"
      )
      const fromParams = yield* ark.sign(
        HttpClientRequest.post("https://open.volcengineapi.com/").pipe(
          HttpClientRequest.setUrlParams({ Action: "GetBatchInferenceJob", Version: "2024-01-01" }),
          HttpClientRequest.bodyText(body, "application/json")
        )
      )
      assert.strictEqual(fromParams.headers["authorization"], vectorD)
    }))

  it.effect("bce: reproduces derived vector (c) and sets x-bce-date", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2015, 3, 27, 8, 23, 49))
      const signer = Signer.bce({ accessKeyId: "a".repeat(32), secretAccessKey: Redacted.make("b".repeat(32)) })
      const signed = yield* signer.sign(
        HttpClientRequest.post("https://qianfan.baidubce.com/v2/batchinference").pipe(
          HttpClientRequest.setUrlParam("Action", "DescribeBatchInferenceTask"),
          // No body: setting one also sets content-length, which the default header set would then sign.
          HttpClientRequest.setHeader("Content-Type", "application/json")
        )
      )
      assert.strictEqual(signed.headers["x-bce-date"], "2015-04-27T08:23:49Z")
      assert.strictEqual(
        signed.headers["authorization"],
        "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800/content-type;host;x-bce-date/827dd64187759f6eff2f59c92679d4aaf3521b651f28534b548377fd560dafa1"
      )
    }))

  it.effect("a streamed body is UNSIGNED-PAYLOAD for TOS and AWS, an error for Volcengine", () =>
    Effect.gen(function*() {
      const request = HttpClientRequest.put("http://127.0.0.1:8123/k").pipe(
        HttpClientRequest.bodyStream(Stream.make(new Uint8Array([1, 2, 3])))
      )
      const options = { accessKeyId: "AK", secretAccessKey: Redacted.make("SK"), region: "cn-beijing" }
      const tos = yield* Signer.tos(options).sign(request)
      assert.strictEqual(tos.headers["x-tos-content-sha256"], "UNSIGNED-PAYLOAD")
      const aws = yield* Signer.awsV4({ ...options, service: "s3" }).sign(request)
      assert.strictEqual(aws.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD")
      const error = yield* Effect.flip(Signer.volcengine({ ...options, service: "ark" }).sign(request))
      assert.strictEqual(error._tag, "SignerError")
      assert.include(error.message, "Stream")
    }))

  it.effect("bearer sets the Authorization header", () =>
    Effect.gen(function*() {
      const signed = yield* Signer.bearer(Redacted.make("sk-moonshot")).sign(
        HttpClientRequest.get("http://127.0.0.1/v1/batches")
      )
      assert.strictEqual(signed.headers["authorization"], "Bearer sk-moonshot")
    }))

  it.effect("secrets never appear in the signer, its errors, or redacted headers", () =>
    Effect.gen(function*() {
      const secret = "super-secret-value"
      const token = "session-token-value"
      const signers = [
        Signer.volcengine({
          accessKeyId: "AK",
          secretAccessKey: Redacted.make(secret),
          sessionToken: Redacted.make(token),
          region: "r",
          service: "s"
        }),
        Signer.tos({
          accessKeyId: "AK",
          secretAccessKey: Redacted.make(secret),
          sessionToken: Redacted.make(token),
          region: "r"
        }),
        Signer.bce({ accessKeyId: "AK", secretAccessKey: Redacted.make(secret) }),
        Signer.bearer(Redacted.make(secret))
      ]
      const request = HttpClientRequest.post("http://127.0.0.1/x").pipe(
        HttpClientRequest.bodyStream(Stream.fromChunk(Chunk.of(new Uint8Array([1]))))
      )
      for (const signer of signers) {
        for (const shown of [String(signer), Inspectable.format(signer), Inspectable.toStringUnknown(signer)]) {
          assert.notInclude(shown, secret)
          assert.notInclude(shown, token)
        }
        const result = yield* Effect.either(signer.sign(request))
        const shown = Either.isLeft(result) ? String(result.left) + Inspectable.format(result.left) : ""
        assert.notInclude(shown, secret)
        if (Either.isRight(result)) {
          const redacted = Headers.redact(result.right.headers, signer.redactedHeaders)
          const text = Inspectable.format(redacted)
          assert.notInclude(text, token)
          assert.notInclude(text, secret)
        }
      }
    }))
})
