/**
 * The checks a chat request gets beyond its shape: the messages said in words, and the common Chat Completions
 * parameters' types and documented ranges (OpenAI's API reference, which the providers follow). A problem is a
 * field path and a sentence saying what to do; `ChatRequest` turns it into a line issue.
 */
import * as Predicate from "effect/Predicate"

/** A problem with one field: where (`messages.2.role`, `temperature`) and what to do. */
export interface FieldProblem {
  readonly field: string
  readonly message: string
}

/** The roles a Chat Completions message may have. */
export const chatRoles: ReadonlyArray<string> = ["system", "user", "assistant", "tool", "developer", "function"]

/** A value named for a message: its type, and the value itself when it is short. */
export const describe = (value: unknown): string => {
  if (value === undefined) return "nothing"
  if (value === null) return "null"
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list"
  switch (typeof value) {
    case "string":
      return value.length === 0
        ? "an empty string"
        : value.length <= 40
        ? `the string ${JSON.stringify(value)}`
        : "a string"
    case "number":
      return Number.isFinite(value) ? `${value}` : `${value} (a number beyond JSON's range, such as 1e400)`
    case "bigint":
      return `a BigInt (${value}n)`
    case "object":
      return "an object"
    default:
      return `a ${typeof value}`
  }
}

const example = `[{"role": "user", "content": "Hello"}]`

/** Whether an assistant message names tool (or legacy function) calls, the one case `content` may be left out. */
const callsTools = (message: Record<string, unknown>): boolean =>
  (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) || Predicate.isRecord(message.function_call)

/** The first problem with `messages`, in words: missing, not a list, empty, or a message without a valid role or
 * content. */
export const checkMessages = (messages: unknown): FieldProblem | undefined => {
  if (messages === undefined) {
    return { field: "messages", message: `is missing: a request needs at least one message, such as ${example}` }
  }
  if (!Array.isArray(messages)) {
    return {
      field: "messages",
      message: `must be a list of messages such as ${example}, not ${describe(messages)}`
    }
  }
  if (messages.length === 0) {
    return { field: "messages", message: `is empty: a request needs at least one message, such as ${example}` }
  }
  // An index loop, not `entries()`: once per message of every line, and `at` only built for a problem.
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i]
    if (!Predicate.isRecord(message)) {
      return {
        field: `messages.${i}`,
        message: `must be a message object such as {"role": "user", "content": "Hello"}, not ${describe(message)}`
      }
    }
    if (typeof message.role !== "string" || !chatRoles.includes(message.role)) {
      return {
        field: `messages.${i}.role`,
        message: `is ${describe(message.role)}; use one of ${chatRoles.join(", ")}`
      }
    }
    const content = message.content
    if (content === undefined || content === null) {
      if (message.role === "assistant" && callsTools(message)) continue
      return {
        field: `messages.${i}.content`,
        message: `is ${describe(content)}: give the message its text (only an assistant message with \`tool_calls\` ` +
          `may go without)`
      }
    }
    if (typeof content !== "string" && !Array.isArray(content)) {
      return {
        field: `messages.${i}.content`,
        message: `must be text or a list of content parts, not ${describe(content)}`
      }
    }
  }
  return undefined
}

type Rule = (value: unknown) => string | undefined

const number = (min: number, max: number): Rule => (value) =>
  typeof value === "number" && Number.isFinite(value) && value >= min && value <= max
    ? undefined
    : `must be a number from ${min} to ${max}, not ${describe(value)}`

const integer = (min: number, max = Number.MAX_SAFE_INTEGER): Rule => (value) =>
  typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
    ? undefined
    : max === Number.MAX_SAFE_INTEGER
    ? `must be a whole number of at least ${min}, not ${describe(value)}`
    : `must be a whole number from ${min} to ${max}, not ${describe(value)}`

const anyInteger: Rule = (value) =>
  typeof value === "number" && Number.isSafeInteger(value)
    ? undefined
    : `must be a whole number, not ${describe(value)}`

const boolean: Rule = (value) =>
  typeof value === "boolean" ? undefined : `must be true or false, not ${describe(value)}`

const string: Rule = (value) => typeof value === "string" ? undefined : `must be text, not ${describe(value)}`

const object: Rule = (value) => Predicate.isRecord(value) ? undefined : `must be an object, not ${describe(value)}`

const list: Rule = (value) => Array.isArray(value) ? undefined : `must be a list, not ${describe(value)}`

const stop: Rule = (value) =>
  typeof value === "string" ||
    (Array.isArray(value) && value.length <= 4 && value.every((s) => typeof s === "string"))
    ? undefined
    : `must be text or a list of at most 4 texts, not ${describe(value)}`

const toolChoice: Rule = (value) =>
  typeof value === "string" || Predicate.isRecord(value)
    ? undefined
    : `must be "none", "auto", "required" or an object naming a tool, not ${describe(value)}`

const logitBias: Rule = (value) => {
  if (!Predicate.isRecord(value)) return `must be an object of token ids to numbers, not ${describe(value)}`
  for (const [token, bias] of Object.entries(value)) {
    const problem = number(-100, 100)(bias)
    if (problem !== undefined) return `holds a bias for token ${token} that ${problem}`
  }
  return undefined
}

const noStream: Rule = (value) =>
  value === false ? undefined : value === true
    ? "is true, but a batch does not stream its answers; remove it"
    : `must be true or false, not ${describe(value)}`

const hasOwn = Object.prototype.hasOwnProperty

/** The Chat Completions parameters checked, with their documented types and ranges; others pass through as given. */
const parameterRules: Readonly<Record<string, Rule>> = {
  temperature: number(0, 2),
  top_p: number(0, 1),
  frequency_penalty: number(-2, 2),
  presence_penalty: number(-2, 2),
  max_tokens: integer(1),
  max_completion_tokens: integer(1),
  n: integer(1, 128),
  seed: anyInteger,
  logprobs: boolean,
  top_logprobs: integer(0, 20),
  parallel_tool_calls: boolean,
  stream: noStream,
  stop,
  user: string,
  response_format: object,
  tools: list,
  tool_choice: toolChoice,
  logit_bias: logitBias
}

/** The first parameter (of `parameters`, the request's keys besides id, model and messages) out of its type or
 * range. `null` is accepted wherever the API accepts it: the parameter at its default. */
export const checkParameters = (parameters: Readonly<Record<string, unknown>>): FieldProblem | undefined => {
  // `for…in` over own keys visits what `Object.entries` does, in its order, without building the pairs.
  for (const name in parameters) {
    if (!hasOwn.call(parameters, name)) continue
    const value = parameters[name]
    // Own keys only: a parameter named `__proto__`, `constructor` or `toString` is the user's, not a rule.
    const rule = hasOwn.call(parameterRules, name) ? parameterRules[name] : undefined
    if (rule === undefined || value === null || value === undefined) continue
    const problem = rule(value)
    if (problem !== undefined) return { field: name, message: problem }
  }
  return undefined
}
