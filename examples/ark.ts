/**
 * Volcengine Ark batch inference end to end: validate → upload to TOS → create (or attach) → watch → results.
 *
 *   npx tsx examples/ark.ts                         # against an embedded emulator (no credentials needed)
 *   VOLC_ACCESSKEY=… VOLC_SECRETKEY=… ARK_TOS_BUCKET=… npx tsx examples/ark.ts   # against real Ark
 *
 * Optional: ARK_MODEL / ARK_MODEL_VERSION (default doubao-pro-32k 240615), VOLC_REGION, ARK_PROJECT_NAME.
 */
import { ArkBatch, Job } from "@barge/ark"
import { Emulator } from "@barge/emulator"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, Effect, Layer, Option, Redacted, Schedule, Stream } from "effect"

const questions = [
  "Why is the sky blue?",
  "Name three prime numbers.",
  "Translate 'good morning' into Chinese.",
  "What is 12 × 12?",
  "Summarise the plot of Hamlet in one sentence.",
  `Please fail this one ${Emulator.failMarker} (the emulator fails it on purpose).`
]

const program = (emulated: boolean) =>
  Effect.gen(function*() {
    const ark = yield* ArkBatch.ArkBatch
    const name = yield* Config.string("ARK_MODEL").pipe(Config.withDefault("doubao-pro-32k"))
    const version = yield* Config.string("ARK_MODEL_VERSION").pipe(Config.withDefault("240615"))
    const requests = questions
      .filter((q) => emulated || !q.includes(Emulator.failMarker))
      .map((content, i) => ({
        customId: `q-${i + 1}`,
        body: { messages: [{ role: "user", content }], max_tokens: 200 }
      }))

    const submission = yield* ark.submit(requests, {
      name: "barge-example",
      model: Job.foundationModel(name, version),
      completionWindow: "1d",
      tags: { example: "ark" }
    })
    console.log(
      `${submission.attached ? "attached to" : "created"} ${submission.job.id}: ${submission.requests} requests ` +
        `at tos://${submission.input.bucket}/${submission.input.key}`
    )

    // The emulator finishes in seconds, so poll briskly; real Ark gets the default back-off (2 s growing to 60 s, jittered).
    const poll = emulated ? { schedule: Schedule.spaced("200 millis") } : {}
    const seen = yield* ark.watch(submission.job.id, poll).pipe(
      Stream.tap((job) =>
        Effect.sync(() => {
          const { completed, failed, total } = job.counts
          console.log(`  ${job.phase.padEnd(11)} ${completed + failed}/${total} done (${failed} failed)`)
        })
      ),
      Stream.runLast,
      Effect.map(Option.getOrThrow)
    )
    if (seen.phase !== "Completed") console.log(`  the job ended ${seen.phase}: ${seen.message}`)

    let succeeded = 0
    let failed = 0
    yield* ark.results(seen.id).pipe(
      Stream.runForEach((result) =>
        Effect.sync(() => {
          if (result._tag === "Response") {
            succeeded++
            const body = result.response as { choices?: Array<{ message?: { content?: string } }> }
            console.log(`  ✓ ${result.customId}: ${body.choices?.[0]?.message?.content ?? ""}`)
          } else {
            failed++
            console.log(`  ✗ ${result.customId}: ${result.error.code}: ${result.error.message}`)
          }
        })
      )
    )
    console.log(
      `\nsummary: job ${seen.id} ${seen.phase}; ${succeeded} succeeded, ${failed} failed of ${seen.counts.total}`
    )
  })

const main = Effect.gen(function*() {
  const live = yield* Config.option(Config.redacted("VOLC_ACCESSKEY"))
  if (Option.isSome(live)) {
    console.log("VOLC_ACCESSKEY is set: running against real Ark")
    return yield* program(false).pipe(Effect.provide(ArkBatch.layerConfig()))
  }
  console.log("no VOLC_ACCESSKEY: running against the embedded Barge emulator")
  const arkLayer = Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
    ArkBatch.layer({
      accessKeyId: Redacted.make(emulator.credentials.volcengine.accessKeyId),
      secretAccessKey: Redacted.make(emulator.credentials.volcengine.secretAccessKey),
      endpoint: emulator.urls.ark,
      tosEndpoint: emulator.urls.tos,
      bucket: "barge-example"
    })))
  return yield* program(true).pipe(
    Effect.provide(
      arkLayer.pipe(
        Layer.provide(
          Emulator.layer({
            processing: { queuedFor: "1 second", perRequest: "300 millis", finalizingFor: "500 millis" }
          })
        )
      )
    )
  )
})

main.pipe(Effect.provide(NodeHttpClient.layerUndici), Effect.runPromise).catch((error) => {
  console.error(String(error))
  process.exitCode = 1
})
