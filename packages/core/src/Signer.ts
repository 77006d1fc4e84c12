/**
 * Request signing: one service shape, several schemes (Volcengine OpenAPI, TOS, AWS SigV4, `bce-auth-v1`, Bearer).
 *
 * A signer is applied last, after the body is final. It reads the time from `Clock` (so `TestClock` pins it),
 * signs the URL the client will actually send (base URL, path, `urlParams`) and the final body bytes, and unwraps
 * the secret only inside the signing call.
 *
 * @example
 * ```ts
 * import { Signer } from "@barge/core"
 * import { Config, Redacted } from "effect"
 *
 * const signer = Signer.volcengine({
 *   accessKeyId: "AK...",
 *   secretAccessKey: Redacted.make("SK..."),
 *   region: "cn-beijing",
 *   service: "ark"
 * })
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as BceAuth from "./BceAuth.js"
import * as SignatureV4 from "./SignatureV4.js"

/**
 * Raised when a request cannot be signed (for example a streamed body under a scheme that must hash it).
 *
 * @since 0.1.0
 * @category errors
 */
export class SignerError extends Schema.TaggedError<SignerError>("@barge/core/SignerError")("SignerError", {
  scheme: Schema.String,
  message: Schema.String
}) {}

/**
 * Signs an outgoing request, returning the request with its auth headers set.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly scheme: string
  /** Headers this scheme puts secrets or signatures in: the transport redacts them in logs, spans and errors. */
  readonly redactedHeaders: ReadonlyArray<string | RegExp>
  /** The request with this scheme's auth headers set, for the body it carries now. */
  readonly sign: (
    request: HttpClientRequest.HttpClientRequest
  ) => Effect.Effect<HttpClientRequest.HttpClientRequest, SignerError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Signer extends Context.Tag("@barge/core/Signer")<Signer, Service>() {}

interface WireRequest {
  readonly url: URL
  readonly headers: Record<string, string>
}

/** The URL the client will send (`urlParams` merged the way the client merges them) and lowercase headers. */
const wireRequest = (scheme: string, request: HttpClientRequest.HttpClientRequest) => {
  const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
  if (Either.isLeft(url)) {
    return Effect.fail(
      new SignerError({ scheme, message: `Cannot sign a request with an invalid URL: ${url.left.message}` })
    )
  }
  const headers: Record<string, string> = {}
  for (const name of Object.keys(request.headers)) headers[name.toLowerCase()] = request.headers[name]!
  // The HTTP client sends the URL's host (with the port when it is not the default), so that is what gets signed.
  headers.host = url.right.host
  return Effect.succeed<WireRequest>({ url: url.right, headers })
}

/** Payload hash of the final body; `undefined` when the body cannot be hashed without consuming it. */
const bodyHash = (body: HttpBody.HttpBody): string | undefined => {
  switch (body._tag) {
    case "Empty":
      return SignatureV4.payloadHash(new Uint8Array(0))
    case "Uint8Array":
      return SignatureV4.payloadHash(body.body)
    case "Raw":
      return typeof body.body === "string"
        ? SignatureV4.payloadHash(Buffer.from(body.body, "utf8"))
        : body.body instanceof Uint8Array
        ? SignatureV4.payloadHash(body.body)
        : undefined
    default:
      return undefined
  }
}

const withHeaders = (request: HttpClientRequest.HttpClientRequest, headers: Record<string, string>) =>
  HttpClientRequest.setHeaders(request, headers)

/**
 * Options shared by the V4-family signers.
 *
 * @since 0.1.0
 * @category models
 */
export interface V4Options {
  readonly accessKeyId: string
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string> | undefined
}

const makeV4 = (
  name: string,
  scheme: SignatureV4.V4Scheme,
  options: V4Options,
  unsignedPayload: boolean,
  redactedHeaders: ReadonlyArray<string | RegExp>
): Service => {
  const cache = SignatureV4.makeKeyCache()
  return {
    scheme: name,
    redactedHeaders,
    sign: (request) =>
      Effect.flatMap(wireRequest(name, request), (wire) => {
        let payloadHash = unsignedPayload ? SignatureV4.UNSIGNED_PAYLOAD : bodyHash(request.body)
        if (payloadHash === undefined) {
          if (!scheme.allowsUnsignedPayload) {
            return Effect.fail(
              new SignerError({
                scheme: name,
                message: `${name} signs the body hash, but this request has a ${request.body._tag} body; ` +
                  "buffer it into a Uint8Array body before signing."
              })
            )
          }
          payloadHash = SignatureV4.UNSIGNED_PAYLOAD
        }
        const hash = payloadHash
        return Effect.map(Clock.currentTimeMillis, (now) => {
          const result = SignatureV4.sign(
            scheme,
            {
              method: request.method,
              path: wire.url.pathname,
              query: wire.url.search.slice(1),
              headers: wire.headers,
              payloadHash: hash
            },
            {
              accessKeyId: options.accessKeyId,
              secretAccessKey: Redacted.value(options.secretAccessKey),
              sessionToken: options.sessionToken === undefined ? undefined : Redacted.value(options.sessionToken)
            },
            now,
            cache
          )
          return withHeaders(request, result.headers)
        })
      })
  }
}

