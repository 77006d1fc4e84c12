/**
 * The provider-agnostic chat request and response: what a user puts into a batch and what comes back.
 *
 * A request is `{ customId, model, messages, ...parameters }` — the Chat Completions body plus the id the user
 * joins results on. Every provider package turns it into its own line format (Ark's `{custom_id, body}`,
 * Moonshot's OpenAI batch line, Qianfan's task input), so a program written against this model runs anywhere.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import type * as InputValidation from "./InputValidation.js"

const Extra = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * One chat message. `content` is a string or the multimodal parts array; any other keys (`name`,
 * `tool_calls`, …) pass through untouched.
 *
 * @since 0.1.0
 * @category models
 */
export const ChatMessage = Schema.Struct(
  {
    role: Schema.String.pipe(Schema.minLength(1)),
    content: Schema.Union(Schema.String, Schema.Array(Schema.Unknown), Schema.Null)
  },
  Extra
)

/**
 * @since 0.1.0
 * @category models
 */
export type ChatMessage = typeof ChatMessage.Type

/**
 * A chat request in a batch: the user's `customId` (unique within the submission), the model, the messages and
 * any further Chat Completions parameters (`temperature`, `max_tokens`, …) as extra keys.
 *
 * @example
 * ```ts
 * import { ChatRequest } from "@barge/core"
 *
 * const request = ChatRequest.ChatRequest.make({
 *   customId: "q-1",
 *   model: "kimi-k2",
 *   messages: [{ role: "user", content: "Why is the sky blue?" }],
 *   temperature: 0.2
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const ChatRequest = Schema.Struct(
  {
    customId: Schema.String.pipe(Schema.minLength(1)),
    model: Schema.String.pipe(Schema.minLength(1)),
    messages: Schema.NonEmptyArray(ChatMessage)
  },
  Extra
)

/**
 * @since 0.1.0
 * @category models
 */
export type ChatRequest = typeof ChatRequest.Type

const reserved = new Set(["customId", "model", "messages"])

/**
 * The request's extra Chat Completions parameters (everything but `customId`, `model` and `messages`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const parameters = (request: ChatRequest): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(request)) {
    if (!reserved.has(key)) out[key] = value
  }
  return out
}

/**
 * The Chat Completions body for this request: `{ model, messages, ...parameters }`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const toChatBody = (request: ChatRequest): Record<string, unknown> => ({
  model: request.model,
  messages: request.messages,
  ...parameters(request)
})

/**
 * The OpenAI batch line for this request (`{ custom_id, method, url, body }`), the most common JSONL form and the
 * default size measure when a provider does not give its own.
 *
 * @since 0.1.0
 * @category accessors
 */
export const toOpenAiLine = (request: ChatRequest, url = "/v1/chat/completions"): string =>
  JSON.stringify({ custom_id: request.customId, method: "POST", url, body: toChatBody(request) })

/**
 * A chat completion as providers return it. Lenient on purpose: providers add keys (Ark's `HttpHeader`,
 * usage details) that must survive untouched.
 *
 * @since 0.1.0
 * @category models
 */
export const ChatResponse = Schema.Struct(
  {
    id: Schema.optional(Schema.String),
    model: Schema.optional(Schema.String),
    choices: Schema.Array(
      Schema.Struct(
        {
          index: Schema.optional(Schema.Number),
          message: Schema.Struct({ role: Schema.String, content: Schema.NullOr(Schema.String) }, Extra),
          finish_reason: Schema.optional(Schema.NullOr(Schema.String))
        },
        Extra
      )
    ),
    usage: Schema.optional(
      Schema.Struct(
        { prompt_tokens: Schema.Number, completion_tokens: Schema.Number, total_tokens: Schema.Number },
        Extra
      )
    )
  },
  Extra
)

/**
 * @since 0.1.0
 * @category models
 */
export type ChatResponse = typeof ChatResponse.Type

const decodeResponseSchema = Schema.decodeUnknownEither(ChatResponse)

const optionalString = (u: unknown): boolean => u === undefined || typeof u === "string"
const optionalNumber = (u: unknown): boolean => u === undefined || typeof u === "number"

/**
 * Exactly the checks {@link ChatResponse} makes. Every key the schema does not name is kept (`Extra`) and every
 * value it names passes through unchanged, so a JSON value that passes is already the decoded value.
 */
const isChatResponse = (u: unknown): u is ChatResponse => {
  if (!Predicate.isRecord(u) || !optionalString(u.id) || !optionalString(u.model) || !Array.isArray(u.choices)) {
    return false
  }
  for (const choice of u.choices as ReadonlyArray<unknown>) {
    if (!Predicate.isRecord(choice) || !optionalNumber(choice.index)) return false
    const finish = choice.finish_reason
    if (finish !== undefined && finish !== null && typeof finish !== "string") return false
    const message = choice.message
    if (!Predicate.isRecord(message) || typeof message.role !== "string") return false
    if (message.content !== null && typeof message.content !== "string") return false
  }
  const usage = u.usage
  return usage === undefined || (Predicate.isRecord(usage) && typeof usage.prompt_tokens === "number" &&
    typeof usage.completion_tokens === "number" && typeof usage.total_tokens === "number")
}

/**
 * Decodes a chat completion from parsed JSON (a result line's body). A well-formed body is checked by hand and
 * taken as it is — it is hot on every result line of a multi-gigabyte file; anything else goes through the
 * schema, for its error.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeResponse = (json: unknown): Either.Either<ChatResponse, ParseResult.ParseError> =>
  isChatResponse(json) ? Either.right(json) : decodeResponseSchema(json)

/**
 * The text of the first choice, if any.
 *
 * @since 0.1.0
 * @category accessors
 */
