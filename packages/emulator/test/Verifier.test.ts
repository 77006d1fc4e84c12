import { Sha256 } from "@aws-crypto/sha256-js"
import * as BceAuth from "@barge/core/BceAuth"
import * as SignatureV4 from "@barge/core/SignatureV4"
import { assert, describe, it } from "@effect/vitest"
import { HttpRequest } from "@smithy/protocol-http"
import { SignatureV4 as SmithySigner } from "@smithy/signature-v4"
import { Either, FastCheck as fc, Redacted } from "effect"
import { createRequire } from "node:module"
import * as Verifier from "../src/Verifier.js"

const require = createRequire(import.meta.url)
const VolcSigner = require("@volcengine/openapi/lib/base/sign").default as new(
  request: Record<string, unknown>,
  service: string
) => { addAuthorization(credentials: Record<string, string>, date: Date): void }
const volcQueryString = require("@volcengine/openapi/lib/base/sign").queryParamsToString as (
  params: Record<string, string>
) => string
const BceOracle = require("@baiducloud/sdk").Auth as new(ak: string, sk: string) => {
  generateAuthorization(
    method: string,
    uri: string,
    params: Record<string, string>,
    headers: Record<string, string>,
    timestamp: number
  ): string
}

const AK = "AKLTverifierTest"
const SK = "verifier-secret-key"
const lookupSecret = (
  ak: string
) => (ak === AK ? Redacted.make(SK) : ak === "AKother" ? Redacted.make("wrong") : undefined)
const now = Date.UTC(2026, 10, 24, 12, 0, 0)
const encoder = new TextEncoder()

type Incoming = Verifier.IncomingRequest
type Verify = (request: Incoming, at?: number) => Either.Either<Verifier.Verified, Verifier.VerificationFailure>

const reasonOf = (result: Either.Either<Verifier.Verified, Verifier.VerificationFailure>) =>
  Either.isLeft(result) ? result.left.reason : "ok"

const lower = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))

const flipFirst = (s: string) => s.length === 0 ? "x" : (s[0] === "a" ? "b" : "a") + s.slice(1)

/** Every single-part change a man in the middle could make, each of which must be rejected. */
const tampered = (request: Incoming, signedHeader: string, hashesBody: boolean): Array<[string, Incoming]> => {
  const out: Array<[string, Incoming]> = [
    ["path", { ...request, path: request.path + "x" }],
    ["query", { ...request, query: request.query === "" ? "a=1" : request.query + "1" }],
    ["header", {
      ...request,
      headers: { ...request.headers, [signedHeader]: flipFirst(request.headers[signedHeader]!) }
    }],
    ["method", { ...request, method: request.method === "GET" ? "PUT" : "GET" }]
  ]
  if (hashesBody) {
    const body = new Uint8Array(request.body.length === 0 ? [1] : request.body)
    body[0] = body[0]! ^ 1
    out.push(["body", { ...request, body }])
  }
  return out
}

const checkRoundTrip = (verify: Verify, request: Incoming, signedHeader: string, hashesBody: boolean) => {
  assert.deepStrictEqual(verify(request), Either.right({ accessKeyId: AK }))
  for (const [what, changed] of tampered(request, signedHeader, hashesBody)) {
    assert.strictEqual(reasonOf(verify(changed)), "SignatureMismatch", `changed ${what}`)
  }
}

const caseArb = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT"),
  segment: fc.fullUnicodeString({ minLength: 1, maxLength: 6 }).filter((s) =>
    !s.includes("/") && s !== "." && s !== ".."
  ),
  key: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.~-]{0,5}$/),
  value: fc.fullUnicodeString({ maxLength: 8 }),
  meta: fc.stringMatching(/^[a-z0-9 ]{1,12}$/).map((s) => "m" + s + "m"),
  body: fc.fullUnicodeString({ maxLength: 30 }),
  skew: fc.integer({ min: -600, max: 600 })
})
const cases = fc.sample(caseArb, { numRuns: 100, seed: 7 })

const wireOf = (c: (typeof cases)[number]) => {
  const url = new URL("http://127.0.0.1:9000")
  url.pathname = "/bucket/" + c.segment
  url.searchParams.append(c.key, c.value)
  return { path: url.pathname, query: url.search.slice(1) }
}

