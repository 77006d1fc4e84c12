/**
 * One submitting process of the PostgreSQL deployment (a client, not a runner): starts — or joins — the durable
 * batch of a seeded input and prints `started <executionId> <created|joined>`.
 *
 * ```sh
 * node --import tsx test/support/submit.ts '{"pg":"postgres://…","provider":"ark","count":6,"tag":"t","sink":"/tmp/x.jsonl"}'
 * ```
 */
import { BargeCluster, BatchWorkflow, Sink } from "@barge/workflow"
import { Effect, Redacted } from "effect"
import * as Processes from "./processes.js"
import * as Providers from "./providers.js"
import * as Requests from "./requests.js"
import { shardingConfig } from "./runner.js"

export interface Args {
  readonly pg: string
  readonly provider: Providers.Provider
  readonly count: number
  readonly tag: string
  readonly sink: string
}

const main = (args: Args) =>
  BatchWorkflow.start(Requests.make(args.count, args.tag, Providers.models[args.provider]), {
    provider: args.provider,
    sink: Sink.file(args.sink)
  }).pipe(
    Effect.tap((started) =>
      Effect.sync(() =>
        process.stdout.write(`started ${started.executionId} ${started.joined ? "joined" : "created"}\n`)
      )
    ),
    Effect.provide(BargeCluster.layerPg({ url: Redacted.make(args.pg), shardingConfig }))
  )

if (Processes.isMain(import.meta.url)) Processes.runScript(main(JSON.parse(process.argv[2]!) as Args))
