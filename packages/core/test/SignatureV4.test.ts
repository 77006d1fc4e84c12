import { assert, describe, it } from "@effect/vitest"
import * as SignatureV4 from "../src/SignatureV4.js"

// Official Volcengine vectors (spec ark.md §3.3). The SK is used as the literal UTF-8 string.
const credentials = {
  accessKeyId: "AKLTYWViMTVmZGYzM2E0NDI5Mzk2MDZjNjFmMjc2MjRjMzg",
  secretAccessKey: "WkRZeE1EQmxPVGhsWWpWak5HVmtNbUUxTXpZeU9UVXlOMlE1TmpZeVlqTQ=="
}
const sha256 = SignatureV4.payloadHash

interface Vector {
  readonly name: string
  readonly service: string
  readonly host: string
  readonly query: string
  readonly method: string
  readonly body: string
  readonly dateTime: string
  readonly signedHeaders: ReadonlyArray<string>
  readonly canonicalHash: string | undefined
  readonly signature: string
}

const vectors: ReadonlyArray<Vector> = [
  {
    name: "A",
    service: "iam",
    host: "iam.volcengineapi.com",
    query: "Action=ListUsers&Version=2018-01-01&Limit=10&Offset=0",
    method: "GET",
    body: "",
    dateTime: "20240619T071306Z",
    signedHeaders: ["host", "x-date"],
    canonicalHash: "5ed5bca3905e1fcbf789abb56a17c2d819674a3bcfa468ae476bd1ea80d135cb",
    signature: "e31c4558bcfe08a286001f59cedbf0791ffd0b2362f10e55ee2627467bcdde93"
  },
  {
    name: "B",
    service: "billing",
    host: "billing.volcengineapi.com",
    query: "Action=QueryBalanceAcct&Version=2022-01-01",
    method: "GET",
    body: "",
    dateTime: "20250329T180937Z",
    signedHeaders: ["host", "x-date"],
    canonicalHash: "43171c1658c64b5db55c58d54988a4598d2d09a5613136beaa5eef40eae6e2c1",
    signature: "1eda9e7e6b1728151a8e8791fdaf67cfbd28bd5c80d0fce2eb208746cf483105"
  },
  {
    name: "C",
    service: "billing",
    host: "billing.volcengineapi.com",
    query: "Action=ListBill&Version=2022-01-01",
    method: "POST",
    body: "{\"Limit\":10,\"BillPeriod\":\"2023-08\"}",
    dateTime: "20250329T180937Z",
    signedHeaders: ["host", "x-date"],
    canonicalHash: "27383e3b56d03850f5634483527fbddcbf06cf98de1bc8a6679ef2300bff3b15",
    signature: "5e8480ceea12d0000a23c054151c50dd02c1a7dec835004057d19f13d53a7658"
  },
  {
    name: "D (all three headers)",
    service: "ark",
    host: "open.volcengineapi.com",
    query: "Action=GetBatchInferenceJob&Version=2024-01-01",
    method: "POST",
    body: "{\"Id\":\"bi-20240918194641-r2nwq\"}",
    dateTime: "20250329T180937Z",
    signedHeaders: ["host", "x-content-sha256", "x-date"],
    canonicalHash: "84e53bb90ab5741da8c789a73d7b31f2466814e3ef4b436ab185eac4376b7b4b",
    signature: "c81c8fbb3e44016757e275489f0b755e034cdf4ee835245c2949e56351f46f2a"
  },
  {
    name: "D (host;x-date)",
    service: "ark",
    host: "open.volcengineapi.com",
    query: "Action=GetBatchInferenceJob&Version=2024-01-01",
    method: "POST",
    body: "{\"Id\":\"bi-20240918194641-r2nwq\"}",
    dateTime: "20250329T180937Z",
    signedHeaders: ["host", "x-date"],
    canonicalHash: undefined,
    signature: "4ad7758b1bee39247ccf0ad5519100982693a8f05f84f31dc2c7dfc106e8980e"
  }
]

const signVector = (v: Vector) => {
  const scheme = SignatureV4.volcengineScheme({ region: "cn-beijing", service: v.service })
  const payloadHash = sha256(Buffer.from(v.body))
  const headers = { host: v.host, "x-date": v.dateTime, "x-content-sha256": payloadHash }
  const canonical = SignatureV4.canonicalRequest(
    scheme,
    { method: v.method, path: "/", query: v.query, headers, payloadHash },
    v.signedHeaders
  )
  const scope = SignatureV4.credentialScope(scheme, v.dateTime.slice(0, 8))
  const toSign = SignatureV4.stringToSign(scheme, v.dateTime, scope, canonical)
  const key = SignatureV4.signingKey(scheme, credentials.secretAccessKey, v.dateTime.slice(0, 8))
  return { scheme, canonical, toSign, key, signature: SignatureV4.signature(key, toSign), payloadHash }
}

