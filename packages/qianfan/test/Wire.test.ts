import { Wire } from "@barge/qianfan"
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"

const viaSchema = Schema.decodeUnknownEither(Wire.OutputLine)

/** What the schema gives for a JSON value, with the fast path's answer beside it. */
const both = (sample: unknown) => {
  const json: unknown = JSON.parse(JSON.stringify(sample) ?? "null")
  return { json, fast: Wire.fastOutputLine(json), expected: viaSchema(json) }
}

describe("Wire.fastOutputLine", () => {
  it("gives exactly the schema's value for every generated output line", () => {
    fc.assert(
      fc.property(Arbitrary.make(Wire.OutputLine), (line) => {
        // What JSON cannot carry (Infinity, -0, undefined) is lost on the way: the schema decides what is left.
        const { expected, fast, json } = both(line)
        if (fast !== undefined) return assert.deepStrictEqual(fast, Either.getOrThrow(expected))
        // It declines only what the schema rejects, or an own `__proto__` key the schema's record drops.
        assert.isTrue(Either.isLeft(expected) || Object.hasOwn(json as object, "__proto__"), JSON.stringify(line))
      }),
      { numRuns: 2000 }
    )
  })

  it("declines, or agrees with the schema, on any other JSON value", () => {
    const lineLike = fc.record({ id: fc.anything(), output: fc.anything() }, { requiredKeys: [] })
    fc.assert(fc.property(fc.oneof(fc.anything(), lineLike), (sample) => {
      const { expected, fast } = both(sample)
      if (fast === undefined) return
      assert.isTrue(Either.isRight(expected), `accepted what the schema rejects: ${JSON.stringify(sample)}`)
      assert.deepStrictEqual(fast, Either.getOrThrow(expected))
    }))
  })
})

describe("Wire.Task", () => {
  it("needs only a taskId: an unknown status word is kept and a field of the wrong type reads as absent", () => {
    const task = Schema.decodeUnknownSync(Wire.Task)({ taskId: "infer-1", runStatus: "Paused", progress: "x", name: 3 })
    assert.deepStrictEqual([task.taskId, task.runStatus, task.progress, task.name], [
      "infer-1",
      "Paused",
      undefined,
      undefined
    ])
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Wire.Task)({ runStatus: "Done" })))
  })
})
