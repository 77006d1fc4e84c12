/**
 * OpenAI's Batch API end to end: submit → watch progress → read results — the OpenAI profile of
 * `@barge/openai-compatible`.
 *
 *   npx tsx examples/openai.ts                        # against an embedded emulator (no credentials needed)
 *   OPENAI_API_KEY=sk-… npx tsx examples/openai.ts    # against OpenAI (OPENAI_BASE_URL, OPENAI_MODEL optional)
 */
import { Emulator } from "@barge/emulator"
import { OpenAiBatch } from "@barge/openai-compatible"
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
  const openai = yield* OpenAiBatch.OpenAiBatch
  const model = yield* Config.string("OPENAI_MODEL").pipe(Config.withDefault("gpt-4o-mini"))
  const submitted = yield* openai.submit(
    questions.map((content, i) => ({ customId: `q-${i + 1}`, model, messages: [{ role: "user", content }] })),
    { metadata: { example: "openai" } } // OpenAI takes only the 24h window, the default
  )
  console.log(`submitted ${submitted.id} (${openai.profile.baseUrl})`)

  const done = yield* openai.watch(submitted.id, { schedule: Schedule.spaced("250 millis") }).pipe(
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
  yield* openai.results(submitted.id).pipe(
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

/** OpenAI when a key is configured, else the embedded emulator (time runs 4× faster there). */
const OpenAi = Layer.unwrapEffect(
  Effect.map(Config.option(Config.redacted("OPENAI_API_KEY")), (key): Layer.Layer<
    OpenAiBatch.OpenAiBatch,
    ConfigError.ConfigError | Emulator.InvalidOptions | HttpServerError.ServeError,
    HttpClient.HttpClient
  > =>
    Option.isSome(key)
      ? OpenAiBatch.layerConfig()
      : OpenAiBatch.layerEmulated.pipe(
        Layer.tap(() => Effect.sync(() => console.log("no OPENAI_API_KEY: using the embedded emulator"))),
        Layer.provide(Emulator.layer({ timeScale: 4 }))
      ))
)

program.pipe(
  Effect.provide(OpenAi.pipe(Layer.provide(NodeHttpClient.layerUndici))),
  Effect.runPromise
).catch((error) => {
  console.error(String(error))
  process.exit(1)
})
