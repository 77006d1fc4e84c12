/**
 * The OpenAI-style error envelope `{"error":{"type","message","code"?,"param"?}}` and the failures the surface raises.
 * A handler fails with `ApiError` (a kind, not a status); the surface renders it the way its profile's platform
 * does, so no request can crash it.
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Data from "effect/Data"
import type { ErrorKind, Profile } from "./Profile.js"

/** A failure that becomes one error response. */
export class ApiError extends Data.TaggedError("ApiError")<{
  readonly kind: ErrorKind
  readonly message: string
  /** Overrides the profile's code for this kind. */
  readonly code?: string
  readonly param?: string
}> {}

/** A bad parameter, file or state. */
export const invalidRequest = (message: string, param?: string): ApiError =>
  new ApiError({ kind: "invalid", message, ...(param === undefined ? {} : { param }) })

/** An unknown file, batch, model or route. */
export const notFound = (message: string): ApiError => new ApiError({ kind: "notFound", message })

/** A missing, malformed or unknown API key. */
export const unauthenticated = (message: string): ApiError => new ApiError({ kind: "auth", message })

/** Something in the emulator itself went wrong. */
export const serverError = (message: string): ApiError => new ApiError({ kind: "server", message })

/** Renders an `ApiError` in the profile's envelope. */
export const toResponse = (profile: Profile, error: ApiError): HttpServerResponse.HttpServerResponse => {
  const shape = profile.errors[error.kind]
  const code = error.code ?? shape.code
  return HttpServerResponse.unsafeJson(
    {
      error: {
        type: shape.type,
        message: error.message,
        ...(code === undefined ? {} : { code }),
        ...(error.param === undefined ? {} : { param: error.param })
      }
    },
    { status: shape.status }
  )
}
