import { assert, describe, it } from "@effect/vitest"
import * as polling from "../../../bench/polling.js"
import { formats, preparers } from "../../../bench/providers.js"
import * as results from "../../../bench/results.js"
import * as signing from "../../../bench/signing.js"
import * as upload from "../../../bench/upload.js"
import * as watch from "../../../bench/watch.js"

// Smoke modes only: they prove each benchmark still runs end to end (figures here mean nothing).
describe.concurrent("bench smoke modes", () => {
  it("signing returns a row per scheme with positive throughput", async () => {
    const rows = await signing.run({ smoke: true })
    assert.deepStrictEqual(rows.map((row) => row.name), [
      "volcengine HMAC-SHA256",
      "volcengine via Signer service",
      "bce-auth-v1",
      "aws sigv4 (s3)"
    ])
    for (const row of rows) {
      assert.isTrue(row.barge_ops > 0 && row.baseline_ops > 0 && row.ratio > 0, JSON.stringify(row))
    }
  })

  it("polling simulates every schedule and reports both goals", async () => {
    const report = await polling.run({ smoke: true })
    const rows = report.tables[0]!.rows
    assert.deepStrictEqual(rows.map((row) => row[0]), ["Barge default (adaptive)", "fixed 15 s", "fixed 60 s"])
    assert.strictEqual(report.goals.length, 2)
  })

  it("results reads the same files through the core path, every provider, the baselines and the floor", async () => {
    const report = await results.run({ smoke: true })
    const rows = report.tables[0]!.rows
    const providers = Object.keys(formats)
    // Ten baseline and core rows, and one `results(id)` row per provider of the registry.
    assert.strictEqual(rows.length, 10 + providers.length)
    assert.strictEqual(rows.filter((row) => String(row[0]).includes("`results(id)`")).length, providers.length)
    for (const row of rows) assert.strictEqual(row.at(-1), "ok", JSON.stringify(row))
    // Every side counted every line of its file (a mismatch would add a note).
    assert.isFalse(report.notes.some((note) => note.includes("counted")), report.notes.join("\n"))
    // One goal per judged path: the core path and each provider's.
    assert.strictEqual(report.goals.length, 1 + providers.length)
  }, 60_000)

  it("upload runs pass one and prepare on each provider's service, and the usual approach", async () => {
    const report = await upload.run({ smoke: true })
    const rows = report.tables[0]!.rows
    // Per provider: pass one and `prepare`; and the usual approach.
    assert.strictEqual(rows.length, 2 * preparers.length + 1)
    for (const row of rows) assert.strictEqual(row.at(-1), "ok", JSON.stringify(row))
  }, 60_000)

  it("watch follows every job to the end with Barge and with the bare loop", async () => {
    const report = await watch.run({ smoke: true })
    const rows = report.tables[0]!.rows
    assert.strictEqual(rows.length, 2)
    for (const row of rows) assert.strictEqual(row.at(-1), "ok", JSON.stringify(row))
    // Every job was polled at least once by each watcher.
    for (const row of rows) assert.isAtLeast(Number(String(row[3]).replaceAll(",", "")), 20, JSON.stringify(row))
    assert.strictEqual(report.goals.length, 3)
  }, 60_000)
})
