/**
 * Baidu Qianfan batch inference (the `/v2/batchinference` console API with BOS) end to end: submit → watch → results.
 *
 *   npx tsx examples/qianfan.ts              # against an embedded emulator (no credentials needed)
 *   QIANFAN_ACCESS_KEY=… QIANFAN_SECRET_KEY=… QIANFAN_BOS_BUCKET=… npx tsx examples/qianfan.ts   # against Qianfan
 *
 * Optional: QIANFAN_MODEL (default `ernie-4.5-turbo-32k`), QIANFAN_ENDPOINT, QIANFAN_BOS_ENDPOINT.
 */
import { Emulator } from "@barge/emulator"
import { QianfanBatch } from "@barge/qianfan"
import type { HttpClient, HttpServerError } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, type ConfigError, Effect, Layer, Option, Schedule, Stream } from "effect"

const questions = [
  "地球的自转周期是多久？",
  "太阳系中最大的行星是哪颗？",
  "What is 12 × 12?",
  "Name three prime numbers.",
  `Please fail this one ${Emulator.failMarker} (the emulator fails it on purpose).`
]

const program = Effect.gen(function*() {
  const qianfan = yield* QianfanBatch.QianfanBatch
  const model = yield* Config.string("QIANFAN_MODEL").pipe(Config.withDefault("ernie-4.5-turbo-32k"))
  // Qianfan takes parameters per task: requests with different ones go to different tasks, none is dropped.
  const submitted = yield* qianfan.submit(
    questions.map((content, i) => ({
      customId: `q-${i + 1}`,
      model,
      messages: [{ role: "user", content }],
      ...(i < 2 ? { temperature: 0.2 } : {})
    })),
    { completionWindow: "24h" }
  )
  console.log(`submitted ${submitted.id} as ${submitted.status.parts.length} task(s)`)

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

/** Qianfan when credentials are configured, else the embedded emulator (time runs 4× faster there). */
const Qianfan = Layer.unwrapEffect(
  Effect.map(Config.option(Config.redacted("QIANFAN_ACCESS_KEY")), (key): Layer.Layer<
    QianfanBatch.QianfanBatch,
    ConfigError.ConfigError | Emulator.InvalidOptions | HttpServerError.ServeError,
    HttpClient.HttpClient
  > =>
    Option.isSome(key)
      ? QianfanBatch.layerConfig()
      : QianfanBatch.layerEmulated.pipe(
        Layer.tap(() => Effect.sync(() => console.log("no QIANFAN_ACCESS_KEY: using the embedded emulator"))),
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
