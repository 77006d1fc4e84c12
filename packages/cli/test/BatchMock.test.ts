/**
 * What the README promises for users' tests: the unified program runs on each provider's mock layer (no HTTP)
 * through the provider's `layerBatch`, exactly as on the real service.
 */
import * as Ark from "@barge/ark"
import * as Moonshot from "@barge/moonshot"
import * as Qianfan from "@barge/qianfan"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { models, program } from "../../../examples/unified.js"

const mocks = {
  ark: Ark.ArkBatch.layerBatch.pipe(Layer.provide(Ark.Mock.layer())),
  moonshot: Moonshot.MoonshotBatch.layerBatch.pipe(Layer.provide(Moonshot.Mock.layer())),
  qianfan: Qianfan.QianfanBatch.layerBatch.pipe(Layer.provide(Qianfan.Mock.layer()))
}

describe("the unified program on the mock layers", () => {
  for (const [provider, mock] of Object.entries(mocks)) {
    it.live(`${provider}: completes with an answer for every request`, () =>
      Effect.gen(function*() {
        const outcome = yield* program(models[provider as keyof typeof models], {
          poll: { schedule: Schedule.spaced("1 millis") }
        })
        assert.strictEqual(outcome.provider, provider)
        assert.strictEqual(outcome.phase, "completed")
        assert.strictEqual(outcome.answers.size + outcome.failures.size, 5)
      }).pipe(Effect.provide(mock)))
  }
})