export const content = (response: ChatResponse): Option.Option<string> =>
  Option.fromNullable(response.choices[0]?.message.content)

/**
 * One problem with one input line: the 1-based line number, the rule broken and a message naming the fix.
 *
 * @since 0.1.0
 * @category models
 */
export interface LineIssue {
  readonly lineNumber: number
  readonly rule: Rule
  readonly message: string
}

/**
 * The rules a request line is checked against — core `InputValidation`'s rules, so every validation report in
 * Barge speaks one vocabulary: `InvalidJson`, `NotAnObject`, `InvalidBody` (no `body` object, or bad `messages`),
 * `MissingField` / `InvalidId` (the id), `DuplicateId`, `MissingModel`, and `LineTooLarge` (checked by `Batch`).
 *
 * @since 0.1.0
 * @category models
 */
export type Rule = InputValidation.IssueRule

const decodeRequest = Schema.decodeUnknownEither(ChatRequest, { errors: "all", onExcessProperty: "preserve" })

const issue = (lineNumber: number, rule: Rule, message: string): LineIssue => ({ lineNumber, rule, message })

const firstMessage = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((e) => `${e.path.join(".") || "(root)"}: ${e.message}`)[0] ??
    error.message

/**
 * Reads one parsed JSONL line as a request. Three forms are accepted, so existing files work unchanged:
 *
 * - Barge's own: `{ customId, model, messages, ...parameters }`;
 * - the OpenAI batch line used by Moonshot and Ark: `{ custom_id, method?, url?, body: { model?, messages, ... } }`;
 * - Qianfan's default task line: `{ id, query }` (one user message).
 *
 * A line without a model takes `defaultModel`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromJson = (
  json: unknown,
  lineNumber: number,
  defaultModel?: string
): Either.Either<ChatRequest, LineIssue> => {
  if (!Predicate.isRecord(json)) {
    return Either.left(issue(lineNumber, "NotAnObject", "line is not a JSON object"))
  }
  let candidate: Record<string, unknown>
  let idKey: string
  if ("custom_id" in json || "body" in json) {
    idKey = "custom_id"
    if (!Predicate.isRecord(json.body)) {
      return Either.left(issue(lineNumber, "InvalidBody", "`body` must be a JSON object holding the chat request"))
    }
    candidate = { ...json.body, customId: json.custom_id }
  } else if ("query" in json) {
    idKey = "id"
    candidate = {
      customId: typeof json.id === "number" ? String(json.id) : json.id,
      messages: [{ role: "user", content: json.query }]
    }
  } else {
    idKey = "customId"
    candidate = { ...json }
  }
  return checkCandidate(candidate, idKey, lineNumber, defaultModel)
}

/**
 * Checks a request built in code (an `Iterable` or `Stream` of {@link ChatRequest}) by the same rules as a line.
 *
 * @since 0.1.0
 * @category decoding
 */
export const check = (
  request: ChatRequest,
  lineNumber: number,
  defaultModel?: string
): Either.Either<ChatRequest, LineIssue> =>
  Predicate.isRecord(request)
    ? checkCandidate({ ...request }, "customId", lineNumber, defaultModel)
    : Either.left(issue(lineNumber, "NotAnObject", "request is not an object"))

const checkCandidate = (
  candidate: Record<string, unknown>,
  idKey: string,
  lineNumber: number,
  defaultModel: string | undefined
): Either.Either<ChatRequest, LineIssue> => {
  if (typeof candidate.customId !== "string" || candidate.customId.length === 0) {
    return Either.left(
      candidate.customId === undefined
        ? issue(lineNumber, "MissingField", `\`${idKey}\` is missing`)
        : issue(lineNumber, "InvalidId", `\`${idKey}\` must be a non-empty string`)
    )
  }
  if (candidate.model === undefined && defaultModel !== undefined) candidate.model = defaultModel
  if (typeof candidate.model !== "string" || candidate.model.length === 0) {
    return Either.left(
      issue(lineNumber, "MissingModel", "no `model` on the line: add one, or pass a default model (`--model`)")
    )
  }
  return Either.mapLeft(
    decodeRequest(candidate),
    (error) => issue(lineNumber, "InvalidBody", `\`messages\` is invalid: ${firstMessage(error)}`)
  )
}

/**
 * Parses and checks a whole input, collecting every issue rather than stopping at the first: each line on its
 * own, then ids across lines.
 *
 * @since 0.1.0
 * @category decoding
 */
export const collect = (
  lines: Iterable<readonly [lineNumber: number, parsed: Either.Either<ChatRequest, LineIssue>]>
): { readonly requests: ReadonlyArray<ChatRequest>; readonly issues: ReadonlyArray<LineIssue> } => {
  const requests: Array<ChatRequest> = []
  const issues: Array<LineIssue> = []
  const firstSeen = new Map<string, number>()
  for (const [lineNumber, parsed] of lines) {
    if (Either.isLeft(parsed)) {
      issues.push(parsed.left)
      continue
    }
    const earlier = firstSeen.get(parsed.right.customId)
    if (earlier !== undefined) {
      issues.push(
        issue(
          lineNumber,
          "DuplicateId",
          `custom id "${parsed.right.customId}" already used on line ${earlier}; ids must be unique to join results`
        )
      )
      continue
    }
    firstSeen.set(parsed.right.customId, lineNumber)
    requests.push(parsed.right)
  }
  return { requests, issues }
}

/**
 * Parses one raw JSONL line (text) into a request, or the issue that stops it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromJsonLine = (
  text: string,
  lineNumber: number,
  defaultModel?: string
): Either.Either<ChatRequest, LineIssue> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return Either.left(issue(lineNumber, "InvalidJson", `not valid JSON (${(error as Error).message})`))
  }
  return fromJson(json, lineNumber, defaultModel)
}
