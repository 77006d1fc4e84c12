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
import { Config, Effect } from "effect"
import { main, realOrEmulated, watchAndPrint } from "./support/run.js"

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

  const done = yield* watchAndPrint(qianfan, submitted.id)
  console.log(`summary: ${done.status.phase}, ${done.succeeded} of ${questions.length} succeeded`)
})

main(program.pipe(Effect.provide(realOrEmulated("QIANFAN_API_KEY", QianfanV2Batch))))
