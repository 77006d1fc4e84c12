import { Wire } from "@barge/qianfan"
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"

const viaSchema = Schema.decodeUnknownEither(Wire.OutputLine)

/** Lines around the edges of the schema: the fast path must decline or give exactly the schema's value. */
const samples: ReadonlyArray<unknown> = [
  { id: "1", output: { result: "hi" }, extra: [1] },
  { id: 2 },
  { id: 3, output: null },
  { id: "4", output: 5 },
  { id: null, output: {} },
  { id: true },
  { output: {} },
  [],
  null,
  "line"
]

describe("Wire.fastOutputLine", () => {
  it("declines or gives exactly the value the OutputLine schema decodes", () => {
    let taken = 0
    for (const sample of samples) {
      const json = JSON.parse(JSON.stringify(sample))
      const expected = viaSchema(json)
      const fast = Wire.fastOutputLine(json)
      if (fast === undefined) continue
      taken++
      assert.isTrue(Either.isRight(expected), `fast path accepted a line the schema rejects: ${JSON.stringify(sample)}`)
      if (Either.isRight(expected)) {
        assert.deepStrictEqual(fast, expected.right)
        assert.deepStrictEqual(Object.keys(fast).sort(), Object.keys(expected.right).sort())
      }
    }
    assert.strictEqual(taken, 4)
  })
})
