/**
 * A runner of the PostgreSQL deployment, as its own process: it serves every provider against the emulator and
 * runs until killed. Prints `ready` once it is part of the cluster, then `entities <n>` (workflows it holds in
 * memory) whenever that number changes.
 *
 * ```sh
 * node --import tsx test/support/runner.ts '{"pg":"postgres://…","port":34431,"urls":{…}}'
 * ```
 */
import type * as Emulator from "@barge/emulator/Emulator"
import { BargeCluster, BatchWorkflow } from "@barge/workflow"
import * as Sharding from "@effect/cluster/Sharding"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Layer, Redacted, Schedule } from "effect"
import * as Processes from "./processes.js"
import * as Providers from "./providers.js"

export interface Args {
  readonly pg: string
  readonly port: number
  readonly urls: Emulator.Urls
  /** `test` (default): dead runners noticed within about two seconds; `library`: `BargeCluster.layerPg`'s defaults. */
  readonly cluster?: "test" | "library"
}

/** Cluster settings for tests: a dead runner is noticed within about two seconds. */
export const shardingConfig = {
  runnerHealthCheckInterval: Duration.seconds(1),
  shardLockRefreshInterval: Duration.seconds(1),
  entityMessagePollInterval: Duration.millis(100)
}

export const settings = BatchWorkflow.layerSettings({
  poll: { floor: "100 millis", cap: "1 second", initial: "100 millis", max: "500 millis" },
  chunkSize: 3,
  retry: Schedule.exponential("50 millis").pipe(Schedule.intersect(Schedule.recurs(5)))
})

const say = (line: string) => Effect.sync(() => process.stdout.write(`${line}\n`))

const main = (args: Args) =>
  Effect.gen(function*() {
    const sharding = yield* Sharding.Sharding
    yield* say("ready")
    let last = -1
    yield* sharding.activeEntityCount.pipe(
      Effect.flatMap((n) =>
        n === last ? Effect.void : Effect.zipRight(Effect.sync(() => (last = n)), say(`entities ${n}`))
      ),
      Effect.repeat(Schedule.spaced("100 millis"))
    )
  }).pipe(
    Effect.provide(
      BatchWorkflow.layer.pipe(
        Layer.provide(Providers.layer(args.urls)),
        Layer.provideMerge(BargeCluster.layerPg({
          url: Redacted.make(args.pg),
          runner: { host: "127.0.0.1", port: args.port },
          ...(args.cluster === "library" ? {} : { shardingConfig })
        })),
        Layer.provide(settings),
        Layer.provideMerge(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici))
      )
    )
  )

if (Processes.isMain(import.meta.url)) NodeRuntime.runMain(main(JSON.parse(process.argv[2]!) as Args))
