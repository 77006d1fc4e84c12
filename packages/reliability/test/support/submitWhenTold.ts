/**
 * A separate process for the concurrency tests: builds the unified Batch service for one provider against an
 * emulator, prints `ready`, waits for a line on stdin — so every process submits at the same instant however long
 * each took to start — then submits the file and prints `{ id, attached }` as one JSON line.
 *
 * Arguments: provider name, the emulator's URLs (JSON), the input file.
 */
import { Providers } from "@barge/cli"
import { Batch } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import * as readline from "node:readline"

const [provider, urls, file] = process.argv.slice(2) as [string, string, string]
const entry = Providers.entryOf(provider)!
const layer = Providers.layer(entry, {
  _tag: "Emulator",
  endpoints: Emulator.endpoints({ urls: JSON.parse(urls), credentials: Emulator.defaultCredentials })
})

const go = new Promise<void>((resolve) =>
  readline.createInterface({ input: process.stdin }).once("line", () => resolve())
)

const program = Effect.gen(function*() {
  const batch = yield* Batch.Batch
  process.stdout.write("ready\n")
  yield* Effect.promise(() => go)
  const submitted = yield* batch.submit(Batch.jsonlFile(file))
  process.stdout.write(`${JSON.stringify({ id: submitted.id, attached: submitted.attached })}\n`)
})

Effect.runPromise(
  program.pipe(Effect.provide(Layer.provideMerge(layer, Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))))
).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
