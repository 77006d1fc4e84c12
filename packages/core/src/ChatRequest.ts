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
import * as Stream from "effect/Stream"
import type * as InputValidation from "./InputValidation.js"
import * as JsonData from "./internal/jsonData.js"
import * as Rules from "./internal/requestRules.js"

const Extra = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * One chat message. `content` is a string or the multimodal parts array (null or absent only on an assistant
 * message with `tool_calls`, which {@link check} enforces); any other keys (`name`, `tool_calls`, …) pass through
 * untouched.
 *
 * @since 0.1.0
 * @category models
 */
export const ChatMessage = Schema.Struct(
  {
    role: Schema.String.pipe(Schema.minLength(1)),
    content: Schema.optional(Schema.Union(Schema.String, Schema.Array(Schema.Unknown), Schema.Null))
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
 * any further Chat Completions parameters (`temperature`, `max_tokens`, …) as extra keys. `url` is the endpoint the
 * request is for, when its line named one (an OpenAI batch line's `url`): a provider refuses a request whose `url`
 * is not the endpoint its batch runs ({@link checkEndpoint}) rather than send it somewhere else.
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
    messages: Schema.NonEmptyArray(ChatMessage),
    url: Schema.optional(Schema.String)
  },
  Extra
)

/**
 * @since 0.1.0
 * @category models
 */
export type ChatRequest = typeof ChatRequest.Type

const reserved = new Set(["customId", "model", "messages", "url"])

const hasOwn = Object.prototype.hasOwnProperty

const defaultUrl = "/v1/chat/completions"

/**
 * The request's extra Chat Completions parameters (everything but `customId`, `model`, `messages` and `url`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const parameters = (request: ChatRequest): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  // `for…in` with an own-key test visits what `Object.entries` does, without building the pairs (once per line).
  for (const key in request) {
    if (hasOwn.call(request, key) && !reserved.has(key)) out[key] = request[key]
  }
  return out
}

/**
 * The Chat Completions body for this request: `{ model, messages, ...parameters }`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const toChatBody = (request: ChatRequest): Record<string, unknown> => {
  const body: Record<string, unknown> = { model: request.model, messages: request.messages }
  for (const key in request) {
    // `__proto__` as in a spread of `parameters`, whose assignment made it a prototype, not a key.
    if (hasOwn.call(request, key) && !reserved.has(key) && key !== "__proto__") body[key] = request[key]
  }
  return body
}

/**
 * The OpenAI batch line for this request (`{ custom_id, method, url, body }`), the most common JSONL form and the
 * default size measure when a provider does not give its own. `url` defaults to the request's own, else
 * `/v1/chat/completions`. The request must have passed {@link check} (or come from {@link fromJson}): only then is
 * it plain JSON data that encodes as it is.
 *
 * @since 0.1.0
 * @category accessors
 */
export const toOpenAiLine = (request: ChatRequest, url = request.url ?? defaultUrl): string =>
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
 * Barge speaks one vocabulary: `InvalidJson`, `NotAnObject`, `InvalidBody` (no `body` object, bad `messages`, or a
 * value JSON cannot carry as it is), `InvalidParameter` (a Chat Completions parameter out of its type or range),
 * `InvalidField` (`method`, `url`), `MissingField` / `InvalidId` (the id), `DuplicateId`, `MissingModel`,
 * `Unreadable` (the input threw while read) and `LineTooLarge` (checked by `Batch`).
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

/** How a line names its fields: OpenAI lines hold the request in `body`, Qianfan lines name the text `query`. */
interface Form {
  readonly idKey: string
  readonly prefix: string
}

const barge: Form = { idKey: "customId", prefix: "" }
const openAi: Form = { idKey: "custom_id", prefix: "body." }
const qianfan: Form = { idKey: "id", prefix: "" }

/** Whether the path of `url` (before any `?`) ends in `/chat/completions`. Once per line: no split, no regex. */
const isChatCompletions = (url: string): boolean => {
  const query = url.indexOf("?")
  return (query < 0 ? url : url.slice(0, query)).endsWith("/chat/completions")
}

/**
 * Reads one parsed JSONL line as a request. Three forms are accepted, so existing files work unchanged:
 *
 * - Barge's own: `{ customId, model, messages, ...parameters }`;
 * - the OpenAI batch line used by Moonshot and Ark: `{ custom_id, method?, url?, body: { model?, messages, ... } }`;
 *   `method` must be `POST` and `url` a chat completions endpoint, kept on the request as `url`;
 * - Qianfan's default task line: `{ id, query }` (one user message).
 *
 * A line without a model takes `defaultModel`. Every problem names the field as the line spells it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromJson = (
  json: unknown,
  lineNumber: number,
  defaultModel?: string
): Either.Either<ChatRequest, LineIssue> => read(json, lineNumber, defaultModel, false)

/** `owned`: `json` was parsed here and no one else holds it, so its objects may become the request's own. */
const read = (
  json: unknown,
  lineNumber: number,
  defaultModel: string | undefined,
  owned: boolean
): Either.Either<ChatRequest, LineIssue> => {
  if (!Predicate.isRecord(json)) {
    return Either.left(issue(lineNumber, "NotAnObject", `the line must be a JSON object, not ${Rules.describe(json)}`))
  }
  if ("custom_id" in json || "body" in json) {
    if (!Predicate.isRecord(json.body)) {
      return Either.left(issue(lineNumber, "InvalidBody", "`body` must be a JSON object holding the chat request"))
    }
    for (const key of ["customId", "url"]) {
      if (key in json.body) {
        return Either.left(
          issue(lineNumber, "InvalidBody", `\`body.${key}\` is not a chat parameter; remove it from the body`)
        )
      }
    }
    if (json.method !== undefined && json.method !== "POST") {
      return Either.left(
        issue(
          lineNumber,
          "InvalidField",
          `\`method\` is ${Rules.describe(json.method)}; a batch line is sent as "POST"`
        )
      )
    }
    const url = json.url
    if (url !== undefined && typeof url !== "string") {
      return Either.left(issue(lineNumber, "InvalidField", `\`url\` must be text, not ${Rules.describe(url)}`))
    }
    const line: OpenAiLine = { body: json.body, customId: json.custom_id, url }
    // An own `__proto__` key (JSON.parse makes one) is copied by a spread but set as the prototype by an
    // assignment: the request is built the way it always was.
    if (hasOwn.call(line.body, "__proto__")) return checkCandidate(asWritten(line), openAi, lineNumber, defaultModel)
    return checkCandidate(inSchemaOrder(line, defaultModel), openAi, lineNumber, defaultModel, {
      asWritten: line,
      owned
    })
  }
  if ("query" in json) {
    if (typeof json.query !== "string" || json.query.length === 0) {
      return Either.left(
        issue(lineNumber, "InvalidBody", `\`query\` must be the question's text, not ${Rules.describe(json.query)}`)
      )
    }
    const candidate = {
      customId: typeof json.id === "number" ? String(json.id) : json.id,
      messages: [{ role: "user", content: json.query }]
    }
    return checkCandidate(candidate, qianfan, lineNumber, defaultModel)
  }
  return checkCandidate({ ...json }, barge, lineNumber, defaultModel)
}

/**
 * Checks a request built in code (an `Iterable` or `Stream` of {@link ChatRequest}) by the same rules as a line,
 * and that it is plain JSON data: a BigInt, a cycle, a class instance or a nesting deeper than 100 levels is an
 * issue here, never a throw later. Anything that throws while the request is read (a getter, a proxy) is an issue
 * too.
 *
 * @since 0.1.0
 * @category decoding
 */
export const check = (
  request: ChatRequest,
  lineNumber: number,
  defaultModel?: string
): Either.Either<ChatRequest, LineIssue> => {
  try {
    return Predicate.isRecord(request)
      ? checkCandidate({ ...request }, barge, lineNumber, defaultModel, { original: request })
      : Either.left(issue(lineNumber, "NotAnObject", `the request must be an object, not ${Rules.describe(request)}`))
  } catch (error) {
    return Either.left(issue(lineNumber, "InvalidBody", `reading the request threw: ${errorText(error)}`))
  }
}

const errorText = (error: unknown): string => {
  try {
    return error instanceof Error ? error.message : String(error)
  } catch {
    return "an error that cannot be printed"
  }
}

/** Where a candidate came from, beyond its own keys. */
interface Source {
  /** The user's object the candidate was copied from, where a cycle back to the request is seen. */
  readonly original?: unknown
  /**
   * The OpenAI line the candidate was built from in the schema's order ({@link inSchemaOrder}): the first value
   * JSON cannot carry is named in the line's order ({@link asWritten}).
   */
  readonly asWritten?: OpenAiLine | undefined
  /** The candidate's values were parsed here and no one else holds them (see {@link reuseChecked}). */
  readonly owned?: boolean | undefined
}

const checkCandidate = (
  candidate: Record<string, unknown>,
  form: Form,
  lineNumber: number,
  defaultModel: string | undefined,
  source: Source = {}
): Either.Either<ChatRequest, LineIssue> => {
  const { idKey, prefix } = form
  const id = candidate.customId
  if (typeof id !== "string" || id.trim().length === 0) {
    const blank = typeof id === "string" && id.length > 0 ? " with more than whitespace" : ""
    return Either.left(
      id === undefined
        ? issue(lineNumber, "MissingField", `\`${idKey}\` is missing; every request needs an id, unique in the batch`)
        : issue(
          lineNumber,
          "InvalidId",
          `\`${idKey}\` must be a non-empty string${blank}, not ${
            Rules.describe(id)
          }; every request needs an id, unique in the batch`
        )
    )
  }
  if (candidate.model === undefined && defaultModel !== undefined) candidate.model = defaultModel
  if (typeof candidate.model !== "string" || candidate.model.trim().length === 0) {
    return Either.left(
      issue(
        lineNumber,
        "MissingModel",
        candidate.model === undefined
          ? "no `model` on the line: add one, or pass a default model (`--model`)"
          : `\`${prefix}model\` must name the model, not ${Rules.describe(candidate.model)}`
      )
    )
  }
  if (candidate.url !== undefined && (typeof candidate.url !== "string" || !isChatCompletions(candidate.url))) {
    return Either.left(
      issue(
        lineNumber,
        "InvalidField",
        `\`url\` is ${
          Rules.describe(candidate.url)
        }: a Barge batch runs chat completions ("${defaultUrl}"); send other endpoints in a batch of their own`
      )
    )
  }
  const messages = Rules.checkMessages(candidate.messages)
  if (messages !== undefined) {
    return Either.left(issue(lineNumber, "InvalidBody", `\`${prefix}${messages.field}\` ${messages.message}`))
  }
  const parameter = Rules.checkParameters(candidate)
  if (parameter !== undefined) {
    return Either.left(issue(lineNumber, "InvalidParameter", `\`${prefix}${parameter.field}\` ${parameter.message}`))
  }
  const original = source.original ?? candidate
  if (!JsonData.isPlain(original)) {
    const data = JsonData.check(source.asWritten === undefined ? original : asWritten(source.asWritten))
    if (data !== undefined) {
      const where = data.path.length === 0 ? "the request" : `\`${prefix}${JsonData.formatPath(data.path)}\``
      return Either.left(issue(lineNumber, "InvalidBody", `${where} ${data.message}`))
    }
  }
  const decoded = source.owned === true && source.asWritten !== undefined
    ? reuseChecked(candidate)
    : decodeChecked(candidate)
  if (decoded !== undefined) return Either.right(decoded)
  return Either.mapLeft(
    decodeRequest(candidate),
    (error) => issue(lineNumber, "InvalidBody", `the request is invalid: ${firstMessage(error)}`)
  )
}

/** Keys {@link ChatRequest} names; the others are its extra parameters. */
const named: Readonly<Record<string, true>> = { customId: true, model: true, messages: true, url: true }

/**
 * What `decodeRequest` (the schema, preserving extra keys) gives for a candidate that passed every check of
 * {@link checkCandidate}, built directly: the schema cannot fail on such a candidate, and interpreting it was most
 * of the cost of checking a line. The same object the schema builds, key order included — the named keys
 * (`customId`, `model`, `messages`, `url`; a message's `role`, `content`) first, the others after them in their
 * order — so encoded lines, and the submission's hash, are unchanged. A candidate or message with symbol keys
 * (only code builds those) goes through the schema. Checked against the schema on generated requests in the tests.
 */
const decodeChecked = (candidate: Record<string, unknown>): ChatRequest | undefined => {
  const input = candidate.messages as ReadonlyArray<Record<string, unknown>>
  if (hasSymbols(candidate)) return undefined
  const messages: Array<Record<string, unknown>> = []
  for (let i = 0; i < input.length; i++) {
    const message = input[i]!
    if (hasSymbols(message)) return undefined
    messages.push(messageInSchemaOrder(message))
  }
  const out: Record<string, unknown> = {}
  out.customId = candidate.customId
  out.model = candidate.model
  out.messages = messages
  if (hasOwn.call(candidate, "url")) out.url = candidate.url
  for (const key of Object.keys(candidate)) {
    if (named[key] !== true) out[key] = candidate[key]
  }
  return out as ChatRequest
}

/** A message as the schema decodes it: `role`, `content` (an array copied), then the other keys in their order. */
const messageInSchemaOrder = (message: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  out.role = message.role
  if (hasOwn.call(message, "content")) {
    const content = message.content
    out.content = Array.isArray(content) ? content.slice() : content
  }
  for (const key of Object.keys(message)) {
    if (key !== "role" && key !== "content") out[key] = message[key]
  }
  return out
}

const hasSymbols = (object: object): boolean => Object.getOwnPropertySymbols(object).length > 0

/** What an OpenAI batch line holds of the request (its `method` checked already). */
interface OpenAiLine {
  readonly body: Record<string, unknown>
  readonly customId: unknown
  readonly url: string | undefined
}

/** An OpenAI line's request with its keys in the line's order: the body's, then `customId` and `url`. */
const asWritten = ({ body, customId, url }: OpenAiLine): Record<string, unknown> => ({
  ...body,
  customId,
  ...(url === undefined ? {} : { url })
})

/**
 * An OpenAI line's request built in the order the schema writes it — `customId`, `model` (or `defaultModel` when
 * the line names none), `messages`, `url`, then the body's other keys in their order — so that, once checked, it
 * can be the request itself ({@link reuseChecked}).
 */
const inSchemaOrder = (
  { body, customId, url }: OpenAiLine,
  defaultModel: string | undefined
): Record<string, unknown> => {
  const candidate: Record<string, unknown> = {}
  candidate.customId = customId
  const model = body.model === undefined ? defaultModel : body.model
  if (model !== undefined || hasOwn.call(body, "model")) candidate.model = model
  if (hasOwn.call(body, "messages")) candidate.messages = body.messages
  if (url !== undefined) candidate.url = url
  for (const key in body) {
    if (hasOwn.call(body, key) && named[key] !== true) candidate[key] = body[key]
  }
  return candidate
}

/**
 * {@link decodeChecked} for a candidate of {@link inSchemaOrder} whose values were parsed from the line here: it
 * already is the object the schema would build, but for messages whose keys are not in the schema's order
 * (`role`, then `content`), which are rebuilt.
 */
const reuseChecked = (candidate: Record<string, unknown>): ChatRequest => {
  const messages = candidate.messages as Array<Record<string, unknown>>
  let copy: Array<Record<string, unknown>> | undefined
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!
    if (inMessageOrder(message)) continue
    copy ??= messages.slice()
    copy[i] = messageInSchemaOrder(message)
  }
  if (copy !== undefined) candidate.messages = copy
  return candidate as ChatRequest
}

