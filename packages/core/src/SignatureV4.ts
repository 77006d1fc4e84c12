/**
 * The V4 signing family as pure functions: Volcengine OpenAPI `HMAC-SHA256`, TOS `TOS4-HMAC-SHA256` and AWS SigV4.
 *
 * The three schemes share one algorithm (canonical request → string to sign → derived key → HMAC) and differ only
 * in names, prefixes and which headers they sign, so a {@link V4Scheme} value carries those differences and every
 * step below is written once.
 *
 * Headers each scheme signs (the server side verifies whatever `SignedHeaders` lists, so these are *our* choices):
 * - Volcengine: `host` and every `x-*` header (`x-date`, `x-content-sha256`, `x-security-token`, ...). The Node SDK
 *   signs everything except `content-type`/`content-length`/`user-agent`/...; the Go and Python SDKs sign
 *   `content-type`, `content-md5`, `host` and `x-*`. `host` + `x-*` is what both agree on.
 * - TOS: `host` and every `x-tos-*` header (TOS JS SDK).
 * - AWS: `host`, `content-md5` and every `x-amz-*` header (the set S3 requires; smithy signs more, which any
 *   server accepts because it is listed in `SignedHeaders`).
 *
 * @since 0.1.0
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import {
  compareStrings,
  emptySha256,
  normalizePath,
  parseQuery,
  percentDecode,
  sha256Hex,
  trimAll,
  uriEncode
} from "./internal/encoding.js"

/**
 * Everything that distinguishes one V4-family scheme from another.
 *
 * @since 0.1.0
 * @category models
 */
export interface V4Scheme {
  /** The first token of `Authorization` and of the string to sign, e.g. `HMAC-SHA256`. */
  readonly algorithm: string
  readonly region: string
  readonly service: string
  /** Lowercase name of the `YYYYMMDDTHHMMSSZ` date header, e.g. `x-date`. */
  readonly dateHeader: string
  /** Lowercase name of the payload-hash header, e.g. `x-content-sha256`. */
  readonly contentHashHeader: string
  /** Lowercase name of the STS session-token header. */
  readonly securityTokenHeader: string
  /** Prepended to the secret before the first HMAC (`"AWS4"` for AWS, empty for Volcengine and TOS). */
  readonly secretPrefix: string
  /** The last credential-scope element (`request` or `aws4_request`). */
  readonly terminator: string
  /** Whether a (lowercase) header name is signed by our signer. */
  readonly signsHeader: (name: string) => boolean
  /**
   * `single`: the decoded path re-encoded once (Volcengine, TOS, S3). `double`: smithy's default for non-S3 AWS
   * services — dot segments and empty segments removed, then the wire path encoded again.
   */
  readonly pathEncoding: "single" | "double"
  /** Whether a streamed body may be signed as `UNSIGNED-PAYLOAD` (TOS, AWS). */
  readonly allowsUnsignedPayload: boolean
  /**
   * The header-value "trimall": Volcengine and TOS SDKs collapse any whitespace (`\s+`); AWS (and smithy) only
   * spaces and tabs, after turning line breaks into spaces.
   */
  readonly trimHeaderValue: (value: string) => string
}

const awsTrimAll = (value: string): string =>
  value.replace(/[\r\n]/g, " ").replace(/[ \t]+/g, " ").replace(/^ | $/g, "")

/**
 * The payload-hash value for a body that is not hashed.
 *
 * @since 0.1.0
 * @category constants
 */
export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

/**
 * Volcengine OpenAPI `HMAC-SHA256` (Ark control plane, IAM, billing ...).
 *
 * @since 0.1.0
 * @category schemes
 */
export const volcengineScheme = (options: { readonly region: string; readonly service: string }): V4Scheme => ({
  algorithm: "HMAC-SHA256",
  region: options.region,
  service: options.service,
  dateHeader: "x-date",
  contentHashHeader: "x-content-sha256",
  securityTokenHeader: "x-security-token",
  secretPrefix: "",
  terminator: "request",
  signsHeader: (name) => name === "host" || name.startsWith("x-"),
  pathEncoding: "single",
  allowsUnsignedPayload: false,
  trimHeaderValue: trimAll
})

