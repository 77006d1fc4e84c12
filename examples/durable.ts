/**
 * Durable batches in the embedded deployment: one process, SQLite in a file. Each provider's batch is an
 * `@effect/workflow` execution whose every step is stored, so the process can die at any point and the next run
 * on the same database continues where it stopped — with one provider job per batch and every result exactly once
 * in its sink.
 *
 *   npx tsx examples/durable.ts [DATABASE]      # default: a fresh file in a temporary directory
 *
 * With no `BARGE_EMULATOR_URLS` it starts the emulator in this process (nothing leaves the machine). To watch a
 * restart resume, run the emulator on its own (`pnpm --filter @barge/emulator start -- --time-scale 2`), set
 * `BARGE_EMULATOR_URLS` to the line it prints, start this with a database path, press Ctrl-C mid-way, and start it
 * again with the same path: it joins the same executions and finishes them.
 *
 * The test suite runs `program` (`packages/workflow/test/Example.test.ts`).
 */
import { Providers } from "@barge/cli"
import { type ChatRequest, Registry } from "@barge/core"
import { Emulator } from "@barge/emulator"
import type { Executions } from "@barge/workflow"
import { BargeCluster, BatchProviders, BatchWorkflow, Sink } from "@barge/workflow"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Option, Stream } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/** The batch each provider runs: 25 questions to the model its registry entry documents, the last failing on purpose. */
export const requestsFor = (provider: string): ReadonlyArray<ChatRequest.ChatRequest> =>
  Array.from({ length: 25 }, (_, i) => ({
    customId: `${provider}-${i + 1}`,
    model: Providers.entryOf(provider)!.model,
    messages: [{
      role: "user",
      content: `Question ${i + 1}: name a river.${i === 24 ? ` ${Emulator.failMarker}` : ""}`
    }]
  }))

const describe = (execution: Executions.Execution) => {
  const counts = execution.status?.counts
  const progress = counts === undefined ? "" : ` ${counts.completed + counts.failed}/${counts.total}`
  return `${execution.provider} ${execution.executionId.slice(0, 8)} ${execution.stage}${progress}` +
    (execution.stage === "collecting" || execution.stage === "done" ? `, ${execution.results} in the sink` : "")
}

/**
 * Starts (or joins) one durable batch per provider, follows each from the executions view until it ends, then
 * submits the same input again to show it joins instead of creating a second job.
 */
export const program = (options: {
  readonly providers: ReadonlyArray<string>
  readonly sinkDir: string
  readonly log?: (line: string) => void
}) =>
  Effect.forEach(options.providers, (provider) =>
    Effect.gen(function*() {
      const log = options.log ?? console.log
      const sink = Sink.file(Path.join(options.sinkDir, `${provider}.jsonl`))
      const started = yield* BatchWorkflow.start(requestsFor(provider), { provider, sink })
      log(`${provider}: ${started.joined ? "joined" : "started"} durable batch ${started.executionId}`)
      yield* BatchWorkflow.watch(started.executionId, { every: "100 millis" }).pipe(
        Stream.map(describe),
        Stream.changes,
        Stream.runForEach((line) => Effect.sync(() => log(`  ${line}`)))
      )
      const outcome = yield* BatchWorkflow.await(started.executionId)
      const again = yield* BatchWorkflow.start(requestsFor(provider), { provider, sink })
      log(
        `${provider}: ${outcome.phase}, ${outcome.results} results (${outcome.succeeded} succeeded) in ${sink.path}; ` +
          `submitting it again ${again.joined ? "joins the same execution" : "STARTED ANOTHER"}`
      )
      return { provider, outcome, joinedAgain: again.joined }
    }), { concurrency: "unbounded" })

/**
 * The embedded worker: the durable batch workflow on SQLite in `file`, serving every provider of the registry at
 * the emulator's `endpoints`.
 */
export const worker = (file: string, endpoints: Registry.Endpoints) =>
  BatchWorkflow.layer.pipe(
    Layer.provide(BatchProviders.layerEmulated(Providers.entries)),
    Layer.provide(Layer.succeed(Registry.Emulated, endpoints)),
    Layer.provideMerge(BargeCluster.layerEmbedded({ file })),
    // The emulator finishes in seconds: poll from 200 ms instead of the 5 s floor real providers get.
    Layer.provide(
      BatchWorkflow.layerSettings({ poll: { floor: "200 millis", cap: "2 seconds", initial: "200 millis" } })
    )
  )

const main = Effect.gen(function*() {
  const file = Path.resolve(
    process.argv[2] ?? Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-durable-example-")), "barge.db")
  )
  // Results beside the database: a restart on the same database names the same sinks (a different sink for the
  // same input would be refused, not silently used).
  const dir = Path.dirname(file)
  const given = Option.fromNullable(process.env.BARGE_EMULATOR_URLS)
  const urls = Option.isSome(given)
    ? JSON.parse(given.value) as Emulator.Urls
    : (yield* Emulator.make({ timeScale: 5 })).urls
  console.log(`database ${file}; results under ${dir}`)
  const endpoints = Emulator.endpoints({ urls, credentials: Emulator.defaultCredentials })
  yield* program({ providers: Providers.names, sinkDir: dir }).pipe(Effect.provide(worker(file, endpoints)))
}).pipe(Effect.scoped)

if (import.meta.url === `file://${process.argv[1]}`) {
  NodeRuntime.runMain(main.pipe(Effect.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer))))
}