/** Whether a parsed message's keys start with `role`, then `content` when it has one, and it has no `__proto__`. */
const inMessageOrder = (message: Record<string, unknown>): boolean => {
  const hasContent = hasOwn.call(message, "content")
  let index = 0
  for (const key in message) {
    if (index === 0 ? key !== "role" : key !== "content") return false
    if (++index === (hasContent ? 2 : 1)) break
  }
  return !hasOwn.call(message, "__proto__")
}

/**
 * Whether a request may run on a batch whose endpoint is one of `endpoints` (the path a provider's batch sends
 * every line to, `/v1/chat/completions`): `undefined` when it may — it names none, or one of them — else the
 * sentence saying why not. A provider calls it for every request, so no line is sent to an endpoint it did not ask
 * for.
 *
 * @example
 * ```ts
 * import { ChatRequest } from "@barge/core"
 *
 * ChatRequest.checkEndpoint("/v1/chat/completions", ["/v1/chat/completions"]) // undefined
 * ChatRequest.checkEndpoint("/v2/chat/completions", ["/v1/chat/completions"]) // "`url` is …"
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const checkEndpoint = (url: string | undefined, endpoints: ReadonlyArray<string>): string | undefined =>
  url === undefined || endpoints.includes(url)
    ? undefined
    : `\`url\` is ${JSON.stringify(url)} but this batch runs ${
      endpoints.map((endpoint) => JSON.stringify(endpoint)).join(" or ")
    }; change the line's \`url\` or leave it out`

/**
 * Options for {@link collect}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CollectOptions {
  /** The endpoints the batch runs; a request naming another `url` is an issue ({@link checkEndpoint}). */
  readonly endpoints?: ReadonlyArray<string> | undefined
}

