import { assert, describe, it } from "@effect/vitest"
import * as Emulator from "../src/Emulator.js"
import * as Completions from "../src/internal/Completions.js"

const request = (content: unknown, customId = "request-1") => ({
  customId,
  model: "kimi-k2.6",
  body: { messages: [{ role: "system", content: "Be brief." }, { role: "user", content }] }
})

describe("Completions", () => {
  it("answers with an OpenAI chat.completion derived from the request", () => {
    const outcome = Completions.complete(request("Why is the sky blue?"), 1_700_000_000)
    assert.strictEqual(outcome._tag, "Success")
    if (outcome._tag !== "Success") return
    const body = outcome.body
    assert.strictEqual(body.object, "chat.completion")
    assert.strictEqual(body.model, "kimi-k2.6")
    assert.strictEqual(body.created, 1_700_000_000)
    assert.match(body.id, /^chatcmpl-[0-9a-f]{16}$/)
    assert.strictEqual(body.choices.length, 1)
    assert.strictEqual(body.choices[0]!.finish_reason, "stop")
    assert.strictEqual(body.choices[0]!.message.role, "assistant")
    assert.strictEqual(body.choices[0]!.message.content, Emulator.expectedContent("request-1", "Why is the sky blue?"))
    assert.match(body.choices[0]!.message.content, /^Echo: Why is the sky blue\? #[0-9a-f]{8}$/)
    assert.isAbove(body.usage.prompt_tokens, 0)
    assert.isAbove(body.usage.completion_tokens, 0)
    assert.strictEqual(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens)
  })

  it("is deterministic and tells requests apart", () => {
    const a = Completions.complete(request("same"), 1)
    assert.deepStrictEqual(Completions.complete(request("same"), 1), a)
    const other = Completions.complete(request("same", "request-2"), 1)
    assert.notDeepEqual(other, a)
  })

  it("reads text parts, the last user message, and bare query strings", () => {
    const parts = Completions.complete(request([{ type: "text", text: "a" }, { type: "text", text: "b" }]), 1)
    assert.strictEqual(
      parts._tag === "Success" && parts.body.choices[0]!.message.content,
      Emulator.expectedContent("request-1", "ab")
    )
    const query = Completions.complete({
      customId: "1",
      model: "ernie-4.0-8k",
      body: { query: "地球的自转周期是多久？" }
    }, 1)
    assert.strictEqual(
      query._tag === "Success" && query.body.choices[0]!.message.content,
      Emulator.expectedContent("1", "地球的自转周期是多久？")
    )
  })

  it("fails a request carrying the marker, with an optional code and status", () => {
    const plain = Completions.complete(request("please [[barge:fail]] now"), 1)
    assert.deepStrictEqual(plain._tag === "Failure" && [plain.statusCode, plain.code], [400, "InvalidRequest"])
    const coded = Completions.complete(request("[[barge:fail:content_filter]]"), 1)
    assert.deepStrictEqual(coded._tag === "Failure" && [coded.statusCode, coded.code], [400, "content_filter"])
    const status = Completions.complete(request("[[barge:fail:ServerOverloaded:503]]"), 1)
    assert.deepStrictEqual(status._tag === "Failure" && [status.statusCode, status.code], [503, "ServerOverloaded"])
    assert.include(plain._tag === "Failure" ? plain.message : "", "[[barge:fail]]")
  })

  it("fails a body without messages as an invalid request", () => {
    for (const body of [undefined, null, 42, {}, { messages: [] }, { messages: [{ content: "no role" }] }]) {
      const outcome = Completions.complete({ customId: "x", model: "m", body }, 1)
      assert.strictEqual(outcome._tag, "Failure")
    }
  })
})
