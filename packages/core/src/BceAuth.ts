/**
 * Baidu Cloud `bce-auth-v1` (Qianfan console API and BOS) as pure functions.
 *
 * Choices where the sources differ (all follow `bce-sdk-js`, our differential oracle, and the official doc):
 * - Headers signed by default: `host`, `content-md5`, `content-length`, `content-type` and every `x-bce-*`
 *   (including `x-bce-request-id`, which the Go SDK skips). Headers with an empty value are never signed.
 * - Canonical query and headers are sorted as whole encoded `name=value` / `name:value` strings, which is what the
 *   doc and the JS SDK do; `signedHeaders` keeps that order.
 * - Repeated query names produce one entry per occurrence (no SDK sends them; the JS SDK cannot represent them).
 *
 * @since 0.1.0
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { normalizePath, parseQuery, uriEncode } from "./internal/encoding.js"

/**
 * The signature lifetime when none is given.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultExpirationSeconds = 1800

/**
 * Headers signed when none are named (and when an `Authorization` lists none).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultHeadersToSign: ReadonlyArray<string> = ["host", "content-md5", "content-length", "content-type"]

/**
 * A request as it travels: raw (percent-encoded) path and query, lowercase header names.
 *
 * @since 0.1.0
 * @category models
 */
export interface BceInput {
  readonly method: string
  readonly path: string
  readonly query: string
  readonly headers: Readonly<Record<string, string>>
}

/**
 * `yyyy-mm-ddThh:mm:ssZ` for epoch milliseconds.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const formatTimestamp = (epochMillis: number): string => new Date(epochMillis).toISOString().slice(0, 19) + "Z"

/**
 * Parses `yyyy-mm-ddThh:mm:ssZ` into epoch milliseconds (`undefined` when malformed).
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const parseTimestamp = (value: string): number | undefined => {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(value)) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * `UriEncodeExceptSlash` of the decoded path; an empty path is `/`.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const canonicalUri = (wirePath: string): string => normalizePath(wirePath === "" ? "/" : wirePath)

/**
 * Every `UriEncode(name)=UriEncode(value)` except `authorization`, sorted as strings and joined with `&`.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const canonicalQuery = (rawQuery: string): string => {
  const pairs = parseQuery(rawQuery)
  const out: Array<string> = []
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!
    if (name.toLowerCase() === "authorization") continue
    out.push(name + "=" + value)
  }
  return out.sort().join("&")
}

/**
 * The canonical headers and the names signed. `headersToSign` (lowercase) plus every `x-bce-*` header are signed;
 * without `headersToSign`, {@link defaultHeadersToSign}.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const canonicalHeaders = (
  headers: Readonly<Record<string, string>>,
  headersToSign?: ReadonlyArray<string>
): { readonly canonical: string; readonly signedHeaders: ReadonlyArray<string> } => {
  const wanted = headersToSign !== undefined && headersToSign.length > 0 ? headersToSign : defaultHeadersToSign
  const lines: Array<string> = []
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase()
    if (!(lower.startsWith("x-bce-") || wanted.includes(lower))) continue
    const value = headers[name]!.trim()
    if (value === "") continue
    lines.push(uriEncode(lower) + ":" + uriEncode(value))
  }
  lines.sort()
  return { canonical: lines.join("\n"), signedHeaders: lines.map((line) => line.slice(0, line.indexOf(":"))) }
}

/**
 * `bce-auth-v1/{accessKeyId}/{timestamp}/{expirationSeconds}`.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const authStringPrefix = (accessKeyId: string, timestamp: string, expirationSeconds: number): string =>
  "bce-auth-v1/" + accessKeyId + "/" + timestamp + "/" + expirationSeconds

/**
 * `HMAC-SHA256-HEX(secret, authStringPrefix)`: the hex string is itself the next key.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const signingKey = (secret: string, prefix: string): string =>
  createHmac("sha256", secret).update(prefix).digest("hex")

/**
 * `method \n uri \n query \n headers`.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const canonicalRequest = (input: BceInput, canonicalHeadersBlock: string): string =>
  input.method.toUpperCase() + "\n" + canonicalUri(input.path) + "\n" + canonicalQuery(input.query) + "\n" +
  canonicalHeadersBlock

/**
 * @since 0.1.0
 * @category models
 */
