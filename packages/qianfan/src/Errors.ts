/**
 * Every failure of the Qianfan batch client, and the one mapping from BCE error envelopes
 * (`{requestId, code, message}`) and transport failures to them. Codes are matched first, the HTTP status second;
 * an unknown code is kept whole in `QianfanApiError`. Nothing here is ever a defect.
 *
 * @since 0.1.0
 */
import * as TransportError from "@barge/core/TransportError"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Wire from "./Wire.js"

const apiFields = {
  /** The call that failed (`"CreateBatchInferenceTask"`, `"PutObject"`, …). */
  action: Schema.String,
  status: Schema.Number,
  /** The envelope's `code`, verbatim. */
  code: Schema.String,
  /** The envelope's `message`, verbatim. */
  description: Schema.String,
  requestId: Schema.optional(Schema.String)
}

interface ApiFields {
  readonly action: string
  readonly status: number
  readonly code: string
  readonly description: string
  readonly requestId?: string | undefined
}

const describe = (self: ApiFields, hint: string) => {
  const id = self.requestId === undefined ? "" : ` (request id ${self.requestId})`
  return `Qianfan ${self.action} answered HTTP ${self.status} ${self.code}${id}: ${self.description}${
    hint === "" ? "" : ` — ${hint}`
  }`
}

/**
 * `AccessDenied` (403): the credentials may not do this (Create also needs BOS permissions). The official SDK
 * retries it on Create, which suggests it can be transient.
 *
 * @since 0.1.0
 * @category errors
 */
export class AccessDenied extends Schema.TaggedError<AccessDenied>("@barge/qianfan/Errors/AccessDenied")(
  "AccessDenied",
  apiFields
) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(
      this,
      "check the IAM policies of the access key (QianfanFullControlAccessPolicy or Operate, plus BOS access)"
    )
  }
}

/**
 * The request was refused as invalid: `InvalidParameter`, `InappropriateJSON` or `MalformedJSON` (`code` says
 * which); `description` is the service's explanation.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidParameter extends Schema.TaggedError<InvalidParameter>("@barge/qianfan/Errors/InvalidParameter")(
  "InvalidParameter",
  apiFields
) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "")
  }
}

/**
 * The signature was refused: `InvalidAccessKeyId`, `InvalidHTTPAuthHeader`, `RequestExpired` or
 * `SignatureDoesNotMatch`.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError
  extends Schema.TaggedError<AuthenticationError>("@barge/qianfan/Errors/AuthenticationError")(
    "AuthenticationError",
    apiFields
  )
{
  /** @since 0.1.0 */
  override get message(): string {
    return describe(
      this,
      this.code === "RequestExpired"
        ? "the request's timestamp is outside its window; check the local clock"
        : "check QIANFAN_ACCESS_KEY / QIANFAN_SECRET_KEY"
    )
  }
}

/**
 * `TaskRunningNumberExceedLimit`: the account already has `limit` (20) tasks Queuing, Running or Stopping.
 * Retrying later, once some finish, is safe.
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskRunningNumberExceedLimit extends Schema.TaggedError<TaskRunningNumberExceedLimit>(
  "@barge/qianfan/Errors/TaskRunningNumberExceedLimit"
)("TaskRunningNumberExceedLimit", { ...apiFields, limit: Schema.Number }) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, `at most ${this.limit} tasks may be active at once; retry when some have finished`)
  }
}

/**
 * The task (or BOS bucket/object) does not exist. The console's not-found code is UNCONFIRMED; `ResourceNotFound`,
 * `NotFound`, `NoSuchKey`, `NoSuchBucket` and any 404 map here.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>("@barge/qianfan/Errors/NotFound")("NotFound", apiFields) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "check the task id, bucket and key")
  }
}

/**
 * `InternalError` or any 5xx (after the transport's retries).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>("@barge/qianfan/Errors/ServerError")(
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
export class QianfanApiError extends Schema.TaggedError<QianfanApiError>("@barge/qianfan/Errors/QianfanApiError")(
  "QianfanApiError",
  { ...apiFields, body: Schema.Unknown }
) {
  /** @since 0.1.0 */
  override get message(): string {
    return describe(this, "")
  }
}

/**
 * `StopBatchInferenceTask` answered `result: false`: the service did not stop the task (typically it had already
 * finished).
 *
 * @since 0.1.0
 * @category errors
 */
export class StopRefused extends Schema.TaggedError<StopRefused>("@barge/qianfan/Errors/StopRefused")(
  "StopRefused",
  { taskId: Schema.String, requestId: Schema.optional(Schema.String) }
) {
  /** @since 0.1.0 */
  override get message(): string {
    return `Qianfan refused to stop task ${this.taskId} (result: false); it has probably already finished — describe it to see its status`
  }
}

/**
 * The task ended `Failed`; `task.errorCode` and `task.errorReason` say why.
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskFailed extends Schema.TaggedError<TaskFailed>("@barge/qianfan/Errors/TaskFailed")("TaskFailed", {
  task: Wire.Task
}) {
  /** @since 0.1.0 */
  override get message(): string {
    return `Qianfan task ${this.task.taskId} failed with error ${this.task.errorCode ?? "?"}: ${
      this.task.errorReason ?? "no reason given"
    }; fix the input and submit again`
  }
}

/**
 * The task was stopped; what it finished before is in its output directory and `results` still reads it.
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskStopped extends Schema.TaggedError<TaskStopped>("@barge/qianfan/Errors/TaskStopped")(
  "TaskStopped",
  { task: Wire.Task }
) {
  /** @since 0.1.0 */
  override get message(): string {
    return `Qianfan task ${this.task.taskId} was stopped after ${this.task.progress ?? "?"} of ${
      this.task.totalCount ?? "?"
    } lines`
  }
}

