/**
 * Qianfan's batch inference console API and BOS as they travel: request and response bodies of
 * `POST /v2/batchinference?Action=…`, the BCE error envelope, the JSONL input and output lines, and BOS's object
 * listing. Field names follow the official docs and SDK mocks; where they are UNCONFIRMED the schema says so.
 *
 * What the service sends back is decoded leniently: a task needs only its `taskId`; every other field is optional
 * and read as absent when it has an unexpected type, and `runStatus` is a plain string — a status word Barge does
 * not know yet becomes phase `unknown` (the word kept) instead of failing the call or a whole list page.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** A number, also accepted as a numeric string (the console is not strict about it everywhere). */
const Numeric = Schema.Union(Schema.Number, Schema.NumberFromString)

/** Optional, and absent when the provider sends something else: one odd field never fails a whole object. */
const loose = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownOption(schema)
  return Schema.optional(
    Schema.transform(Schema.Unknown, Schema.UndefinedOr(Schema.typeSchema(schema)), {
      strict: true,
      decode: (value) => Option.getOrUndefined(decode(value)),
      encode: (value) => value
    })
  )
}

/**
 * The seven documented values of a task's `runStatus`. Others may appear: `Task.runStatus` is any string.
 *
 * @since 0.1.0
 * @category models
 */
export const runStatuses = ["Queuing", "Running", "Done", "Stopping", "Stopped", "Failed", "Expired"] as const

/**
 * The input line formats (`dataFormat`; the wire name is UNCONFIRMED in official text). Barge writes `default`
 * (`{id, query}`) and `role` (`{id, messages}`).
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
 * The request body of `CreateBatchInferenceTask`. Exactly one of `endpoint` (preset services, e.g.
 * `ernie-4.0-8k`) and `modelId` (a model version id such as `amv-…`) is allowed, which the schema enforces.
 * `completion_window` is snake case, as the official SDK sends it; only `"24h"` (or none) is accepted.
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
  requestId: loose(Schema.String),
  result: Schema.Struct({ taskId: Schema.String })
}) {}

/**
 * A batch inference task as Describe and the list return it. Only `taskId` is required.
 *
 * `progress` is the number of processed requests (confirmed). Qianfan reports no total and no failure count: Barge
 * keeps the line count it submitted in the task's description, and counts failures from the output once the task
 * is final.
 *
 * @since 0.1.0
 * @category models
 */
export class Task extends Schema.Class<Task>("@barge/qianfan/Wire/Task")({
  taskId: Schema.String,
  name: loose(Schema.String),
  description: loose(Schema.String),
  endpoint: loose(Schema.String),
  modelId: loose(Schema.String),
  inferenceParams: loose(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  /** One of {@link runStatuses}, or a word Barge does not know yet. */
  runStatus: loose(Schema.String),
  /** Only when `runStatus` is `Failed`. */
  errorCode: loose(Numeric),
  errorReason: loose(Schema.String),
  inputBosUri: loose(Schema.String),
  outputBosUri: loose(Schema.String),
  /** The 24-character directory the service created under `outputBosUri`. */
  outputDir: loose(Schema.String),
  inputTokenUsage: loose(Numeric),
  outputTokenUsage: loose(Numeric),
  progress: loose(Numeric),
  dataFormat: loose(Schema.String),
  creator: loose(Schema.String),
  createTime: loose(Schema.String),
  finishTime: loose(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category describe
 */
export class DescribeTaskResponse
  extends Schema.Class<DescribeTaskResponse>("@barge/qianfan/Wire/DescribeTaskResponse")({
    requestId: loose(Schema.String),
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
  runStatus: Schema.optional(Schema.Array(Schema.String)),
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
 * One page of the list. Its items are kept undecoded here and decoded one by one, so one odd task does not cost
 * the others.
 *
 * @since 0.1.0
 * @category list
 */
export class ListTasksResponse extends Schema.Class<ListTasksResponse>("@barge/qianfan/Wire/ListTasksResponse")({
  requestId: loose(Schema.String),
  result: Schema.Struct({
    taskList: Schema.optionalWith(Schema.Array(Schema.Unknown), { nullable: true, default: () => [] }),
    pageInfo: Schema.optionalWith(
      Schema.Struct({ marker: loose(Schema.String), isTruncated: loose(Schema.Boolean) }),
      { nullable: true, default: () => ({}) }
    )
  })
}) {}

/**
 * The answer of `StopBatchInferenceTask` (documented: `result` is `true` when the stop was accepted, `false` when
 * refused) and of `DeleteBatchInferenceTask` (shape not seen: read the same way, leniently).
 *
 * @since 0.1.0
 * @category stop
 */
export class ActionResponse extends Schema.Class<ActionResponse>("@barge/qianfan/Wire/ActionResponse")({
  requestId: loose(Schema.String),
  result: Schema.optional(Schema.Unknown)
}) {}

/**
 * The BCE error envelope of the console API and BOS.
 *
 * @since 0.1.0
 * @category errors
 */
export class ErrorEnvelope extends Schema.Class<ErrorEnvelope>("@barge/qianfan/Wire/ErrorEnvelope")({
  requestId: loose(Schema.String),
  code: Schema.String,
  message: Schema.optionalWith(Schema.String, { nullable: true, default: () => "" })
}) {}

/**
 * An input line in the default format: a unique `id` and the `query` (documented).
 *
 * @since 0.1.0
 * @category input
 */
export const QueryLine = Schema.Struct({ id: Schema.String, query: Schema.String })

/**
 * @since 0.1.0
 * @category input
 */
export type QueryLine = typeof QueryLine.Type

/**
 * An input line in the `role` format: the conversation as chat `messages` (the line schema is UNCONFIRMED).
 *
 * @since 0.1.0
 * @category input
 */
export const RoleLine = Schema.Struct({ id: Schema.String, messages: Schema.NonEmptyArray(Schema.Unknown) })

/**
 * @since 0.1.0
 * @category input
 */
export type RoleLine = typeof RoleLine.Type

/**
 * A line of an output file: the input record echoed with `output`, the raw model response (documented for the v1
 * ERNIE shape). A failed request's `output` carries the inference API's `{error_code, error_msg}` instead
 * (UNCONFIRMED: the per-line error shape is not documented). Input lines read with it too (`output` absent).
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
 * Generated samples check it against the schema (`test/Wire.test.ts`).
 * Anything else goes through the schema, whose error names the line.
 *
 * @since 0.1.0
 * @category output
 */
export const fastOutputLine = (json: unknown): OutputLine | undefined => {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined
  const line = json as { id?: unknown; output?: unknown }
  if (typeof line.id !== "string" && typeof line.id !== "number") return undefined
  // An own `__proto__` key (JSON.parse makes one) is dropped by the schema's record: let the schema decide.
  if (Object.hasOwn(line, "__proto__")) return undefined
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
  lastModified: loose(Schema.String),
  eTag: loose(Schema.String),
  size: Schema.Number
}) {}

/**
 * BOS's ListObjects response (JSON).
 *
 * @since 0.1.0
 * @category bos
 */
export class ListObjectsResponse extends Schema.Class<ListObjectsResponse>("@barge/qianfan/Wire/ListObjectsResponse")({
  name: loose(Schema.String),
  prefix: loose(Schema.String),
  marker: loose(Schema.String),
  nextMarker: loose(Schema.String),
  maxKeys: loose(Schema.Number),
  isTruncated: Schema.optionalWith(Schema.Boolean, { nullable: true, default: () => false }),
  contents: Schema.optionalWith(Schema.Array(BosObject), { nullable: true, default: () => [] })
}) {}
