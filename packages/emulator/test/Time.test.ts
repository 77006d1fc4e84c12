import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import * as Processing from "../src/internal/Processing.js"
import * as Time from "../src/internal/Time.js"

describe("Time", () => {
  it.effect("scales the Clock and adds manual advances", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_000_000)
      const time = yield* Time.make(3600)
      assert.strictEqual(time.startedAt, 1_000_000)
      assert.strictEqual(yield* time.now, 1_000_000)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* time.now, 1_000_000 + 3_600_000)
      yield* time.advance("1 day")
      assert.strictEqual(time.unsafeNow(), 1_000_000 + 3_600_000 + 86_400_000)
    }))

  it.effect("converts emulated durations to real ones", () =>
    Effect.gen(function*() {
      const time = yield* Time.make(60)
      assert.strictEqual(Duration.toMillis(Time.toReal(time, "1 hour")), 60_000)
    }))

  it.effect("rejects a time scale that is not positive", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Time.make(0))
      assert.strictEqual(exit._tag, "Failure")
    }))
})

describe("Processing", () => {
  const model = Processing.make({ queuedFor: "2 seconds", perRequest: "100 millis", finalizingFor: "1 second" })
  const at = (now: number, total = 10) => Processing.progress(model, { startedAt: 0, now, total })

  it("walks queued → running → finalizing → done", () => {
    assert.deepStrictEqual([at(0).phase, at(0).processed], ["queued", 0])
    assert.deepStrictEqual([at(1_999).phase, at(1_999).processed], ["queued", 0])
    assert.deepStrictEqual([at(2_000).phase, at(2_000).processed], ["running", 0])
    assert.deepStrictEqual([at(2_350).phase, at(2_350).processed], ["running", 3])
    assert.deepStrictEqual([at(3_000).phase, at(3_000).processed], ["finalizing", 10])
    assert.deepStrictEqual([at(3_999).phase, at(3_999).processed], ["finalizing", 10])
    assert.deepStrictEqual([at(4_000).phase, at(4_000).processed], ["done", 10])
    assert.deepStrictEqual([at(4_000).runningAt, at(4_000).finalizingAt, at(4_000).doneAt], [2_000, 3_000, 4_000])
  })

  it("never goes backwards and never exceeds the total", () => {
    let last = 0
    for (let now = 0; now < 6_000; now += 37) {
      const p = at(now, 17)
      assert.isAtLeast(p.processed, last)
      assert.isAtMost(p.processed, 17)
      last = p.processed
    }
    assert.strictEqual(last, 17)
  })

  it("handles empty jobs and instant processing", () => {
    assert.strictEqual(at(2_000, 0).phase, "finalizing")
    const instant = Processing.make({ queuedFor: 0, perRequest: 0, finalizingFor: 0 })
    assert.deepStrictEqual(Processing.progress(instant, { startedAt: 5, now: 5, total: 1_000 }).phase, "done")
  })

  it("has the documented defaults and per-request completion instants", () => {
    assert.strictEqual(Duration.toMillis(Processing.defaults.queuedFor), 2_000)
    assert.strictEqual(Duration.toMillis(Processing.defaults.perRequest), 50)
    assert.strictEqual(Duration.toMillis(Processing.defaults.finalizingFor), 1_000)
    assert.strictEqual(Processing.processedAt(model, 0, 0), 2_100)
    assert.strictEqual(Processing.processedAt(model, 0, 9), at(0).finalizingAt)
  })
})
