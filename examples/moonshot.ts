/**
 * Moonshot (Kimi) batch inference end to end: submit → watch progress → read results.
 *
 *   npx tsx examples/moonshot.ts                          # against an embedded emulator (no credentials needed)
 *   MOONSHOT_API_KEY=sk-… npx tsx examples/moonshot.ts    # against Moonshot (MOONSHOT_BASE_URL, MOONSHOT_MODEL
 *                                                         # optional)
 */
import { Emulator } from "@barge/emulator"
import { MoonshotBatch } from "@barge/moonshot"
import type { HttpClient, HttpServerError } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, type ConfigError, Effect, Layer, Option, Schedule, Stream } from "effect"

const questions = [
  "What is the capital of France?",
  "Name three prime numbers.",
  "What is 12 × 12?",
  "Summarise the plot of Hamlet in one sentence.",
  `Please fail this one ${Emulator.failMarker} (the emulator fails it on purpose).`
]

const program = Effect.gen(function*() {
  const kimi = yield* MoonshotBatch.MoonshotBatch
  const model = yield* Config.string("MOONSHOT_MODEL").pipe(Config.withDefault("kimi-k2.6"))
  const submitted = yield* kimi.submit(
    // No temperature or top_p: Kimi fixes them for batches (Barge refuses them, or drops them with
    // `fixedParameters: "drop"` and reports what it dropped).
    questions.map((content, i) => ({ customId: `q-${i + 1}`, model, messages: [{ role: "user", content }] })),
    { completionWindow: "1d", metadata: { example: "moonshot" } }
  )
  console.log(`submitted ${submitted.id} (${kimi.profile.baseUrl})`)

  const done = yield* kimi.watch(submitted.id, { schedule: Schedule.spaced("250 millis") }).pipe(
    Stream.tap((p) =>
      Effect.sync(() => {
        const c = p.status.counts
        console.log(
          `  ${p.status.providerStatus.padEnd(11)} ${c.completed + c.failed}/${c.total} done (${c.failed} failed)`
        )
      })
    ),
    Stream.runLast,
    Effect.map(Option.getOrThrow)
  )

  let succeeded = 0
  yield* kimi.results(submitted.id).pipe(
    Stream.runForEach((result) =>
      Effect.sync(() => {
        if (result._tag === "Succeeded") {
          succeeded++
          console.log(`  ✓ ${result.customId}: ${result.response.choices[0]?.message.content ?? ""}`)
        } else {
          console.log(`  ✗ ${result.customId}: ${result.error.code}: ${result.error.message}`)
        }
      })
    )
  )
  console.log(`summary: ${done.status.phase}, ${succeeded} of ${questions.length} succeeded`)
})

/** Moonshot when a key is configured, else the embedded emulator (time runs 4× faster there). */
const Moonshot = Layer.unwrapEffect(
  Effect.map(Config.option(Config.redacted("MOONSHOT_API_KEY")), (key): Layer.Layer<
    MoonshotBatch.MoonshotBatch,
    ConfigError.ConfigError | Emulator.InvalidOptions | HttpServerError.ServeError,
    HttpClient.HttpClient
  > =>
    Option.isSome(key)
      ? MoonshotBatch.layerConfig()
      : MoonshotBatch.layerEmulated.pipe(
        Layer.tap(() => Effect.sync(() => console.log("no MOONSHOT_API_KEY: using the embedded emulator"))),
        Layer.provide(Emulator.layer({ timeScale: 4 }))
      ))
)

program.pipe(
  Effect.provide(Moonshot.pipe(Layer.provide(NodeHttpClient.layerUndici))),
  Effect.runPromise
).catch((error) => {
  console.error(String(error))
  process.exit(1)
})
