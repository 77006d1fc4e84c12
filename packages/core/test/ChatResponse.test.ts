import { ChatRequest } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import { asJson, nearMiss } from "./internal/generated.js"

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

  const paths: ReadonlyArray<ReadonlyArray<string | number>> = [
    [],
    ["id"],
    ["model"],
    ["choices"],
    ["choices", 0],
    ["choices", 0, "index"],
    ["choices", 0, "message"],
    ["choices", 0, "message", "role"],
    ["choices", 0, "message", "content"],
    ["choices", 0, "finish_reason"],
    ["usage"],
    ["usage", "prompt_tokens"],
    ["usage", "completion_tokens"],
    ["usage", "total_tokens"]
  ]
  const bodies = Arbitrary.make(ChatRequest.ChatResponse).map(asJson)

  /** The schema's verdict and value; a body that passes is taken as it is (the fast path, no copy). */
  const agrees = (json: unknown): boolean => {
    const expected = viaSchema(json)
    const actual = ChatRequest.decodeResponse(json)
    assert.strictEqual(Either.isRight(actual), Either.isRight(expected), JSON.stringify(json))
    if (Either.isLeft(actual) || Either.isLeft(expected)) return false
    assert.deepStrictEqual(actual.right, expected.right)
    assert.strictEqual(actual.right, json, "the fast path took it")
    return true
  }

  it("agrees with the schema on generated bodies and generated near misses", () => {
    let accepted = 0
    let rejected = 0
    fc.assert(
      fc.property(fc.oneof(bodies, nearMiss(bodies, paths)), (json) => {
        if (agrees(json)) accepted++
        else rejected++
      }),
      { numRuns: 1000 }
    )
    // Both verdicts are reached often.
    assert.isAbove(accepted, 100)
    assert.isAbove(rejected, 100)
  })

  it("reports the schema's error for a malformed body", () => {
    const result = ChatRequest.decodeResponse({ choices: [{ message: { role: "assistant", content: 5 } }] })
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.include(result.left.message, "content")
  })
})