/**
 * The task ran past its completion window; finished lines can still be read with `results`.
 *
 * @since 0.1.0
 * @category errors
 */
export class TaskExpired extends Schema.TaggedError<TaskExpired>("@barge/qianfan/Errors/TaskExpired")(
  "TaskExpired",
  { task: Wire.Task }
) {
  /** @since 0.1.0 */
  override get message(): string {
    return `Qianfan task ${this.task.taskId} expired after ${this.task.progress ?? "?"} of ${
      this.task.totalCount ?? "?"
    } lines; read what finished with results and resubmit the rest`
  }
}

/**
 * An error response from the console API or BOS.
 *
 * @since 0.1.0
 * @category errors
 */
export type ApiError =
  | AccessDenied
  | InvalidParameter
  | AuthenticationError
  | TaskRunningNumberExceedLimit
  | NotFound
  | ServerError
  | QianfanApiError

/**
 * @since 0.1.0
 * @category errors
 */
export const ApiError = Schema.Union(
  AccessDenied,
  InvalidParameter,
  AuthenticationError,
  TaskRunningNumberExceedLimit,
  NotFound,
  ServerError,
  QianfanApiError
)

/**
 * A task that ended without finishing.
 *
 * @since 0.1.0
 * @category errors
 */
export type TaskEnded = TaskFailed | TaskStopped | TaskExpired

/**
 * @since 0.1.0
 * @category errors
 */
export const TaskEnded = Schema.Union(TaskFailed, TaskStopped, TaskExpired)

/**
 * A call that got no error envelope back: no response, a timeout, or an unreadable 2xx body.
 *
 * @since 0.1.0
 * @category errors
 */
export type TransportFailure = TransportError.TransportFailure

/**
 * Every failure of a console or BOS call.
 *
 * @since 0.1.0
 * @category errors
 */
export type QianfanError = ApiError | TransportFailure

/**
 * @since 0.1.0
 * @category errors
 */
export const QianfanError = Schema.Union(ApiError, TransportError.TransportFailure)

/**
 * The limit of active tasks per account (documented).
 *
 * @since 0.1.0
 * @category constants
 */
export const runningTaskLimit = 20

type Kind = Exclude<ApiError["_tag"], "QianfanApiError" | "TaskRunningNumberExceedLimit">

const kinds: Readonly<Record<string, Kind>> = {
  AccessDenied: "AccessDenied",
  InvalidParameter: "InvalidParameter",
  InappropriateJSON: "InvalidParameter",
  MalformedJSON: "InvalidParameter",
  InvalidAccessKeyId: "AuthenticationError",
  InvalidHTTPAuthHeader: "AuthenticationError",
  RequestExpired: "AuthenticationError",
  SignatureDoesNotMatch: "AuthenticationError",
  ResourceNotFound: "NotFound",
  NotFound: "NotFound",
  NoSuchKey: "NotFound",
  NoSuchBucket: "NotFound",
  InternalError: "ServerError",
  ServiceUnavailable: "ServerError"
}

const envelopeOf = (body: unknown): Wire.ErrorEnvelope | undefined =>
  Predicate.isRecord(body) && typeof body.code === "string"
    ? new Wire.ErrorEnvelope({
      code: body.code,
      message: typeof body.message === "string" ? body.message : "",
      requestId: typeof body.requestId === "string" ? body.requestId : undefined
    })
    : undefined

/**
 * Maps a status error to the typed union: the envelope's `code` first, the status second, else `QianfanApiError`.
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromStatusError = (error: TransportError.StatusError): ApiError => {
  const envelope = envelopeOf(error.body)
  const fields: ApiFields = {
    action: error.action,
    status: error.status,
    code: envelope?.code ?? `HTTP${error.status}`,
    description: envelope?.message ?? (typeof error.body === "string" ? error.body : ""),
    requestId: envelope?.requestId ?? error.requestId
  }
  if (fields.code === "TaskRunningNumberExceedLimit") {
    return new TaskRunningNumberExceedLimit({ ...fields, limit: runningTaskLimit })
  }
  const kind = envelope === undefined ? undefined : kinds[envelope.code]
  const byStatus: Kind | undefined = error.status === 404
    ? "NotFound"
    : error.status >= 500
    ? "ServerError"
    : undefined
  switch (kind ?? (envelope === undefined ? byStatus : error.status >= 500 ? "ServerError" : undefined)) {
    case "AccessDenied":
      return new AccessDenied(fields)
    case "InvalidParameter":
      return new InvalidParameter(fields)
    case "AuthenticationError":
      return new AuthenticationError(fields)
    case "NotFound":
      return new NotFound(fields)
    case "ServerError":
      return new ServerError(fields)
    default:
      return new QianfanApiError({ ...fields, body: error.body })
  }
}

/**
 * Maps any transport failure: status errors become API errors, the rest pass through.
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromTransportError: (error: TransportError.TransportError) => QianfanError = TransportError.mapStatus(
  fromStatusError
)

/**
 * Whether a failure leaves it unknown if the request took effect (no response, a timeout, a 5xx), so a create
 * must look for its task before trying again.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isAmbiguous = (error: QianfanError): boolean =>
  error._tag === "RequestFailed"
    ? error.reason === "Transport"
    : error._tag === "RequestTimeout" || error._tag === "ServerError"
