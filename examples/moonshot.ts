/**
 * Moonshot (Kimi) batch inference end to end: submit → watch progress → read results.
 *
 *   npx tsx examples/moonshot.ts                          # against an embedded emulator (no credentials needed)
 *   MOONSHOT_API_KEY=sk-… npx tsx examples/moonshot.ts    # against Moonshot (MOONSHOT_BASE_URL, MOONSHOT_MODEL
 *                                                         # optional)
 */
import { Emulator } from "@barge/emulator"
import { MoonshotBatch } from "@barge/moonshot"
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
  const kimi = yield* MoonshotBatch.MoonshotBatch
  const model = yield* Config.string("MOONSHOT_MODEL").pipe(Config.withDefault("kimi-k2.6"))
  const submitted = yield* kimi.submit(
    // No temperature or top_p: Kimi fixes them for batches (Barge refuses them, or drops them with
    // `fixedParameters: "drop"` and reports what it dropped).
    questions.map((content, i) => ({ customId: `q-${i + 1}`, model, messages: [{ role: "user", content }] })),
    { completionWindow: "1d", metadata: { example: "moonshot" } }
  )
  console.log(`submitted ${submitted.id} (${kimi.profile.baseUrl})`)

  const done = yield* watchAndPrint(kimi, submitted.id)
  console.log(`summary: ${done.status.phase}, ${done.succeeded} of ${questions.length} succeeded`)
})

main(program.pipe(Effect.provide(realOrEmulated("MOONSHOT_API_KEY", MoonshotBatch))))
