/**
 * The OpenAI batch result-line format — `{ id?, custom_id, response: { status_code, request_id?, body } | null,
 * error: { code?, message? } | null }` — read once for every provider that writes it (Ark, Moonshot, OpenAI,
 * Qianfan's `/v2/batches`): one schema, one hand-written fast path checked against it, one mapping onto
 * `Batch.BatchResult` that keeps the provider's error code, message and status.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Batch from "./Batch.js"
import * as ChatRequest from "./ChatRequest.js"
import * as Jsonl from "./Jsonl.js"

const nullableString = Schema.optional(Schema.NullOr(Schema.String))

/**
 * One line of an output or error file.
 *
 * @since 0.1.0
 * @category models
 */
export class ResultLine extends Schema.Class<ResultLine>("@barge/core/ResultLine")({
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
 * The fast path of {@link ResultLine}: the same checks, written by hand, building the same value (only the named
 * keys, absent ones left absent). Anything it declines goes through the schema, whose error names the line.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fast = (json: unknown): ResultLine | undefined => {
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

const errorOf = (body: unknown): { readonly code?: string; readonly message?: string } => {
  if (!Predicate.isRecord(body) || !Predicate.isRecord(body.error)) return {}
  const error = body.error
  const code = typeof error.type === "string" && error.type.length > 0
    ? error.type
    : typeof error.code === "string" || typeof error.code === "number"
    ? String(error.code)
    : undefined
  return {
    ...(code === undefined ? {} : { code }),
    ...(typeof error.message === "string" ? { message: error.message } : {})
  }
}

/**
 * One line as a result: a 2xx response with a chat completion succeeds; a 2xx body that is not one fails with
 * `invalid_response`; any other status fails with the body's error type (or code) and message; a line with no
 * response fails with its `error`.
 *
 * @since 0.1.0
 * @category mapping
 */
export const toResult = (line: ResultLine): Batch.BatchResult => {
  const customId = line.custom_id
  const response = line.response
  if (response !== undefined && response !== null) {
    if (response.status_code >= 200 && response.status_code < 300) {
      const chat = ChatRequest.decodeResponse(response.body)
      if (Either.isRight(chat)) return { _tag: "Succeeded", customId, response: chat.right }
      return {
        _tag: "Failed",
        customId,
        error: new Batch.RequestError({
          code: "invalid_response",
          message: "the response body is not a chat completion",
          statusCode: response.status_code
        })
      }
    }
    const body = errorOf(response.body)
    return {
      _tag: "Failed",
      customId,
      error: new Batch.RequestError({
        code: body.code ?? `http_${response.status_code}`,
        message: body.message ?? `HTTP ${response.status_code}`,
        statusCode: response.status_code
      })
    }
  }
  return {
    _tag: "Failed",
    customId,
    error: new Batch.RequestError({
      code: line.error?.code ?? "unknown_error",
      message: line.error?.message ?? "the provider reported no detail"
    })
  }
}

/**
 * Decodes one line of an output or error file into a result.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (line: Jsonl.Line): Either.Either<Batch.BatchResult, Jsonl.JsonlError> =>
  Either.map(Jsonl.decodeLine(ResultLine, fast)(line), toResult)

/**
 * Decodes the lines of output and error files into results, chunk by chunk (no Effect per line: result files run
 * to gigabytes). Blank lines are skipped; the first bad line fails the stream with its line number.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeLines = <E, R>(
  lines: Stream.Stream<Jsonl.Line, E, R>
): Stream.Stream<Batch.BatchResult, E | Jsonl.JsonlError, R> =>
  Stream.map(Jsonl.decodeLines(ResultLine, { fast })(lines), toResult)
