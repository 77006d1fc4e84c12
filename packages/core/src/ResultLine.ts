/**
 * The OpenAI batch result line — `{ id, custom_id, response: { status_code, request_id, body }, error }` — read
 * into a {@link Batch.BatchResult}. One decoder for every provider whose output and error files use this format
 * (Ark, Moonshot, OpenAI, Qianfan's `/v2/batches`).
 *
 * Lenient on purpose, because the providers differ and their error lines are partly undocumented: keys this
 * module does not name are kept; `id`, `response`, `error` and each field inside them may be absent or `null`;
 * the response `body` is kept as received (Ark adds `HttpHeader` to it, which survives into the result).
 *
 * Built for multi-gigabyte result files: {@link decodeLines} works chunk by chunk with no Effect per line, and a
 * hand-written check ({@link is}) stands in for the schema interpreter on every line; the schema runs only for a
 * line the check declines, for its error message.
 *
 * @example
 * ```ts
 * import { Download, ResultLine } from "@barge/core"
 *
 * // `open` reads the output file from an offset (see Download.rangeOpener).
 * declare const open: Parameters<typeof Download.resumableLines>[0]
 * const results = Download.resumableLines(open).pipe(ResultLine.decodeLines)
 * ```
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import { type BatchResult, RequestError } from "./Batch.js"
import * as ChatRequest from "./ChatRequest.js"
import * as Jsonl from "./Jsonl.js"

const Extra = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * The `response` of a line: the HTTP status the provider recorded, its request id and the response body as
 * received (a chat completion, or an error envelope `{ error: { type, code, message } }`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Response = Schema.Struct(
  {
    status_code: Schema.optional(Schema.Number),
    request_id: Schema.optional(Schema.NullOr(Schema.String)),
    body: Schema.optional(Schema.Unknown)
  },
  Extra
)

/**
 * @since 0.1.0
 * @category schemas
 */
export type Response = typeof Response.Type

/**
 * The `error` of a line: a request the batch never ran (`batch_expired`, a rejected line). OpenAI gives
 * `{ code, message }`, Ark `{ code, type, message }`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LineError = Schema.Struct(
  {
    code: Schema.optional(Schema.NullOr(Schema.Union(Schema.String, Schema.Number))),
    type: Schema.optional(Schema.NullOr(Schema.String)),
    message: Schema.optional(Schema.NullOr(Schema.String))
  },
  Extra
)

/**
 * @since 0.1.0
 * @category schemas
 */
export type LineError = typeof LineError.Type

/**
 * One line of an output or error file. Only `custom_id` is required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResultLine = Schema.Struct(
  {
    id: Schema.optional(Schema.NullOr(Schema.String)),
    custom_id: Schema.String,
    response: Schema.optional(Schema.NullOr(Response)),
    error: Schema.optional(Schema.NullOr(LineError))
  },
  Extra
)

/**
 * @since 0.1.0
 * @category schemas
 */
export type ResultLine = typeof ResultLine.Type

const optional = (u: unknown, type: "string" | "number"): boolean => u === undefined || typeof u === type
const nullable = (u: unknown, type: "string" | "number"): boolean => u === undefined || u === null || typeof u === type

/**
 * Exactly the checks {@link ResultLine} makes, written by hand (the schema interpreter is several times slower, and
 * this runs on every line of a multi-gigabyte file). Every key the schema does not name is kept and every value it
 * names passes through unchanged, so a parsed JSON value that passes is already the decoded value. Checked against
 * the schema on generated samples in the tests.
 *
 * @since 0.1.0
 * @category guards
 */
export const is = (u: unknown): u is ResultLine => {
  if (!Predicate.isRecord(u) || typeof u.custom_id !== "string" || !nullable(u.id, "string")) return false
  const response = u.response
  if (response !== undefined && response !== null) {
    if (
      !Predicate.isRecord(response) || !optional(response.status_code, "number") ||
      !nullable(response.request_id, "string")
    ) return false
  }
  const error = u.error
  if (error === undefined || error === null) return true
  return Predicate.isRecord(error) && nullable(error.type, "string") && nullable(error.message, "string") &&
    (nullable(error.code, "string") || typeof error.code === "number")
}

