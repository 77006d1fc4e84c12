/**
 * How Ark and TOS refusals map onto core's one error family (`ApiError`, with a closed `reason`): two tables of
 * data — Ark's `ResponseMetadata.Error` codes (the gateway's common table, docs/6369/68677, and Ark's own,
 * docs/82379/1299023) and TOS's error codes — plus Ark's one genuine extra, {@link DuplicateActiveJob}.
 *
 * @since 0.1.0
 */
import type * as ApiError from "@barge/core/ApiError"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * Create was refused because an identical job (same account, project, input bucket and key) is Queued or Running.
 * `activeJobId` is that job. The service's `submit` attaches to it; `create` fails with this.
 *
 * @since 0.1.0
 * @category errors
 */
export class DuplicateActiveJob extends Schema.TaggedError<DuplicateActiveJob>("@barge/ark/Errors/DuplicateActiveJob")(
  "DuplicateActiveJob",
  {
    activeJobId: Schema.String,
    /** The HTTP status of the refusal. */
    status: Schema.optional(Schema.Number),
    /** Ark's error code, verbatim (UNCONFIRMED: no public source shows it). */
    code: Schema.optional(Schema.String),
    /** Ark's message, verbatim. */
    description: Schema.String,
    requestId: Schema.optional(Schema.String)
  }
) {
  /** @since 0.1.0 */
  override get message(): string {
    const id = this.requestId === undefined ? "" : ` (request id ${this.requestId})`
    return `ark CreateBatchInferenceJob: job ${this.activeJobId} is already queued or running on this input${id}: ` +
      `${this.description}. Await that job instead of creating another, or stop it first`
  }
}

const authentication = (hint: string): ApiError.Rule => ({ reason: "Authentication", hint })
const credentialsHint = "check VOLC_ACCESSKEY / VOLC_SECRETKEY (and the STS token, if any)"
const clockHint = "the local clock is off: sync it (NTP) and retry"
const permissionHint = "grant the IAM user Ark batch-inference permissions in this project"
const invalid: ApiError.Rule = { reason: "InvalidRequest" }
const throttled: ApiError.Rule = { reason: "RateLimited", hint: "slow down; Barge retried already" }
const server: ApiError.Rule = { reason: "Server", hint: "a provider-side failure; retry later" }

/**
 * Reads Ark's envelope `{ ResponseMetadata: { RequestId, Error: { Code, Message } } }`.
 *
 * @since 0.1.0
 * @category tables
 */
export const readEnvelope = (body: unknown): Option.Option<ApiError.Envelope> => {
  if (!Predicate.isRecord(body) || !Predicate.isRecord(body.ResponseMetadata)) return Option.none()
  const metadata = body.ResponseMetadata
  const error = metadata.Error
  if (!Predicate.isRecord(error) || typeof error.Code !== "string") return Option.none()
  return Option.some({
    code: error.Code,
    description: typeof error.Message === "string" ? error.Message : "",
    ...(typeof metadata.RequestId === "string" ? { requestId: metadata.RequestId } : {})
  })
}

/**
 * Ark's control-plane codes.
 *
 * @since 0.1.0
 * @category tables
 */
