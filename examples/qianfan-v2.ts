/**
 * Qianfan's OpenAI-style batch API (`/v2/files`, `/v2/batches`) end to end: submit → watch progress → read results
 * — the `/v2` profile of `@barge/openai-compatible`, as `QianfanV2Batch` in `@barge/qianfan`.
 *
 *   npx tsx examples/qianfan-v2.ts                                  # against an embedded emulator (no credentials)
 *   QIANFAN_API_KEY=bce-v3/ALTAK-… npx tsx examples/qianfan-v2.ts   # against Qianfan (QIANFAN_BASE_URL,
 *                                                                   # QIANFAN_MODEL optional)
 */
import { Emulator } from "@barge/emulator"
import { QianfanV2Batch } from "@barge/qianfan"
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
  const qianfan = yield* QianfanV2Batch.QianfanV2Batch
  const model = yield* Config.string("QIANFAN_MODEL").pipe(Config.withDefault("ernie-4.5-turbo-128k"))
  const submitted = yield* qianfan.submit(
    questions.map((content, i) => ({
      customId: `q-${i + 1}`,
      model,
      messages: [{ role: "user", content }],
      temperature: 0.3 // Qianfan takes parameters per request
    })),
    { completionWindow: "3 days", metadata: { example: "qianfan-v2" } } // sent as "72h" (1h–672h)
  )
  console.log(`submitted ${submitted.id} (${qianfan.profile.baseUrl})`)

  const done = yield* qianfan.watch(submitted.id, { schedule: Schedule.spaced("250 millis") }).pipe(
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
  yield* qianfan.results(submitted.id).pipe(
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

/** Qianfan when a key is configured, else the embedded emulator (time runs 4× faster there). */
const Qianfan = Layer.unwrapEffect(
  Effect.map(Config.option(Config.redacted("QIANFAN_API_KEY")), (key): Layer.Layer<
    QianfanV2Batch.QianfanV2Batch,
    ConfigError.ConfigError | Emulator.InvalidOptions | HttpServerError.ServeError,
    HttpClient.HttpClient
  > =>
    Option.isSome(key)
      ? QianfanV2Batch.layerConfig()
      : QianfanV2Batch.layerEmulated.pipe(
        Layer.tap(() => Effect.sync(() => console.log("no QIANFAN_API_KEY: using the embedded emulator"))),
        Layer.provide(Emulator.layer({ timeScale: 4 }))
      ))
)

program.pipe(
  Effect.provide(Qianfan.pipe(Layer.provide(NodeHttpClient.layerUndici))),
  Effect.runPromise
).catch((error) => {
  console.error(String(error))
  process.exit(1)
})
