import { ChatRequest } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Stream } from "effect"

const message = { role: "user", content: "hi" }
const openAiLine = (fields: Record<string, unknown>, body: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: "a", ...fields, body: { model: "m", messages: [message], ...body } })

/** The issue's rule and message, or "ok". */
const verdict = (parsed: Either.Either<ChatRequest.ChatRequest, ChatRequest.LineIssue>): string =>
  Either.match(parsed, { onLeft: (issue) => `${issue.rule}: ${issue.message}`, onRight: () => "ok" })

const line = (text: string) => verdict(ChatRequest.fromJsonLine(text, 1))
const inCode = (request: unknown) => verdict(ChatRequest.check(request as ChatRequest.ChatRequest, 1))

describe("ChatRequest lines", () => {
  it("a request nested 100,000 levels deep is an issue naming where, not a stack overflow", () => {
    const depth = 100_000
    const nestedText = `${"[".repeat(depth)}${"]".repeat(depth)}`
    const deep = line(openAiLine({}, { metadata: "NESTED" }).replace("\"NESTED\"", nestedText))
    assert.match(deep, /^InvalidBody: `body\.metadata\.0\.0\.0\.….0\.0` nests more than 100 levels deep/)
    let nested: Record<string, unknown> = {}
    for (let i = 0; i < depth; i++) nested = { a: nested }
    assert.match(inCode({ customId: "a", model: "m", messages: [message], nested }), /nests more than 100 levels/)
    // 100 levels are fine: the limit is far beyond any chat request.
    let hundred: unknown = "x"
    for (let i = 0; i < 99; i++) hundred = [hundred]
    assert.strictEqual(inCode({ customId: "a", model: "m", messages: [message], hundred }), "ok")
  })

  it("checks the common parameters' types and documented ranges, naming the field as the line spells it", () => {
    assert.strictEqual(
      // JSON reads 1e400 as Infinity, which JSON.stringify would write as null.
      line(openAiLine({}, { temperature: 0 }).replace("\"temperature\":0", "\"temperature\":1e400")),
      "InvalidParameter: `body.temperature` must be a number from 0 to 2, not Infinity (a number beyond JSON's " +
        "range, such as 1e400)"
    )
    assert.strictEqual(
      line(openAiLine({}, { max_tokens: -5 })),
      "InvalidParameter: `body.max_tokens` must be a whole number of at least 1, not -5"
    )
    assert.strictEqual(
      line(openAiLine({}, { temperature: "hot" })),
      "InvalidParameter: `body.temperature` must be a number from 0 to 2, not the string \"hot\""
    )
    assert.include(line(JSON.stringify({ customId: "a", model: "m", messages: [message], top_p: 1.5 })), "`top_p`")
    assert.include(line(openAiLine({}, { n: 2.5 })), "`body.n` must be a whole number from 1 to 128")
    assert.include(line(openAiLine({}, { stop: ["a", "b", "c", "d", "e"] })), "at most 4")
    assert.include(line(openAiLine({}, { stream: true })), "a batch does not stream")
    assert.include(line(openAiLine({}, { logit_bias: { "50256": -101 } })), "token 50256")
    // In range, null (the default) and parameters Barge does not know pass through as given.
    const fine = ChatRequest.fromJsonLine(
      openAiLine({}, { temperature: 0, top_p: 1, max_tokens: 1, seed: -3, presence_penalty: null, thinking: "x" }),
      1
    )
    assert.deepStrictEqual(
      Either.map(fine, ChatRequest.parameters),
      Either.right({ temperature: 0, top_p: 1, max_tokens: 1, seed: -3, presence_penalty: null, thinking: "x" })
    )
  })

  it("a parameter named like an Object method (`constructor`, `toString`, `__proto__`) passes through as given", () => {
    const named = ChatRequest.fromJsonLine(openAiLine({}, { constructor: 1, toString: "x", hasOwnProperty: [] }), 1)
    assert.deepStrictEqual(
      Either.map(named, ChatRequest.parameters),
      Either.right({ constructor: 1, toString: "x", hasOwnProperty: [] })
    )
    // JSON.parse keeps `__proto__` as a key; it is checked, never a crash.
    assert.strictEqual(line(openAiLine({}).replace("\"body\":{", "\"body\":{\"__proto__\":0,")), "ok")
  })

  it("keeps an OpenAI line's method and url: GET or another endpoint is refused, never rewritten", () => {
    assert.strictEqual(
      line(openAiLine({ method: "GET", url: "/v1/chat/completions" })),
      "InvalidField: `method` is the string \"GET\"; a batch line is sent as \"POST\""
    )
    assert.strictEqual(
      line(openAiLine({ method: "POST", url: "/v1/embeddings" })),
      "InvalidField: `url` is the string \"/v1/embeddings\": a Barge batch runs chat completions " +
        "(\"/v1/chat/completions\"); send other endpoints in a batch of their own"
    )
    const kept = ChatRequest.fromJsonLine(openAiLine({ method: "POST", url: "/v2/chat/completions" }), 1)
    assert.strictEqual(Either.getOrThrow(kept).url, "/v2/chat/completions")
    assert.deepStrictEqual(ChatRequest.parameters(Either.getOrThrow(kept)), {}, "url is not a chat parameter")
    assert.include(ChatRequest.toOpenAiLine(Either.getOrThrow(kept)), "\"url\":\"/v2/chat/completions\"")
  })

  it("checkEndpoint and collect refuse a line whose url is not the batch's endpoint", () => {
    assert.isUndefined(ChatRequest.checkEndpoint(undefined, ["/v1/chat/completions"]))
    assert.isUndefined(ChatRequest.checkEndpoint("/v1/chat/completions", ["/v1/chat/completions"]))
    assert.strictEqual(
      ChatRequest.checkEndpoint("/v2/chat/completions", ["/v1/chat/completions"]),
      "`url` is \"/v2/chat/completions\" but this batch runs \"/v1/chat/completions\"; change the line's `url` or " +
        "leave it out"
    )
    const parsed = [1, 2].map((n) =>
      [n, ChatRequest.fromJsonLine(openAiLine({ custom_id: `r${n}`, url: `/v${n}/chat/completions` }), n)] as const
    )
    const { issues, requests } = ChatRequest.collect(parsed, { endpoints: ["/v1/chat/completions"] })
    assert.deepStrictEqual(requests.map((r) => r.customId), ["r1"])
    assert.deepStrictEqual(issues.map((i) => [i.lineNumber, i.rule]), [[2, "InvalidField"]])
  })

  it("refuses a whitespace-only id like an empty one, a role outside the chat roles, and content null", () => {
    assert.match(line(openAiLine({ custom_id: " \t" })), /^InvalidId: `custom_id` must be a non-empty string with more/)
    assert.match(line(openAiLine({ custom_id: "" })), /^InvalidId: `custom_id` must be a non-empty string, not an/)
    assert.strictEqual(
      line(openAiLine({}, { messages: [{ role: "bot", content: "hi" }] })),
      "InvalidBody: `body.messages.0.role` is the string \"bot\"; use one of system, user, assistant, tool, " +
        "developer, function"
    )
    assert.strictEqual(
      line(openAiLine({}, { messages: [{ role: "user", content: null }] })),
      "InvalidBody: `body.messages.0.content` is null: give the message its text (only an assistant message with " +
        "`tool_calls` may go without)"
    )
    const toolCall = {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }]
    }
    const answered = { role: "tool", tool_call_id: "c1", content: "42" }
    assert.strictEqual(line(openAiLine({}, { messages: [message, toolCall, answered] })), "ok")
    assert.strictEqual(verdict(ChatRequest.fromJsonLine(JSON.stringify({ id: "q", query: " hi " }), 1, "ernie")), "ok")
    assert.match(line(JSON.stringify({ id: " ", query: "hi" })), /^InvalidId: `id`/)
    assert.match(line(JSON.stringify({ id: "q", query: 3 })), /^InvalidBody: `query` must be the question's text/)
  })

  it("says what is wrong with messages in words", () => {
    assert.strictEqual(
      line(openAiLine({}, { messages: [] })),
      "InvalidBody: `body.messages` is empty: a request needs at least one message, such as " +
        "[{\"role\": \"user\", \"content\": \"Hello\"}]"
    )
    assert.strictEqual(
      line(openAiLine({}, { messages: "hello" })),
      "InvalidBody: `body.messages` must be a list of messages such as [{\"role\": \"user\", \"content\": " +
        "\"Hello\"}], not the string \"hello\""
    )
    assert.match(line(JSON.stringify({ customId: "a", model: "m" })), /^InvalidBody: `messages` is missing/)
  })
})

