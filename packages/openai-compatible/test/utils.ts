import type { ChatRequest } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeHttpClient } from "@effect/platform-node"
import { Chunk, Duration, Effect, Fiber, Layer, Option, Redacted, Stream, TestClock, TestServices } from "effect"
import { OpenAiBatch } from "../src/index.js"

/** An emulator plus an `OpenAiBatch` pointed at it, over real loopback HTTP. */
export const makeLayer = (options?: {
  readonly emulator?: Emulator.Options
  readonly apiKey?: string
  readonly service?: Partial<OpenAiBatch.Options>
}) =>
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      OpenAiBatch.layer({
        apiKey: Redacted.make(options?.apiKey ?? emulator.credentials.openai.apiKey),
        baseUrl: `${emulator.urls.openai}/v1`,
        // Transport timeouts run on the TestClock; keep them out of the way of `TestClock.adjust`.
        timeout: "3650 days",
        create: { settle: 0, createBackoff: "10 millis" },
        ...options?.service
      }))
  ).pipe(
    Layer.provideMerge(Emulator.layer(options?.emulator)),
    Layer.provideMerge(NodeHttpClient.layerUndici)
  )

/** `n` chat requests (`r1`…`rn`); a text containing `[[barge:fail]]` makes the emulator fail that one. */
export const requests = (n: number, prefix = "r", model = "gpt-4o-mini"): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: n }, (_, i) => ({
    customId: `${prefix}${i + 1}`,
    model,
    messages: [{ role: "user", content: `question ${i + 1}` }]
  }))

/**
 * Moves the TestClock in steps until `fiber` ends, letting real loopback IO run between steps (the HTTP calls of a
 * poll happen in real time; only the sleeps between them are virtual).
 */
export const drive = <A, E>(fiber: Fiber.Fiber<A, E>, step: Duration.DurationInput, maxSteps = 5000) =>
  Effect.gen(function*() {
    for (let i = 0; i < maxSteps; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      yield* TestClock.adjust(step)
      yield* TestServices.provideLive(Effect.sleep(Duration.millis(1)))
    }
    return yield* Fiber.join(fiber)
  })

/** Runs `effect` in a fiber driven by the TestClock. */
export const driven = <A, E, R>(effect: Effect.Effect<A, E, R>, step: Duration.DurationInput = "1 second") =>
  Effect.flatMap(Effect.fork(effect), (fiber) => drive(fiber, step))

/** Every element of a stream. */
export const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) =>
  Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)
