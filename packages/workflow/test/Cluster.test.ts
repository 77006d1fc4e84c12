/**
 * The embedded deployment's runner identity: each process is its own runner, and one started after a crash
 * releases the shard leases of this machine's dead embedded runners at once (instead of waiting for them to expire),
 * while leaving those of a live process alone.
 */
import { BargeCluster } from "@barge/workflow"
import * as Runner from "@effect/cluster/Runner"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as ShardId from "@effect/cluster/ShardId"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import * as LibsqlClient from "@effect/sql-libsql/LibsqlClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/** The pid of a process that has exited. */
const deadPid = (): number => spawnSync("node", ["-e", ""]).pid!

const host = `embedded-${Os.hostname()}`

describe("embedded runners", () => {
  it.scopedLive("a new runner releases the leases of a dead local runner, not those of a live one", () =>
    Effect.gen(function*() {
      const file = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-cluster-")), "barge.db")
      const sqlite = LibsqlClient.layer({ url: `file:${file}`, intMode: "bigint" })
      const dead = RunnerAddress.make(host, deadPid())
      const live = RunnerAddress.make(host, process.ppid)
      const shards = (from: number) => [ShardId.make("default", from), ShardId.make("default", from + 1)] as const
      // A previous life of the database: two runners registered, each holding two shards.
      yield* Effect.gen(function*() {
        const storage = yield* RunnerStorage.RunnerStorage
        for (const [address, from] of [[dead, 1], [live, 3]] as const) {
          yield* storage.register(new Runner.Runner({ address, groups: ["default"], weight: 1 }), true)
          assert.strictEqual((yield* storage.acquire(address, shards(from))).length, 2)
        }
      }).pipe(
        Effect.provide(SqlRunnerStorage.layer.pipe(Layer.provide(ShardingConfig.layer()), Layer.provide(sqlite))),
        Effect.scoped
      )

      const holders = yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{ address: string }>`SELECT DISTINCT address FROM cluster_locks`
        return rows.map((row) => row.address)
      }).pipe(Effect.provide(BargeCluster.layerEmbedded({ file })))

      assert.notInclude(holders, `${dead.host}:${dead.port}`)
      assert.include(holders, `${live.host}:${live.port}`)
    }))
})
