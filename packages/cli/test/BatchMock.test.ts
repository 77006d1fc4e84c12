/**
 * What the README promises for users' tests: the unified program runs on each provider's mock layer (no HTTP)
 * through the provider's `layerBatch`, exactly as on the real service.
 */
import * as Ark from "@barge/ark"
import * as Moonshot from "@barge/moonshot"
import * as OpenAi from "@barge/openai-compatible"
import * as Qianfan from "@barge/qianfan"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { program } from "../../../examples/unified.js"
import { Providers } from "../src/index.js"

const mocks = {
  ark: Ark.ArkBatch.layerBatch.pipe(Layer.provide(Ark.Mock.layer())),
  moonshot: Moonshot.MoonshotBatch.layerBatch.pipe(Layer.provide(Moonshot.Mock.layer())),
  openai: OpenAi.OpenAiBatch.layerBatch.pipe(Layer.provide(OpenAi.Mock.layer())),
  qianfan: Qianfan.QianfanBatch.layerBatch.pipe(Layer.provide(Qianfan.Mock.layer())),
  "qianfan-v2": Qianfan.QianfanV2Batch.layerBatch.pipe(Layer.provide(Qianfan.Mock.layerV2()))
}

describe("the unified program on the mock layers", () => {
  for (const entry of Providers.entries) {
    it.live(`${entry.name}: completes with an answer for every request`, () =>
      Effect.gen(function*() {
        const outcome = yield* program(entry.model, { poll: { schedule: Schedule.spaced("1 millis") } })
        assert.strictEqual(outcome.provider, entry.name)
        assert.strictEqual(outcome.phase, "completed")
        assert.strictEqual(outcome.answers.size + outcome.failures.size, 5)
      }).pipe(Effect.provide(mocks[entry.name as keyof typeof mocks])))
  }
})
