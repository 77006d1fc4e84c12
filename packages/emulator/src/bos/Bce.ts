/**
 * What the two Baidu surfaces (the Qianfan console and BOS) share: `bce-auth-v1` verification with the core
 * `Verifier`, the `{requestId, code, message}` error envelope and the `x-bce-request-id` header.
 */
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { randomUUID } from "node:crypto"
import type { EmulatorContext } from "../internal/Context.js"
import * as Credentials from "../internal/Credentials.js"
import * as Http from "../internal/Http.js"
import * as Verifier from "../Verifier.js"

/** A BCE error: code, HTTP status and message. */
export interface BceError {
  readonly status: number
  readonly code: string
  readonly message: string
}

/** Builds an error value. */
export const error = (status: number, code: string, message: string): BceError => ({ status, code, message })

/** A fresh request id (a UUID, as BCE services send). */
export const requestId = (): string => randomUUID()

/** A JSON success body with the request id header. */
export const ok = (id: string, body: unknown, status = 200): HttpServerResponse.HttpServerResponse =>
  Http.json(body, status, { "x-bce-request-id": id })

/** The BCE error envelope `{requestId, code, message}` with its status and the request id header. */
export const fail = (id: string, failure: BceError): HttpServerResponse.HttpServerResponse =>
  Http.json({ requestId: id, code: failure.code, message: failure.message }, failure.status, {
    "x-bce-request-id": id
  })

/**
 * Maps a verification failure to the BCE public error codes. `SignatureDoesNotMatch` is BOS's code and status;
 * that the Qianfan console answers it the same way is UNCONFIRMED.
 */
const authError = (failure: Verifier.VerificationFailure): BceError => {
  switch (failure.reason) {
    case "MissingAuthorization":
      return error(403, "AccessDenied", `Access denied. ${failure.message}`)
    case "MalformedAuthorization":
    case "MissingDate":
      return error(400, "InvalidHTTPAuthHeader", `The Authorization header is invalid. ${failure.message}`)
    case "UnknownAccessKey":
      return error(403, "InvalidAccessKeyId", `The access key id does not exist. ${failure.message}`)
    case "Expired":
      return error(400, "RequestExpired", `Request has expired. ${failure.message}`)
    case "SignatureMismatch":
      return error(
        403,
        "SignatureDoesNotMatch",
        `The request signature we calculated does not match the signature you provided. ${failure.message}`
      )
  }
}

/**
 * Verifies `bce-auth-v1`. The signature window is checked against the real `Clock` of the server, not emulated
 * time: clients sign with wall-clock time, which a time scale must not push out of the window.
 */
export const authenticate = (
  ctx: EmulatorContext,
  request: Http.IncomingRequest
): Effect.Effect<Either.Either<Verifier.Verified, BceError>> =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const verified = Verifier.verifyBce(request, { now, lookupSecret: Credentials.secretLookup(ctx.credentials.bce) })
    return Either.mapLeft(verified, authError)
  })