export const table: ApiError.Table = {
  provider: "ark",
  read: readEnvelope,
  codes: {
    MissingAuthenticationToken: authentication(credentialsHint),
    MissingSignature: authentication(credentialsHint),
    InvalidAccessKey: authentication(credentialsHint),
    SignatureDoesNotMatch: authentication(credentialsHint),
    InvalidSecretToken: authentication("the STS token (VOLC_SESSIONTOKEN) is wrong or expired"),
    InvalidCredential: authentication(credentialsHint),
    InvalidAuthorization: authentication(credentialsHint),
    AuthenticationError: authentication(credentialsHint),
    InvalidTimestamp: authentication(clockHint),
    MissingRequestInfo: invalid,
    AccessDenied: { reason: "PermissionDenied", hint: permissionHint },
    LackPolicy: { reason: "PermissionDenied", hint: permissionHint },
    LackProjectPolicy: { reason: "PermissionDenied", hint: `${permissionHint} (or name another ARK_PROJECT_NAME)` },
    AccountOverdueError: { reason: "QuotaExceeded", hint: "the account is overdue: top it up in the billing center" },
    ModelNotOpen: { reason: "PermissionDenied", hint: "activate the model's service in the Ark console" },
    "OperationDenied.ServiceNotOpen": {
      reason: "PermissionDenied",
      hint: "activate the model's service in the Ark console"
    },
    "OperationDenied.ServiceOverdue": {
      reason: "QuotaExceeded",
      hint: "the account is overdue: top it up in the billing center"
    },
    "OperationDenied.UnsupportedPhase": {
      reason: "Conflict",
      hint:
        "the job's phase does not allow this (stop: Queued or Running; delete: finished; resume: Terminated or Failed)"
    },
    "OperationDenied.InvalidState": { reason: "Conflict" },
    "InvalidEndpointOrModel.NotFound": {
      reason: "NotFound",
      hint: "check the model name and version (\"doubao-pro-32k@240615\") and that this account may use it"
    },
    InvalidActionOrVersion: { reason: "NotFound", hint: "check ARK_ENDPOINT: it should be Ark's OpenAPI host" },
    ServiceNotFound: { reason: "NotFound", hint: "check ARK_ENDPOINT: it should be Ark's OpenAPI host" },
    MissingParameter: invalid,
    InvalidParameter: invalid,
    "Conflict.BatchInferenceJob": { reason: "Conflict" },
    QuotaExceeded: { reason: "QuotaExceeded", hint: "an account quota is used up (jobs, tokens per day)" },
    ServerOverloaded: { reason: "Overloaded", hint: "Ark is busy: retry later" },
    ServiceUnavailable: { reason: "Overloaded", hint: "Ark is busy: retry later" },
    FlowLimitExceeded: throttled,
    Throttling: throttled,
    TooManyRequests: throttled,
    RequestLimitExceeded: throttled,
    InternalError: server,
    InternalServiceError: server,
    InternalServiceTimeout: server,
    FailToConnect: server
  },
  prefixes: [
    ["MissingParameter.", invalid],
    ["InvalidParameter.", invalid],
    ["NotFound.", { reason: "NotFound", hint: "check the id, the project (ARK_PROJECT_NAME) and the region" }],
    ["OperationDenied.", { reason: "PermissionDenied" }],
    ["RateLimitExceeded.", throttled],
    ["AccessDenied.", { reason: "PermissionDenied", hint: permissionHint }]
  ],
  statusHints: {
    404: "no Ark envelope in the answer: check ARK_ENDPOINT (default https://open.volcengineapi.com)"
  }
}

/**
 * Reads TOS's JSON error body `{ Code, Message, RequestId }`.
 *
 * @since 0.1.0
 * @category tables
 */
export const readTosBody = (body: unknown): Option.Option<ApiError.Envelope> => {
  if (!Predicate.isRecord(body) || typeof body.Code !== "string") return Option.none()
  return Option.some({
    code: body.Code,
    description: typeof body.Message === "string" ? body.Message : "",
    ...(typeof body.RequestId === "string" ? { requestId: body.RequestId } : {})
  })
}

const tosCredentials = authentication("check VOLC_ACCESSKEY / VOLC_SECRETKEY (TOS uses the same keys)")

/**
 * TOS's codes (the `TosServerCode` enum of `@volcengine/tos-sdk`).
 *
 * @since 0.1.0
 * @category tables
 */
export const tosTable: ApiError.Table = {
  provider: "tos",
  read: readTosBody,
  codes: {
    NoSuchBucket: {
      reason: "NotFound",
      hint: "create the bucket in the TOS console (same region as Ark), or name one that exists (ARK_TOS_BUCKET)"
    },
    NoSuchKey: { reason: "NotFound" },
    AccessDenied: { reason: "PermissionDenied", hint: "grant the IAM user read and write on the bucket" },
    InvalidAccessKeyId: tosCredentials,
    SignatureDoesNotMatch: tosCredentials,
    RequestTimeTooSkewed: authentication(clockHint),
    InvalidArgument: invalid,
    InvalidObjectName: invalid,
    IncompleteBody: { reason: "InvalidRequest", hint: "the upload was cut short; submit again" },
    InvalidRange: invalid,
    MethodNotAllowed: invalid,
    ExceedAccountQPSLimit: throttled,
    InternalError: server
  }
}

/**
 * Ark job ids look like `bi-20240918194641-r2nwq` (inferred from the examples).
 *
 * @since 0.1.0
 * @category parsing
 */
export const jobIdPattern = /\bbi-\d{14}-[a-z0-9]+\b/i

/**
 * Whether a Create refusal reads like the duplicate-submission rule when it names no job id (its real code and
 * wording are UNCONFIRMED; the doc only promises the message names the active job).
 *
 * @since 0.1.0
 * @category predicates
 */
export const looksLikeDuplicate = (error: ApiError.ApiError): boolean =>
  error.reason === "Conflict" ||
  ((error.reason === "InvalidRequest" || error.reason === "Unknown") &&
    /already|duplicat|active job|running or queued|重复|幂等/i.test(error.description))
