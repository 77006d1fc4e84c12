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
import { Config, Effect } from "effect"
import { main, realOrEmulated, watchAndPrint } from "./support/run.js"

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

  const done = yield* watchAndPrint(qianfan, submitted.id)
  console.log(`summary: ${done.status.phase}, ${done.succeeded} of ${questions.length} succeeded`)
})

main(program.pipe(Effect.provide(realOrEmulated("QIANFAN_ACCESS_KEY", QianfanBatch))))