/** The `error` of an error envelope body, with only the fields of the expected types. */
const envelope = (
  body: unknown
): { readonly type?: string; readonly code?: string; readonly message?: string } | undefined => {
  if (!Predicate.isRecord(body) || !Predicate.isRecord(body.error)) return undefined
  const { code, message, type } = body.error
  return {
    ...(typeof type === "string" && type !== "" ? { type } : {}),
    ...((typeof code === "string" && code !== "") || typeof code === "number" ? { code: String(code) } : {}),
    ...(typeof message === "string" && message !== "" ? { message } : {})
  }
}

const excerptLength = 300

/** The body as JSON, cut to a few hundred characters: enough to see what came back without flooding a log. */
const excerpt = (body: unknown): string => {
  let text: string | undefined
  try {
    text = JSON.stringify(body)
  } catch {
    text = undefined
  }
  if (text === undefined) return String(body)
  return text.length > excerptLength ? `${text.slice(0, excerptLength)}…` : text
}

const isSuccess = (status: number): boolean => status >= 200 && status < 300

/**
 * One line as a result:
 *
 * - a 2xx `response` (or one without a status) whose body is a chat completion → `Succeeded` with the body as
 *   received (extra keys kept);
 * - a 2xx `response` whose body is not a chat completion → `Failed` with code `invalid_response`;
 * - a non-2xx `response` → `Failed` with the body's `error.type ?? error.code ?? "http_<status>"`, its
 *   `error.message` (or the body itself, cut short, when it has none) and the status;
 * - no `response` → `Failed` from the line's `error` (`code`, else `type`, else `unknown_error`).
 *
 * When a line has both a `response` and an `error`, the response decides.
 *
 * @since 0.1.0
 * @category decoding
 */
export const toResult = (line: ResultLine): BatchResult => {
  const customId = line.custom_id
  const response = line.response
  if (response !== undefined && response !== null) {
    const status = response.status_code
    if (status === undefined || isSuccess(status)) {
      const chat = ChatRequest.decodeResponse(response.body)
      if (Either.isRight(chat)) return { _tag: "Succeeded", customId, response: chat.right }
      const error = status === undefined ? envelope(response.body) : undefined
      if (error !== undefined && (error.type ?? error.code) !== undefined) {
        return failed(customId, error.type ?? error.code!, error.message ?? excerpt(response.body))
      }
      return failed(
        customId,
        "invalid_response",
        `the response body is not a chat completion: ${excerpt(response.body)}`,
        status
      )
    }
    const error = envelope(response.body)
    return failed(
      customId,
      error?.type ?? error?.code ?? `http_${status}`,
      error?.message ?? (response.body === undefined ? `HTTP ${status}` : `HTTP ${status}: ${excerpt(response.body)}`),
      status
    )
  }
  const error = line.error ?? undefined
  const code = [error?.code, error?.type].find((c) => c !== undefined && c !== null && c !== "")
  const message = error?.message
  return failed(
    customId,
    code === undefined ? "unknown_error" : String(code),
    message === undefined || message === null || message === "" ? "the provider reported no detail" : message
  )
}

const failed = (customId: string, code: string, message: string, statusCode?: number | undefined): BatchResult => ({
  _tag: "Failed",
  customId,
  error: new RequestError(statusCode === undefined ? { code, message } : { code, message, statusCode })
})

const decodeSchema = Schema.decodeUnknownEither(ResultLine, { errors: "first" })

/**
 * A parsed JSON value as a result: the hand-written check when it passes, else the schema (whose error names
 * what is wrong).
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromJson = (json: unknown): Either.Either<BatchResult, ParseResult.ParseError> =>
  is(json) ? Either.right(toResult(json)) : Either.map(decodeSchema(json), toResult)

const decodeLine = Jsonl.decodeLine(ResultLine, (json) => (is(json) ? json : undefined))

/**
 * One line of text as a result, or a `Jsonl.JsonlError` (`InvalidJson`, `SchemaMismatch`) naming the line.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (line: Jsonl.Line): Either.Either<BatchResult, Jsonl.JsonlError> =>
  Either.map(decodeLine(line), toResult)

/**
 * Reads a stream of lines (`Download.resumableLines`, `Jsonl.lines`) as results, chunk by chunk with no Effect
 * per line. Blank lines are skipped. The stream fails with a `Jsonl.JsonlError` naming the first line that is not
 * JSON or not a result line, after emitting every result before it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeLines = <E, R>(
  lines: Stream.Stream<Jsonl.Line, E, R>
): Stream.Stream<BatchResult, E | Jsonl.JsonlError, R> => Jsonl.decodeLinesWith(decode)(lines)
