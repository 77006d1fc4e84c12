/**
 * Server-side verification of signed requests, for the emulator: it accepts requests signed by Barge's signers and
 * by the official SDKs, because everything is canonicalised from what arrived on the wire.
 *
 * @since 0.1.0
 */
import * as BceAuth from "@barge/core/BceAuth"
import * as SignatureV4 from "@barge/core/SignatureV4"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { createHash, timingSafeEqual } from "node:crypto"

/**
 * A request as the server received it.
 *
 * @since 0.1.0
 * @category models
 */
export interface IncomingRequest {
  readonly method: string
  /** The raw path, still percent-encoded, without the query. */
  readonly path: string
  /** The raw query string without `?` (empty when none). */
  readonly query: string
  /** Header names lowercased. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

/**
 * Why verification failed.
 *
 * @since 0.1.0
 * @category models
 */
export const FailureReason = Schema.Literal(
  "MissingAuthorization",
  "MalformedAuthorization",
  "UnknownAccessKey",
  "SignatureMismatch",
  "Expired",
  "MissingDate"
)

/**
 * @since 0.1.0
 * @category models
 */
export type FailureReason = typeof FailureReason.Type

/**
 * A request that failed authentication; `message` says what to fix.
 *
 * @since 0.1.0
 * @category errors
 */
export class VerificationFailure extends Schema.TaggedError<VerificationFailure>("@barge/core/VerificationFailure")(
  "VerificationFailure",
  { scheme: Schema.String, reason: FailureReason, message: Schema.String }
) {}

/**
 * Looks up the secret of an access key; `undefined` for an unknown key.
 *
 * @since 0.1.0
 * @category models
 */
export type SecretLookup = (accessKeyId: string) => Redacted.Redacted<string> | undefined

/**
 * @since 0.1.0
 * @category models
 */
export interface Verified {
  readonly accessKeyId: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface V4Options {
  readonly lookupSecret: SecretLookup
  /** The server's current time (epoch milliseconds; read it from `Clock`). */
  readonly now: number
  /** Largest accepted distance between the request date and `now`; default 15 minutes. */
  readonly maxSkewMillis?: number
  /** When set, the credential scope must name this region. */
  readonly region?: string
  /** When set, the credential scope must name this service. */
  readonly service?: string
}

const fifteenMinutes = 15 * 60 * 1000

const fail = (scheme: string, reason: FailureReason, message: string) =>
  Either.left(new VerificationFailure({ scheme, reason, message }))

const verifyV4 = (
  family: "volcengine" | "tos" | "aws",
  request: IncomingRequest,
  options: V4Options
): Either.Either<Verified, VerificationFailure> => {
  const header = request.headers.authorization
  if (header === undefined || header === "") {
    return fail(family, "MissingAuthorization", "The request has no Authorization header; sign it before sending.")
  }
  const parsed = SignatureV4.parseAuthorization(header)
  if (parsed === undefined) {
    return fail(
      family,
      "MalformedAuthorization",
      "The Authorization header is not `ALGORITHM Credential=AK/date/region/service/request, SignedHeaders=..., Signature=...`."
    )
  }
  const scheme = family === "volcengine"
    ? SignatureV4.volcengineScheme({ region: parsed.region, service: parsed.service })
    : family === "tos"
    ? SignatureV4.tosScheme({ region: parsed.region })
    : SignatureV4.awsScheme({ region: parsed.region, service: parsed.service })
  if (parsed.algorithm !== scheme.algorithm || parsed.terminator !== scheme.terminator) {
    return fail(
      family,
      "MalformedAuthorization",
      `Expected algorithm ${scheme.algorithm} with scope terminator ${scheme.terminator}, got ${parsed.algorithm} and ${parsed.terminator}.`
    )
  }
  if (parsed.service !== scheme.service || (options.service !== undefined && parsed.service !== options.service)) {
    return fail(
      family,
      "MalformedAuthorization",
      `The credential scope names service "${parsed.service}"; this endpoint is "${options.service ?? scheme.service}".`
    )
  }
  if (options.region !== undefined && parsed.region !== options.region) {
    return fail(
      family,
      "MalformedAuthorization",
      `The credential scope names region "${parsed.region}"; this endpoint serves "${options.region}".`
    )
  }
  const dateTime = request.headers[scheme.dateHeader]
  if (dateTime === undefined) {
    return fail(family, "MissingDate", `The request has no ${scheme.dateHeader} header (format YYYYMMDDTHHMMSSZ).`)
  }
  const signedAt = SignatureV4.parseDateTime(dateTime)
  if (signedAt === undefined || dateTime.slice(0, 8) !== parsed.shortDate) {
    return fail(
      family,
      "MalformedAuthorization",
      `The ${scheme.dateHeader} header "${dateTime}" is malformed or disagrees with the credential scope date ${parsed.shortDate}.`
    )
  }
  const skew = options.maxSkewMillis ?? fifteenMinutes
  if (Math.abs(options.now - signedAt) > skew) {
    return fail(
      family,
      "Expired",
      `The request was signed at ${dateTime}, more than ${Math.round(skew / 1000)} s from the server time ${
        SignatureV4.formatDateTime(options.now)
      }; check the client clock.`
    )
  }
  for (const name of parsed.signedHeaders) {
    if (request.headers[name] === undefined) {
      return fail(family, "MalformedAuthorization", `SignedHeaders lists "${name}", which the request does not carry.`)
    }
  }
  const secret = options.lookupSecret(parsed.accessKeyId)
  if (secret === undefined) {
    return fail(family, "UnknownAccessKey", `The access key "${parsed.accessKeyId}" is not known to this server.`)
  }
  const bodyHash = createHash("sha256").update(request.body).digest("hex")
  const declared = request.headers[scheme.contentHashHeader]
  let payloadHash = bodyHash
  if (declared !== undefined) {
    if (declared === SignatureV4.UNSIGNED_PAYLOAD && scheme.allowsUnsignedPayload) {
      payloadHash = declared
    } else if (declared !== bodyHash) {
      return fail(
        family,
        "SignatureMismatch",
        `The ${scheme.contentHashHeader} header does not match the SHA-256 of the body received.`
      )
    }
  }
  const input: SignatureV4.SigningInput = {
    method: request.method,
    path: request.path,
    query: request.query,
    headers: request.headers,
    payloadHash
  }
  if (!SignatureV4.signatureMatches(scheme, input, parsed, Redacted.value(secret), dateTime)) {
    return fail(
      family,
      "SignatureMismatch",
      "The signature does not match the request received; check the secret key and that nothing changed the request after signing."
    )
  }
  return Either.right({ accessKeyId: parsed.accessKeyId })
}

/**
 * Verifies a Volcengine OpenAPI `HMAC-SHA256` request.
 *
 * @since 0.1.0
 * @category verification
 */
export const verifyVolcengine = (request: IncomingRequest, options: V4Options) =>
  verifyV4("volcengine", request, options)

/**
 * Verifies a TOS `TOS4-HMAC-SHA256` request (`UNSIGNED-PAYLOAD` accepted).
 *
 * @since 0.1.0
 * @category verification
 */
export const verifyTos = (request: IncomingRequest, options: V4Options) => verifyV4("tos", request, options)

/**
 * Verifies an AWS SigV4 request (for S3-compatible endpoints).
 *
 * @since 0.1.0
 * @category verification
 */
export const verifyAws = (request: IncomingRequest, options: V4Options) => verifyV4("aws", request, options)

/**
 * @since 0.1.0
 * @category models
 */
export interface BceOptions {
  readonly lookupSecret: SecretLookup
  readonly now: number
  /** Tolerated clock difference on either side of the validity window; default 15 minutes. */
  readonly maxSkewMillis?: number
}

/**
 * Verifies a `bce-auth-v1` request: valid from `timestamp - skew` to `timestamp + expirationSeconds + skew`.
 *
 * @since 0.1.0
 * @category verification
 */
export const verifyBce = (
  request: IncomingRequest,
  options: BceOptions
): Either.Either<Verified, VerificationFailure> => {
  const header = request.headers.authorization
  if (header === undefined || header === "") {
    return fail("bce", "MissingAuthorization", "The request has no Authorization header; sign it with bce-auth-v1.")
  }
  const parsed = BceAuth.parseAuthorization(header)
  if (parsed === undefined) {
    return fail(
      "bce",
      "MalformedAuthorization",
      "The Authorization header is not `bce-auth-v1/AK/yyyy-mm-ddThh:mm:ssZ/expirationSeconds/signedHeaders/signature`."
    )
  }
  const skew = options.maxSkewMillis ?? fifteenMinutes
  if (
    options.now < parsed.epochMillis - skew || options.now > parsed.epochMillis + parsed.expirationSeconds * 1000 + skew
  ) {
    return fail(
      "bce",
      "Expired",
      `The signature from ${parsed.timestamp} valid for ${parsed.expirationSeconds} s is outside its window at server time ${
        BceAuth.formatTimestamp(options.now)
      }.`
    )
  }
  const secret = options.lookupSecret(parsed.accessKeyId)
  if (secret === undefined) {
    return fail("bce", "UnknownAccessKey", `The access key "${parsed.accessKeyId}" is not known to this server.`)
  }
  if (!BceAuth.signatureMatches(request, parsed, Redacted.value(secret))) {
    return fail(
      "bce",
      "SignatureMismatch",
      "The signature does not match the request received; check the secret key and the signed headers."
    )
  }
  return Either.right({ accessKeyId: parsed.accessKeyId })
}

/**
 * A bearer token the server accepts, and the identity it stands for.
 *
 * @since 0.1.0
 * @category models
 */
export interface BearerToken {
  readonly accessKeyId: string
  readonly token: Redacted.Redacted<string>
}

const digest = (s: string): Buffer => createHash("sha256").update(s).digest()

/**
 * Verifies `Authorization: Bearer <token>` against every known token, comparing fixed-length digests in constant
 * time so neither the token's content nor its length leaks through timing.
 *
 * @since 0.1.0
 * @category verification
 */
export const verifyBearer = (
  request: IncomingRequest,
  tokens: Iterable<BearerToken>
): Either.Either<Verified, VerificationFailure> => {
  const header = request.headers.authorization
  if (header === undefined || header === "") {
    return fail(
      "bearer",
      "MissingAuthorization",
      "The request has no Authorization header; send `Authorization: Bearer <api key>`."
    )
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (match === null) {
    return fail("bearer", "MalformedAuthorization", "The Authorization header is not `Bearer <api key>`.")
  }
  const presented = digest(match[1]!)
  let found: string | undefined
  for (const entry of tokens) {
    if (timingSafeEqual(presented, digest(Redacted.value(entry.token))) && found === undefined) {
      found = entry.accessKeyId
    }
  }
  return found === undefined
    ? fail("bearer", "UnknownAccessKey", "The API key is not known to this server.")
    : Either.right({ accessKeyId: found })
}