/**
 * TOS native `TOS4-HMAC-SHA256` (service `tos`).
 *
 * @since 0.1.0
 * @category schemes
 */
export const tosScheme = (options: { readonly region: string }): V4Scheme => ({
  algorithm: "TOS4-HMAC-SHA256",
  region: options.region,
  service: "tos",
  dateHeader: "x-tos-date",
  contentHashHeader: "x-tos-content-sha256",
  securityTokenHeader: "x-tos-security-token",
  secretPrefix: "",
  terminator: "request",
  signsHeader: (name) => name === "host" || name.startsWith("x-tos-"),
  pathEncoding: "single",
  allowsUnsignedPayload: true,
  trimHeaderValue: trimAll
})

/**
 * AWS Signature V4. `uriEscapePath` defaults to `true` except for `s3`, as in the AWS SDKs.
 *
 * @since 0.1.0
 * @category schemes
 */
export const awsScheme = (
  options: { readonly region: string; readonly service: string; readonly uriEscapePath?: boolean }
): V4Scheme => ({
  algorithm: "AWS4-HMAC-SHA256",
  region: options.region,
  service: options.service,
  dateHeader: "x-amz-date",
  contentHashHeader: "x-amz-content-sha256",
  securityTokenHeader: "x-amz-security-token",
  secretPrefix: "AWS4",
  terminator: "aws4_request",
  signsHeader: (name) => name === "host" || name === "content-md5" || name.startsWith("x-amz-"),
  pathEncoding: (options.uriEscapePath ?? options.service !== "s3") ? "double" : "single",
  allowsUnsignedPayload: true,
  trimHeaderValue: awsTrimAll
})

/**
 * A request as it will travel: the path and query exactly as on the wire (still percent-encoded), lowercase header
 * names, and the payload hash (hex SHA-256 of the body, or {@link UNSIGNED_PAYLOAD}).
 *
 * @since 0.1.0
 * @category models
 */
export interface SigningInput {
  readonly method: string
  readonly path: string
  readonly query: string
  readonly headers: Readonly<Record<string, string>>
  readonly payloadHash: string
}