describe("ChatRequest built in code", () => {
  it("a circular object, a BigInt, a class instance or a throwing getter is an issue, not a throw", () => {
    const circular: Record<string, unknown> = { customId: "a", model: "m", messages: [message] }
    circular.metadata = { owner: circular }
    assert.match(inCode(circular), /^InvalidBody: `metadata\.owner` refers back to an object that contains it/)
    assert.strictEqual(
      inCode({ customId: "a", model: "m", messages: [message], seed: 7n }),
      "InvalidParameter: `seed` must be a whole number, not a BigInt (7n)"
    )
    assert.match(
      inCode({ customId: "a", model: "m", messages: [message], metadata: { at: 1n } }),
      /^InvalidBody: `metadata\.at` is a BigInt \(1n\), which JSON cannot carry/
    )
    assert.match(
      inCode({ customId: "a", model: "m", messages: [message], metadata: { at: new Date(0) } }),
      /`metadata\.at` is a Date object, not plain data/
    )
    const throwing = Object.defineProperty({ customId: "a", model: "m", messages: [message] }, "temperature", {
      enumerable: true,
      get: () => {
        throw new Error("no temperature today")
      }
    })
    assert.strictEqual(inCode(throwing), "InvalidBody: reading the request threw: no temperature today")
    // `undefined` for an optional key is a key left out, as JSON writes it.
    assert.strictEqual(inCode({ customId: "a", model: "m", messages: [message], temperature: undefined }), "ok")
  })

  it.effect("numbered: an iterator that throws ends the input with an issue at that position", () =>
    Effect.gen(function*() {
      const requests = {
        *[Symbol.iterator]() {
          yield { customId: "a", model: "m", messages: [message] }
          throw new Error("the database went away")
        }
      }
      const numbered = Chunk.toReadonlyArray(
        yield* Stream.runCollect(ChatRequest.numbered(requests as Iterable<ChatRequest.ChatRequest>))
      )
      const { issues, requests: ok } = ChatRequest.collect(numbered)
      assert.deepStrictEqual(ok.map((r) => r.customId), ["a"])
      assert.deepStrictEqual(issues, [{
        lineNumber: 2,
        rule: "Unreadable",
        message: "reading request 2 from the input threw: the database went away; nothing was submitted, fix the " +
          "code that produces the requests"
      }])
      const blankId = { customId: " ", model: "m", messages: [message] } as unknown as ChatRequest.ChatRequest
      const streamed = yield* Stream.runCollect(ChatRequest.numbered(Stream.make(blankId)))
      assert.strictEqual(Either.isLeft(Chunk.unsafeHead(streamed)[1]), true)
    }))
})

