import { ChatRequest } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, FastCheck as fc, Schema, Stream } from "effect"

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

/**
 * The reference the fast paths of `fromJsonLine`, `fromJson` and `check` must equal: the candidate built as a
 * spread of what the user wrote, the default model filled in, decoded by the `ChatRequest` schema (extra keys
 * preserved).
 */
const decodeReference = Schema.decodeUnknownEither(ChatRequest.ChatRequest, {
  errors: "all",
  onExcessProperty: "preserve"
})
const reference = (candidate: Record<string, unknown>, defaultModel: string | undefined) => {
  if (candidate.model === undefined && defaultModel !== undefined) candidate.model = defaultModel
  return decodeReference(candidate)
}

/** A value down to its prototypes and the order of its keys (symbols included), for an exact comparison. */
const anatomy = (value: unknown): unknown => {
  if (Array.isArray(value)) return ["array", ...value.map(anatomy)]
  if (typeof value !== "object" || value === null) return value
  const prototype = Object.getPrototypeOf(value)
  return [
    prototype === Object.prototype ? "object" : prototype === null ? "null-prototype" : anatomy(prototype),
    ...Reflect.ownKeys(value).map((key) => [String(key), anatomy((value as Record<PropertyKey, unknown>)[key])])
  ]
}

/** An object written as its `[key, value]` pairs in this order, as JSON text (a `__proto__` key kept as a key). */
const objectText = (pairs: ReadonlyArray<readonly [string, string]>): string =>
  `{${pairs.map(([key, text]) => `${JSON.stringify(key)}:${text}`).join(",")}}`

/** Pairs in a generated order, without repeated keys (the first kept). */
const shuffled = (pairs: fc.Arbitrary<ReadonlyArray<readonly [string, string]>>) =>
  pairs.chain((list) =>
    fc.shuffledSubarray([...new Map(list).entries()], { minLength: new Map(list).size }).map((entries) =>
      objectText(entries)
    )
  )

const text = (value: unknown) => JSON.stringify(value)
const roles = ["system", "user", "assistant", "tool", "developer", "function"]

type Pair = readonly [string, string]

/** Mostly `usual`, now and then `odd`: enough requests pass to reach the fast path, enough fail to test it. */
const mostly = <A>(usual: fc.Arbitrary<A>, odd: fc.Arbitrary<A>) =>
  fc.oneof({ weight: 9, arbitrary: usual }, { weight: 1, arbitrary: odd })
const messageText = shuffled(
  fc.tuple(
    mostly<Pair | undefined>(
      fc.constantFrom(...roles).map((role) => ["role", text(role)] as const),
      fc.constantFrom(undefined, ["role", "\"robot\""] as const, ["role", "\"\""] as const)
    ),
    mostly<Pair | undefined>(
      fc.oneof(fc.string(), fc.array(fc.record({ type: fc.constant("text"), text: fc.string() }))).map((content) =>
        ["content", text(content)] as const
      ),
      fc.constantFrom(undefined, ["content", "null"] as const, ["content", "3"] as const)
    ),
    fc.array(
      fc.tuple(fc.constantFrom("name", "tool_calls", "__proto__", "tool_call_id", "x"), fc.jsonValue().map(text)),
      { maxLength: 3 }
    ),
    fc.boolean()
  ).map(([role, content, extras, toolCalls]) => [
    ...(role === undefined ? [] : [role]),
    ...(content === undefined ? [] : [content]),
    ...(toolCalls ? [["tool_calls", text([{ id: "c", type: "function" }])] as const] : []),
    ...extras
  ])
)

const bodyPairs = fc.tuple(
  mostly<Pair | undefined>(
    fc.constant(["model", "\"m\""] as const),
    fc.constantFrom(undefined, ["model", "\"\""] as const, ["model", "\" \""] as const, ["model", "3"] as const)
  ),
  fc.oneof(
    { weight: 8, arbitrary: fc.array(messageText, { minLength: 1, maxLength: 3 }).map((m) => `[${m.join(",")}]`) },
    { weight: 1, arbitrary: fc.constantFrom("[]", "\"hi\"", "null") }
  ).map((messages) => ["messages", messages] as const),
  fc.array(
    fc.oneof(
      fc.tuple(fc.constantFrom("temperature", "top_p"), mostly(fc.constantFrom("0", "0.5", "1"), fc.constant("3"))),
      fc.tuple(fc.constantFrom("max_tokens", "n", "seed"), mostly(fc.constantFrom("1", "2"), fc.constant("1.5"))),
      fc.tuple(
        fc.constantFrom("metadata", "thinking", "__proto__", "constructor", "toString", "response_format", "0", "b"),
        fc.jsonValue({ maxDepth: 3 }).map(text)
      )
    ),
    { maxLength: 4 }
  )
).map(([model, messages, extras]) => [...(model === undefined ? [] : [model]), messages, ...extras])

