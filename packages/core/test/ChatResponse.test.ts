import { ChatRequest } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"

const viaSchema = Schema.decodeUnknownEither(ChatRequest.ChatResponse)

const valid = {
  id: "chatcmpl-1",
  model: "kimi",
  object: "chat.completion",
  choices: [{ index: 0, message: { role: "assistant", content: "hi", extra: [1] }, finish_reason: "stop", x: 1 }],
  usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, cached_tokens: 0 }
}

/** Bodies around the edges of the schema: each must get the schema's verdict and value. */
const samples: ReadonlyArray<unknown> = [
  valid,
  { choices: [] },
  { choices: [{ message: { role: "assistant", content: null } }] },
  { choices: [{ message: { role: "assistant", content: "x" }, finish_reason: null }] },
  { ...valid, usage: undefined },
  { ...valid, id: 1 },
  { ...valid, model: null },
  { ...valid, choices: {} },
  { ...valid, choices: [null] },
  { ...valid, choices: [{ index: "0", message: { role: "assistant", content: "x" } }] },
  { ...valid, choices: [{ message: { role: "assistant" } }] },
  { ...valid, choices: [{ message: { role: 1, content: "x" } }] },
  { ...valid, choices: [{ message: { role: "assistant", content: "x" }, finish_reason: 3 }] },
  { ...valid, choices: [{ message: null }] },
  { ...valid, usage: null },
  { ...valid, usage: { prompt_tokens: 1, completion_tokens: 2 } },
  { ...valid, usage: { prompt_tokens: "1", completion_tokens: 2, total_tokens: 3 } },
  [],
  null,
  "text",
  42
]

describe("ChatRequest.decodeResponse", () => {
  it("agrees with the ChatResponse schema on every sample, value included", () => {
    for (const sample of samples) {
      const json = JSON.parse(JSON.stringify(sample) ?? "null")
      const expected = viaSchema(json)
      const actual = ChatRequest.decodeResponse(json)
      assert.strictEqual(Either.isRight(actual), Either.isRight(expected), JSON.stringify(sample))
      if (Either.isRight(actual) && Either.isRight(expected)) assert.deepStrictEqual(actual.right, expected.right)
    }
  })

  it("reports the schema's error for a malformed body", () => {
    const result = ChatRequest.decodeResponse({ choices: [{ message: { role: "assistant", content: 5 } }] })
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.include(result.left.message, "content")
  })
})
