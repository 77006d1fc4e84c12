/**
 * One Ark OpenAPI call: `POST /?Action=<Action>&Version=2024-01-01` with a JSON body, the answer's envelope
 * decoded, and every error — a non-2xx status or an HTTP 200 carrying `ResponseMetadata.Error` — made typed.
 */
import type * as Transport from "@barge/core/Transport"
import type * as TransportError from "@barge/core/TransportError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import * as Errors from "../Errors.js"
import * as Wire from "../Wire.js"

/** Builds the call function over a transport. `idempotent` allows the transport to retry it. */
export const makeCall = (transport: Transport.Transport) =>
<A, I>(
  action: string,
  body: unknown,
  result: Schema.Schema<A, I, never>,
  idempotent: boolean
): Effect.Effect<A, Errors.ApiError | TransportError.TransportError> =>
  transport.json(
    HttpClientRequest.post("/").pipe(
      HttpClientRequest.setUrlParams({ Action: action, Version: Wire.apiVersion }),
      HttpClientRequest.bodyUnsafeJson(body)
    ),
    Wire.Envelope(result),
    { action, idempotent }
  ).pipe(
    Effect.mapError(Errors.fromTransport(action)),
    Effect.flatMap((envelope) => {
      // Ark can answer HTTP 200 with an error inside ResponseMetadata: that is a failure.
      if (envelope.ResponseMetadata.Error !== undefined) {
        return Effect.fail(Errors.fromEnvelope(action, 200, envelope.ResponseMetadata))
      }
      if (envelope.Result === undefined) {
        return Effect.fail(
          new Errors.ArkApiError({
            action,
            status: 200,
            code: "MissingResult",
            description: "the answer has neither Result nor ResponseMetadata.Error",
            ...(envelope.ResponseMetadata.RequestId === undefined
              ? {}
              : { requestId: envelope.ResponseMetadata.RequestId })
          })
        )
      }
      return Effect.succeed(envelope.Result)
    })
  )
