/**
 * Request signing: one service shape, several schemes.
 *
 * CONTRACT STUB — the Signer work replaces this file with the full family (Volcengine, TOS, AWS V4, BCE, Bearer).
 * The `Service` shape below is what `Transport` relies on.
 *
 * @since 0.1.0
 */
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/**
 * Raised when a request cannot be signed (for example a body that cannot be hashed).
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
  readonly sign: (
    request: HttpClientRequest.HttpClientRequest
  ) => Effect.Effect<HttpClientRequest.HttpClientRequest, SignerError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Signer extends Context.Tag("@barge/core/Signer")<Signer, Service>() {}
