/**
 * The one error family every provider's API refusals map onto. A refusal keeps the provider's own code, HTTP status
 * and request id; `reason` says what kind of refusal it is in words shared by every provider, so a program can tell
 * a rate limit from an authentication failure without knowing which provider it runs on.
 *
 * Why one class with a closed `reason` rather than one class per kind: a provider's mapping is then a data table
 * (code → reason, with a hint) instead of a class per code, the union of every provider's service stays small
 * (`ApiError | TransportFailure` plus a provider's genuine extras), and `catchTag("ApiError")` followed by a `switch`
 * on `reason` (or {@link is}) reads the same on every provider — the shape of effect's `AiError` and platform's
 * `SystemError`.
 *
 * @example
 * ```ts
 * import { ApiError, Batch } from "@barge/core"
 * import { Effect } from "effect"
 *
 * const status = Effect.flatMap(Batch.Batch, (batch) => batch.get("moonshot:batch_1")).pipe(
 *   Effect.catchIf(ApiError.is("RateLimited", "Overloaded"), () => Effect.succeed(undefined))
 * )
 * ```
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import type * as TransportError from "./TransportError.js"

/**
 * What kind of refusal an API answered, the same words on every provider.
 *
 * | reason | meaning | usually |
 * |---|---|---|
 * | `Authentication` | the credentials are wrong, expired or missing | 401 |
 * | `PermissionDenied` | the credentials are valid but may not do this | 403 |
 * | `NotFound` | the job, file, bucket or model does not exist | 404 |
 * | `InvalidRequest` | a parameter or the input is wrong | 400, 422 |
 * | `RateLimited` | too many requests: wait and retry | 429 |
 * | `Overloaded` | the provider is busy: retry later | 503, 529 |
 * | `QuotaExceeded` | an account limit (balance, file count, running jobs) | 402, some 403/429 |
 * | `Conflict` | the state forbids it now (a duplicate job, stopping a finished one) | 409 |
 * | `Server` | the provider failed | 5xx |
 * | `Unknown` | none of the above |  |
 *
 * @since 0.1.0
 * @category models
 */
export const Reason = Schema.Literal(
  "Authentication",
  "PermissionDenied",
  "NotFound",
  "InvalidRequest",
  "RateLimited",
  "Overloaded",
  "QuotaExceeded",
  "Conflict",
  "Server",
  "Unknown"
)

/**
 * @since 0.1.0
 * @category models
 */
export type Reason = typeof Reason.Type

/**
 * A provider API (or its object storage) refused a request.
 *
 * @since 0.1.0
 * @category errors
 */
export class ApiError extends Schema.TaggedError<ApiError>("@barge/core/ApiError")("ApiError", {
  /** Who answered: `ark`, `tos`, `moonshot`, `qianfan`, `bos`, … */
  provider: Schema.String,
  /** The call refused (`CreateBatchInferenceJob`, `RetrieveBatch`, `PutObject`, …). */
  action: Schema.String,
  reason: Reason,
  /** The HTTP status, when the refusal came with one. */
  status: Schema.optional(Schema.Number),
  /** The provider's own error code or type, verbatim. */
  code: Schema.optional(Schema.String),
  /** The provider's message, verbatim. */
  description: Schema.String,
  requestId: Schema.optional(Schema.String),
  /** What to do about it, when Barge knows. */
  hint: Schema.optional(Schema.String),
  /** The provider's `Retry-After`, as a delay. */
  retryAfter: Schema.optional(Schema.DurationFromMillis)
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const detail = [
      this.status === undefined ? undefined : `HTTP ${this.status}`,
      this.code,
      this.requestId === undefined ? undefined : `request id ${this.requestId}`
    ].filter(Predicate.isNotUndefined)
    const about = detail.length === 0 ? "" : ` (${detail.join(", ")})`
    const hint = this.hint === undefined ? "" : `. ${this.hint}`
    return `${this.provider} ${this.action}: ${reasonWords[this.reason]}${about}: ${this.description}${hint}`
  }
}

const reasonWords: Record<Reason, string> = {
  Authentication: "authentication failed",
  PermissionDenied: "permission denied",
  NotFound: "not found",
  InvalidRequest: "invalid request",
  RateLimited: "rate limited",
  Overloaded: "overloaded",
  QuotaExceeded: "quota exceeded",
  Conflict: "conflict",
  Server: "server error",
  Unknown: "refused"
}

/**
 * A predicate for {@link ApiError}s of the given reasons (any reason when none is given), for `Effect.catchIf`,
 * `Effect.retry({ while })` and the like.
 *
 * @since 0.1.0
 * @category predicates
 */
export const is = (...reasons: ReadonlyArray<Reason>) => (u: unknown): u is ApiError =>
  u instanceof ApiError && (reasons.length === 0 || reasons.includes(u.reason))

/**
 * How a provider code maps onto a {@link Reason}, with what to tell the user.
 *
 * @since 0.1.0
 * @category tables
 */
export interface Rule {
  readonly reason: Reason
  readonly hint?: string | undefined
}

/**
 * What a provider's error body says, read by its table's `read`.
 *
 * @since 0.1.0
 * @category tables
 */
export interface Envelope {
  readonly code?: string | undefined
  readonly description?: string | undefined
  readonly requestId?: string | undefined
}

/**
 * A provider's error mapping, as data: how to read its error body, its codes (exact, then by prefix) and, for a
 * body with no known code, what each HTTP status means. Codes not in the table fall back to the status.
 *
 * @since 0.1.0
 * @category tables
 */