export interface AuthorizationResult {
  readonly authorization: string
  readonly canonicalRequest: string
  readonly signingKey: string
}

/**
 * Computes the `Authorization` value. An empty signed-header list gives the `prefix//signature` form.
 *
 * @since 0.1.0
 * @category signing
 */
export const authorization = (
  input: BceInput,
  credentials: { readonly accessKeyId: string; readonly secretAccessKey: string },
  epochMillis: number,
  options?: {
    readonly expirationSeconds?: number | undefined
    readonly headersToSign?: ReadonlyArray<string> | undefined
  }
): AuthorizationResult => {
  const prefix = authStringPrefix(
    credentials.accessKeyId,
    formatTimestamp(epochMillis),
    options?.expirationSeconds ?? defaultExpirationSeconds
  )
  const key = signingKey(credentials.secretAccessKey, prefix)
  const { canonical, signedHeaders } = canonicalHeaders(input.headers, options?.headersToSign)
  const request = canonicalRequest(input, canonical)
  const sig = createHmac("sha256", key).update(request).digest("hex")
  return {
    authorization: prefix + "/" + signedHeaders.join(";") + "/" + sig,
    canonicalRequest: request,
    signingKey: key
  }
}

/**
 * The parts of a `bce-auth-v1` authorization string.
 *
 * @since 0.1.0
 * @category verification
 */
export interface ParsedAuthorization {
  readonly accessKeyId: string
  readonly timestamp: string
  readonly epochMillis: number
  readonly expirationSeconds: number
  readonly signedHeaders: ReadonlyArray<string>
  readonly signature: string
}

/**
 * Parses `bce-auth-v1/ak/timestamp/expiration/signedHeaders/signature`; `undefined` when malformed.
 *
 * @since 0.1.0
 * @category verification
 */
export const parseAuthorization = (value: string): ParsedAuthorization | undefined => {
  const parts = value.trim().split("/")
  if (parts.length !== 6 || parts[0] !== "bce-auth-v1" || parts[1] === "") return undefined
  const epochMillis = parseTimestamp(parts[2]!)
  if (epochMillis === undefined || !/^\d+$/.test(parts[3]!) || !/^[0-9a-f]{64}$/.test(parts[5]!)) return undefined
  return {
    accessKeyId: parts[1]!,
    timestamp: parts[2]!,
    epochMillis,
    expirationSeconds: Number(parts[3]),
    signedHeaders: parts[4] === "" ? [] : parts[4]!.split(";"),
    signature: parts[5]!
  }
}

/**
 * Recomputes the signature of an arrived request and compares it in constant time. When the authorization lists
 * no headers, the default set is used, as the doc specifies.
 *
 * @since 0.1.0
 * @category verification
 */
export const signatureMatches = (input: BceInput, parsed: ParsedAuthorization, secret: string): boolean => {
  const prefix = authStringPrefix(parsed.accessKeyId, parsed.timestamp, parsed.expirationSeconds)
  let block: string
  if (parsed.signedHeaders.length === 0) {
    block = canonicalHeaders(input.headers).canonical
  } else {
    const lines: Array<string> = []
    for (const name of parsed.signedHeaders) {
      lines.push(uriEncode(name) + ":" + uriEncode((input.headers[name] ?? "").trim()))
    }
    block = lines.sort().join("\n")
  }
  const expected = createHmac("sha256", signingKey(secret, prefix)).update(canonicalRequest(input, block)).digest("hex")
  return timingSafeEqual(Buffer.from(expected, "latin1"), Buffer.from(parsed.signature, "latin1"))
}
