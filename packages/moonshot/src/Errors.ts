/**
 * Every failure of the Moonshot (and OpenAI-compatible) batch client, and the one mapping from error envelopes and
 * transport failures to them. API errors are keyed on the envelope's `error.type` first and the HTTP status second;
 * an unknown type is kept whole in `UnknownApiError`. Nothing here is ever a defect.
 *
 * @since 0.1.0
 */
import * as TransportError from "@barge/core/TransportError"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Wire from "./Wire.js"

const apiFields = {
  /** The profile that answered (`"moonshot"`, `"openai"`, …). */
  provider: Schema.String,
  /** The call that failed (`"CreateBatch"`, `"UploadFile"`, …). */
  action: Schema.String,
  status: Schema.Number,
  /** The envelope's `error.type`, verbatim. */
  type: Schema.optional(Schema.String),
  /** The envelope's `error.message`, verbatim. */
  description: Schema.String,
  code: Schema.optional(Schema.String),
  requestId: Schema.optional(Schema.String)
}

const describe = (
  self: {
    provider: string
    action: string
    status: number
    type?: string | undefined
    description: string
    requestId?: string | undefined
  },
  hint: string
) => {
  const id = self.requestId === undefined ? "" : ` (request id ${self.requestId})`
  return `${self.provider} ${self.action} answered HTTP ${self.status} ${self.type ?? ""}${id}: ${self.description}${
    hint === "" ? "" : ` — ${hint}`
  }`
}

/**
 * 401: the API key is missing, wrong, or belongs to the other platform (a `.cn` key on `.ai` or the reverse).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError extends Schema.TaggedError<AuthenticationError>(
  "@barge/moonshot/Errors/AuthenticationError"
)("AuthenticationError", apiFields) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "check the API key and that the base URL matches the platform that issued it")
  }
}

/**
 * 403: the account may not do this, typically because its balance is insufficient.
 *
 * @since 0.1.0
 * @category errors
 */
export class PermissionDeniedError extends Schema.TaggedError<PermissionDeniedError>(
  "@barge/moonshot/Errors/PermissionDeniedError"
)("PermissionDeniedError", apiFields) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "check the account's balance and permissions")
  }
}

/**
 * 404: the file, batch or model does not exist (or the key cannot see it).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFoundError extends Schema.TaggedError<NotFoundError>("@barge/moonshot/Errors/NotFoundError")(
  "NotFoundError",
  apiFields
) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "check the id or model name")
  }
}

/**
 * 400 `invalid_request_error`: a bad parameter, file or state; `description` is the provider's explanation.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequestError extends Schema.TaggedError<InvalidRequestError>(
  "@barge/moonshot/Errors/InvalidRequestError"
)("InvalidRequestError", apiFields) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "")
  }
}

/**
 * 400 `content_filter`: the input was rejected as high risk.
 *
 * @since 0.1.0
 * @category errors
 */
export class ContentFilterError extends Schema.TaggedError<ContentFilterError>(
  "@barge/moonshot/Errors/ContentFilterError"
)("ContentFilterError", apiFields) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "the provider's content filter rejected the input")
  }
}

/**
 * 429 `rate_limit_reached_error` (after the transport's retries): `retryAfter` carries the server's hint, from
 * `Retry-After` when sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimitedError extends Schema.TaggedError<RateLimitedError>("@barge/moonshot/Errors/RateLimitedError")(
  "RateLimitedError",
  { ...apiFields, retryAfter: Schema.optional(Schema.DurationFromMillis) }
) {
  /** @since 0.1.0 */
  override get message(): string {
    const wait = this.retryAfter === undefined ? "" : `retry after ${Duration.format(this.retryAfter)}`
    return describe(this, wait === "" ? "slow down and retry later" : wait)
  }
}

/**
 * 429 `engine_overloaded_error`: the provider is busy; retrying later is safe.
 *
 * @since 0.1.0
 * @category errors
 */
export class EngineOverloadedError extends Schema.TaggedError<EngineOverloadedError>(
  "@barge/moonshot/Errors/EngineOverloadedError"
)("EngineOverloadedError", { ...apiFields, retryAfter: Schema.optional(Schema.DurationFromMillis) }) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "the provider is overloaded; retry later")
  }
}

/**
 * `exceeded_current_quota_error` (429 or 403, the status is UNCONFIRMED): the balance is used up. Never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class QuotaExceededError extends Schema.TaggedError<QuotaExceededError>(
  "@barge/moonshot/Errors/QuotaExceededError"
)("QuotaExceededError", apiFields) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "top up the account; retrying will not help")
  }
}

/**
 * 5xx (after the transport's retries).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>("@barge/moonshot/Errors/ServerError")(
  "ServerError",
  apiFields
) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "a provider-side failure; retry later")
  }
}

/**
 * Any other error response, kept whole (`body` is the decoded body).
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownApiError extends Schema.TaggedError<UnknownApiError>("@barge/moonshot/Errors/UnknownApiError")(
  "UnknownApiError",
  { ...apiFields, body: Schema.Unknown }
) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "")
  }
}

const batchFields = { provider: Schema.String, batch: Wire.Batch }

const reasons = (batch: Wire.Batch): string => {
  const items = batch.errorItems.map((e) =>
    `${e.line === undefined || e.line === null ? "" : `line ${e.line}: `}${e.message ?? e.code ?? "?"}`
  )
  return items.length === 0 ? "" : `: ${items.slice(0, 10).join("; ")}${items.length > 10 ? " …" : ""}`
}

/**
 * The batch ended `failed` (its input did not pass validation); `batch.errors` lists why when the provider says.
 *
 * @since 0.1.0
 * @category errors
 */