/**
 * Plain credentials, unwrapped only for the duration of one signing call.
 *
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
}

/**
 * `YYYYMMDDTHHMMSSZ` for an epoch-millisecond time.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const formatDateTime = (epochMillis: number): string => {
  const iso = new Date(epochMillis).toISOString() // 2024-06-19T07:13:06.123Z
  return iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 13) + iso.slice(14, 16) + iso.slice(17, 19) + "Z"
}

/**
 * Parses `YYYYMMDDTHHMMSSZ` into epoch milliseconds (`undefined` when malformed).
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const parseDateTime = (value: string): number | undefined => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (m === null) return undefined
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * The canonical URI: the wire path decoded and re-encoded with the RFC 3986 unreserved set.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const canonicalUri = (scheme: V4Scheme, wirePath: string): string => {
  if (scheme.pathEncoding === "single") {
    // The TOS SDK sends a key's `/` as `%2F` but signs it as `/` (`getEncodePath`), and TOS accepts that.
    return scheme.algorithm === "TOS4-HMAC-SHA256"
      ? normalizePath(wirePath).replace(/%2F/gi, "/")
      : normalizePath(wirePath)
  }
  // smithy's `uriEscapePath`: normalise dot and empty segments, then encode the (already encoded) path again.
  const segments: Array<string> = []
  for (const segment of wirePath.split("/")) {
    if (segment === "" || segment === ".") continue
    if (segment === "..") segments.pop()
    else segments.push(segment)
  }
  const normalized = (wirePath.startsWith("/") ? "/" : "") + segments.join("/") +
    (segments.length > 0 && wirePath.endsWith("/") ? "/" : "")
  return uriEncode(normalized).replace(/%2F/g, "/")
}

/**
 * The canonical query: pairs decoded from the wire, re-encoded, sorted by encoded name and then by encoded value
 * (the Node SDK and smithy both sort repeated names by value; the Volcengine doc's "keep original order" would make
 * the result depend on the client, which a verifier cannot know).
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const canonicalQuery = (rawQuery: string): string => {
  const pairs = parseQuery(rawQuery)
  if (pairs.length === 0) return ""
  const encoded = pairs
  if (encoded.length > 1) {
    encoded.sort((a, b) => compareStrings(a[0], b[0]) || compareStrings(a[1], b[1]))
  }
  let out = encoded[0]![0] + "=" + encoded[0]![1]
  for (let i = 1; i < encoded.length; i++) out += "&" + encoded[i]![0] + "=" + encoded[i]![1]
  return out
}

/**
 * The canonical headers block (each `name:trimall(value)\n`) and the `SignedHeaders` list for the given names.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const canonicalHeaders = (
  scheme: V4Scheme,
  headers: Readonly<Record<string, string>>,
  signedNames: ReadonlyArray<string>
): { readonly canonical: string; readonly signedHeaders: string } => {
  let canonical = ""
  for (let i = 0; i < signedNames.length; i++) {
    const name = signedNames[i]!
    canonical += name + ":" + scheme.trimHeaderValue(headers[name] ?? "") + "\n"
  }
  return { canonical, signedHeaders: signedNames.join(";") }
}

/**
 * The six-line canonical request.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const canonicalRequest = (
  scheme: V4Scheme,
  input: SigningInput,
  signedNames: ReadonlyArray<string>
): string => {
  const { canonical, signedHeaders } = canonicalHeaders(scheme, input.headers, signedNames)
  return input.method.toUpperCase() + "\n" + canonicalUri(scheme, input.path) + "\n" + canonicalQuery(input.query) +
    "\n" + canonical + "\n" + signedHeaders + "\n" + input.payloadHash
}

/**
 * `YYYYMMDD/region/service/terminator`.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const credentialScope = (scheme: V4Scheme, shortDate: string): string =>
  shortDate + "/" + scheme.region + "/" + scheme.service + "/" + scheme.terminator

/**
 * `algorithm \n dateTime \n scope \n hex(sha256(canonicalRequest))`.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const stringToSign = (scheme: V4Scheme, dateTime: string, scope: string, canonical: string): string =>
  scheme.algorithm + "\n" + dateTime + "\n" + scope + "\n" + sha256Hex(canonical)

/**
 * The derived key `HMAC(HMAC(HMAC(HMAC(prefix + secret, date), region), service), terminator)`.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const signingKey = (scheme: V4Scheme, secret: string, shortDate: string): Buffer => {
  const kDate = createHmac("sha256", scheme.secretPrefix + secret).update(shortDate).digest()
  const kRegion = createHmac("sha256", kDate).update(scheme.region).digest()
  const kService = createHmac("sha256", kRegion).update(scheme.service).digest()
  return createHmac("sha256", kService).update(scheme.terminator).digest()
}

/**
 * Hex HMAC of the string to sign.
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const signature = (key: Buffer, toSign: string): string => createHmac("sha256", key).update(toSign).digest("hex")

/**
 * Remembers the derived key for the last date seen, so a signer pays four HMACs once a day instead of per request.
 * One cache belongs to one secret (a signer instance); it never holds the secret itself.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyCache {
  shortDate: string
  key: Buffer | undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const makeKeyCache = (): KeyCache => ({ shortDate: "", key: undefined })

/**
 * The headers our signer adds (date, payload hash, session token) merged over the request's own.
 *
 * @since 0.1.0
 * @category signing
 */
export interface SignResult {
  /** The `Authorization` value. */
  readonly authorization: string
  /** Headers to set on the request (lowercase names), `authorization` included. */
  readonly headers: Record<string, string>
  readonly canonicalRequest: string
  readonly stringToSign: string
}

