/**
 * One Ark OpenAPI call: `POST /?Action=<Action>&Version=2024-01-01` with a JSON body, the answer's envelope
 * decoded, and every refusal — a non-2xx status (with Ark's envelope or without one) or an HTTP 200 carrying
 * `ResponseMetadata.Error` — an `ApiError` through Ark's table.
 */
import * as ApiError from "@barge/core/ApiError"
import type * as Provider from "@barge/core/Provider"
import type * as Transport from "@barge/core/Transport"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import * as Errors from "../Errors.js"
import * as Wire from "../Wire.js"

/** Calls one action; `idempotent` lets the transport send it again after a transient failure. */
export type Call = <A, I>(
  action: string,
  body: unknown,
  result: Schema.Schema<A, I, never>,
  idempotent: boolean
) => Effect.Effect<A, Provider.Failure>

/** Builds the call function over a transport. */
export const makeCall = (transport: Transport.Transport): Call => (action, body, result, idempotent) =>
  transport.json(
    HttpClientRequest.post("/").pipe(
      HttpClientRequest.setUrlParams({ Action: action, Version: Wire.apiVersion }),
      HttpClientRequest.bodyUnsafeJson(body)
    ),
    Wire.Envelope(result),
    { action, idempotent }
  ).pipe(
    Effect.mapError(ApiError.fromTransport(Errors.table)),
    Effect.flatMap((envelope) => {
      const metadata = envelope.ResponseMetadata
      const requestId = metadata.RequestId
      // Ark can answer HTTP 200 with an error inside ResponseMetadata: that is a refusal.
      if (metadata.Error !== undefined) {
        return Effect.fail(ApiError.make(Errors.table, {
          action,
          status: 200,
          code: metadata.Error.Code,
          description: metadata.Error.Message,
          requestId
        }))
      }
      if (envelope.Result === undefined) {
        return Effect.fail(ApiError.make(Errors.table, {
          action,
          status: 200,
          description: "the answer has neither Result nor ResponseMetadata.Error",
          requestId
        }))
      }
      return Effect.succeed(envelope.Result)
    })
  )
