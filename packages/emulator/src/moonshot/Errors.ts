/**
 * Moonshot's error envelope `{"error":{"type","message","code"?}}` (spec A4) and the failures the surface raises.
 * A handler fails with `ApiError`; the surface turns it into the envelope with its status, so no request can crash it.
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Data from "effect/Data"

/** A failure that becomes one Moonshot error response. */
export class ApiError extends Data.TaggedError("ApiError")<{
  readonly status: number
  readonly type: string
  readonly message: string
  readonly code?: string
  readonly headers?: Record<string, string>
}> {}

/** 400 `invalid_request_error`: a bad parameter, file or state. */
export const invalidRequest = (message: string, code?: string): ApiError =>
  new ApiError({ status: 400, type: "invalid_request_error", message, ...(code === undefined ? {} : { code }) })

/** 404 `resource_not_found_error`: an unknown file, batch, model or route. */
export const notFound = (message: string): ApiError =>
  new ApiError({ status: 404, type: "resource_not_found_error", message })

/** 401 `invalid_authentication_error`: a missing, malformed or unknown API key. */
export const unauthenticated = (message: string): ApiError =>
  new ApiError({ status: 401, type: "invalid_authentication_error", message })

/** 500 `server_error`: something in the emulator itself went wrong. */
export const serverError = (message: string): ApiError => new ApiError({ status: 500, type: "server_error", message })

/** Renders an `ApiError` as Moonshot's envelope. */
export const toResponse = (error: ApiError): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(
    {
      error: {
        type: error.type,
        message: error.message,
        ...(error.code === undefined ? {} : { code: error.code })
      }
    },
    { status: error.status, ...(error.headers === undefined ? {} : { headers: error.headers }) }
  )
