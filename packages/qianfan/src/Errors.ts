/**
 * How Qianfan's console and BOS refusals map onto core's one error family: the BCE envelope
 * (`{requestId, code, message}`), each code's `ApiError` reason and what to tell the user, as a data table. The
 * codes and statuses are BCE's public table (`AccessDenied` 403, `InappropriateJSON` 400, `InvalidURI` 400, …), BOS's
 * own codes, and the batch inference codes (`TaskRunningNumberExceedLimit`). Qianfan has no error that needs a class
 * of its own: a stop or delete the service answers with `result: false` is an `ApiError` with reason `Conflict`.
 *
 * @since 0.1.0
 */
import * as ApiError from "@barge/core/ApiError"
import type * as TransportError from "@barge/core/TransportError"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"

/**
 * The most tasks an account may have Queuing, Running or Stopping at once (documented).
 *
 * @since 0.1.0
 * @category constants
 */
export const runningTaskLimit = 20

const credentials = "check QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY (the secret must belong to the access key)"
const endpoint = "the endpoint URL looks wrong: the console is https://qianfan.baidubce.com (QIANFAN_ENDPOINT)"

/**
 * Reads the BCE envelope `{requestId, code, message}` from an error body.
 *
 * @since 0.1.0
 * @category tables
 */
export const readEnvelope = (body: unknown): Option.Option<ApiError.Envelope> =>
  Predicate.isRecord(body) && typeof body.code === "string"
    ? Option.some({
      code: body.code,
      description: typeof body.message === "string" ? body.message : body.code,
      requestId: typeof body.requestId === "string" ? body.requestId : undefined
    })
    : Option.none()

/**
 * The console's and BOS's codes (BCE public codes, BOS codes and the batch inference codes) and what they mean.
 *
 * @since 0.1.0
 * @category tables
 */
export const table: ApiError.Table = {
  provider: "qianfan",
  read: readEnvelope,
  codes: {
    AccessDenied: {
      reason: "PermissionDenied",
      hint: "the access key needs QianfanFullControlAccessPolicy or QianfanServiceOperateAccessPolicy, and " +
        "BOSFullControlAccessPolicy for the bucket"
    },
    OptInRequired: { reason: "PermissionDenied", hint: "activate the service (Qianfan or BOS) for this account" },
    AccountOverdue: { reason: "QuotaExceeded", hint: "the account has an overdue bill" },
    InvalidAccessKeyId: { reason: "Authentication", hint: credentials },
    SignatureDoesNotMatch: { reason: "Authentication", hint: credentials },
    InvalidHTTPAuthHeader: {
      reason: "Authentication",
      hint: "the bce-auth-v1 Authorization header was refused as malformed; report it with the request id"
    },
    RequestExpired: {
      reason: "Authentication",
      hint: "the request's timestamp is outside its signature window: check the local clock"
    },
    InappropriateJSON: { reason: "InvalidRequest" },
    MalformedJSON: { reason: "InvalidRequest" },
    InvalidHTTPRequest: { reason: "InvalidRequest" },
    InvalidParameter: { reason: "InvalidRequest" },
    InvalidURI: { reason: "InvalidRequest", hint: endpoint },
    InvalidVersion: { reason: "NotFound", hint: endpoint },
    PreconditionFailed: { reason: "Conflict" },
    TaskRunningNumberExceedLimit: {
      reason: "QuotaExceeded",
      hint: `at most ${runningTaskLimit} tasks may be Queuing, Running or Stopping at once: retry when some have ` +
        "finished, or submit with waitForCapacity"
    },
    ResourceNotFound: { reason: "NotFound", hint: "no such task for this account: check the task id" },
    NoSuchBucket: {
      reason: "NotFound",
      hint: "the BOS bucket does not exist in this region: create it, or check QIANFAN_BOS_BUCKET and " +
        "QIANFAN_BOS_ENDPOINT"
    },
    NoSuchKey: { reason: "NotFound" },
    BadDigest: { reason: "InvalidRequest" },
    IncompleteBody: { reason: "InvalidRequest" },
    BucketAlreadyExists: { reason: "Conflict" },
    InternalError: { reason: "Server", hint: "a provider-side failure; retry later" },
    ServiceUnavailable: { reason: "Overloaded", hint: "retry later" }
  },
  statusHints: {
    404: "the task, bucket or object does not exist; check its id or key (or the endpoint URL)"
  }
}

/**
 * Maps a transport failure of a console or BOS call: a refusal becomes an `ApiError` through {@link table}; a
 * call without an answer stays a `TransportFailure`.
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromTransport: (
  error: TransportError.TransportError
) => ApiError.ApiError | TransportError.TransportFailure = ApiError.fromTransport(table)

/**
 * A stop or delete the service answered with `result: false`: the task's state forbids it now.
 *
 * @since 0.1.0
 * @category constructors
 */
export const refused = (
  action: "StopBatchInferenceTask" | "DeleteBatchInferenceTask",
  taskId: string,
  requestId: string | undefined
): ApiError.ApiError =>
  new ApiError.ApiError({
    provider: "qianfan",
    action,
    reason: "Conflict",
    description: `Qianfan answered result: false for task ${taskId}`,
    ...(requestId === undefined ? {} : { requestId }),
    hint: action === "StopBatchInferenceTask"
      ? "a task that has finished cannot be stopped; get it to see its status"
      : "only a finished, failed or stopped task can be deleted; stop it first"
  })
