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
import { Config, Effect } from "effect"
import { main, realOrEmulated, watchAndPrint } from "./support/run.js"

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

  const done = yield* watchAndPrint(ark, submitted.id)
  // Ark's own verbs sit beside the shared ones: the job itself, by its Ark id.
  const job = yield* ark.get(done.status.parts[0].jobId)
  const output = job.outputDir === undefined ? "" : `; output in tos://${job.outputDir.bucket}/${job.outputDir.key}`
  console.log(`summary: ${done.status.phase}, ${done.succeeded} of ${questions.length} succeeded${output}`)
})

main(program.pipe(Effect.provide(realOrEmulated("VOLC_ACCESSKEY", ArkBatch))))