/**
 * Parses and checks a whole input, collecting every issue rather than stopping at the first: each line on its
 * own, then ids across lines, then (with `endpoints`) each request's `url`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const collect = (
  lines: Iterable<readonly [lineNumber: number, parsed: Either.Either<ChatRequest, LineIssue>]>,
  options?: CollectOptions
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
    const endpoint = options?.endpoints === undefined ? undefined : checkEndpoint(parsed.right.url, options.endpoints)
    if (endpoint !== undefined) {
      issues.push(issue(lineNumber, "InvalidField", endpoint))
      continue
    }
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
  return read(json, lineNumber, defaultModel, true)
}

/**
 * A request of an in-code input with its 1-based position, checked ({@link check}).
 *
 * @since 0.1.0
 * @category models
 */
export type Numbered = readonly [lineNumber: number, parsed: Either.Either<ChatRequest, LineIssue>]

/**
 * Every request of an in-code input (an `Iterable` or a `Stream`), numbered from 1 and checked. An iterable whose
 * iterator throws ends with an issue at the position it threw, not a defect: what a user's code throws while
 * producing requests is a problem with the input.
 *
 * @since 0.1.0
 * @category decoding
 */
export function numbered(input: Iterable<ChatRequest>, defaultModel?: string): Stream.Stream<Numbered>
export function numbered<E, R>(
  input: Iterable<ChatRequest> | Stream.Stream<ChatRequest, E, R>,
  defaultModel?: string
): Stream.Stream<Numbered, E, R>
export function numbered<E, R>(
  input: Iterable<ChatRequest> | Stream.Stream<ChatRequest, E, R>,
  defaultModel?: string
): Stream.Stream<Numbered, E, R> {
  return Predicate.hasProperty(input, Stream.StreamTypeId)
    ? (input as Stream.Stream<ChatRequest, E, R>).pipe(
      Stream.zipWithIndex,
      Stream.map(([request, i]): Numbered => [i + 1, check(request, i + 1, defaultModel)])
    )
    : Stream.suspend(() => Stream.fromIterable(readIterable(input as Iterable<ChatRequest>, defaultModel)))
}

/**
 * Reads an iterable to its end or its first throw. A hand-written loop rather than `Stream.fromIterable`, whose
 * iteration turns a throwing iterator into a defect.
 */
const readIterable = (input: Iterable<ChatRequest>, defaultModel: string | undefined): Array<Numbered> => {
  const out: Array<Numbered> = []
  try {
    for (const request of input) out.push([out.length + 1, check(request, out.length + 1, defaultModel)])
  } catch (error) {
    const at = out.length + 1
    out.push([
      at,
      Either.left(
        issue(
          at,
          "Unreadable",
          `reading request ${at} from the input threw: ${errorText(error)}; nothing was submitted, fix the code that ` +
            `produces the requests`
        )
      )
    ])
  }
  return out
}
