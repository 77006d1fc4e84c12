import type { ChatRequest } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeHttpClient } from "@effect/platform-node"
import { Chunk, Duration, Effect, Fiber, Layer, Option, Redacted, Stream, TestClock, TestServices } from "effect"
import { MoonshotBatch } from "../src/index.js"

/** An emulator plus a `MoonshotBatch` pointed at it, over real loopback HTTP. */
export const makeLayer = (options?: {
  readonly emulator?: Emulator.Options
  readonly apiKey?: string
  /** Default: the emulator's URL with `/v1`. */
  readonly path?: string
  readonly service?: Partial<MoonshotBatch.Options>
}) =>
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      MoonshotBatch.layer({
        apiKey: Redacted.make(options?.apiKey ?? emulator.credentials.moonshot.apiKey),
        baseUrl: `${emulator.urls.moonshot}${options?.path ?? "/v1"}`,
        // Transport timeouts run on the TestClock; keep them out of the way of `TestClock.adjust`.
        timeout: "3650 days",
        create: { settle: 0, createBackoff: "10 millis" },
        ...options?.service
      }))
  ).pipe(
    Layer.provideMerge(Emulator.layer(options?.emulator)),
    Layer.provideMerge(NodeHttpClient.layerUndici)
  )

/** `n` chat requests (`r1`…`rn`) for Kimi. */
export const requests = (n: number, prefix = "r", model = "kimi-k2.6"): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: n }, (_, i) => ({
    customId: `${prefix}${i + 1}`,
    model,
    messages: [{ role: "user", content: `question ${i + 1}` }]
  }))

/** Moves the TestClock in steps until `fiber` ends, letting real loopback IO run between steps. */
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

/** The text of a file the emulator holds. */
export const fileText = (chunks: ReadonlyArray<Uint8Array>) => Buffer.concat(chunks).toString("utf8")