export interface Table {
  /** Who answers (`ark`, `moonshot`, …): the `provider` of the errors. */
  readonly provider: string
  /** Reads the provider's error envelope from a parsed body (JSON, or text when not JSON). */
  readonly read: (body: unknown) => Option.Option<Envelope>
  /** Exact codes (or OpenAI-style `type`s). */
  readonly codes: Readonly<Record<string, Rule>>
  /** Code prefixes, tried in order after the exact codes (`OperationDenied.` → PermissionDenied). */
  readonly prefixes?: ReadonlyArray<readonly [prefix: string, rule: Rule]> | undefined
  /** Hints by HTTP status, for refusals whose code the table does not know. */
  readonly statusHints?: Readonly<Record<number, string>> | undefined
}

/**
 * The reason an HTTP status means when the body says nothing more.
 *
 * @since 0.1.0
 * @category tables
 */
export const reasonOfStatus = (status: number): Reason => {
  switch (status) {
    case 400:
    case 413:
    case 415:
    case 422:
      return "InvalidRequest"
    case 401:
      return "Authentication"
    case 402:
      return "QuotaExceeded"
    case 403:
      return "PermissionDenied"
    case 404:
    case 410:
      return "NotFound"
    case 409:
    case 412:
      return "Conflict"
    case 429:
      return "RateLimited"
    case 503:
    case 529:
      return "Overloaded"
    default:
      return status >= 500 ? "Server" : "Unknown"
  }
}

/**
 * The rule for a code in a table, if the table knows it (exact match first, then the prefixes in order).
 *
 * @since 0.1.0
 * @category tables
 */
export const ruleOf = (table: Table, code: string | undefined): Rule | undefined => {
  if (code === undefined) return undefined
  const exact = table.codes[code]
  if (exact !== undefined) return exact
  return table.prefixes?.find(([prefix]) => code.startsWith(prefix))?.[1]
}

/**
 * An {@link ApiError} from a provider's error code and status, through its table.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  table: Table,
  fields: {
    readonly action: string
    readonly status?: number | undefined
    readonly code?: string | undefined
    readonly description: string
    readonly requestId?: string | undefined
    readonly retryAfter?: Duration.Duration | undefined
    readonly provider?: string | undefined
  }
): ApiError => {
  const rule = ruleOf(table, fields.code)
  const reason = rule?.reason ?? (fields.status === undefined ? "Unknown" : reasonOfStatus(fields.status))
  const hint = rule?.hint ?? (fields.status === undefined ? undefined : table.statusHints?.[fields.status])
  return new ApiError({
    provider: fields.provider ?? table.provider,
    action: fields.action,
    reason,
    description: fields.description,
    ...(fields.status === undefined ? {} : { status: fields.status }),
    ...(fields.code === undefined ? {} : { code: fields.code }),
    ...(fields.requestId === undefined ? {} : { requestId: fields.requestId }),
    ...(hint === undefined ? {} : { hint }),
    ...(fields.retryAfter === undefined ? {} : { retryAfter: fields.retryAfter })
  })
}

/**
 * The refusal a `StatusError` carries, read through the provider's table: the envelope's code and message when the
 * body has one, else the status alone (an envelope-less 4xx is still an `ApiError`, never a raw `StatusError`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromStatus = (table: Table) => (error: TransportError.StatusError): ApiError => {
  const envelope = Option.getOrUndefined(table.read(error.body))
  return make(table, {
    provider: error.provider,
    action: error.action,
    status: error.status,
    code: envelope?.code,
    description: envelope?.description ?? describeBody(error.body, error.status),
    requestId: envelope?.requestId ?? error.requestId,
    retryAfter: error.retryAfter
  })
}

/**
 * Maps a transport error through the table: a `StatusError` becomes an {@link ApiError}; the failures without an
 * answer (`RequestFailed`, `RequestTimeout`, `ResponseDecodeError`) stay as they are.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromTransport = (table: Table) => {
  const status = fromStatus(table)
  return (error: TransportError.TransportError): ApiError | TransportError.TransportFailure =>
    error._tag === "StatusError" ? status(error) : error
}

const describeBody = (body: unknown, status: number): string => {
  if (typeof body === "string" && body.trim().length > 0) {
    const text = body.replace(/\s+/g, " ").trim()
    return text.length > 300 ? `${text.slice(0, 300)}…` : text
  }
  return `HTTP ${status} with no error detail`
}

/**
 * Whether a failure leaves it unknown if the request took effect — the connection dropped, no answer came in time,
 * or the server failed mid-way — so a create must look before it sends again.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isAmbiguous = (error: unknown): boolean => {
  if (error instanceof ApiError) return error.reason === "Server" || error.reason === "Overloaded"
  if (!Predicate.hasProperty(error, "_tag")) return false
  switch (error._tag) {
    case "RequestFailed":
      return (error as TransportError.RequestFailed).reason === "Transport"
    case "RequestTimeout":
      return true
    default:
      return false
  }
}

/**
 * Whether waiting and trying again may succeed (rate limits, overload, server failures).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (error: unknown): boolean =>
  is("RateLimited", "Overloaded", "Server")(error) || isAmbiguous(error)

/**
 * Reads an OpenAI-style envelope `{ error: { type?, code?, message } }` (Moonshot, OpenAI, Qianfan's `/v2`); the
 * `type` wins over `code` as the table key.
 *
 * @since 0.1.0
 * @category tables
 */
export const readOpenAiEnvelope = (body: unknown): Option.Option<Envelope> => {
  if (!Predicate.isRecord(body) || !Predicate.isRecord(body.error)) return Option.none()
  const error = body.error
  const code = typeof error.type === "string" && error.type.length > 0
    ? error.type
    : typeof error.code === "string" || typeof error.code === "number"
    ? String(error.code)
    : undefined
  return Option.some({
    code,
    description: typeof error.message === "string" ? error.message : JSON.stringify(error)
  })
}
