/**
 * Moonshot (Kimi) batch inference end to end: submit → watch progress → read results.
 *
 *   npx tsx examples/moonshot.ts                 # against an embedded emulator (no credentials needed)
 *   MOONSHOT_API_KEY=sk-… npx tsx examples/moonshot.ts   # against the real Moonshot (MOONSHOT_BASE_URL optional)
 */
import { Emulator } from "@barge/emulator"
import { MoonshotBatch, OpenAiCompatible } from "@barge/moonshot"
import type { HttpClient, HttpServerError } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Config, type ConfigError, Effect, Layer, Option, Redacted, Schedule, Stream } from "effect"

const questions = [
  "What is the capital of France?",
  "Name three prime numbers.",
  "Translate 'good morning' into Chinese.",
  "What is 12 × 12?",
  "Summarise the plot of Hamlet in one sentence.",
  "Please [[barge:fail]] this one (the emulator fails it on purpose)."
]

const program = Effect.gen(function*() {
  const kimi = yield* MoonshotBatch.MoonshotBatch
  const model = yield* Config.string("MOONSHOT_MODEL").pipe(Config.withDefault("kimi-k2.6"))
  const input = OpenAiCompatible.fromLines(
    "questions.jsonl",
    questions.map((content, i) => ({
      custom_id: `q-${i + 1}`,
      method: "POST",
      url: "/v1/chat/completions",
      body: { model, messages: [{ role: "user", content }] }
    }))
  )

  const batch = yield* kimi.submit(input, { completionWindow: "24h", metadata: { example: "moonshot" } })
  console.log(`submitted ${batch.id} (${kimi.profile.baseUrl})`)

  yield* kimi.watch(batch.id, { schedule: Schedule.spaced("250 millis") }).pipe(
    Stream.runForEach((b) =>
      Effect.sync(() => {
        const c = b.counts
        console.log(`  ${b.status.padEnd(11)} ${c.completed + c.failed}/${c.total} done (${c.failed} failed)`)
      })
    )
  )
  const done = yield* kimi.await(batch.id, { schedule: Schedule.spaced("250 millis") })

  let succeeded = 0
  let failed = 0
  yield* kimi.results(done.id).pipe(
    Stream.runForEach((result) =>
      Effect.sync(() => {
        if (result._tag === "Succeeded") {
          succeeded++
          console.log(`  ✓ ${result.customId}: ${result.response.choices[0]?.message.content ?? ""}`)
        } else {
          failed++
          console.log(`  ✗ ${result.customId}: ${result.error.code}: ${result.error.message}`)
        }
      })
    )
  )
  console.log(`summary: ${done.status}, ${succeeded} succeeded, ${failed} failed, output ${done.output_file_id ?? "-"}`)
})

/** The real service when a key is configured, else one pointed at an embedded emulator. */
const Moonshot = Layer.unwrapEffect(
  Effect.map(Config.option(Config.redacted("MOONSHOT_API_KEY")), (key): Layer.Layer<
    MoonshotBatch.MoonshotBatch,
    ConfigError.ConfigError | Emulator.InvalidOptions | HttpServerError.ServeError,
    HttpClient.HttpClient
  > =>
    Option.isSome(key)
      ? MoonshotBatch.layerConfig()
      : Layer.unwrapEffect(
        Effect.map(Emulator.Emulator, (emulator) => {
          console.log(`no MOONSHOT_API_KEY: using the embedded emulator at ${emulator.urls.moonshot}`)
          return MoonshotBatch.layer({
            apiKey: Redacted.make(emulator.credentials.moonshot.apiKey),
            baseUrl: `${emulator.urls.moonshot}/v1`
          })
        })
      ).pipe(Layer.provide(Emulator.layer({ timeScale: 4 }))))
)

program.pipe(
  Effect.provide(Moonshot.pipe(Layer.provideMerge(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer)))),
  Effect.runPromise
).catch((error) => {
  console.error(String(error))
  process.exit(1)
})
