/**
 * The OpenAI-compatible Files and Batches wire shapes, exactly as Moonshot (and OpenAI) send and receive them.
 * Decoding is lenient where the providers disagree or are undocumented: extra keys are ignored, fields Moonshot
 * marks nullable or omits while `validating` are optional.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A stored file (`GET /v1/files/{id}`).
 *
 * @since 0.1.0
 * @category files
 */
export class FileObject extends Schema.Class<FileObject>("@barge/moonshot/Wire/FileObject")({
  id: Schema.String,
  object: Schema.optional(Schema.String),
  bytes: Schema.Number,
  created_at: Schema.Number,
  filename: Schema.String,
  purpose: Schema.String,
  // The status enum is undocumented ("ready", "ok" and OpenAI's "processed" are all seen), so any string passes.
  status: Schema.optional(Schema.NullOr(Schema.String)),
  status_details: Schema.optional(Schema.NullOr(Schema.Unknown))
}) {}

/**
 * `GET /v1/files`.
 *
 * @since 0.1.0
 * @category files
 */
export class FileList extends Schema.Class<FileList>("@barge/moonshot/Wire/FileList")({
  object: Schema.optional(Schema.String),
  data: Schema.Array(FileObject),
  has_more: Schema.optional(Schema.Boolean)
}) {}

/**
 * `DELETE /v1/files/{id}`.
 *
 * @since 0.1.0
 * @category files
 */
export class FileDeleted extends Schema.Class<FileDeleted>("@barge/moonshot/Wire/FileDeleted")({
  id: Schema.String,
  object: Schema.optional(Schema.String),
  deleted: Schema.Boolean
}) {}

/**
 * Every status a batch can have; `completed`, `failed`, `expired` and `cancelled` are final.
 *
 * @since 0.1.0
 * @category batches
 */
export const BatchStatus = Schema.Literal(
  "validating",
  "failed",
  "in_progress",
  "finalizing",
  "completed",
  "expired",
  "cancelling",
  "cancelled"
)

/**
 * @since 0.1.0
 * @category batches
 */
export type BatchStatus = typeof BatchStatus.Type

/**
 * Whether a batch in this status will never change again.
 *
 * @since 0.1.0
 * @category batches
 */
export const isTerminal = (status: BatchStatus): boolean =>
  status === "completed" || status === "failed" || status === "expired" || status === "cancelled"

/**
 * Request counts of a batch.
 *
 * @since 0.1.0
 * @category batches
 */
export class RequestCounts extends Schema.Class<RequestCounts>("@barge/moonshot/Wire/RequestCounts")({
  completed: Schema.Number,
  failed: Schema.Number,
  total: Schema.Number
}) {}

/**
 * One reason a batch failed validation (OpenAI's `BatchError`; Moonshot does not document the field).
 *
 * @since 0.1.0
 * @category batches
 */
export class BatchErrorItem extends Schema.Class<BatchErrorItem>("@barge/moonshot/Wire/BatchErrorItem")({
  code: Schema.optional(Schema.NullOr(Schema.String)),
  message: Schema.optional(Schema.NullOr(Schema.String)),
  line: Schema.optional(Schema.NullOr(Schema.Number)),
  param: Schema.optional(Schema.NullOr(Schema.String))
}) {}

const nullableNumber = Schema.optional(Schema.NullOr(Schema.Number))
const nullableString = Schema.optional(Schema.NullOr(Schema.String))

/**
 * A batch (`GET /v1/batches/{id}`). Timestamps are Unix seconds.
 *
 * @since 0.1.0
 * @category batches
 */
export class Batch extends Schema.Class<Batch>("@barge/moonshot/Wire/Batch")({
  id: Schema.String,
  object: Schema.optional(Schema.String),
  endpoint: Schema.optional(Schema.String),
  input_file_id: Schema.String,
  completion_window: Schema.String,
  status: BatchStatus,
  created_at: Schema.Number,
  // Moonshot's own sample code treats the counts as possibly absent while validating.
  request_counts: Schema.optional(Schema.NullOr(RequestCounts)),
  output_file_id: nullableString,
  error_file_id: nullableString,
  in_progress_at: nullableNumber,
  expires_at: nullableNumber,
  finalizing_at: nullableNumber,
  completed_at: nullableNumber,
  failed_at: nullableNumber,
  expired_at: nullableNumber,
  cancelling_at: nullableNumber,
  cancelled_at: nullableNumber,
  metadata: Schema.optional(Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.String }))),
  errors: Schema.optional(Schema.NullOr(Schema.Struct({
    object: Schema.optional(Schema.String),
    data: Schema.optional(Schema.Array(BatchErrorItem))
  })))
}) {
  /**
   * The counts, zero while the provider has not reported any.
   *
   * @since 0.1.0
   */
  get counts(): RequestCounts {
    return this.request_counts ?? new RequestCounts({ completed: 0, failed: 0, total: 0 })
  }

  /**
   * The validation errors the provider reported, if any.
   *
   * @since 0.1.0
   */
  get errorItems(): ReadonlyArray<BatchErrorItem> {
    return this.errors?.data ?? []
  }
}

