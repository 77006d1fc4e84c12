/**
 * A `MoonshotBatch` with no HTTP, for users' tests: core's in-memory platform seen through Moonshot's profile (its
 * status words, windows, limits and fixed parameters are the real ones), moved by `Clock`, so `TestClock` drives
 * it. See `@barge/openai-compatible`'s `Mock` for the options.
 *
 * @example
 * ```ts
 * import { Mock, MoonshotBatch } from "@barge/moonshot"
 * import { Effect } from "effect"
 *
 * const test = Effect.gen(function*() {
 *   const kimi = yield* MoonshotBatch.MoonshotBatch
 *   const submitted = yield* kimi.submit([
 *     { customId: "a", model: "kimi-k2.6", messages: [{ role: "user", content: "hi" }] }
 *   ])
 * }).pipe(Effect.provide(Mock.layer({ perRequest: "10 millis" })))
 * ```
 *
 * @since 0.1.0
 */
import * as OpenAiMock from "@barge/openai-compatible/Mock"
import type * as Layer from "effect/Layer"
import * as MoonshotBatch from "./MoonshotBatch.js"

/**
 * The script: how requests are answered, how fast jobs move, which creates are refused.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OpenAiMock.Options {}

/**
 * The mock `MoonshotBatch`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options?: Options) => Layer.Layer<MoonshotBatch.MoonshotBatch> = OpenAiMock.layerFor(
  MoonshotBatch.MoonshotBatch,
  MoonshotBatch.profile
)
