/**
 * `examples/durable.ts` runs as written: every provider's durable batch ends completed with all its results in its
 * sink, and submitting it again joins the finished execution.
 */
import * as Emulator from "@barge/emulator/Emulator"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { program, requestsFor, worker } from "../../../examples/durable.js"
import * as Providers from "./support/providers.js"
import * as Requests from "./support/requests.js"

describe("examples/durable.ts", () => {
  it.scopedLive(
    "runs every provider's batch durably to the end, and a second submit joins it",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ timeScale: 20 })
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-durable-example-test-"))
        const lines: Array<string> = []
        const runs = yield* program({
          providers: Providers.providers,
          sinkDir: dir,
          log: (l) => lines.push(l)
        })
          .pipe(
            Effect.provide(worker(Path.join(dir, "barge.db"), Emulator.endpoints(emulator)))
          )
        for (const run of runs) {
          assert.strictEqual(run.outcome.phase, "completed", lines.join("\n"))
          assert.isTrue(run.joinedAgain)
          const sink = Path.join(dir, `${run.provider}.jsonl`)
          assert.deepStrictEqual(Requests.problems(requestsFor(run.provider), Requests.readSink(sink)), [])
        }
      }).pipe(Effect.provide(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici))),
    { timeout: 60_000 }
  )
})