const openAiLineText = fc.tuple(
  shuffled(bodyPairs),
  mostly(fc.constant("\"a\""), fc.constantFrom("\"\"", "\" \"", "7")),
  fc.constantFrom(undefined, "/v1/chat/completions", "/v2/chat/completions", "/v1/embeddings")
).map(([body, id, url]) =>
  objectText([
    ["custom_id", id],
    ["method", "\"POST\""],
    ...(url === undefined ? [] : [["url", text(url)] as const]),
    ["body", body]
  ])
)

const bargeLineText = shuffled(
  fc.tuple(bodyPairs, mostly(fc.constant("\"a\""), fc.constantFrom("\"\"", "7"))).map((
    [pairs, id]
  ) => [["customId", id] as const, ...pairs])
)

/** `parsed` is exactly `expected` (the schema's decoding), or both are refused. */
const agrees = (
  parsed: Either.Either<ChatRequest.ChatRequest, ChatRequest.LineIssue>,
  expected: Either.Either<ChatRequest.ChatRequest, unknown>
) => {
  if (Either.isLeft(parsed)) return
  // Everything before the decoding is unchanged, so a request accepted must be the schema's, key order included.
  assert.isTrue(Either.isRight(expected), `the schema refuses what the fast path accepted: ${text(parsed.right)}`)
  const want = Either.getOrThrow(expected)
  assert.deepStrictEqual(anatomy(parsed.right), anatomy(want))
  assert.strictEqual(ChatRequest.toOpenAiLine(parsed.right), ChatRequest.toOpenAiLine(want))
  assert.deepStrictEqual(anatomy(ChatRequest.toChatBody(parsed.right)), anatomy(ChatRequest.toChatBody(want)))
}

describe("ChatRequest: the fast paths against the schema", () => {
  it("an OpenAI batch line gives exactly the schema's request, on generated lines", () => {
    let accepted = 0
    fc.assert(
      fc.property(openAiLineText, fc.constantFrom(undefined, "default-model"), (line, defaultModel) => {
        const json = JSON.parse(line)
        const expected = () =>
          reference(
            { ...json.body, customId: json.custom_id, ...(json.url === undefined ? {} : { url: json.url }) },
            defaultModel
          )
        const parsed = ChatRequest.fromJsonLine(line, 1, defaultModel)
        if (Either.isRight(parsed)) accepted++
        agrees(parsed, expected())
        // The same line parsed elsewhere (its objects not the request's own) gives the same request.
        agrees(ChatRequest.fromJson(JSON.parse(line), 1, defaultModel), expected())
      }),
      { numRuns: 2000 }
    )
    // The generator reaches the fast path, not only refusals.
    assert.isAbove(accepted, 200)
  })

  it("Barge's own line and a request built in code give exactly the schema's request", () => {
    let accepted = 0
    fc.assert(
      fc.property(bargeLineText, fc.constantFrom(undefined, "default-model"), fc.boolean(), (line, model, symbol) => {
        const parsed = ChatRequest.fromJsonLine(line, 1, model)
        if (Either.isRight(parsed)) accepted++
        agrees(parsed, reference({ ...JSON.parse(line) }, model))
        // In code: keys set as properties (a `__proto__` key included), and a symbol key now and then.
        const request: Record<PropertyKey, unknown> = Object.fromEntries(Object.entries(JSON.parse(line)))
        if (symbol) request[Symbol.for("tag")] = "t"
        agrees(ChatRequest.check(request as ChatRequest.ChatRequest, 1, model), reference({ ...request }, model))
      }),
      { numRuns: 2000 }
    )
    assert.isAbove(accepted, 200)
  })
})
