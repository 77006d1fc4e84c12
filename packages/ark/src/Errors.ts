/**
 * Every failure of the Ark client, and the one mapping from Ark's `ResponseMetadata.Error` (whatever the HTTP
 * status, 200 included), TOS error bodies and transport failures to them. An unknown code is kept whole in
 * `ArkApiError`; nothing here is ever a defect.
 *
 * @since 0.1.0
 */
import * as TransportError from "@barge/core/TransportError"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { Job } from "./Job.js"
import * as Wire from "./Wire.js"

const apiFields = {
  /** The OpenAPI action that failed (`"CreateBatchInferenceJob"`, …). */
  action: Schema.String,
  /** The HTTP status (Ark may answer 200 with an error). */
  status: Schema.Number,
  /** `ResponseMetadata.Error.Code`, verbatim. */
  code: Schema.String,
  /** `ResponseMetadata.Error.CodeN`, when sent. */
  codeN: Schema.optional(Schema.Number),
  /** `ResponseMetadata.Error.Message`, verbatim. */
  description: Schema.String,
  requestId: Schema.optional(Schema.String)
}

type ApiFields = Schema.Struct.Type<typeof apiFields>

const describe = (self: ApiFields, hint: string): string => {
  const codeN = self.codeN === undefined ? "" : ` (${self.codeN})`
  const id = self.requestId === undefined ? "" : ` [request id ${self.requestId}]`
  return `Ark ${self.action} failed with ${self.code}${codeN}, HTTP ${self.status}${id}: ${self.description}${
    hint === "" ? "" : ` — ${hint}`
  }`
}

/**
 * Create was refused because an identical job (same account, project, input bucket and key) is Queued or
 * Running. `activeJobId` is that job: `submit` attaches to it by default.
 *
 * @since 0.1.0
 * @category errors
 */
export class DuplicateActiveJob extends Schema.TaggedError<DuplicateActiveJob>("@barge/ark/Errors/DuplicateActiveJob")(
  "DuplicateActiveJob",
  { ...apiFields, activeJobId: Schema.String }
) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, `job ${this.activeJobId} already runs this input; await it instead of creating another`)
  }
}

/**
 * The request was not authenticated: `InvalidAccessKey`, `SignatureDoesNotMatch`, `InvalidTimestamp`,
 * `MissingAuthenticationToken`, … (see `code`).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError
  extends Schema.TaggedError<AuthenticationError>("@barge/ark/Errors/AuthenticationError")(
    "AuthenticationError",
    apiFields
  )
{
  /** @since 0.1.0 */
  override get message(): string {
    return describe(
      this,
      this.code === "InvalidTimestamp"
        ? "the local clock is off; sync it (NTP) and retry"
        : "check VOLC_ACCESSKEY / VOLC_SECRETKEY (and the STS token, if any)"
    )
  }
}

/**
 * The credentials are valid but may not do this (`AccessDenied`, `LackPolicy`, …).
 *
 * @since 0.1.0
 * @category errors
 */
export class AccessDenied
  extends Schema.TaggedError<AccessDenied>("@barge/ark/Errors/AccessDenied")("AccessDenied", apiFields)
{
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "grant the IAM user Ark batch-inference and TOS permissions in this project")
  }
}

/**
 * A parameter is wrong (`InvalidParameter…`) or the job's state forbids the operation.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidParameter
  extends Schema.TaggedError<InvalidParameter>("@barge/ark/Errors/InvalidParameter")("InvalidParameter", apiFields)
{
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "")
  }
}

/**
 * A required parameter is missing (`MissingParameter`).
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingParameter
  extends Schema.TaggedError<MissingParameter>("@barge/ark/Errors/MissingParameter")("MissingParameter", apiFields)
{
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "")
  }
}

/**
 * The job, model or endpoint does not exist or this account cannot see it.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>("@barge/ark/Errors/NotFound")("NotFound", apiFields) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "check the id (and the project and region) or the model name and version")
  }
}

/**
 * Too many requests (after the transport's retries). `retryAfter` is the server's hint, when sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class Throttled extends Schema.TaggedError<Throttled>("@barge/ark/Errors/Throttled")("Throttled", {
  ...apiFields,
  retryAfter: Schema.optional(Schema.DurationFromMillis)
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(
      this,
      this.retryAfter === undefined ? "slow down" : `retry after ${Duration.format(this.retryAfter)}`
    )
  }
}

/**
 * Ark failed internally (5xx, `InternalError`, …) after the transport's retries.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>("@barge/ark/Errors/ServerError")(
  "ServerError",
  apiFields
) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "a provider-side failure; retry later")
  }
}

/**
 * Any other Ark error, with every field of the envelope.
 *
 * @since 0.1.0
 * @category errors
 */
