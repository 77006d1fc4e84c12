import { InputValidation } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"

const moonshotRules: InputValidation.Rules = {
  idField: "custom_id",
  requiredFields: ["method", "url", "body"],
  objectFields: ["body"],
  modelPath: "body.model",
  maxLineBytes: 400,
  maxLines: 100
}

const line = (id: unknown, model = "kimi-k2", extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    custom_id: id,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model, messages: [] },
    ...extra
  })

const run = (text: string | Uint8Array, rules = moonshotRules, cuts = 7) => {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text
  const chunks: Array<Uint8Array> = []
  for (let i = 0; i < bytes.length; i += cuts) chunks.push(bytes.slice(i, i + cuts))
  return InputValidation.validate(rules)(Stream.fromIterable(chunks))
}

describe("InputValidation", () => {
  it.effect("accepts a valid file and summarises it", () =>
    Effect.gen(function*() {
      const text = [line("a"), line("b"), line("请求-c")].join("\r\n") + "\r\n"
      const summary = yield* run("\uFEFF" + text)
      assert.strictEqual(summary.lines, 3)
      assert.strictEqual(summary.model, "kimi-k2")
      assert.strictEqual(summary.bytes, new TextEncoder().encode("\uFEFF" + text).length)
    }))

  it.effect("reports every problem in one error, with line numbers and rules", () =>
    Effect.gen(function*() {
      const text = [
        line("a"), // 1 ok
        "{not json", // 2
        line("a"), // 3 duplicate
        line(""), // 4 empty id
        JSON.stringify({ custom_id: "e", body: { model: "kimi-k2" } }), // 5 missing method, url
        line("f", "other-model"), // 6 mixed models
        "", // 7 empty line
        JSON.stringify({ custom_id: "g", method: "POST", url: "/v1/chat/completions", body: "text" }), // 8 body, model
        "[1,2]", // 9 not an object
        line("h", "kimi-k2", { padding: "x".repeat(500) }), // 10 too large
        JSON.stringify({ method: "POST", url: "/u", body: { model: "kimi-k2" } }) // 11 missing id
      ].join("\n")
      const error = yield* Effect.flip(run(text))
      const found = error.issues.map((issue) => `${issue.lineNumber}:${issue.rule}`)
      assert.deepStrictEqual(found, [
        "2:InvalidJson",
        "3:DuplicateId",
        "4:InvalidId",
        "5:MissingField",
        "5:MissingField",
        "6:MixedModels",
        "7:EmptyLine",
        "8:InvalidBody",
        "8:MissingModel",
        "9:NotAnObject",
        "10:LineTooLarge",
        "11:MissingField"
      ])
      assert.strictEqual(error.totalIssues, 12)
      assert.include(error.message, "12 problems")
      assert.include(error.message, "line 2")
      assert.include(error.issues[1]!.message, "line 1")
      assert.include(error.issues[5]!.message, "other-model")
    }))

  it.effect("caps the issue list but counts every issue", () =>
    Effect.gen(function*() {
      const text = Array.from({ length: 30 }, () => "oops").join("\n")
      const error = yield* Effect.flip(run(text, { idField: "id", maxIssues: 10 }))
      assert.strictEqual(error.issues.length, 10)
      assert.strictEqual(error.totalIssues, 30)
      assert.include(error.message, "and 25 more")
    }))

  it.effect("checks file limits and emptiness", () =>
    Effect.gen(function*() {
      const empty = yield* Effect.flip(run("", { idField: "id" }))
      assert.deepStrictEqual(empty.issues.map((i) => i.rule), ["EmptyFile"])
      const big = yield* Effect.flip(
        run([line("a"), line("b"), line("c")].join("\n"), { ...moonshotRules, maxBytes: 100, maxLines: 2 })
      )
      assert.deepStrictEqual(big.issues.map((i) => `${i.lineNumber}:${i.rule}`), ["0:FileTooLarge", "3:TooManyLines"])
    }))

  it.effect("uses the provider's id field and may skip empty lines", () =>
    Effect.gen(function*() {
      const qianfan: InputValidation.Rules = { idField: "id", objectFields: ["body"], emptyLines: "skip" }
      const ok = yield* run(`{"id":"1","body":{}}\n\n{"id":"2","body":{}}\n`, qianfan)
      assert.strictEqual(ok.lines, 2)
      const error = yield* Effect.flip(run(`{"custom_id":"1","body":{}}\n`, qianfan))
      assert.strictEqual(error.issues[0]!.rule, "MissingField")
      assert.include(error.issues[0]!.message, "\"id\"")
    }))

  it.effect("reports invalid UTF-8 with the problems before it", () =>
    Effect.gen(function*() {
      const head = new TextEncoder().encode(`${line("a")}\n${line("a")}\n`)
      const bytes = new Uint8Array([...head, 0xc3, 0x28, 0x0a])
      const error = yield* Effect.flip(run(bytes))
      assert.deepStrictEqual(error.issues.map((i) => `${i.lineNumber}:${i.rule}`), ["2:DuplicateId", "3:InvalidUtf8"])
    }))
})
