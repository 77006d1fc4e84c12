/**
 * Deterministic fake chat completions. The answer to a request is a function of its `custom_id` and its last user
 * message only, so a test (or a benchmark checking millions of lines) can recompute what every result must say
 * with `expectedContent`, without keeping the requests around.
 *
 * A message containing `[[barge:fail]]` fails with 400 `InvalidRequest`; `[[barge:fail:CODE]]` fails with `CODE`
 * and `[[barge:fail:CODE:STATUS]]` with `CODE` and HTTP `STATUS`. Each surface maps a failure to its provider's
 * per-line error record.
 */
import type { ChatCompletion, CompletionOutcome, Completions } from "./Context.js"
import { fnv1a, hex8 } from "./Hash.js"

/** The marker that makes a request fail. */
export const failMarker = "[[barge:fail"

/** The request shape `complete` reads (the `body` of a batch line). */
export interface Request {
  readonly customId: string
  readonly model: string
  readonly body: unknown
}

/** The hash tag appended to every answer. */
export const digest = (customId: string, text: string): string => hex8(fnv1a(`${customId}\n${text}`))

/** What the emulator answers to a request whose last user message is `lastUserText`. */
export const expectedContent = (customId: string, lastUserText: string): string =>
  `Echo: ${lastUserText} #${digest(customId, lastUserText)}`

/** A rough token count (about four characters per token, at least one), as real tokenizers give for English. */
export const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

const textOf = (content: unknown): string => {
  if (typeof content === "string") return content
  if (Array.isArray(content)) {
    let out = ""
    for (const part of content) {
      if (typeof part === "object" && part !== null && typeof (part as { text?: unknown }).text === "string") {
        out += (part as { text: string }).text
      }
    }
    return out
  }
  return ""
}

interface Prompt {
  readonly messages: ReadonlyArray<{ readonly role: string; readonly text: string }>
}

/**
 * Reads the prompt: OpenAI `messages`, or a bare `prompt`/`query` string (Qianfan's default line format carries
 * `query`).
 */
const promptOf = (body: unknown): Prompt | undefined => {
  if (typeof body !== "object" || body === null) return undefined
  const record = body as Record<string, unknown>
  if (Array.isArray(record.messages)) {
    const messages: Array<{ role: string; text: string }> = []
    for (const message of record.messages) {
      if (typeof message !== "object" || message === null) return undefined
      const { content, role } = message as { role?: unknown; content?: unknown }
      if (typeof role !== "string") return undefined
      messages.push({ role, text: textOf(content) })
    }
    return messages.length === 0 ? undefined : { messages }
  }
  const single = typeof record.prompt === "string" ? record.prompt : record.query
  return typeof single === "string" ? { messages: [{ role: "user", text: single }] } : undefined
}

const failure = (statusCode: number, code: string, message: string): CompletionOutcome => ({
  _tag: "Failure",
  statusCode,
  code,
  message
})

const markerFailure = (text: string): CompletionOutcome | undefined => {
  const at = text.indexOf(failMarker)
  if (at < 0) return undefined
  const end = text.indexOf("]]", at)
  const inner = end < 0 ? "" : text.slice(at + failMarker.length, end)
  // inner is "" or ":CODE" or ":CODE:STATUS"
  const [, code, status] = inner.split(":")
  const statusCode = status !== undefined && /^[1-5]\d\d$/.test(status) ? Number(status) : 400
  const errorCode = code !== undefined && code !== "" ? code : "InvalidRequest"
  return failure(
    statusCode,
    errorCode,
    `The request was failed on purpose by the ${failMarker}]] marker in its messages`
  )
}

/** The last user message's text (the last message of any role when there is no user message). */
export const lastUserText = (messages: Prompt["messages"]): string => {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === "user") return messages[i]!.text
  }
  return messages[messages.length - 1]?.text ?? ""
}

/** One completion. Pure and fast: no JSON round trip of the request. */
export const complete = (request: Request, createdAtSeconds: number): CompletionOutcome => {
  const prompt = promptOf(request.body)
  if (prompt === undefined) {
    return failure(400, "InvalidRequest", "The request body must carry a non-empty `messages` array of {role, content}")
  }
  let promptTokens = 3
  for (const message of prompt.messages) {
    const failed = markerFailure(message.text)
    if (failed !== undefined) return failed
    promptTokens += 4 + estimateTokens(message.text)
  }
  const userText = lastUserText(prompt.messages)
  const tag = digest(request.customId, userText)
  const content = `Echo: ${userText} #${tag}`
  const completionTokens = estimateTokens(content)
  const body: ChatCompletion = {
    id: `chatcmpl-${tag}${hex8(fnv1a(request.model, fnv1a(request.customId)))}`,
    object: "chat.completion",
    created: createdAtSeconds,
    model: request.model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens
    }
  }
  return { _tag: "Success", body }
}

/** The `Completions` service every surface receives. */
export const make = (): Completions => ({ complete })