/**
 * Volcengine OpenAPI `HMAC-SHA256` (Ark control plane). Signs `host` and every `x-*` header; a streamed body is
 * an error because the scheme always hashes the payload.
 *
 * @since 0.1.0
 * @category constructors
 */
export const volcengine = (options: V4Options & { readonly region: string; readonly service: string }): Service =>
  makeV4("volcengine", SignatureV4.volcengineScheme(options), options, false, ["authorization", "x-security-token"])

/**
 * TOS native `TOS4-HMAC-SHA256`. With `unsignedPayload` (or a streamed body) the payload hash is `UNSIGNED-PAYLOAD`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const tos = (
  options: V4Options & { readonly region: string; readonly unsignedPayload?: boolean | undefined }
): Service =>
  makeV4("tos", SignatureV4.tosScheme(options), options, options.unsignedPayload ?? false, [
    "authorization",
    "x-tos-security-token",
    /^x-tos-.*(signature|credential|token)/
  ])

/**
 * AWS Signature V4 (S3-compatible TOS/BOS endpoints).
 *
 * @since 0.1.0
 * @category constructors
 */
export const awsV4 = (
  options: V4Options & {
    readonly region: string
    readonly service: string
    readonly unsignedPayload?: boolean | undefined
    readonly uriEscapePath?: boolean | undefined
  }
): Service =>
  makeV4(
    "aws-v4",
    SignatureV4.awsScheme(
      options.uriEscapePath === undefined
        ? { region: options.region, service: options.service }
        : { region: options.region, service: options.service, uriEscapePath: options.uriEscapePath }
    ),
    options,
    options.unsignedPayload ?? false,
    ["authorization", "x-amz-security-token", /^x-amz-.*(signature|credential|token)/]
  )

/**
 * Options of the `bce-auth-v1` signer.
 *
 * @since 0.1.0
 * @category models
 */
export interface BceOptions {
  readonly accessKeyId: string
  readonly secretAccessKey: Redacted.Redacted<string>
  /** Signature lifetime; default 1800 s. */
  readonly expirationSeconds?: number | undefined
  /**
   * Lowercase names signed besides every `x-bce-*`; default `host`, `content-md5`, `content-length`,
   * `content-type` (those the request carries).
   */
  readonly headersToSign?: ReadonlyArray<string> | undefined
}

/**
 * Baidu `bce-auth-v1` (Qianfan console API, BOS). Sets `x-bce-date`; the body is not part of the signature.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bce = (options: BceOptions): Service => ({
  scheme: "bce",
  redactedHeaders: ["authorization", /^x-bce-/],
  sign: (request) =>
    Effect.flatMap(wireRequest("bce", request), (wire) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const date = BceAuth.formatTimestamp(now)
        wire.headers["x-bce-date"] = date
        const result = BceAuth.authorization(
          { method: request.method, path: wire.url.pathname, query: wire.url.search.slice(1), headers: wire.headers },
          { accessKeyId: options.accessKeyId, secretAccessKey: Redacted.value(options.secretAccessKey) },
          now,
          { expirationSeconds: options.expirationSeconds, headersToSign: options.headersToSign }
        )
        return withHeaders(request, { "x-bce-date": date, authorization: result.authorization })
      }))
})

/**
 * `Authorization: Bearer <token>` (Moonshot, OpenAI-compatible APIs).
 *
 * @since 0.1.0
 * @category constructors
 */
export const bearer = (token: Redacted.Redacted<string>): Service => ({
  scheme: "bearer",
  redactedHeaders: ["authorization"],
  sign: (request) => Effect.succeed(HttpClientRequest.bearerToken(request, token))
})

/**
 * Provides a signer as the `Signer` service.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (service: Service): Layer.Layer<Signer> => Layer.succeed(Signer, service)
