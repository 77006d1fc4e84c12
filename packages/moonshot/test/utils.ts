import { Emulator, TestTime } from "@barge/emulator"
import { NodeHttpClient } from "@effect/platform-node"
import type { Duration } from "effect"
import { Effect, Fiber, Layer, Redacted } from "effect"
import { MoonshotBatch, OpenAiCompatible } from "../src/index.js"

/** An emulator plus a MoonshotBatch pointed at it, over real loopback HTTP. */
export const makeLayer = (options?: {
  readonly emulator?: Emulator.Options
  readonly apiKey?: string
  readonly retry?: false
}) =>
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      MoonshotBatch.layer({
        apiKey: Redacted.make(options?.apiKey ?? emulator.credentials.moonshot.apiKey),
        baseUrl: `${emulator.urls.moonshot}/v1`,
        // Transport timeouts run on the TestClock; keep them out of the way of `TestClock.adjust`.
        timeout: "3650 days",
        ...(options?.retry === false ? { retry: false as const } : {})
      }))
  ).pipe(
    Layer.provideMerge(Emulator.layer(options?.emulator)),
    Layer.provideMerge(NodeHttpClient.layerUndici)
  )

/** A valid input line. */
export const line = (customId: string, text: string, model = "kimi-k2.6") => ({
  custom_id: customId,
  method: "POST",
  url: "/v1/chat/completions",
  body: { model, messages: [{ role: "user", content: text }] }
})

/** An input file of `n` lines (`r1`…`rn`). */
export const lines = (n: number, prefix = "r") =>
  OpenAiCompatible.fromLines(
    "input.jsonl",
    Array.from({ length: n }, (_, i) => line(`${prefix}${i + 1}`, `question ${i + 1}`))
  )

/**
 * Moves the TestClock until `fiber` ends, only while it waits on the clock (by at least `step`), letting real
 * loopback IO run in between: what the fiber observes does not depend on the machine's speed.
 */
export const drive = <A, E>(fiber: Fiber.Fiber<A, E>, step: Duration.DurationInput) =>
  TestTime.run(Fiber.join(fiber), { step })
