/**
 * The collect step's cursor on a file sink, without a cluster: a collection that dies between writing a chunk and
 * committing it resumes from the committed cursor (the uncommitted bytes cut away), so the sink ends with every
 * result exactly once; a sink shorter than committed, or results that come back reordered, are refused.
 */
import type * as Batch from "@barge/core/Batch"
import { Sink } from "@barge/workflow"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Collect from "../src/internal/collect.js"

const results = (n: number): ReadonlyArray<Batch.BatchResult> =>
  Array.from({ length: n }, (_, i) =>
    ({
      _tag: "Failed",
      customId: `r-${i + 1}`,
      error: { code: "x", message: `result ${i + 1}` }
    }) as Batch.BatchResult)

const lines = (path: string) => Fs.readFileSync(path, "utf8").split("\n").filter((l) => l !== "")

class Crash extends Error {}

describe("collect", () => {
  it.effect("dies after writing a chunk but before committing it, resumes, and holds every result once", () =>
    Effect.gen(function*() {
      const path = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-collect-")), "out.jsonl")
      const sink = Sink.file(path)
      let stored = Collect.start
      let commits = 0
      // The third commit never happens: the chunk is in the file, the cursor still says two chunks.
      const crashing = (cursor: Collect.Cursor) =>
        Effect.suspend(() => {
          commits += 1
          if (commits === 3) return Effect.die(new Crash())
          stored = cursor
          return Effect.void
        })
      const first = yield* Effect.exit(Collect.collect({
        sink,
        results: Stream.fromIterable(results(10)),
        cursor: stored,
        chunkSize: 3,
        commit: crashing
      }))
      assert.strictEqual(first._tag, "Failure")
      assert.strictEqual(stored.results, 6)
      assert.strictEqual(lines(path).length, 9, "the uncommitted chunk reached the file")

      const done = yield* Collect.collect({
        sink,
        results: Stream.fromIterable(results(10)),
        cursor: stored,
        chunkSize: 3,
        commit: (cursor) => Effect.sync(() => (stored = cursor))
      })
      assert.strictEqual(done.results, 10)
      assert.isTrue(done.done)
      assert.deepStrictEqual(lines(path).map((l) => JSON.parse(l).customId), results(10).map((r) => r.customId))
      // Done is final: collecting again writes nothing.
      yield* Collect.collect({
        sink,
        results: Stream.fromIterable(results(10)),
        cursor: stored,
        chunkSize: 3,
        commit: () => Effect.void
      })
      assert.strictEqual(lines(path).length, 10)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("refuses a sink shorter than what was committed to it", () =>
    Effect.gen(function*() {
      const path = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-collect-")), "out.jsonl")
      Fs.writeFileSync(path, "")
      const error = yield* Effect.flip(Collect.collect({
        sink: Sink.file(path),
        results: Stream.fromIterable(results(4)),
        cursor: { results: 2, succeeded: 0, offset: 100, lastId: "r-2", done: false },
        chunkSize: 2,
        commit: () => Effect.void
      }))
      assert.strictEqual(error._tag, "SinkError")
      assert.strictEqual((error as Sink.SinkError).reason, "Truncated")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("refuses to resume when the results come back in another order", () =>
    Effect.gen(function*() {
      const path = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-collect-")), "out.jsonl")
      let cursor = Collect.start
      yield* Effect.exit(Collect.collect({
        sink: Sink.file(path),
        results: Stream.concat(Stream.fromIterable(results(4)), Stream.die(new Crash())),
        cursor,
        chunkSize: 2,
        commit: (next) => Effect.sync(() => (cursor = next))
      }))
      assert.strictEqual(cursor.results, 4)
      const error = yield* Effect.flip(Collect.collect({
        sink: Sink.file(path),
        results: Stream.fromIterable([...results(6)].reverse()),
        cursor,
        chunkSize: 2,
        commit: () => Effect.void
      }))
      assert.strictEqual(error._tag, "SinkError")
      assert.strictEqual((error as Sink.SinkError).reason, "Reordered")
      assert.strictEqual(lines(path).length, 4, "nothing written past the cursor")
    }).pipe(Effect.provide(NodeContext.layer)))
})
