import { Batch, Jsonl, ResultLine } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Chunk, Effect, Either, FastCheck as fc, Schema, Stream } from "effect"
import { asJson, nearMiss } from "./internal/generated.js"

const viaSchema = Schema.decodeUnknownEither(ResultLine.ResultLine)

/** The reference: the schema interpreter, then `toResult`. */
const reference = (json: unknown) => Either.map(viaSchema(json), ResultLine.toResult)

const paths: ReadonlyArray<ReadonlyArray<string>> = [
  [],
  ["custom_id"],
  ["id"],
  ["response"],
  ["response", "status_code"],
  ["response", "request_id"],
  ["response", "body"],
  ["response", "body", "choices"],
  ["response", "body", "error"],
  ["error"],
  ["error", "code"],
  ["error", "type"],
  ["error", "message"]
]

const completion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  model: "doubao-pro",
  choices: [{ index: 0, message: { role: "assistant", content: "你好" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }
}

describe("ResultLine: the hand-written check against the schema", () => {
  const lines = Arbitrary.make(ResultLine.ResultLine).map(asJson)
  // Lines whose body is a chat completion too, so the Succeeded branch is generated as often as the others.
  const withCompletion = fc.tuple(Arbitrary.make(ResultLine.ResultLine), Arbitrary.make(ChatResponseLike)).map(
    ([line, body]) => asJson({ ...line, response: { status_code: 200, body } })
  )

  const agrees = (json: unknown) => {
    const fast = ResultLine.is(json)
    const slow = reference(json)
    assert.strictEqual(fast, Either.isRight(slow), JSON.stringify(json))
    assert.deepStrictEqual(ResultLine.fromJson(json), slow, JSON.stringify(json))
  }

  it("accepts exactly what the schema accepts, on generated lines", () => {
    let accepted = 0
    fc.assert(
      fc.property(lines, (json) => {
        agrees(json)
        if (ResultLine.is(json)) accepted++
      }),
      { numRuns: 500 }
    )
    // Nearly every generated line is valid (a NaN status arrives as null), so the fast path takes them.
    assert.isAbove(accepted, 400)
  })

  it("gives the schema's result on generated lines with a chat completion", () => {
    fc.assert(
      fc.property(withCompletion, (json) => {
        agrees(json)
        assert.strictEqual(ResultLine.toResult(json as ResultLine.ResultLine)._tag, "Succeeded")
      }),
      { numRuns: 300 }
    )
  })

  it("agrees with the schema on generated near misses (one field of the wrong type, or gone)", () => {
    let rejected = 0
    fc.assert(
      fc.property(fc.oneof(nearMiss(lines, paths), nearMiss(withCompletion, paths)), (json) => {
        agrees(json)
        if (!ResultLine.is(json)) rejected++
      }),
      { numRuns: 2000 }
    )
    // The mutations do reach the rejecting branches.
    assert.isAbove(rejected, 100)
  })
})

// Finite numbers: JSON has no NaN (it would arrive as null and make the body invalid).
const ChatResponseLike = Schema.Struct({
  choices: Schema.NonEmptyArray(Schema.Struct({
    index: Schema.optional(Schema.Int),
    message: Schema.Struct({ role: Schema.String, content: Schema.NullOr(Schema.String) }),
    finish_reason: Schema.optional(Schema.NullOr(Schema.String))
  })),
  usage: Schema.optional(
    Schema.Struct({ prompt_tokens: Schema.Int, completion_tokens: Schema.Int, total_tokens: Schema.Int })
  )
})

/** The error of a result that must have failed. */
const errorOf = (result: Batch.BatchResult): Batch.RequestError => {
  assert.strictEqual(result._tag, "Failed")
  return (result as Batch.Failed).error
}

describe("ResultLine.toResult", () => {
  it("a 2xx chat completion succeeds with the body as received, provider extras kept", () => {
    const body = { ...completion, HttpHeader: { "X-Request-Id": ["0217"] } }
    const result = ResultLine.toResult({
      id: "0217",
      custom_id: "q-1",
      response: { request_id: "0217", status_code: 200, body },
      error: null
    })
    assert.deepStrictEqual(result, { _tag: "Succeeded", customId: "q-1", response: body })
    assert.deepStrictEqual((result as Batch.Succeeded).response.HttpHeader, { "X-Request-Id": ["0217"] })
  })

  it("a non-2xx response keeps the error body's type, message and the status", () => {
    const result = ResultLine.toResult({
      custom_id: "q-2",
      response: {
        status_code: 429,
        body: { error: { type: "rate_limit_error", code: "rpm", message: "slow down: 60 requests per minute" } }
      }
    })
    assert.deepStrictEqual(result, {
      _tag: "Failed",
      customId: "q-2",
      error: new Batch.RequestError({
        code: "rate_limit_error",
        message: "slow down: 60 requests per minute",
        statusCode: 429
      })
    })
  })

  it("a non-2xx response with only an error code (Ark) keeps it", () => {
    const result = ResultLine.toResult({
      custom_id: "q-3",
      response: { status_code: 400, body: { error: { code: "InvalidParameter", message: "temperature > 2" } } },
      error: null
    })
    assert.deepStrictEqual(
      errorOf(result),
      new Batch.RequestError({ code: "InvalidParameter", message: "temperature > 2", statusCode: 400 })
    )
  })

  it("a non-2xx response without an error envelope keeps the body in the message", () => {
    const result = ResultLine.toResult({ custom_id: "q-4", response: { status_code: 502, body: "upstream timed out" } })
    const error = errorOf(result)
    assert.strictEqual(error.code, "http_502")
    assert.strictEqual(error.statusCode, 502)
    assert.include(error.message, "upstream timed out")
  })

  it("a 2xx body that is not a chat completion fails as invalid_response, showing the body", () => {
    const result = ResultLine.toResult({ custom_id: "q-5", response: { status_code: 200, body: { answer: 42 } } })
    const error = errorOf(result)
    assert.strictEqual(error.code, "invalid_response")
    assert.strictEqual(error.statusCode, 200)
    assert.include(error.message, "\"answer\":42")
  })

  it("a line without a response fails with its error (an expired request; Ark's code/type/message)", () => {
    assert.deepStrictEqual(
      errorOf(ResultLine.toResult({
        id: "batch_req_1",
        custom_id: "q-6",
        response: null,
        error: { code: "batch_expired", message: "This request could not be executed before the batch expired." }
      })),
      new Batch.RequestError({
        code: "batch_expired",
        message: "This request could not be executed before the batch expired."
      })
    )
    assert.deepStrictEqual(
      errorOf(
        ResultLine.toResult({ custom_id: "q-7", error: { type: "Forbidden", message: "no access to the model" } })
      ),
      new Batch.RequestError({ code: "Forbidden", message: "no access to the model" })
    )
    assert.deepStrictEqual(
      errorOf(ResultLine.toResult({ custom_id: "q-8" })),
      new Batch.RequestError({ code: "unknown_error", message: "the provider reported no detail" })
    )
  })
})

describe("ResultLine.decodeLines", () => {
  const bytes = (text: string) => new TextEncoder().encode(text)
  const line = (customId: string, status = 200) =>
    JSON.stringify({ custom_id: customId, response: { status_code: status, body: completion }, error: null })

  it.effect("reads every line into a result, skipping blank lines", () =>
    Effect.gen(function*() {
      const text = `${line("a")}\n\n${line("b", 500)}\r\n${line("c")}`
      const results = yield* Stream.runCollect(
        ResultLine.decodeLines(Jsonl.lines(Stream.make(bytes(text)).pipe(Stream.rechunk(1))))
      )
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(results).map((r) => [r.customId, r._tag]),
        [["a", "Succeeded"], ["b", "Failed"], ["c", "Succeeded"]]
      )
    }))

  it.effect("fails on a line that is not JSON, naming it, after the results before it", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const error = yield* Effect.flip(
        Stream.runForEach(
          ResultLine.decodeLines(Jsonl.lines(Stream.make(bytes(`${line("a")}\n${line("b")}\n{"custom_id":\n`)))),
          (result) => Effect.sync(() => seen.push(result.customId))
        )
      )
      assert.deepStrictEqual(seen, ["a", "b"])
      assert.strictEqual(error.reason, "InvalidJson")
      assert.strictEqual(error.lineNumber, 3)
    }))

  it.effect("fails on a line that is not a result line with the schema's message", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Stream.runDrain(ResultLine.decodeLines(Jsonl.lines(Stream.make(bytes(`${line("a")}\n{"id":"x"}\n`)))))
      )
      assert.strictEqual(error.reason, "SchemaMismatch")
      assert.strictEqual(error.lineNumber, 2)
      assert.include(error.description, "custom_id")
    }))

  it("decode reads one line", () => {
    const result = ResultLine.decode({ lineNumber: 7, text: line("z"), byteStart: 0, byteEnd: 10 })
    assert(Either.isRight(result))
    assert.strictEqual(result.right.customId, "z")
    const bad = ResultLine.decode({ lineNumber: 7, text: "[1]", byteStart: 0, byteEnd: 4 })
    assert(Either.isLeft(bad))
    assert.strictEqual(bad.left.lineNumber, 7)
  })
})
