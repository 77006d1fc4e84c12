import { Emulator } from "@barge/emulator"
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect, Fiber, Layer, Option, Redacted, TestClock, TestServices } from "effect"
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
 * Moves the TestClock in steps until `fiber` ends, letting real loopback IO run between steps (the HTTP calls
 * of a poll happen in real time; only the sleeps between them are virtual).
 */
export const drive = <A, E>(fiber: Fiber.Fiber<A, E>, step: Duration.DurationInput, maxSteps = 2000) =>
  Effect.gen(function*() {
    for (let i = 0; i < maxSteps; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      yield* TestClock.adjust(step)
      yield* TestServices.provideLive(Effect.sleep(Duration.millis(1)))
    }
    return yield* Fiber.join(fiber)
  })