export class ArkApiError extends Schema.TaggedError<ArkApiError>("@barge/ark/Errors/ArkApiError")("ArkApiError", {
  ...apiFields,
  body: Schema.optional(Schema.Unknown)
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "")
  }
}

/**
 * The job ended `Failed`; `job` is its last observed state (`job.message` says why).
 *
 * @since 0.1.0
 * @category errors
 */
export class JobFailed extends Schema.TaggedError<JobFailed>("@barge/ark/Errors/JobFailed")("JobFailed", {
  job: Job
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `Ark batch job ${this.job.id} failed: ${this.job.message}`
  }
}

/**
 * The job ended `Terminated` — stopped, or its completion window elapsed. Finished results remain readable.
 *
 * @since 0.1.0
 * @category errors
 */
export class JobTerminated extends Schema.TaggedError<JobTerminated>("@barge/ark/Errors/JobTerminated")(
  "JobTerminated",
  { job: Job }
) {
  /** @since 0.1.0 */
  override get message(): string {
    const { completed, failed, total } = this.job.counts
    return `Ark batch job ${this.job.id} was terminated after ${
      completed + failed
    } of ${total} requests: ${this.job.message}; the finished results can still be read`
  }
}

/**
 * A TOS request failed with TOS's error body (`NoSuchKey`, `AccessDenied`, `SignatureDoesNotMatch`, …).
 *
 * @since 0.1.0
 * @category errors
 */
