import * as Signer from "@barge/core/Signer"
import { HttpClient, HttpClientRequest, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Either, Layer, Redacted, TestClock } from "effect"
import { createServer } from "node:http"
import * as Verifier from "../src/Verifier.js"

const incoming = (request: HttpClientRequest.HttpClientRequest, bytes: Uint8Array): Verifier.IncomingRequest => {
  const url = new URL(request.url)
  for (const [k, v] of request.urlParams) url.searchParams.append(k, v)
  return {
    method: request.method,
    path: url.pathname,
    query: url.search.slice(1),
    headers: { ...request.headers, host: url.host },
    body: bytes
  }
}

describe("Signer → Verifier", () => {
  it.effect("every scheme's output verifies, with the loopback port in the host", () =>
    Effect.gen(function*() {
      const now = Date.UTC(2026, 10, 24, 12, 0, 0)
      yield* TestClock.setTime(now)
      const lookupSecret = (ak: string) => (ak === "AK" ? Redacted.make("SK") : undefined)
      const options = { accessKeyId: "AK", secretAccessKey: Redacted.make("SK"), sessionToken: Redacted.make("STS") }
      const bytes = new TextEncoder().encode("{\"q\":\"a b 测试\"}")
      const request = HttpClientRequest.put("http://127.0.0.1:8123/bucket/a b/測試(1).jsonl").pipe(
        HttpClientRequest.setUrlParams({ "part Number": "1", upload: ["z", "a b", "*"] }),
        HttpClientRequest.setHeader("X-Tos-Meta-Note", "  two   spaces "),
        HttpClientRequest.setHeader("X-Meta", "m"),
        HttpClientRequest.bodyUint8Array(bytes, "application/json")
      )
      const checks = [
        [Signer.volcengine({ ...options, region: "cn-beijing", service: "ark" }), Verifier.verifyVolcengine],
        [Signer.tos({ ...options, region: "cn-beijing" }), Verifier.verifyTos],
        [Signer.tos({ ...options, region: "cn-beijing", unsignedPayload: true }), Verifier.verifyTos],
        [Signer.awsV4({ ...options, region: "bj", service: "s3" }), Verifier.verifyAws]
      ] as const
      for (const [signer, verify] of checks) {
        const signed = yield* signer.sign(request)
        assert.isTrue(signed.headers["authorization"]!.includes("SignedHeaders=host;"))
        assert.deepStrictEqual(
          verify(incoming(signed, bytes), { lookupSecret, now }),
          Either.right({ accessKeyId: "AK" })
        )
      }
      const bce = yield* Signer.bce({ accessKeyId: "AK", secretAccessKey: Redacted.make("SK") }).sign(request)
      assert.deepStrictEqual(
        Verifier.verifyBce(incoming(bce, bytes), { lookupSecret, now }),
        Either.right({ accessKeyId: "AK" })
      )
      const tosSigned = yield* Signer.tos({ ...options, region: "cn-beijing" }).sign(request)
      assert.strictEqual(tosSigned.headers["x-tos-security-token"], "STS")
      assert.include(tosSigned.headers["authorization"]!, "x-tos-meta-note")
    }))
})

/**
 * A loopback server that authenticates every request with the Verifier, so what is checked is exactly what the
 * HTTP client put on the wire (URL encoding, host with port, content headers).
 */
const verifyingServer = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const body = new Uint8Array(yield* request.arrayBuffer)
  const [path, query = ""] = request.url.split("?") as [string, string?]
  const incoming: Verifier.IncomingRequest = { method: request.method, path, query, headers: request.headers, body }
  const now = yield* Clock.currentTimeMillis
  const lookupSecret = (ak: string) => (ak === "AK" ? Redacted.make("SK") : undefined)
  const auth = request.headers["authorization"] ?? ""
  const result = auth.startsWith("bce-auth-v1/")
    ? Verifier.verifyBce(incoming, { lookupSecret, now })
    : auth.startsWith("TOS4-")
    ? Verifier.verifyTos(incoming, { lookupSecret, now })
    : auth.startsWith("AWS4-")
    ? Verifier.verifyAws(incoming, { lookupSecret, now })
    : auth.startsWith("Bearer ")
    ? Verifier.verifyBearer(incoming, [{ accessKeyId: "AK", token: Redacted.make("SK") }])
    : Verifier.verifyVolcengine(incoming, { lookupSecret, now })
  return Either.isRight(result)
    ? HttpServerResponse.text("ok")
    : HttpServerResponse.text(result.left.reason + ": " + result.left.message, { status: 401 })
})

describe("Signer over loopback HTTP", () => {
  it.live("requests signed by every scheme authenticate at a verifying server", () =>
    Effect.gen(function*() {
      const base = yield* HttpServer.addressFormattedWith((address) => Effect.succeed(address))
      const client = yield* HttpClient.HttpClient
      const options = { accessKeyId: "AK", secretAccessKey: Redacted.make("SK") }
      const signers = [
        Signer.volcengine({ ...options, region: "cn-beijing", service: "ark" }),
        Signer.tos({ ...options, region: "cn-beijing", sessionToken: Redacted.make("sts") }),
        Signer.awsV4({ ...options, region: "bj", service: "s3" }),
        Signer.bce(options),
        Signer.bearer(Redacted.make("SK"))
      ]
      const request = HttpClientRequest.post(`${base}/bucket/a b/測試(1)*.jsonl`).pipe(
        HttpClientRequest.setUrlParams({ Action: "Create Job", tag: ["z", "a+b", ""], "~x": "100%" }),
        HttpClientRequest.setHeader("x-tos-meta-a", "1  2"),
        HttpClientRequest.setHeader("x-bce-meta", "m"),
        HttpClientRequest.bodyText("{\"q\":\"测试\"}", "application/json")
      )
      for (const signer of signers) {
        const response = yield* client.execute(yield* signer.sign(request))
        assert.strictEqual(`${signer.scheme} ${response.status} ${yield* response.text}`, `${signer.scheme} 200 ok`)
      }
      const tampered = yield* signers[0]!.sign(request)
      const rejected = yield* client.execute(HttpClientRequest.bodyText(tampered, "{}", "application/json"))
      assert.strictEqual(rejected.status, 401)
    }).pipe(
      Effect.provide(
        HttpServer.serve(verifyingServer).pipe(
          Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
          Layer.merge(NodeHttpClient.layerUndici)
        )
      )
    ))
})