/**
 * `GET /v1/batches?after=&limit=`.
 *
 * @since 0.1.0
 * @category batches
 */
export class BatchList extends Schema.Class<BatchList>("@barge/moonshot/Wire/BatchList")({
  object: Schema.optional(Schema.String),
  data: Schema.Array(Batch),
  has_more: Schema.optional(Schema.Boolean),
  first_id: nullableString,
  last_id: nullableString
}) {}

/**
 * The body of `POST /v1/batches`.
 *
 * @since 0.1.0
 * @category batches
 */
export class CreateBatchRequest extends Schema.Class<CreateBatchRequest>("@barge/moonshot/Wire/CreateBatchRequest")({
  input_file_id: Schema.String,
  endpoint: Schema.String,
  completion_window: Schema.String,
  metadata: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
}) {}

/**
 * The error envelope `{"error":{"type","message","code"?}}`.
 *
 * @since 0.1.0
 * @category errors
 */
export class ErrorEnvelope extends Schema.Class<ErrorEnvelope>("@barge/moonshot/Wire/ErrorEnvelope")({
  error: Schema.Struct({
    type: Schema.optional(Schema.NullOr(Schema.String)),
    message: Schema.optional(Schema.NullOr(Schema.String)),
    code: Schema.optional(Schema.NullOr(Schema.Union(Schema.String, Schema.Number))),
    param: Schema.optional(Schema.NullOr(Schema.String))
  })
}) {}

/**
 * One line of a batch input file.
 *
 * @since 0.1.0
 * @category lines
 */
export class InputLine extends Schema.Class<InputLine>("@barge/moonshot/Wire/InputLine")({
  custom_id: Schema.String,
  method: Schema.String,
  url: Schema.String,
  body: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}) {}

/**
 * One line of a batch output or error file: a `response` (any status) or an `error` (a request the batch never
 * ran, such as `batch_expired`).
 *
 * @since 0.1.0
 * @category lines
 */
export class ResultLine extends Schema.Class<ResultLine>("@barge/moonshot/Wire/ResultLine")({
  id: nullableString,
  custom_id: Schema.String,
  response: Schema.optional(Schema.NullOr(Schema.Struct({
    status_code: Schema.Number,
    request_id: nullableString,
    body: Schema.Unknown
  }))),
  error: Schema.optional(Schema.NullOr(Schema.Struct({
    code: Schema.optional(Schema.NullOr(Schema.String)),
    message: Schema.optional(Schema.NullOr(Schema.String))
  })))
}) {}

const isNullableString = (u: unknown): boolean => u === undefined || u === null || typeof u === "string"

/**
 * The fast path of {@link ResultLine} for `Jsonl.decodeLines`: the same checks, written by hand, building the same
 * value (only the named keys, absent ones left absent). Anything it declines goes through the schema, whose error
 * names the line.
 *
 * @since 0.1.0
 * @category lines
 */
export const fastResultLine = (json: unknown): ResultLine | undefined => {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined
  const line = json as Record<string, unknown>
  if (typeof line.custom_id !== "string" || !isNullableString(line.id)) return undefined
  const props: {
    id?: string | null
    custom_id: string
    response?: ResultLine["response"]
    error?: ResultLine["error"]
  } = { custom_id: line.custom_id }
  if (line.id !== undefined) props.id = line.id as string | null
  const response = line.response
  if (response === null) props.response = null
  else if (response !== undefined) {
    if (typeof response !== "object" || Array.isArray(response)) return undefined
    const r = response as Record<string, unknown>
    if (typeof r.status_code !== "number" || !isNullableString(r.request_id)) return undefined
    props.response = r.request_id === undefined
      ? { status_code: r.status_code, body: r.body }
      : { status_code: r.status_code, request_id: r.request_id as string | null, body: r.body }
  }
  const error = line.error
  if (error === null) props.error = null
  else if (error !== undefined) {
    if (typeof error !== "object" || Array.isArray(error)) return undefined
    const e = error as Record<string, unknown>
    if (!isNullableString(e.code) || !isNullableString(e.message)) return undefined
    const item: { code?: string | null; message?: string | null } = {}
    if (e.code !== undefined) item.code = e.code as string | null
    if (e.message !== undefined) item.message = e.message as string | null
    props.error = item
  }
  // Checked above, exactly as the schema would: skip the constructor's second validation.
  return new ResultLine(props, true)
}
