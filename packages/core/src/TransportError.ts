/**
 * The failures of the HTTP edge. Provider packages map these into their own unions; every one names the provider
 * and the action so a person reading the message knows which call failed.
 *
 * No error carries request headers: auth material never reaches an error, its message or its `toString`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@barge/core/TransportError")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/** The call every failure names. */
const callFields = {
  provider: Schema.String,
  action: Schema.String,
  method: Schema.String,
  /** Origin and path only: a query string may carry a presigned signature. */
  url: Schema.String
}

const describeCall = (
  error: { readonly provider: string; readonly action: string; readonly method: string; readonly url: string }
) => `${error.provider} ${error.action} (${error.method} ${error.url})`

const requestIdNote = (requestId: string | undefined) => (requestId === undefined ? "" : ` (request id ${requestId})`)

const afterAttempts = (attempts: number) => (attempts > 1 ? ` after ${attempts} attempts` : "")

/**
 * Why a request never produced a response.
 *
 * - `Transport`: the connection failed (refused, reset, DNS, TLS).
 * - `Encode`: the request body could not be encoded.
 * - `Signing`: the signer refused the request (for example a body it cannot hash).
 * - `InvalidUrl`: the base URL or path does not form a valid URL.
 * - `InsecureEndpoint`: a plain `http://` URL to a non-loopback host without `allowInsecureHttp`.
 *
 * @since 0.1.0
 * @category models
 */
export const RequestFailureReason = Schema.Literal("Transport", "Encode", "Signing", "InvalidUrl", "InsecureEndpoint")

/**
 * @since 0.1.0
 * @category models
 */
export type RequestFailureReason = typeof RequestFailureReason.Type

/**
 * The request did not produce a response.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestFailed extends Schema.TaggedError<RequestFailed>("@barge/core/TransportError/RequestFailed")(
  "RequestFailed",
  {
    ...callFields,
    reason: RequestFailureReason,
    description: Schema.String,
    attempts: Schema.Number,
    cause: Schema.optional(Schema.Defect)
  }
) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${describeCall(this)} failed${afterAttempts(this.attempts)}: ${this.reason}: ${this.description}`
  }
}

/**
 * No response headers arrived within the per-attempt timeout.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestTimeout extends Schema.TaggedError<RequestTimeout>("@barge/core/TransportError/RequestTimeout")(
  "RequestTimeout",
  {
    ...callFields,
    timeout: Schema.DurationFromMillis,
    attempts: Schema.Number
  }
) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    const tries = this.attempts > 1 ? ` (last of ${this.attempts} attempts)` : ""
    return `${describeCall(this)} got no response within ${
      Duration.format(this.timeout)
    }${tries}; the endpoint may be unreachable or overloaded`
  }
}

/**
 * The server answered with a non-2xx status (after any retries). `body` is the decoded JSON error body when the
 * response was JSON, its text otherwise (size-capped), so provider packages can map their error envelopes.
 *
 * @since 0.1.0
 * @category errors
 */
export class StatusError extends Schema.TaggedError<StatusError>("@barge/core/TransportError/StatusError")(
  "StatusError",
  {
    ...callFields,
    status: Schema.Number,
    requestId: Schema.optional(Schema.String),
    body: Schema.Unknown,
    /** The server's `Retry-After`, as a delay from when the response arrived. */
    retryAfter: Schema.optional(Schema.DurationFromMillis),
    attempts: Schema.Number
  }
) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    const detail = bodySnippet(this.body)
    return `${describeCall(this)} answered HTTP ${this.status}${requestIdNote(this.requestId)}${
      afterAttempts(this.attempts)
    }${detail === "" ? "" : `: ${detail}`}`
  }
}

/**
 * A 2xx response whose body did not match the expected shape (not JSON, or a schema mismatch).
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseDecodeError
  extends Schema.TaggedError<ResponseDecodeError>("@barge/core/TransportError/ResponseDecodeError")(
    "ResponseDecodeError",
    {
      ...callFields,
      status: Schema.Number,
      requestId: Schema.optional(Schema.String),
      description: Schema.String
    }
  )
{
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${describeCall(this)} returned HTTP ${this.status}${
      requestIdNote(this.requestId)
    } with a body Barge cannot read: ${this.description}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type TransportError = RequestFailed | RequestTimeout | StatusError | ResponseDecodeError

/**
 * @since 0.1.0
 * @category schemas
 */
export const TransportError: Schema.Union<
  [typeof RequestFailed, typeof RequestTimeout, typeof StatusError, typeof ResponseDecodeError]
> = Schema.Union(RequestFailed, RequestTimeout, StatusError, ResponseDecodeError)

/**
 * A failure with no error body to map: no response, a timeout, or an unreadable 2xx body. Provider unions hold
 * these next to their own API errors (which come from `StatusError`).
 *
 * @since 0.1.0
 * @category models
 */
export type TransportFailure = RequestFailed | RequestTimeout | ResponseDecodeError

/**
 * @since 0.1.0
 * @category schemas
 */
export const TransportFailure: Schema.Union<[typeof RequestFailed, typeof RequestTimeout, typeof ResponseDecodeError]> =
  Schema.Union(RequestFailed, RequestTimeout, ResponseDecodeError)

/**
 * A provider's mapping for every transport error: `StatusError` goes through `fromStatus` (the provider's envelope
 * reading), the rest pass through unchanged.
 *
 * @since 0.1.0
 * @category mapping
 */
export const mapStatus = <A>(fromStatus: (error: StatusError) => A) => (error: TransportError): A | TransportFailure =>
  error._tag === "StatusError" ? fromStatus(error) : error

/**
 * @since 0.1.0
 * @category guards
 */
export const isTransportError = (u: unknown): u is TransportError => Predicate.hasProperty(u, TypeId)

/**
 * Whether a failure is worth another attempt: connection failures, timeouts and the statuses that mean "try again"
 * (408, 429, 500, 502, 503, 504).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTransient = (error: TransportError): boolean => {
  switch (error._tag) {
    case "RequestFailed":
      return error.reason === "Transport"
    case "RequestTimeout":
      return true
    case "StatusError":
      return transientStatuses.has(error.status)
    case "ResponseDecodeError":
      return false
  }
}

const transientStatuses: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504])

const snippetLength = 300

const bodySnippet = (body: unknown): string => {
  if (body === undefined || body === null || body === "") return ""
  let text: string
  if (typeof body === "string") {
    text = body
  } else {
    try {
      text = JSON.stringify(body)
    } catch {
      text = String(body)
    }
  }
  text = text.replace(/\s+/g, " ").trim()
  return text.length > snippetLength ? `${text.slice(0, snippetLength)}…` : text
}
