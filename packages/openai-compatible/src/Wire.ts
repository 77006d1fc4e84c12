/**
 * The OpenAI-compatible Files and Batches objects as the platforms send them, decoded leniently: only the `id` is
 * required, every other field is kept when it has the expected type and dropped when it does not (a platform that
 * adds a status word or changes a timestamp's type must not fail a whole `get`), and a list page keeps every item
 * that has an id (see {@link decodePage}).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * A field that is kept when it decodes with `schema` and dropped (read as absent) when it does not.
 *
 * @since 0.1.0
 * @category combinators
 */
export const lenient = <A, I>(schema: Schema.Schema<A, I>) =>
  Schema.optional(
    Schema.transform(Schema.Unknown, Schema.UndefinedOr(Schema.typeSchema(schema)), {
      strict: true,
      decode: (u) => Option.getOrUndefined(Schema.decodeUnknownOption(schema)(u)),
      encode: (a) => (a === undefined ? undefined : Schema.encodeSync(schema)(a))
    })
  )

const text = lenient(Schema.NullOr(Schema.String))
const seconds = lenient(Schema.NullOr(Schema.Number))
const Metadata = Schema.Record({ key: Schema.String, value: Schema.String })

/**
 * A stored file (`GET /files/{id}`).
 *
 * @since 0.1.0
 * @category files
 */
export class FileObject extends Schema.Class<FileObject>("@barge/openai-compatible/Wire/FileObject")({
  id: Schema.String,
  object: text,
  bytes: seconds,
  /** Unix seconds. */
  created_at: seconds,
  filename: text,
  purpose: text,
  // Undocumented on Moonshot ("ready", "ok"); OpenAI says "processed". Any string passes.
  status: text
}) {}

/**
 * `DELETE /files/{id}`.
 *
 * @since 0.1.0
 * @category files
 */
export class FileDeleted extends Schema.Class<FileDeleted>("@barge/openai-compatible/Wire/FileDeleted")({
  id: Schema.String,
  deleted: lenient(Schema.Boolean)
}) {}

/**
 * Request counts of a batch.
 *
 * @since 0.1.0
 * @category batches
 */
export class RequestCounts extends Schema.Class<RequestCounts>("@barge/openai-compatible/Wire/RequestCounts")({
  total: lenient(Schema.Number),
  completed: lenient(Schema.Number),
  failed: lenient(Schema.Number)
}) {}

/**
 * One reason a batch failed validation (OpenAI's `BatchError`).
 *
 * @since 0.1.0
 * @category batches
 */
export class BatchErrorItem extends Schema.Class<BatchErrorItem>("@barge/openai-compatible/Wire/BatchErrorItem")({
  code: text,
  message: text,
  line: seconds,
  param: text
}) {}

/**
 * A batch (`GET /batches/{id}`). Timestamps are Unix seconds. `status` is the platform's word, verbatim.
 *
 * @since 0.1.0
 * @category batches
 */
export class Batch extends Schema.Class<Batch>("@barge/openai-compatible/Wire/Batch")({
  id: Schema.String,
  object: text,
  endpoint: text,
  model: text,
  input_file_id: text,
  completion_window: text,
  status: text,
  created_at: seconds,
  request_counts: lenient(Schema.NullOr(RequestCounts)),
  output_file_id: text,
  error_file_id: text,
  in_progress_at: seconds,
  expires_at: seconds,
  finalizing_at: seconds,
  completed_at: seconds,
  failed_at: seconds,
  expired_at: seconds,
  cancelling_at: seconds,
  cancelled_at: seconds,
  metadata: lenient(Schema.NullOr(Metadata)),
  errors: lenient(Schema.NullOr(Schema.Struct({ data: lenient(Schema.Array(BatchErrorItem)) })))
}) {
  /**
   * The validation errors the platform reported, if any.
   *
   * @since 0.1.0
   */
  get errorItems(): ReadonlyArray<BatchErrorItem> {
    return this.errors?.data ?? []
  }
}

/**
 * The body of `POST /batches`.
 *
 * @since 0.1.0
 * @category batches
 */
export class CreateBatchRequest extends Schema.Class<CreateBatchRequest>(
  "@barge/openai-compatible/Wire/CreateBatchRequest"
)({
  input_file_id: Schema.String,
  endpoint: Schema.String,
  completion_window: Schema.optional(Schema.String),
  metadata: Schema.optional(Metadata)
}) {}

/**
 * A list page (`GET /files`, `GET /batches`) before its items are decoded: items are decoded one by one by
 * {@link decodePage}.
 *
 * @since 0.1.0
 * @category lists
 */
export const Page = Schema.Struct({
  data: Schema.Array(Schema.Unknown),
  has_more: lenient(Schema.Boolean),
  last_id: text
})

/**
 * @since 0.1.0
 * @category lists
 */
export type Page = typeof Page.Type

/**
 * The items of a page that decode, in order, plus the id to continue after (`last_id`, else the last item's id).
 * An item without an id is skipped and logged, never failing the page.
 *
 * @since 0.1.0
 * @category lists
 */
export const decodePage = <A, I>(
  schema: Schema.Schema<A, I>,
  page: Page,
  what: string
): Effect.Effect<{ readonly items: ReadonlyArray<A>; readonly next: Option.Option<string> }> =>
  Effect.gen(function*() {
    const decode = Schema.decodeUnknownEither(schema)
    const items: Array<A> = []
    for (const [index, raw] of page.data.entries()) {
      const item = decode(raw)
      if (Either.isRight(item)) items.push(item.right)
      else yield* Effect.logWarning(`skipped ${what} ${index + 1} of a list page: it has no id`)
    }
    const lastRaw = page.data.at(-1)
    const lastId = page.last_id ??
      (Predicate.isRecord(lastRaw) && typeof lastRaw.id === "string" ? lastRaw.id : undefined)
    return {
      items,
      next: page.has_more === true && lastId !== undefined ? Option.some(lastId) : Option.none()
    }
  })
