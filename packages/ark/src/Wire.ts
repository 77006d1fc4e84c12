/**
 * Ark's wire shapes, exactly as sent and received: the OpenAPI envelope (`ResponseMetadata` + `Result`), the
 * batch-inference actions' requests and results (PascalCase, Version `2024-01-01`), the lines of an input file and
 * TOS's error body and listing. Result lines use the OpenAI result-line format, read by core `ResultLine`.
 *
 * Answers are decoded leniently, as the official Node SDK types them (every field optional): a job needs only its
 * `Id`; `Status.Phase` is any string (an unknown word becomes phase `unknown`, the word kept); a list page's items
 * are decoded one by one, so one odd item does not cost the others. The camelCase model lives in `Job.ts`.
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
 * The six phases of Ark's official enum (`FilterForListBatchInferenceJobsInputPhasesEnum`). Jobs decode `Phase` as
 * any string: Ark may add words.
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
 * One of a foundation model or a custom (fine-tuned) model id. Ark takes no endpoint id (`ep-…`) here.
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
  Value: Schema.optionalWith(Schema.String, { default: () => "" })
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class Status extends Schema.Class<Status>("@barge/ark/Wire/Status")({
  Phase: Schema.optional(Schema.String),
  PhaseTime: Schema.optional(Schema.String),
  Message: Schema.optional(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class RequestCounts extends Schema.Class<RequestCounts>("@barge/ark/Wire/RequestCounts")({
  Total: Schema.optional(Schema.Number),
  Completed: Schema.optional(Schema.Number),
  Failed: Schema.optional(Schema.Number)
}) {}

/**
 * A job as `GetBatchInferenceJob` returns it (list items lack `ErrorFileTosLocation` and `TokenUsage`). Only `Id`
 * is required.
 *
 * @since 0.1.0
 * @category schemas
 */
export class BatchInferenceJob extends Schema.Class<BatchInferenceJob>("@barge/ark/Wire/BatchInferenceJob")({
  Id: Schema.String,
  Name: Schema.optional(Schema.String),
  Description: Schema.optional(Schema.String),
  ProjectName: Schema.optional(Schema.String),
  InputFileTosLocation: Schema.optional(TosLocation),
  OutputDirTosLocation: Schema.optional(TosLocation),
  ErrorFileTosLocation: Schema.optional(TosLocation),
  CompletionWindow: Schema.optional(Schema.String),
  Status: Schema.optional(Status),
  ModelReference: Schema.optional(ModelReference),
  RequestCounts: Schema.optional(RequestCounts),
  /** Its shape is undocumented (UNCONFIRMED), so it is kept as received. */
  TokenUsage: Schema.optional(Schema.Unknown),
  Tags: Schema.optional(Schema.Array(Tag)),
  CreateTime: Schema.optional(Schema.String),
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
    /** Always `"<N>d"`, whole days 1–28: the only spelling Ark documents. */
    CompletionWindow: Schema.optional(Schema.String),
    Tags: Schema.optional(Schema.Array(Tag))
  })
{}

/**
 * What Create and Resume answer.
 *
 * @since 0.1.0
 * @category schemas
 */
export class IdResult extends Schema.Class<IdResult>("@barge/ark/Wire/IdResult")({
  Id: Schema.String
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export class UpdateBatchInferenceJobRequest
  extends Schema.Class<UpdateBatchInferenceJobRequest>("@barge/ark/Wire/UpdateBatchInferenceJobRequest")({
    Id: Schema.String,
    Name: Schema.optional(Schema.String),
    Description: Schema.optional(Schema.String)
  })
{}

/**
 * What Update, Delete and Stop answer: `Result: {}`.
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
 * One page of `ListBatchInferenceJobs`. `Items` are kept undecoded here and decoded one by one (see
 * {@link BatchInferenceJob}), so an item Barge cannot read is skipped with a warning instead of failing the page.
 *
 * @since 0.1.0
 * @category schemas
 */
export class ListBatchInferenceJobsResult
  extends Schema.Class<ListBatchInferenceJobsResult>("@barge/ark/Wire/ListBatchInferenceJobsResult")({
    Items: Schema.optionalWith(Schema.NullOr(Schema.Array(Schema.Unknown)), { default: () => [] }),
    PageNumber: Schema.optional(Schema.Number),
    PageSize: Schema.optional(Schema.Number),
    TotalCount: Schema.optional(Schema.Number)
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
