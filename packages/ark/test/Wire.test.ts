import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { Wire } from "../src/index.js"

const viaSchema = Schema.decodeUnknownEither(Wire.ResultLine)

const ok = {
  id: "1",
  custom_id: "r-1",
  response: { request_id: "req", status_code: 200, body: { choices: [] } },
  error: null,
  extra: true
}

/** Lines around the edges of the schema: the fast path must decline or give exactly the schema's value. */
const samples: ReadonlyArray<unknown> = [
  ok,
  { custom_id: "r-2" },
  { custom_id: "r-3", response: null, error: { code: "Timeout", type: null } },
  { custom_id: "r-4", error: {} },
  { custom_id: "r-5", error: { code: "x", type: "t", message: "m" } },
  { custom_id: "r-6", response: { body: 1 } },
  { ...ok, custom_id: 7 },
  { ...ok, id: null },
  { ...ok, response: { status_code: "200", body: {} } },
  { ...ok, response: { status_code: null, body: {} } },
  { ...ok, response: { request_id: null, body: {} } },
  { ...ok, response: [] },
  { ...ok, error: { code: null } },
  { ...ok, error: { message: null } },
  { ...ok, error: { type: 1 } },
  { ...ok, error: "x" },
  [],
  null,
  "line"
]

describe("Wire.fastResultLine", () => {
  it("declines or builds exactly the ResultLine the schema decodes", () => {
    let taken = 0
    for (const sample of samples) {
      const json = JSON.parse(JSON.stringify(sample))
      const expected = viaSchema(json)
      const fast = Wire.fastResultLine(json)
      if (fast === undefined) continue
      taken++
      assert.isTrue(Either.isRight(expected), `fast path accepted a line the schema rejects: ${JSON.stringify(sample)}`)
      if (Either.isRight(expected)) {
        assert.instanceOf(fast, Wire.ResultLine)
        assert.deepStrictEqual({ ...fast }, { ...expected.right })
        assert.deepStrictEqual(Object.keys(fast).sort(), Object.keys(expected.right).sort())
      }
    }
    // Every well-formed sample takes the fast path (the first six).
    assert.strictEqual(taken, 6)
  })
})