describe("Verifier", () => {
  const v4Families = [
    {
      name: "volcengine",
      scheme: SignatureV4.volcengineScheme({ region: "cn-beijing", service: "ark" }),
      verify: Verifier.verifyVolcengine,
      meta: "x-meta"
    },
    {
      name: "tos",
      scheme: SignatureV4.tosScheme({ region: "cn-beijing" }),
      verify: Verifier.verifyTos,
      meta: "x-tos-meta"
    },
    {
      name: "aws",
      scheme: SignatureV4.awsScheme({ region: "us-east-1", service: "s3" }),
      verify: Verifier.verifyAws,
      meta: "x-amz-meta"
    }
  ] as const

  for (const family of v4Families) {
    it(`${family.name}: accepts our signed requests, rejects any changed part`, () => {
      const verify: Verify = (request, at = now) => family.verify(request, { lookupSecret, now: at })
      for (const c of cases) {
        const body = encoder.encode(c.body)
        const wire = wireOf(c)
        const headers = { host: "127.0.0.1:9000", [family.meta]: c.meta, "content-type": "text/plain" }
        const signed = SignatureV4.sign(
          family.scheme,
          { method: c.method, ...wire, headers, payloadHash: SignatureV4.payloadHash(body) },
          { accessKeyId: AK, secretAccessKey: SK },
          now + c.skew * 1000
        )
        checkRoundTrip(
          verify,
          { method: c.method, ...wire, headers: { ...headers, ...signed.headers }, body },
          family.meta,
          true
        )
      }
      console.log(`verifier ${family.name}: ${cases.length} signed requests, ${cases.length * 5} tampered`)
    })
  }

  it("tos: UNSIGNED-PAYLOAD is accepted with any body, volcengine refuses it", () => {
    const scheme = SignatureV4.tosScheme({ region: "cn-beijing" })
    const headers = { host: "b.tos" }
    const signed = SignatureV4.sign(
      scheme,
      { method: "PUT", path: "/k", query: "", headers, payloadHash: SignatureV4.UNSIGNED_PAYLOAD },
      { accessKeyId: AK, secretAccessKey: SK },
      now
    )
    const request = {
      method: "PUT",
      path: "/k",
      query: "",
      headers: { ...headers, ...signed.headers },
      body: encoder.encode("anything")
    }
    assert.deepStrictEqual(Verifier.verifyTos(request, { lookupSecret, now }), Either.right({ accessKeyId: AK }))
    const volc = SignatureV4.sign(
      SignatureV4.volcengineScheme({ region: "cn-beijing", service: "ark" }),
      { method: "PUT", path: "/k", query: "", headers, payloadHash: SignatureV4.UNSIGNED_PAYLOAD },
      { accessKeyId: AK, secretAccessKey: SK },
      now
    )
    const volcRequest = { ...request, headers: { ...headers, ...volc.headers } }
    assert.strictEqual(reasonOf(Verifier.verifyVolcengine(volcRequest, { lookupSecret, now })), "SignatureMismatch")
  })

  it("volcengine: accepts requests signed by @volcengine/openapi (STS token included)", () => {
    for (const c of cases) {
      const params = { Action: "GetBatchInferenceJob", Version: "2024-01-01", [c.key]: c.value }
      const strictPath = "/bucket/" +
        SignatureV4.canonicalUri(
          SignatureV4.volcengineScheme({ region: "", service: "" }),
          encodeURIComponent(c.segment)
        )
      const request: Record<string, unknown> & { headers: Record<string, string> } = {
        region: "cn-beijing",
        method: c.method,
        pathname: strictPath,
        params,
        headers: { Host: "127.0.0.1:9000", "X-Meta": c.meta, "Content-Type": "application/json" },
        body: c.body
      }
      new VolcSigner(request, "ark").addAuthorization(
        { accessKeyId: AK, secretKey: SK, sessionToken: "sts-token" },
        new Date(now + c.skew * 1000)
      )
      const incoming = {
        method: c.method,
        path: strictPath,
        query: volcQueryString(params),
        headers: lower(request.headers),
        body: encoder.encode(c.body)
      }
      if (c.body === "") {
        // The SDK omits X-Content-Sha256 for an empty body; the verifier then hashes the (empty) body itself.
        assert.isUndefined(incoming.headers["x-content-sha256"])
      }
      checkRoundTrip((r, at = now) => Verifier.verifyVolcengine(r, { lookupSecret, now: at }), incoming, "x-meta", true)
    }
    console.log(`verifier volcengine: ${cases.length} SDK-signed requests`)
  })

  it("aws: accepts requests signed by @smithy/signature-v4", async () => {
    for (const c of cases.slice(0, 30)) {
      const wire = wireOf(c)
      const strictPath = "/bucket/" +
        SignatureV4.canonicalUri(SignatureV4.awsScheme({ region: "", service: "s3" }), wire.path.slice(8))
      const signer = new SmithySigner({
        credentials: { accessKeyId: AK, secretAccessKey: SK },
        region: "us-east-1",
        service: "s3",
        sha256: Sha256,
        uriEscapePath: false
      })
      const signed = (await signer.sign(
        new HttpRequest({
          method: c.method,
          hostname: "127.0.0.1",
          path: strictPath,
          query: { [c.key]: c.value },
          headers: { host: "127.0.0.1:9000", "x-amz-meta": c.meta },
          body: c.body
        }),
        { signingDate: new Date(now) }
      )) as HttpRequest
      const incoming = {
        method: c.method,
        path: strictPath,
        query: wire.query,
        headers: lower(signed.headers),
        body: encoder.encode(c.body)
      }
      checkRoundTrip((r, at = now) => Verifier.verifyAws(r, { lookupSecret, now: at }), incoming, "x-amz-meta", true)
    }
  })

  it("bce: accepts ours and @baiducloud/sdk-signed requests, rejects any changed signed part", () => {
    const oracle = new BceOracle(AK, SK)
    for (const c of cases) {
      const wire = wireOf(c)
      const headers = { host: "127.0.0.1:9000", "x-bce-meta": c.meta, "content-type": "application/json" }
      const ours = BceAuth.authorization({ method: c.method, ...wire, headers }, {
        accessKeyId: AK,
        secretAccessKey: SK
      }, now + c.skew * 1000)
      const verify: Verify = (r, at = now) => Verifier.verifyBce(r, { lookupSecret, now: at })
      const body = encoder.encode(c.body)
      checkRoundTrip(
        verify,
        { method: c.method, ...wire, headers: { ...headers, authorization: ours.authorization }, body },
        "x-bce-meta",
        false
      )
      const strictPath = BceAuth.canonicalUri(wire.path)
      const theirs = oracle.generateAuthorization(
        c.method,
        strictPath,
        { [c.key]: c.value },
        headers,
        Math.floor(now / 1000)
      )
      const sdkQuery = encodeURIComponent(c.key) + "=" + encodeURIComponent(c.value)
      checkRoundTrip(
        verify,
        { method: c.method, path: strictPath, query: sdkQuery, headers: { ...headers, authorization: theirs }, body },
        "x-bce-meta",
        false
      )
    }
    console.log(`verifier bce: ${cases.length * 2} signed requests (ours and the SDK's)`)
  })

  it("rejects wrong keys, unknown keys, stale and future timestamps, missing parts", () => {
    const scheme = SignatureV4.volcengineScheme({ region: "cn-beijing", service: "ark" })
    const headers = { host: "h" }
    const at = (t: number, ak = AK): Incoming => {
      const s = SignatureV4.sign(
        scheme,
        { method: "GET", path: "/", query: "", headers, payloadHash: SignatureV4.payloadHash(new Uint8Array()) },
        { accessKeyId: ak, secretAccessKey: SK },
        t
      )
      return { method: "GET", path: "/", query: "", headers: { ...headers, ...s.headers }, body: new Uint8Array() }
    }
    const verify = (r: Incoming) => reasonOf(Verifier.verifyVolcengine(r, { lookupSecret, now }))
    assert.strictEqual(verify(at(now - 16 * 60_000)), "Expired")
    assert.strictEqual(verify(at(now + 16 * 60_000)), "Expired")
    assert.strictEqual(verify(at(now - 14 * 60_000)), "ok")
    assert.strictEqual(verify(at(now, "AKother")), "SignatureMismatch")
    assert.strictEqual(verify(at(now, "AKnobody")), "UnknownAccessKey")
    const good = at(now)
    const { authorization: _a, ...noAuth } = good.headers
    assert.strictEqual(verify({ ...good, headers: noAuth }), "MissingAuthorization")
    const { "x-date": _d, ...noDate } = good.headers
    assert.strictEqual(verify({ ...good, headers: noDate }), "MissingDate")
    assert.strictEqual(
      verify({ ...good, headers: { ...good.headers, authorization: "HMAC-SHA256 nonsense" } }),
      "MalformedAuthorization"
    )
    assert.strictEqual(reasonOf(Verifier.verifyTos(good, { lookupSecret, now })), "MalformedAuthorization")
    assert.strictEqual(
      reasonOf(Verifier.verifyVolcengine(good, { lookupSecret, now, service: "iam" })),
      "MalformedAuthorization"
    )

    const bce = (t: number) => ({
      method: "GET",
      path: "/v2/x",
      query: "",
      headers: {
        host: "h",
        authorization: BceAuth.authorization(
          { method: "GET", path: "/v2/x", query: "", headers: { host: "h" } },
          { accessKeyId: AK, secretAccessKey: SK },
          t,
          { expirationSeconds: 300 }
        ).authorization
      },
      body: new Uint8Array()
    })
    const verifyBce = (r: Incoming) => reasonOf(Verifier.verifyBce(r, { lookupSecret, now, maxSkewMillis: 60_000 }))
    assert.strictEqual(verifyBce(bce(now - 300_000)), "ok")
    assert.strictEqual(verifyBce(bce(now - 361_000)), "Expired")
    assert.strictEqual(verifyBce(bce(now + 61_000)), "Expired")
    assert.strictEqual(
      verifyBce({ ...bce(now), headers: { host: "h", authorization: "bce-auth-v1/x" } }),
      "MalformedAuthorization"
    )

    const tokens = [{ accessKeyId: "moonshot-user", token: Redacted.make("sk-right") }]
    const bearer = (authorization: string | undefined) =>
      Verifier.verifyBearer({ ...good, headers: authorization === undefined ? {} : { authorization } }, tokens)
    assert.deepStrictEqual(bearer("Bearer sk-right"), Either.right({ accessKeyId: "moonshot-user" }))
    assert.strictEqual(reasonOf(bearer("Bearer sk-wrong")), "UnknownAccessKey")
    assert.strictEqual(reasonOf(bearer("Basic abc")), "MalformedAuthorization")
    assert.strictEqual(reasonOf(bearer(undefined)), "MissingAuthorization")
    const failure = bearer("Bearer sk-wrong")
    assert.isTrue(Either.isLeft(failure) && !failure.left.message.includes("sk-wrong"))
  })
})
