import { assert, describe, it } from "@effect/vitest"
import { run } from "../../../bench/signing.js"

describe("bench/signing", () => {
  it("smoke mode returns a row per scheme with positive throughput", async () => {
    const rows = await run({ smoke: true })
    assert.deepStrictEqual(rows.map((row) => row.name), [
      "volcengine HMAC-SHA256",
      "volcengine via Signer service",
      "bce-auth-v1",
      "aws sigv4 (s3)"
    ])
    for (const row of rows) {
      assert.isTrue(row.barge_ops > 0 && row.baseline_ops > 0 && row.ratio > 0, JSON.stringify(row))
    }
    console.log(`bench smoke: ${rows.length} rows`)
  })
})
