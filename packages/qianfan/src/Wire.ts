/**
 * Qianfan's batch inference console API and BOS as they travel: request and response bodies of
 * `POST /v2/batchinference?Action=…`, the BCE error envelope, the JSONL input and output lines, and BOS's object
 * listing. Field names follow the official docs and SDK mocks; where they are UNCONFIRMED the schema says so.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/** A number, also accepted as a numeric string (the console is not strict about it everywhere). */
const Numeric = Schema.Union(Schema.Number, Schema.NumberFromString)

/** Optional on the wire; `null` reads as absent. */
const opt = <A, I, R>(schema: Schema.Schema<A, I, R>) => Schema.optionalWith(schema, { nullable: true })

/**
 * A task's `runStatus`, the seven documented values.
 *
 * @since 0.1.0
 * @category models
 */
export const RunStatus = Schema.Literal("Queuing", "Running", "Done", "Stopping", "Stopped", "Failed", "Expired")

/**
 * @since 0.1.0
 * @category models
 */
export type RunStatus = typeof RunStatus.Type

/**
 * Whether a status is final.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTerminal = (status: RunStatus): boolean =>
  status === "Done" || status === "Stopped" || status === "Failed" || status === "Expired"

/**
 * The input line formats (`dataFormat`). The wire name `dataFormat` is UNCONFIRMED in official text.
 *
 * @since 0.1.0
 * @category models
 */
export const DataFormat = Schema.Literal("default", "src_tgt", "role")

/**
 * @since 0.1.0
 * @category models
 */
export type DataFormat = typeof DataFormat.Type

/**
 * The `completion_window` values checked before anything is sent: whole hours `"<n>h"` with n in `[min, max]`.
 * The console doc lists one value, `"24h"`; the 1h–672h range is what Qianfan's OpenAI-compatible batch API
 * documents, and whether the console API accepts the same is UNCONFIRMED. Narrow or widen it here.
 *
 * @since 0.1.0
 * @category create
 */
export const completionWindowHours = { min: 1, max: 672 } as const

/**
 * Why a `completion_window` would be refused, or `undefined` when it is accepted (see {@link completionWindowHours}).
 *
 * @since 0.1.0
 * @category create
 */
export const checkCompletionWindow = (window: string): string | undefined => {
  const { max, min } = completionWindowHours
  const match = /^(\d{1,4})h$/.exec(window)
  const hours = match === null ? undefined : Number(match[1])
  return hours !== undefined && hours >= min && hours <= max
    ? undefined
    : `completionWindow ${
      JSON.stringify(window)
    } is not allowed: Qianfan's completion_window takes whole hours from "${min}h" to "${max}h" (documented: "24h")`
}

/**
 * The request body of `CreateBatchInferenceTask`. Exactly one of `endpoint` (preset services, e.g.
 * `ernie-4.0-8k`) and `modelId` (a model version id such as `amv-…`) is allowed, which the schema enforces.
 * `completion_window` is snake case as the official SDK sends it (UNCONFIRMED in the doc).
 *
 * @since 0.1.0
 * @category create
 */
export const CreateTaskRequest = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(2), Schema.maxLength(20)),
  description: Schema.optional(Schema.String.pipe(Schema.maxLength(500))),
  endpoint: Schema.optional(Schema.String),
  modelId: Schema.optional(Schema.String),
  inferenceParams: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  inputBosUri: Schema.String.pipe(Schema.startsWith("bos:/")),
  outputBosUri: Schema.String.pipe(Schema.startsWith("bos:/")),
  completion_window: Schema.optional(Schema.String),
  dataFormat: Schema.optional(DataFormat)
}).pipe(
  Schema.filter((request) =>
    (request.endpoint === undefined) !== (request.modelId === undefined) ||
    "exactly one of endpoint and modelId must be set"
  )
)

/**
 * @since 0.1.0
 * @category create
 */