/**
 * Signs a request: adds the date, payload-hash and (for STS) session-token headers, then computes `Authorization`
 * over `host` and the scheme's signed headers.
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (
  scheme: V4Scheme,
  input: SigningInput,
  credentials: Credentials,
  epochMillis: number,
  cache?: KeyCache
): SignResult => {
  const dateTime = formatDateTime(epochMillis)
  const shortDate = dateTime.slice(0, 8)
  const added: Record<string, string> = {
    [scheme.dateHeader]: dateTime,
    [scheme.contentHashHeader]: input.payloadHash
  }
  if (credentials.sessionToken !== undefined) added[scheme.securityTokenHeader] = credentials.sessionToken
  const all: Record<string, string> = { ...input.headers, ...added }
  const signedNames = Object.keys(all).filter(scheme.signsHeader).sort()
  const canonical = canonicalRequest(scheme, { ...input, headers: all }, signedNames)
  const scope = credentialScope(scheme, shortDate)
  const toSign = stringToSign(scheme, dateTime, scope, canonical)
  let key: Buffer
  if (cache !== undefined && cache.key !== undefined && cache.shortDate === shortDate) {
    key = cache.key
  } else {
    key = signingKey(scheme, credentials.secretAccessKey, shortDate)
    if (cache !== undefined) {
      cache.shortDate = shortDate
      cache.key = key
    }
  }
  const authorization = scheme.algorithm + " Credential=" + credentials.accessKeyId + "/" + scope +
    ", SignedHeaders=" + signedNames.join(";") + ", Signature=" + signature(key, toSign)
  added.authorization = authorization
  return { authorization, headers: added, canonicalRequest: canonical, stringToSign: toSign }
}

/**
 * The parts of a V4 `Authorization` header.
 *
 * @since 0.1.0
 * @category verification
 */
export interface ParsedAuthorization {
  readonly algorithm: string
  readonly accessKeyId: string
  readonly shortDate: string
  readonly region: string
  readonly service: string
  readonly terminator: string
  readonly signedHeaders: ReadonlyArray<string>
  readonly signature: string
}

/**
 * Parses `ALG Credential=AK/date/region/service/term, SignedHeaders=a;b, Signature=hex` (spaces after commas
 * optional); `undefined` when the shape is wrong.
 *
 * @since 0.1.0
 * @category verification
 */
export const parseAuthorization = (value: string): ParsedAuthorization | undefined => {
  const space = value.indexOf(" ")
  if (space <= 0) return undefined
  const algorithm = value.slice(0, space)
  const fields: Record<string, string> = {}
  for (const part of value.slice(space + 1).split(",")) {
    const trimmed = part.trim()
    const eq = trimmed.indexOf("=")
    if (eq <= 0) return undefined
    fields[trimmed.slice(0, eq)] = trimmed.slice(eq + 1)
  }
  const credential = fields.Credential
  const signedHeaders = fields.SignedHeaders
  const sig = fields.Signature
  if (credential === undefined || signedHeaders === undefined || sig === undefined) return undefined
  const scope = credential.split("/")
  if (scope.length !== 5 || scope.some((s) => s === "")) return undefined
  if (!/^[0-9a-f]{64}$/.test(sig)) return undefined
  return {
    algorithm,
    accessKeyId: percentDecode(scope[0]!),
    shortDate: scope[1]!,
    region: scope[2]!,
    service: scope[3]!,
    terminator: scope[4]!,
    signedHeaders: signedHeaders === "" ? [] : signedHeaders.split(";"),
    signature: sig
  }
}

/**
 * Recomputes the signature of an arrived request for the scope its `Authorization` names and compares it in
 * constant time. Used by `Verifier`, which adds the error reporting and time window.
 *
 * @since 0.1.0
 * @category verification
 */
export const signatureMatches = (
  scheme: V4Scheme,
  input: SigningInput,
  parsed: ParsedAuthorization,
  secret: string,
  dateTime: string
): boolean => {
  const canonical = canonicalRequest(scheme, input, parsed.signedHeaders)
  const scope = credentialScope(scheme, parsed.shortDate)
  const expected = signature(
    signingKey(scheme, secret, parsed.shortDate),
    stringToSign(scheme, dateTime, scope, canonical)
  )
  return timingSafeEqual(Buffer.from(expected, "latin1"), Buffer.from(parsed.signature, "latin1"))
}

/**
 * Hex SHA-256 of a body (the empty body's hash is a constant).
 *
 * @since 0.1.0
 * @category canonicalisation
 */
export const payloadHash = (body: Uint8Array): string => body.length === 0 ? emptySha256 : sha256Hex(body)
