/**
 * Volcengine Ark batch inference end to end: validate → upload to TOS → create (or attach) → watch → results.
 *
 *   npx tsx examples/ark.ts                         # against an embedded emulator (no credentials needed)
 *   VOLC_ACCESSKEY=… VOLC_SECRETKEY=… ARK_TOS_BUCKET=… npx tsx examples/ark.ts   # against real Ark
 *
 * Optional: ARK_MODEL (default `doubao-pro-32k`, a name Barge knows the version of; or `name@version`),
 * VOLC_REGION, ARK_PROJECT_NAME.
 */
import { ArkBatch } from "@barge/ark"
import { Emulator } from "@barge/emulator"
import type { HttpClient, HttpServerError } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, type ConfigError, Effect, Layer, Option, Schedule, Stream } from "effect"

const questions = [
  "Why is the sky blue?",
  "Name three prime numbers.",
  "Translate 'good morning' into Chinese.",
  "What is 12 × 12?",
  `Please fail this one ${Emulator.failMarker} (the emulator fails it on purpose).`
]

const program = Effect.gen(function*() {
  const ark = yield* ArkBatch.ArkBatch
  const model = yield* Config.string("ARK_MODEL").pipe(Config.withDefault("doubao-pro-32k"))
  const submitted = yield* ark.submit(
    questions.map((content, i) => ({
      customId: `q-${i + 1}`,
      model,
      messages: [{ role: "user", content }],
      max_tokens: 200
    })),
    // Sent to Ark as "3d": whole days are what it takes.
    { completionWindow: "3 days", metadata: { example: "ark" } }
  )
  console.log(`${submitted.attached > 0 ? "attached to" : "created"} ${submitted.id}`)

  const done = yield* ark.watch(submitted.id, { schedule: Schedule.spaced("250 millis") }).pipe(
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
  yield* ark.results(submitted.id).pipe(
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
  // Ark's own verbs sit beside the shared ones: the job itself, by its Ark id.
  const job = yield* ark.get(done.status.parts[0].jobId)
  const output = job.outputDir === undefined ? "" : `; output in tos://${job.outputDir.bucket}/${job.outputDir.key}`
  console.log(`summary: ${done.status.phase}, ${succeeded} of ${questions.length} succeeded${output}`)
})

/** Ark when credentials are configured, else the embedded emulator (time runs 4× faster there). */
const Ark = Layer.unwrapEffect(
  Effect.map(Config.option(Config.redacted("VOLC_ACCESSKEY")), (key): Layer.Layer<
    ArkBatch.ArkBatch,
    ConfigError.ConfigError | Emulator.InvalidOptions | HttpServerError.ServeError,
    HttpClient.HttpClient
  > =>
    Option.isSome(key)
      ? ArkBatch.layerConfig()
      : ArkBatch.layerEmulated.pipe(
        Layer.tap(() => Effect.sync(() => console.log("no VOLC_ACCESSKEY: using the embedded emulator"))),
        Layer.provide(Emulator.layer({ timeScale: 4 }))
      ))
)

program.pipe(
  Effect.provide(Ark.pipe(Layer.provide(NodeHttpClient.layerUndici))),
  Effect.runPromise
).catch((error) => {
  console.error(String(error))
  process.exit(1)
})