export type CreateTaskRequest = typeof CreateTaskRequest.Type

/**
 * @since 0.1.0
 * @category create
 */
export class CreateTaskResponse extends Schema.Class<CreateTaskResponse>("@barge/qianfan/Wire/CreateTaskResponse")({
  requestId: opt(Schema.String),
  result: Schema.Struct({ taskId: Schema.String })
}) {}

/**
 * A batch inference task as Describe and the list return it.
 *
 * The processed count is read from `progress` (the SDK mock's name; likely, UNCONFIRMED) and the total from
 * `totalCount` (the doc names no field for it; our emulator's choice, UNCONFIRMED).
 *
 * @since 0.1.0
 * @category models
 */
export class Task extends Schema.Class<Task>("@barge/qianfan/Wire/Task")({
  taskId: Schema.String,
  name: opt(Schema.String),
  description: opt(Schema.String),
  endpoint: opt(Schema.String),
  modelId: opt(Schema.String),
  inferenceParams: opt(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  runStatus: RunStatus,
  /** Only when `runStatus` is `Failed`. */
  errorCode: opt(Numeric),
  errorReason: opt(Schema.String),
  inputBosUri: opt(Schema.String),
  outputBosUri: opt(Schema.String),
  /** The 24-character directory the service created under `outputBosUri`. */
  outputDir: opt(Schema.String),
  inputTokenUsage: opt(Numeric),
  outputTokenUsage: opt(Numeric),
  progress: opt(Numeric),
  totalCount: opt(Numeric),
  dataFormat: opt(Schema.String),
  creator: opt(Schema.String),
  createTime: opt(Schema.String),
  finishTime: opt(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category describe
 */
export class DescribeTaskResponse
  extends Schema.Class<DescribeTaskResponse>("@barge/qianfan/Wire/DescribeTaskResponse")({
    requestId: opt(Schema.String),
    result: Task
  })
{}

/**
 * The list request: every field optional. `maxKeys` above 100 is treated as 100 by the service.
 *
 * @since 0.1.0
 * @category list
 */
export const ListTasksRequest = Schema.Struct({
  runStatus: Schema.optional(Schema.Array(RunStatus)),
  marker: Schema.optional(Schema.String),
  maxKeys: Schema.optional(Schema.Int.pipe(Schema.between(1, 100))),
  pageReverse: Schema.optional(Schema.Boolean)
})

/**
 * @since 0.1.0
 * @category list
 */
export type ListTasksRequest = typeof ListTasksRequest.Type

/**
 * @since 0.1.0
 * @category list
 */
export class PageInfo extends Schema.Class<PageInfo>("@barge/qianfan/Wire/PageInfo")({
  marker: opt(Schema.String),
  maxKeys: opt(Schema.Number),
  isTruncated: Schema.optionalWith(Schema.Boolean, { nullable: true, default: () => false })
}) {}

/**
 * @since 0.1.0
 * @category list
 */
export class ListTasksResponse extends Schema.Class<ListTasksResponse>("@barge/qianfan/Wire/ListTasksResponse")({
  requestId: opt(Schema.String),
  result: Schema.Struct({
    taskList: Schema.optionalWith(Schema.Array(Task), { nullable: true, default: () => [] }),
    pageInfo: Schema.optionalWith(PageInfo, { nullable: true, default: () => new PageInfo({}) })
  })
}) {}

/**
 * `result` is `true` when the stop was accepted, `false` when the service refused it.
 *
 * @since 0.1.0
 * @category stop
 */
export class StopTaskResponse extends Schema.Class<StopTaskResponse>("@barge/qianfan/Wire/StopTaskResponse")({
  requestId: opt(Schema.String),
  result: Schema.Boolean
}) {}

/**
 * The BCE error envelope of the console API and BOS.
 *
 * @since 0.1.0
 * @category errors
 */
export class ErrorEnvelope extends Schema.Class<ErrorEnvelope>("@barge/qianfan/Wire/ErrorEnvelope")({
  requestId: opt(Schema.String),
  code: Schema.String,
  message: Schema.optionalWith(Schema.String, { nullable: true, default: () => "" })
}) {}

/**
 * One input line in the default format: a unique `id` and the `query` (documented).
 *
 * @since 0.1.0
 * @category input
 */
export const DefaultLine = Schema.Struct(
  { id: Schema.String, query: Schema.String },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * An input line in the `role` format: `messages` as `{role, content}` (the line schema is UNCONFIRMED).
 *
 * @since 0.1.0
 * @category input
 */
export const RoleLine = Schema.Struct(
  {
    id: Schema.String,
    messages: Schema.NonEmptyArray(Schema.Struct({ role: Schema.String, content: Schema.String }))
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * An input line in the `src_tgt` format: `src` is the prompt, `tgt` an optional reference (UNCONFIRMED).
 *
 * @since 0.1.0
 * @category input
 */
export const SrcTgtLine = Schema.Struct(
  { id: Schema.String, src: Schema.String, tgt: Schema.optional(Schema.String) },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * The line schema of each data format.
 *
 * @since 0.1.0
 * @category input
 */
export const lineSchemas = {
  default: DefaultLine,
  role: RoleLine,
  src_tgt: SrcTgtLine
} as const

/**
 * An input line of any format.
 *
 * @since 0.1.0
 * @category input
 */
export type InputLine =
  | typeof DefaultLine.Type
  | typeof RoleLine.Type
  | typeof SrcTgtLine.Type

/**
 * A line of an output file: the input record echoed with `output`, the raw model response (documented for the v1
 * ERNIE shape). A failed request's `output` carries the inference API's `{error_code, error_msg}` instead
 * (UNCONFIRMED: the per-line error shape is not documented).
 *
 * @since 0.1.0
 * @category output
 */
export const OutputLine = Schema.Struct(
  {
    id: Schema.Union(Schema.String, Schema.Number),
    output: Schema.optionalWith(Schema.Unknown, { nullable: true })
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * @since 0.1.0
 * @category output
 */
export type OutputLine = typeof OutputLine.Type

/**
 * The fast path of {@link OutputLine} for `Jsonl.decodeLines`: an object with a string or number `id` is already the
 * decoded value (every other key is kept as it is; a `null` `output` reads as absent, as the schema has it).
 * Anything else goes through the schema, whose error names the line.
 *
 * @since 0.1.0
 * @category output
 */
export const fastOutputLine = (json: unknown): OutputLine | undefined => {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined
  const line = json as { id?: unknown; output?: unknown }
  if (typeof line.id !== "string" && typeof line.id !== "number") return undefined
  if (line.output === null) {
    const { output: _, ...rest } = line
    return rest as OutputLine
  }
  return line as OutputLine
}

/**
 * One object in a BOS listing.
 *
 * @since 0.1.0
 * @category bos
 */
export class BosObject extends Schema.Class<BosObject>("@barge/qianfan/Wire/BosObject")({
  key: Schema.String,
  lastModified: opt(Schema.String),
  eTag: opt(Schema.String),
  size: Schema.Number
}) {}

/**
 * BOS's ListObjects response (JSON).
 *
 * @since 0.1.0
 * @category bos
 */
export class ListObjectsResponse extends Schema.Class<ListObjectsResponse>("@barge/qianfan/Wire/ListObjectsResponse")({
  name: opt(Schema.String),
  prefix: opt(Schema.String),
  marker: opt(Schema.String),
  nextMarker: opt(Schema.String),
  maxKeys: opt(Schema.Number),
  isTruncated: Schema.optionalWith(Schema.Boolean, { nullable: true, default: () => false }),
  contents: Schema.optionalWith(Schema.Array(BosObject), { nullable: true, default: () => [] })
}) {}
