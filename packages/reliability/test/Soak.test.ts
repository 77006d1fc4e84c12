import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Flows from "../src/flows.js"
import * as Soak from "../src/soak.js"

describe("fault-injection soak", () => {
  it.live(
    "a 20-run slice: every result once, one job per submission, no defect, no leak",
    () =>
      Effect.gen(function*() {
        // No time limit of its own: all 20 runs, however long this machine takes (the test's timeout bounds it).
        const report = yield* Soak.soak({ runs: 20, seed: 1000, maxDuration: "1 hour" })
        const figures = Soak.summary(report).join("\n")
        assert.strictEqual(report.runs, 20, figures)
        assert.deepStrictEqual(report.failed.map((run) => `${run.seed}: ${run.problems.join("; ")}`), [], figures)
        assert.strictEqual(report.duplicates, 0)
        assert.strictEqual(report.defects, 0)
        assert.strictEqual(report.unhandledRejections, 0)
        assert.strictEqual(report.leakedFibers + report.leakedSockets, 0)
        // The slice really exercised the clients: faults were injected and results checked.
        assert.isAbove(report.faults.total, 10, figures)
        assert.isAbove(report.resultsChecked, 200, figures)
      }),
    { timeout: 300_000 }
  )

  it("a seed decides provider, profile and size, so a failing run replays", () => {
    assert.deepStrictEqual(Soak.plan(42), Soak.plan(42))
    const combinations = Flows.providers.length * Object.keys(Soak.profiles).length
    const plans = Array.from({ length: combinations }, (_, i) => Soak.plan(1000 + i))
    // Any run of consecutive seeds as long as there are combinations takes every provider through every profile.
    const picked = new Set(plans.map((plan) => `${plan.provider}/${plan.profile}`))
    assert.strictEqual(picked.size, combinations, [...picked].join(" "))
  })
})