export class BatchFailed extends Schema.TaggedError<BatchFailed>("@barge/moonshot/Errors/BatchFailed")(
  "BatchFailed",
  batchFields
) {
  /** @since 0.1.0 */
  override get message(): string {
    return `${this.provider} batch ${this.batch.id} failed validation${
      reasons(this.batch)
    }; fix the input and submit again`
  }
}

/**
 * The batch ran past `expires_at`: finished requests are in its output file, the rest in its error file as
 * `batch_expired`; `results` still reads both.
 *
 * @since 0.1.0
 * @category errors
 */
export class BatchExpired extends Schema.TaggedError<BatchExpired>("@barge/moonshot/Errors/BatchExpired")(
  "BatchExpired",
  batchFields
) {
  /** @since 0.1.0 */
  override get message(): string {
    const c = this.batch.counts
    return `${this.provider} batch ${this.batch.id} expired with ${
      c.completed + c.failed
    } of ${c.total} requests finished; ` +
      `read what finished with results and resubmit the rest with a longer completion window`
  }
}

/**
 * The batch was cancelled; requests finished before the cancel can still be read with `results`.
 *
 * @since 0.1.0
 * @category errors
 */
export class BatchCancelled extends Schema.TaggedError<BatchCancelled>("@barge/moonshot/Errors/BatchCancelled")(
  "BatchCancelled",
  batchFields
) {
  /** @since 0.1.0 */
  override get message(): string {
    return `${this.provider} batch ${this.batch.id} was cancelled`
  }
}

/**
 * The input could not be read.
 *
 * @since 0.1.0
 * @category errors
 */
export class SourceError extends Schema.TaggedError<SourceError>("@barge/moonshot/Errors/SourceError")(
  "SourceError",
  { source: Schema.String, description: Schema.String, cause: Schema.optional(Schema.Defect) }
) {
  /** @since 0.1.0 */
  override get message(): string {
    return `cannot read the batch input ${this.source}: ${this.description}`
  }
}

/**
 * `await`/`watch` stopped before the batch reached a final status: its schedule ended, or the batch is well past
 * `expires_at` and the provider has still not ended it.
 *
 * @since 0.1.0
 * @category errors
 */
export class AwaitTimedOut extends Schema.TaggedError<AwaitTimedOut>("@barge/moonshot/Errors/AwaitTimedOut")(
  "AwaitTimedOut",
  { provider: Schema.String, batchId: Schema.String, batch: Schema.optional(Wire.Batch), reason: Schema.String }
) {
  /** @since 0.1.0 */
  override get message(): string {
    const status = this.batch === undefined ? "" : ` while ${this.batch.status}`
    return `stopped waiting for ${this.provider} batch ${this.batchId}${status}: ${this.reason}; ` +
      `it may still finish — await it again later`
  }
}

/**
 * An error response from the API.
 *
 * @since 0.1.0
 * @category errors
 */
export type ApiError =
  | AuthenticationError
  | PermissionDeniedError
  | NotFoundError
  | InvalidRequestError
  | ContentFilterError
  | RateLimitedError
  | EngineOverloadedError
  | QuotaExceededError
  | ServerError
  | UnknownApiError

/**
 * @since 0.1.0
 * @category errors
 */
export const ApiError = Schema.Union(
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  InvalidRequestError,
  ContentFilterError,
  RateLimitedError,
  EngineOverloadedError,
  QuotaExceededError,
  ServerError,
  UnknownApiError
)

/**
 * A batch that ended without completing.
 *
 * @since 0.1.0
 * @category errors
 */
export type BatchEnded = BatchFailed | BatchExpired | BatchCancelled

/**
 * @since 0.1.0
 * @category errors
 */
export const BatchEnded = Schema.Union(BatchFailed, BatchExpired, BatchCancelled)

/**
 * A call that did not get an error envelope back: no response, a timeout, or an unreadable 2xx body.
 *
 * @since 0.1.0
 * @category errors
 */
export type TransportFailure = TransportError.TransportFailure

/**
 * Every failure of a Files/Batches call.
 *
 * @since 0.1.0
 * @category errors
 */
export type MoonshotError = ApiError | TransportFailure

/**
 * @since 0.1.0
 * @category errors
 */
export const MoonshotError = Schema.Union(ApiError, TransportError.TransportFailure)

/**
 * The kinds of API error, as a profile classifies an envelope.
 *
 * @since 0.1.0
 * @category mapping
 */
export type Kind = ApiError["_tag"]