describe("SignatureV4 official Volcengine vectors", () => {
  it("reproduces every vector byte for byte, intermediate values included", () => {
    for (const v of vectors) {
      const out = signVector(v)
      if (v.canonicalHash !== undefined) assert.strictEqual(sha256(Buffer.from(out.canonical)), v.canonicalHash, v.name)
      assert.strictEqual(out.signature, v.signature, v.name)
    }
    console.log(`volcengine: ${vectors.length} official vectors`)
  })

  it("vector A: canonical request, string to sign and signing key", () => {
    const out = signVector(vectors[0]!)
    assert.strictEqual(
      out.canonical,
      "GET\n/\nAction=ListUsers&Limit=10&Offset=0&Version=2018-01-01\nhost:iam.volcengineapi.com\nx-date:20240619T071306Z\n\nhost;x-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert.strictEqual(
      out.toSign,
      "HMAC-SHA256\n20240619T071306Z\n20240619/cn-beijing/iam/request\n5ed5bca3905e1fcbf789abb56a17c2d819674a3bcfa468ae476bd1ea80d135cb"
    )
    assert.strictEqual(out.key.toString("hex"), "abee62e533a58934c49954459a3c3237d2fccea517c9a7c8a2651d8ea7779826")
  })

  it("vector C and D: payload hashes", () => {
    assert.strictEqual(
      signVector(vectors[2]!).payloadHash,
      "e8cc56e129d9759d56c936e679a345d001a4235b58bee8e935ccad97f23ed663"
    )
    assert.strictEqual(
      signVector(vectors[3]!).payloadHash,
      "58082be17412e6897bcdf0f799478edeb75fe6c71363a349a07a149f2d8301ad"
    )
  })

  it("sign() produces vector D's Authorization with our default header set", () => {
    const scheme = SignatureV4.volcengineScheme({ region: "cn-beijing", service: "ark" })
    const body = Buffer.from("{\"Id\":\"bi-20240918194641-r2nwq\"}")
    const result = SignatureV4.sign(
      scheme,
      {
        method: "POST",
        path: "/",
        query: "Action=GetBatchInferenceJob&Version=2024-01-01",
        headers: { host: "open.volcengineapi.com", "content-type": "application/json" },
        payloadHash: sha256(body)
      },
      credentials,
      Date.UTC(2025, 2, 29, 18, 9, 37)
    )
    assert.strictEqual(
      result.authorization,
      "HMAC-SHA256 Credential=AKLTYWViMTVmZGYzM2E0NDI5Mzk2MDZjNjFmMjc2MjRjMzg/20250329/cn-beijing/ark/request, SignedHeaders=host;x-content-sha256;x-date, Signature=c81c8fbb3e44016757e275489f0b755e034cdf4ee835245c2949e56351f46f2a"
    )
    assert.strictEqual(result.headers["x-date"], "20250329T180937Z")
  })

  it("small helpers match the Node SDK's own test facts", () => {
    assert.strictEqual(sha256(Buffer.from("test")), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    const scheme = SignatureV4.volcengineScheme({ region: "cn-beijing", service: "iam" })
    assert.strictEqual(SignatureV4.credentialScope(scheme, "20240101"), "20240101/cn-beijing/iam/request")
    assert.strictEqual(SignatureV4.canonicalQuery("b=2&a=1"), "a=1&b=2")
    assert.strictEqual(SignatureV4.canonicalQuery("q=a%20b&q=a+c&e"), "e=&q=a%20b&q=a%20c")
    assert.strictEqual(SignatureV4.canonicalUri(scheme, "/a%2fb/c d/%E6%B5%8B"), "/a%2Fb/c%20d/%E6%B5%8B")
    assert.strictEqual(SignatureV4.formatDateTime(Date.UTC(2024, 5, 19, 7, 13, 6, 999)), "20240619T071306Z")
    assert.strictEqual(SignatureV4.parseDateTime("20240619T071306Z"), Date.UTC(2024, 5, 19, 7, 13, 6))
  })
})
