/**
 * One batch program, every provider: `program` below needs only `Batch.Batch`, and the provider is chosen by the
 * Layer it is given. Run directly it uses the embedded emulator (or a provider whose credentials are set):
 *
 *   npx tsx examples/unified.ts
 *
 * The test suite runs the same `program` on every provider against the emulator
 * (`packages/cli/test/BatchEmulator.test.ts`) and on their mock layers (`BatchMock.test.ts`).
 */
import { Providers } from "@barge/cli"
import { Batch, ChatRequest, Registry } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Option, Schedule, Stream } from "effect"

const questions = [
  "Why is the sky blue?",
  "Name three prime numbers.",
  "What is 12 × 12?",
  "Translate 'good morning' into Chinese.",
  `This one fails on purpose ${Emulator.failMarker}`
]

/**
 * The program: submit, wait, read every result. Nothing in it names a provider.
 */
export const program = (model: string, options: { readonly poll?: Batch.PollOptions } = {}) =>
  Effect.gen(function*() {
    const batch = yield* Batch.Batch
    const requests: Array<ChatRequest.ChatRequest> = questions.map((content, i) => ({
      customId: `q-${i + 1}`,
      model,
      messages: [{ role: "user", content }],
      max_tokens: 256
    }))
    const submitted = yield* batch.submit(requests)
    const done = yield* batch.await(submitted.id, options.poll)
    const answers = new Map<string, string>()
    const failures = new Map<string, string>()
    yield* batch.results(done.id).pipe(
      Stream.runForEach((result) =>
        Effect.sync(() => {
          if (result._tag === "Succeeded") {
            answers.set(result.customId, Option.getOrElse(ChatRequest.content(result.response), () => ""))
          } else failures.set(result.customId, result.error.code)
        })
      )
    )
    return { provider: batch.provider, id: done.id, phase: done.phase, answers, failures }
  })

const main = Effect.gen(function*() {
  const emulator = yield* Emulator.make({ timeScale: 100 })
  for (const entry of Providers.entries) {
    const live = Registry.hasCredentials(entry, process.env)
    const target: Providers.Target = live
      ? { _tag: "Provider" }
      : { _tag: "Emulator", endpoints: Emulator.endpoints(emulator) }
    const model = process.env[`${entry.name.toUpperCase().replace("-", "_")}_MODEL`] ?? entry.model
    const poll = live ? {} : { schedule: Schedule.spaced("100 millis") }
    // The same program, a different Layer:
    const outcome = yield* program(model, { poll }).pipe(Effect.provide(Providers.layer(entry, target)))
    console.log(`${outcome.provider} (${live ? "live" : "emulator"}) ${outcome.id}: ${outcome.phase}`)
    for (const [id, answer] of outcome.answers) console.log(`  ${id}  ${answer}`)
    for (const [id, code] of outcome.failures) console.log(`  ${id}  failed: ${code}`)
  }
}).pipe(Effect.scoped)

if (import.meta.url === `file://${process.argv[1]}`) {
  NodeRuntime.runMain(main.pipe(Effect.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer))))
}
