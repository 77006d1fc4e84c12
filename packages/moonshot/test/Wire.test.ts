import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { Wire } from "../src/index.js"

const viaSchema = Schema.decodeUnknownEither(Wire.ResultLine)

const ok = {
  id: "batch_req_1",
  custom_id: "r-1",
  response: { status_code: 200, request_id: "req", body: { choices: [] } },
  error: null,
  extra: true
}

/** Lines around the edges of the schema: the fast path must decline or give exactly the schema's value. */
const samples: ReadonlyArray<unknown> = [
  ok,
  { custom_id: "r-2" },
  { custom_id: "r-3", id: null, response: null, error: { code: "expired", message: null } },
  { custom_id: "r-4", error: { code: null } },
  { custom_id: "r-4b", error: {} },
  { custom_id: "r-5", response: { status_code: 400, body: { error: { message: "bad" } } } },
  { custom_id: "r-6", response: { status_code: 200, request_id: null } },
  { ...ok, custom_id: 7 },
  { ...ok, id: 3 },
  { ...ok, response: { status_code: "200", body: {} } },
  { ...ok, response: { body: {} } },
  { ...ok, response: { status_code: 200, request_id: 9, body: {} } },
  { ...ok, response: [] },
  { ...ok, response: "x" },
  { ...ok, error: { code: 5 } },
  { ...ok, error: { message: false } },
  { ...ok, error: [] },
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
    // Every well-formed sample takes the fast path (the first seven).
    assert.strictEqual(taken, 7)
  })
})
