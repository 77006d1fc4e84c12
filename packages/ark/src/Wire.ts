/**
 * Ark's wire shapes, exactly as sent and received: the OpenAPI envelope (`ResponseMetadata` + `Result`), the
 * seven batch-inference actions' requests and results (PascalCase, Version `2024-01-01`), the TOS listing, and
 * the result/error lines of the output files. Decoding is lenient where Ark may add fields; the camelCase domain
 * model lives in `Job.ts`, mapped from these in one place.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The API version of every batch action.
 *
 * @since 0.1.0
 * @category constants
 */
export const apiVersion = "2024-01-01"

/**
 * The six phases of Ark's official enum. Ark may report others (an `Initializing` phase is rumoured), so job
 * objects decode `Phase` as any string.
 *
 * @since 0.1.0
 * @category models
 */
export const Phase = Schema.Literal("Queued", "Running", "Completed", "Terminating", "Terminated", "Failed")

/**
 * @since 0.1.0
 * @category models
 */
export type Phase = typeof Phase.Type

/**
 * A bucket and object key (or key prefix, for the output directory).
 *
 * @since 0.1.0
 * @category schemas
 */
export class TosLocation extends Schema.Class<TosLocation>("@barge/ark/Wire/TosLocation")({
  BucketName: Schema.String,
  ObjectKey: Schema.String
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class FoundationModel extends Schema.Class<FoundationModel>("@barge/ark/Wire/FoundationModel")({
  Name: Schema.String,
  ModelVersion: Schema.String
}) {}

/**
 * Exactly one of a foundation model or a custom (fine-tuned) model id.
 *
 * @since 0.1.0
 * @category schemas
 */
export class ModelReference extends Schema.Class<ModelReference>("@barge/ark/Wire/ModelReference")({
  FoundationModel: Schema.optional(FoundationModel),
  CustomModelId: Schema.optional(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class Tag extends Schema.Class<Tag>("@barge/ark/Wire/Tag")({
  Key: Schema.String,
  Value: Schema.String
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class Status extends Schema.Class<Status>("@barge/ark/Wire/Status")({
  Phase: Schema.String,
  PhaseTime: Schema.optional(Schema.String),
  Message: Schema.optionalWith(Schema.String, { default: () => "" })
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class RequestCounts extends Schema.Class<RequestCounts>("@barge/ark/Wire/RequestCounts")({
  Total: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  Completed: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  Failed: Schema.optionalWith(Schema.Number, { default: () => 0 })
}) {}

/**
 * A job as `GetBatchInferenceJob` returns it (list items lack `ErrorFileTosLocation` and `TokenUsage`).
 *
 * @since 0.1.0
 * @category schemas
 */
export class BatchInferenceJob extends Schema.Class<BatchInferenceJob>("@barge/ark/Wire/BatchInferenceJob")({
  Id: Schema.String,
  Name: Schema.String,
  Description: Schema.optional(Schema.String),
  ProjectName: Schema.optionalWith(Schema.String, { default: () => "default" }),
  InputFileTosLocation: TosLocation,
  OutputDirTosLocation: TosLocation,
  ErrorFileTosLocation: Schema.optional(TosLocation),
  CompletionWindow: Schema.optional(Schema.String),
  Status: Status,
  ModelReference: ModelReference,
  RequestCounts: Schema.optionalWith(RequestCounts, { default: () => RequestCounts.make({}) }),
  /** Its shape is undocumented (UNCONFIRMED), so it is kept as received. */
  TokenUsage: Schema.optional(Schema.Unknown),
  Tags: Schema.optionalWith(Schema.Array(Tag), { default: () => [] }),
  CreateTime: Schema.String,
  UpdateTime: Schema.optional(Schema.String),
  ExpireTime: Schema.optional(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class CreateBatchInferenceJobRequest
  extends Schema.Class<CreateBatchInferenceJobRequest>("@barge/ark/Wire/CreateBatchInferenceJobRequest")({
    Name: Schema.String,
    Description: Schema.optional(Schema.String),
    ProjectName: Schema.optional(Schema.String),
    ModelReference: ModelReference,
    InputFileTosLocation: TosLocation,
    OutputDirTosLocation: TosLocation,
    CompletionWindow: Schema.optional(Schema.String),
    Tags: Schema.optional(Schema.Array(Tag)),
    DryRun: Schema.optional(Schema.Boolean)
  })
{}

/**
 * @since 0.1.0
 * @category schemas
 */
export class IdResult extends Schema.Class<IdResult>("@barge/ark/Wire/IdResult")({
  Id: Schema.String
}) {}

/**
 * The body of Get, Delete, Stop and Resume.
 *
 * @since 0.1.0
 * @category schemas
 */
export class IdRequest extends Schema.Class<IdRequest>("@barge/ark/Wire/IdRequest")({
  Id: Schema.String,
  DryRun: Schema.optional(Schema.Boolean)
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class UpdateBatchInferenceJobRequest
  extends Schema.Class<UpdateBatchInferenceJobRequest>("@barge/ark/Wire/UpdateBatchInferenceJobRequest")({
    Id: Schema.String,
    Name: Schema.optional(Schema.String),
    Description: Schema.optional(Schema.String),
    DryRun: Schema.optional(Schema.Boolean)
  })
{}

/**
 * Update, Delete and Stop answer `Result: {}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EmptyResult = Schema.Struct({})

/**
 * @since 0.1.0
 * @category schemas
 */
export class ListFilter extends Schema.Class<ListFilter>("@barge/ark/Wire/ListFilter")({
  Ids: Schema.optional(Schema.Array(Schema.String)),
  Name: Schema.optional(Schema.String),
  Phases: Schema.optional(Schema.Array(Schema.String)),
  FoundationModels: Schema.optional(Schema.Array(Schema.Struct({
    Name: Schema.String,
    ModelVersions: Schema.optional(Schema.Array(Schema.String))
  }))),
  CustomModelIds: Schema.optional(Schema.Array(Schema.String))
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class ListBatchInferenceJobsRequest
  extends Schema.Class<ListBatchInferenceJobsRequest>("@barge/ark/Wire/ListBatchInferenceJobsRequest")({
    ProjectName: Schema.optional(Schema.String),
    PageNumber: Schema.optional(Schema.Number),
    PageSize: Schema.optional(Schema.Number),
    SortBy: Schema.optional(Schema.Literal("CreateTime", "UpdateTime")),
    SortOrder: Schema.optional(Schema.Literal("Asc", "Desc")),
    Filter: Schema.optional(ListFilter),
    TagFilters: Schema.optional(
      Schema.Array(Schema.Struct({ Key: Schema.String, Values: Schema.Array(Schema.String) }))
    )
  })
{}

/**
 * @since 0.1.0
 * @category schemas
 */
export class ListBatchInferenceJobsResult
  extends Schema.Class<ListBatchInferenceJobsResult>("@barge/ark/Wire/ListBatchInferenceJobsResult")({
    Items: Schema.optionalWith(Schema.Array(BatchInferenceJob), { default: () => [] }),
    PageNumber: Schema.Number,
    PageSize: Schema.Number,
    TotalCount: Schema.Number
  })
{}

/**
 * `ResponseMetadata.Error`. `CodeN` is not in every example, so it is optional.
 *
 * @since 0.1.0
 * @category schemas
 */
export class ErrorInfo extends Schema.Class<ErrorInfo>("@barge/ark/Wire/ErrorInfo")({
  Code: Schema.String,
  CodeN: Schema.optional(Schema.Number),
  Message: Schema.optionalWith(Schema.String, { default: () => "" })
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class ResponseMetadata extends Schema.Class<ResponseMetadata>("@barge/ark/Wire/ResponseMetadata")({
  RequestId: Schema.optional(Schema.String),
  Action: Schema.optional(Schema.String),
  Version: Schema.optional(Schema.String),
  Service: Schema.optional(Schema.String),
  Region: Schema.optional(Schema.String),
  Error: Schema.optional(ErrorInfo)
}) {}

/**
 * The envelope of every answer; `Result` is absent when `ResponseMetadata.Error` is set.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Envelope = <A, I>(result: Schema.Schema<A, I, never>) =>
  Schema.Struct({ ResponseMetadata: ResponseMetadata, Result: Schema.optional(result) })

/**
 * A line of `results.jsonl` or the errors file (spec §4.3; the error-line shape is UNCONFIRMED, so every field but
 * `custom_id` is optional and `body` is kept as received).
 *
 * @since 0.1.0
 * @category schemas
 */
export class ResultLine extends Schema.Class<ResultLine>("@barge/ark/Wire/ResultLine")({
  id: Schema.optional(Schema.String),
  custom_id: Schema.String,
  response: Schema.optional(Schema.NullOr(Schema.Struct({
    request_id: Schema.optional(Schema.String),
    status_code: Schema.optional(Schema.Number),
    body: Schema.Unknown
  }))),
  error: Schema.optional(Schema.NullOr(Schema.Struct({
    code: Schema.optional(Schema.String),
    type: Schema.optional(Schema.NullOr(Schema.String)),
    message: Schema.optionalWith(Schema.String, { default: () => "" })
  })))
}) {}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const isOptionalString = (u: unknown): boolean => u === undefined || typeof u === "string"

/**
 * The fast path of {@link ResultLine} for `Jsonl.decodeLines`: the same checks, written by hand, building the same
 * value (only the named keys, absent ones left absent, `message` defaulting to `""`). Anything it declines goes
 * through the schema, whose error names the line.
 *
 * @since 0.1.0
 * @category schemas
 */
export const fastResultLine = (json: unknown): ResultLine | undefined => {
  if (!isRecord(json) || typeof json.custom_id !== "string" || !isOptionalString(json.id)) return undefined
  const props: {
    id?: string
    custom_id: string
    response?: ResultLine["response"]
    error?: ResultLine["error"]
  } = { custom_id: json.custom_id }
  if (json.id !== undefined) props.id = json.id as string
  const response = json.response
  if (response === null) props.response = null
  else if (response !== undefined) {
    if (!isRecord(response) || !isOptionalString(response.request_id)) return undefined
    const status = response.status_code
    if (status !== undefined && typeof status !== "number") return undefined
    const out: { request_id?: string; status_code?: number; body: unknown } = { body: response.body }
    if (response.request_id !== undefined) out.request_id = response.request_id as string
    if (status !== undefined) out.status_code = status
    props.response = out
  }
  const error = json.error
  if (error === null) props.error = null
  else if (error !== undefined) {
    if (!isRecord(error) || !isOptionalString(error.code) || !isOptionalString(error.message)) return undefined
    const type = error.type
    if (type !== undefined && type !== null && typeof type !== "string") return undefined
    const out: { code?: string; type?: string | null; message: string } = {
      message: (error.message as string | undefined) ?? ""
    }
    if (error.code !== undefined) out.code = error.code as string
    if (type !== undefined) out.type = type
    props.error = out
  }
  // Checked above, exactly as the schema would: skip the constructor's second validation.
  return new ResultLine(props, true)
}

/**
 * One line of an input file as Ark reads it: `custom_id` and the chat-completions `body` (no `model`: the job's
 * `ModelReference` names it).
 *
 * @since 0.1.0
 * @category schemas
 */
export class InputLine extends Schema.Class<InputLine>("@barge/ark/Wire/InputLine")({
  custom_id: Schema.String,
  body: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}) {}

/**
 * TOS's JSON error body.
 *
 * @since 0.1.0
 * @category schemas
 */
export class TosErrorBody extends Schema.Class<TosErrorBody>("@barge/ark/Wire/TosErrorBody")({
  Code: Schema.String,
  Message: Schema.optionalWith(Schema.String, { default: () => "" }),
  RequestId: Schema.optional(Schema.String),
  HostId: Schema.optional(Schema.String),
  EC: Schema.optional(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class TosObjectSummary extends Schema.Class<TosObjectSummary>("@barge/ark/Wire/TosObjectSummary")({
  Key: Schema.String,
  Size: Schema.Number,
  ETag: Schema.optional(Schema.String),
  LastModified: Schema.optional(Schema.String)
}) {}

/**
 * `ListObjectsType2`'s JSON answer.
 *
 * @since 0.1.0
 * @category schemas
 */
export class TosListObjectsResult extends Schema.Class<TosListObjectsResult>("@barge/ark/Wire/TosListObjectsResult")({
  Name: Schema.optional(Schema.String),
  Prefix: Schema.optional(Schema.String),
  IsTruncated: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  NextContinuationToken: Schema.optional(Schema.String),
  Contents: Schema.optionalWith(Schema.NullOr(Schema.Array(TosObjectSummary)), { default: () => [] })
}) {}
