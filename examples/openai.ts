/**
 * OpenAI's Batch API end to end: submit → watch progress → read results — the OpenAI profile of
 * `@barge/openai-compatible`.
 *
 *   npx tsx examples/openai.ts                        # against an embedded emulator (no credentials needed)
 *   OPENAI_API_KEY=sk-… npx tsx examples/openai.ts    # against OpenAI (OPENAI_BASE_URL, OPENAI_MODEL optional)
 */
import { Emulator } from "@barge/emulator"
import { OpenAiBatch } from "@barge/openai-compatible"
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
  const openai = yield* OpenAiBatch.OpenAiBatch
  const model = yield* Config.string("OPENAI_MODEL").pipe(Config.withDefault("gpt-4o-mini"))
  const submitted = yield* openai.submit(
    questions.map((content, i) => ({ customId: `q-${i + 1}`, model, messages: [{ role: "user", content }] })),
    { metadata: { example: "openai" } } // OpenAI takes only the 24h window, the default
  )
  console.log(`submitted ${submitted.id} (${openai.profile.baseUrl})`)

  const done = yield* watchAndPrint(openai, submitted.id)
  console.log(`summary: ${done.status.phase}, ${done.succeeded} of ${questions.length} succeeded`)
})

main(program.pipe(Effect.provide(realOrEmulated("OPENAI_API_KEY", OpenAiBatch))))