/**
 * Moonshot's documented `error.type` values (spec A4). OpenAI's types overlap (`invalid_request_error`,
 * `server_error`) and otherwise fall back to the status.
 *
 * @since 0.1.0
 * @category mapping
 */
export const moonshotTypes: Readonly<Record<string, Kind>> = {
  invalid_authentication_error: "AuthenticationError",
  incorrect_api_key_error: "AuthenticationError",
  authentication_error: "AuthenticationError",
  permission_denied_error: "PermissionDeniedError",
  resource_not_found_error: "NotFoundError",
  not_found_error: "NotFoundError",
  invalid_request_error: "InvalidRequestError",
  content_filter: "ContentFilterError",
  rate_limit_reached_error: "RateLimitedError",
  engine_overloaded_error: "EngineOverloadedError",
  exceeded_current_quota_error: "QuotaExceededError",
  insufficient_quota: "QuotaExceededError",
  server_error: "ServerError",
  unexpected_output: "ServerError",
  server_unavailable: "ServerError"
}

/**
 * The kind for an HTTP status when the type is unknown or missing.
 *
 * @since 0.1.0
 * @category mapping
 */
export const kindOfStatus = (status: number): Kind | undefined =>
  status === 401
    ? "AuthenticationError"
    : status === 403
    ? "PermissionDeniedError"
    : status === 404
    ? "NotFoundError"
    : status === 400 || status === 409 || status === 422
    ? "InvalidRequestError"
    : status === 429
    ? "RateLimitedError"
    : status >= 500
    ? "ServerError"
    : undefined

/**
 * Reads the envelope out of an error body, if it has one.
 *
 * @since 0.1.0
 * @category mapping
 */
export const envelopeOf = (body: unknown): Option.Option<Wire.ErrorEnvelope> =>
  Option.getRight(Schema.decodeUnknownEither(Wire.ErrorEnvelope)(body))

/**
 * Whether a transport error carries an envelope of a type that must never be retried (quota exhausted).
 *
 * @since 0.1.0
 * @category mapping
 */
export const isNeverRetried = (error: TransportError.TransportError): boolean =>
  error._tag === "StatusError" &&
  Option.exists(envelopeOf(error.body), (e) =>
    e.error.type === "exceeded_current_quota_error" || e.error.type === "insufficient_quota")

/**
 * Maps one `StatusError` to the typed union using a type table (default {@link moonshotTypes}).
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromStatusError = (
  error: TransportError.StatusError,
  types: Readonly<Record<string, Kind>> = moonshotTypes
): ApiError => {
  const envelope = Option.getOrUndefined(envelopeOf(error.body))
  const type = envelope?.error.type ?? undefined
  const code = envelope?.error.code
  const fields = {
    provider: error.provider,
    action: error.action,
    status: error.status,
    ...(type === undefined ? {} : { type }),
    description: envelope?.error.message ??
      (typeof error.body === "string" && error.body !== "" ? error.body : `HTTP ${error.status}`),
    ...(code === undefined || code === null ? {} : { code: String(code) }),
    ...(error.requestId === undefined ? {} : { requestId: error.requestId })
  }
  const retry = error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter }
  // A 401 is an authentication failure whatever its type (OpenAI sends `invalid_request_error` with it); an
  // unknown type is kept whole rather than guessed from the status.
  const kind: Kind | undefined = error.status === 401
    ? "AuthenticationError"
    : type === undefined
    ? kindOfStatus(error.status)
    : types[type]
  switch (kind) {
    case "AuthenticationError":
      return new AuthenticationError(fields)
    case "PermissionDeniedError":
      return new PermissionDeniedError(fields)
    case "NotFoundError":
      return new NotFoundError(fields)
    case "InvalidRequestError":
      return new InvalidRequestError(fields)
    case "ContentFilterError":
      return new ContentFilterError(fields)
    case "RateLimitedError":
      return new RateLimitedError({ ...fields, ...retry })
    case "EngineOverloadedError":
      return new EngineOverloadedError({ ...fields, ...retry })
    case "QuotaExceededError":
      return new QuotaExceededError(fields)
    case "ServerError":
      return new ServerError(fields)
    default:
      return new UnknownApiError({ ...fields, body: error.body })
  }
}

/**
 * Maps any transport failure: status errors become API errors, the rest pass through unchanged.
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromTransport = (
  error: TransportError.TransportError,
  types: Readonly<Record<string, Kind>> = moonshotTypes
): MoonshotError => TransportError.mapStatus((status) => fromStatusError(status, types))(error)

/**
 * Whether a value is one of this package's API errors.
 *
 * @since 0.1.0
 * @category guards
 */
export const isApiError = (u: unknown): u is ApiError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && u._tag in kindSet

const kindSet: Record<Kind, true> = {
  AuthenticationError: true,
  PermissionDeniedError: true,
  NotFoundError: true,
  InvalidRequestError: true,
  ContentFilterError: true,
  RateLimitedError: true,
  EngineOverloadedError: true,
  QuotaExceededError: true,
  ServerError: true,
  UnknownApiError: true
}