export class TosError extends Schema.TaggedError<TosError>("@barge/ark/Errors/TosError")("TosError", {
  operation: Schema.String,
  bucket: Schema.String,
  key: Schema.optional(Schema.String),
  status: Schema.Number,
  code: Schema.String,
  description: Schema.String,
  requestId: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  override get message(): string {
    const id = this.requestId === undefined ? "" : ` [request id ${this.requestId}]`
    const target = this.key === undefined ? `tos://${this.bucket}` : `tos://${this.bucket}/${this.key}`
    return `TOS ${this.operation} ${target} failed with ${this.code}, HTTP ${this.status}${id}: ${this.description}`
  }
}

/**
 * The errors of Ark's control plane.
 *
 * @since 0.1.0
 * @category models
 */
export type ApiError =
  | DuplicateActiveJob
  | AuthenticationError
  | AccessDenied
  | InvalidParameter
  | MissingParameter
  | NotFound
  | Throttled
  | ServerError
  | ArkApiError

/**
 * Every failure an Ark call can end with.
 *
 * @since 0.1.0
 * @category models
 */
export type ArkError = ApiError | TosError | TransportError.TransportError

/**
 * @since 0.1.0
 * @category schemas
 */
export const ArkError = Schema.Union(
  DuplicateActiveJob,
  AuthenticationError,
  AccessDenied,
  InvalidParameter,
  MissingParameter,
  NotFound,
  Throttled,
  ServerError,
  ArkApiError,
  TosError,
  TransportError.TransportError
)

const authenticationCodes = new Set([
  "InvalidAccessKey",
  "SignatureDoesNotMatch",
  "InvalidTimestamp",
  "MissingAuthenticationToken",
  "MissingSignature",
  "InvalidAuthorization",
  "InvalidCredential",
  "InvalidSecretToken",
  "MissingRequestInfo"
])

const accessCodes = new Set(["AccessDenied", "LackPolicy", "LackProjectPolicy"])

const throttleCode = /^(FlowLimitExceeded|Throttling|TooManyRequests|RequestLimitExceeded|QuotaExceeded|RateLimit)/i

const serverCodes = new Set([
  "InternalError",
  "InternalServiceError",
  "InternalServiceTimeout",
  "FailToConnect",
  "ServiceUnavailable"
])

/**
 * Ark job ids look like `bi-20240918194641-r2nwq` (inferred from the examples).
 *
 * @since 0.1.0
 * @category parsing
 */
export const jobIdPattern = /\bbi-\d{14}-[a-z0-9]+\b/i

/**
 * Whether a Create error's message reads like the duplicate-submission refusal, when its code is one we do not
 * know (the real code is UNCONFIRMED; the doc only promises the message names the active job).
 *
 * @since 0.1.0
 * @category predicates
 */
export const looksLikeDuplicate = (description: string): boolean =>
  /active|already|duplicat|exist|running or queued|idempot|重复|幂等|排队|运行中/i.test(description)

/**
 * The error for an Ark error envelope. On Create, a message naming a job id is the duplicate-submission error
 * whatever its code.
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromEnvelope = (
  action: string,
  status: number,
  metadata: Wire.ResponseMetadata,
  options?: { readonly retryAfter?: Duration.Duration | undefined; readonly body?: unknown }
): ApiError => {
  const error = metadata.Error ?? Wire.ErrorInfo.make({ Code: `HTTP${status}`, Message: "" })
  const fields: ApiFields = {
    action,
    status,
    code: error.Code,
    ...(error.CodeN === undefined ? {} : { codeN: error.CodeN }),
    description: error.Message,
    ...(metadata.RequestId === undefined ? {} : { requestId: metadata.RequestId })
  }
  const code = error.Code
  // Only Create: other actions' messages name the job they act on (e.g. "bi-… cannot be resumed while Running").
  if (action === "CreateBatchInferenceJob") {
    const id = jobIdPattern.exec(error.Message)
    if (id !== null && !authenticationCodes.has(code) && !accessCodes.has(code)) {
      return new DuplicateActiveJob({ ...fields, activeJobId: id[0] })
    }
  }
  if (authenticationCodes.has(code)) return new AuthenticationError(fields)
  if (accessCodes.has(code) || code.startsWith("AccessDenied")) return new AccessDenied(fields)
  if (code === "MissingParameter" || code.startsWith("MissingParameter.")) return new MissingParameter(fields)
  if (code.startsWith("InvalidParameter") || code.startsWith("OperationDenied")) return new InvalidParameter(fields)
  if (code.startsWith("NotFound") || code.endsWith(".NotFound") || code === "ResourceNotFound") {
    return new NotFound(fields)
  }
  if (throttleCode.test(code) || status === 429) {
    return new Throttled({
      ...fields,
      ...(options?.retryAfter === undefined ? {} : { retryAfter: options.retryAfter })
    })
  }
  if (serverCodes.has(code) || status >= 500) return new ServerError(fields)
  return new ArkApiError({ ...fields, ...(options?.body === undefined ? {} : { body: options.body }) })
}

const decodeEnvelope = Schema.decodeUnknownOption(Wire.Envelope(Schema.Unknown))

/**
 * A transport failure of an Ark call: a non-2xx status carrying `ResponseMetadata.Error` becomes the typed Ark
 * error; anything else stays the transport error it is.
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromTransport =
  (action: string) => (error: TransportError.TransportError): ApiError | TransportError.TransportError => {
    if (error._tag !== "StatusError") return error
    const envelope = decodeEnvelope(error.body)
    if (Option.isNone(envelope) || envelope.value.ResponseMetadata.Error === undefined) {
      if (error.status === 429) {
        return new Throttled({
          action,
          status: 429,
          code: "TooManyRequests",
          description: "Ark answered 429 without an error envelope",
          ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
          ...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter })
        })
      }
      if (error.status >= 500) {
        return new ServerError({
          action,
          status: error.status,
          code: `HTTP${error.status}`,
          description: "Ark answered without an error envelope",
          ...(error.requestId === undefined ? {} : { requestId: error.requestId })
        })
      }
      return error
    }
    const metadata = envelope.value.ResponseMetadata.RequestId === undefined && error.requestId !== undefined
      ? Wire.ResponseMetadata.make({ ...envelope.value.ResponseMetadata, RequestId: error.requestId })
      : envelope.value.ResponseMetadata
    return fromEnvelope(action, error.status, metadata, { retryAfter: error.retryAfter, body: error.body })
  }

const decodeTosError = Schema.decodeUnknownOption(Wire.TosErrorBody)

/**
 * A transport failure of a TOS call: a non-2xx status becomes a `TosError` with TOS's code (from the JSON body, or
 * from the status for bodiless answers such as HEAD).
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromTosTransport = (operation: string, bucket: string, key?: string) =>
(
  error: TransportError.TransportError
): TosError | TransportError.TransportError => {
  if (error._tag !== "StatusError") return error
  const body = decodeTosError(error.body)
  const code = Option.isSome(body)
    ? body.value.Code
    : error.status === 404
    ? (key === undefined ? "NoSuchBucket" : "NoSuchKey")
    // Bodiless answers (HEAD) carry no code; 403 is the usual one.
    : error.status === 403
    ? "AccessDenied"
    : `HTTP${error.status}`
  const requestId = Option.isSome(body) ? body.value.RequestId ?? error.requestId : error.requestId
  return new TosError({
    operation,
    bucket,
    ...(key === undefined ? {} : { key }),
    status: error.status,
    code,
    description: Option.isSome(body) ? body.value.Message : "",
    ...(requestId === undefined ? {} : { requestId })
  })
}

/**
 * @since 0.1.0
 * @category guards
 */
export const isApiError = (u: unknown): u is ApiError =>
  Predicate.isTagged(u, "DuplicateActiveJob") || Predicate.isTagged(u, "AuthenticationError") ||
  Predicate.isTagged(u, "AccessDenied") || Predicate.isTagged(u, "InvalidParameter") ||
  Predicate.isTagged(u, "MissingParameter") || Predicate.isTagged(u, "NotFound") ||
  Predicate.isTagged(u, "Throttled") || Predicate.isTagged(u, "ServerError") || Predicate.isTagged(u, "ArkApiError")
