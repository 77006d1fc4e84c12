/**
 * A process that runs one durable batch in the embedded deployment and waits for its outcome: the restart tests
 * start it, SIGKILL it at some point, and start it again with the same arguments until it finishes. Starting again
 * joins the same execution (same input, same key), which resumes from its last stored step.
 *
 * ```sh
 * node --import tsx test/support/worker.ts '{"urls":…,"db":…,"sink":…,"provider":…,"count":12,"tag":"t"}'
 * ```
 *
 * Prints `started <executionId> <created|joined>`, then `outcome <JSON>`; exits 0 once the execution ended.
 */
import type * as Emulator from "@barge/emulator/Emulator"
import { BargeCluster, BatchWorkflow, Sink } from "@barge/workflow"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Schedule, Schema } from "effect"
import * as Processes from "./processes.js"
import * as Providers from "./providers.js"
import * as Requests from "./requests.js"

export interface Args {
  readonly urls: Emulator.Urls
  readonly db: string
  readonly sink: string
  readonly provider: Providers.Provider
  readonly count: number
  readonly tag: string
  readonly chunkSize?: number
}

const say = (line: string) => Effect.sync(() => process.stdout.write(`${line}\n`))

const main = (args: Args) =>
  Effect.gen(function*() {
    const requests = Requests.make(args.count, args.tag, Providers.models[args.provider])
    const started = yield* BatchWorkflow.start(requests, { provider: args.provider, sink: Sink.file(args.sink) })
    yield* say(`started ${started.executionId} ${started.joined ? "joined" : "created"}`)
    const outcome = yield* BatchWorkflow.await(started.executionId, { every: "25 millis" })
    yield* say(`outcome ${JSON.stringify(Schema.encodeSync(BatchWorkflow.Outcome)(outcome))}`)
  }).pipe(
    Effect.provide(
      BatchWorkflow.layer.pipe(
        Layer.provide(Providers.layer(args.urls)),
        Layer.provideMerge(
          BargeCluster.layerEmbedded({ file: args.db, shardingConfig: { entityMessagePollInterval: "100 millis" } })
        ),
        Layer.provide(BatchWorkflow.layerSettings({
          poll: { floor: "50 millis", cap: "500 millis", initial: "50 millis", max: "300 millis" },
          chunkSize: args.chunkSize ?? 2,
          retry: Schedule.exponential("50 millis").pipe(Schedule.intersect(Schedule.recurs(5)))
        })),
        Layer.provideMerge(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici))
      )
    )
  )

if (Processes.isMain(import.meta.url)) Processes.runScript(main(JSON.parse(process.argv[2]!) as Args))
