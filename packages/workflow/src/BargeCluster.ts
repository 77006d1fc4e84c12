/**
 * The two deployments of durable batches, with one API: the same `BatchWorkflow` program runs on either.
 *
 * - {@link layerEmbedded}: one process, SQLite in a file (through `@effect/sql-libsql`). The default: nothing to
 *   run besides your program. Other processes on the same machine may use the same file as clients (submit,
 *   status, cancel) with `runner: false`.
 * - {@link layerPg}: many processes on many machines sharing PostgreSQL (through `@effect/sql-pg`). Runners talk
 *   over sockets (or HTTP); each owns a share of the shards, and when one dies its shards (and the executions on
 *   them) move to the others. A process without `runner` is a client.
 *
 * Both provide the `WorkflowEngine` (`ClusterWorkflowEngine` on `@effect/cluster` with `SqlMessageStorage` and
 * `SqlRunnerStorage`), the `Executions` view and the `SqlClient`.
 *
 * @example
 * ```ts
 * import { BargeCluster } from "@barge/workflow"
 * import { Redacted } from "effect"
 *
 * const embedded = BargeCluster.layerEmbedded({ file: "/var/lib/barge/barge.db" })
 *
 * const runner = BargeCluster.layerPg({
 *   url: Redacted.make("postgres://barge@db.internal/barge"),
 *   runner: { host: "10.0.0.12", port: 34431 }
 * })
 * const client = BargeCluster.layerPg({ url: Redacted.make("postgres://barge@db.internal/barge") })
 * ```
 *
 * @since 0.1.0
 */
import type { PersistenceError } from "@effect/cluster/ClusterError"
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import type * as MessageStorage from "@effect/cluster/MessageStorage"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import * as RunnerHealth from "@effect/cluster/RunnerHealth"
import * as Runners from "@effect/cluster/Runners"
import * as RunnerStorage from "@effect/cluster/RunnerStorage"
import * as Sharding from "@effect/cluster/Sharding"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SqlMessageStorage from "@effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import * as NodeClusterHttp from "@effect/platform-node/NodeClusterHttp"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as SocketServer from "@effect/platform/SocketServer"
import * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import type * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Os from "node:os"
import * as Executions from "./Executions.js"
import * as Sqlite from "./internal/sqlite.js"

/**
 * What every deployment layer provides.
 *
 * @since 0.1.0
 * @category models
 */
export type Services =
  | WorkflowEngine.WorkflowEngine
  | Executions.Executions
  | SqlClient.SqlClient
  | Sharding.Sharding

/**
 * Why a deployment layer could not start: bad cluster configuration, the database refused, or the runner could
 * not listen on its address.
 *
 * @since 0.1.0
 * @category errors
 */
export type StartError =
  | ConfigError.ConfigError
  | SqlError.SqlError
  | SocketServer.SocketServerError
  | HttpServerError.ServeError

type ClusterServices = Sharding.Sharding | Runners.Runners | MessageStorage.MessageStorage

/**
 * @since 0.1.0
 * @category models
 */
export interface EmbeddedOptions {
  /** The SQLite database file (created if missing). */
  readonly file: string
  /**
   * Whether this process runs executions (default `true`). A process with `false` only submits, reads and
   * cancels; the runner working on the same file picks its messages up from the database.
   */
  readonly runner?: boolean | undefined
  /**
   * Overrides of `@effect/cluster`'s settings. Defaults here: messages read from the database every 500 ms (what a
   * durable wait can overshoot by), shard leases of 10 s (how long a runner on another machine waits for the leases
   * of one that was killed; a restart on the same machine takes them over at once), 32 shards (every process on a
   * database must use the same number, and it must never change for a database with executions in it).
   */
  readonly shardingConfig?: Partial<ShardingConfig.ShardingConfig["Type"]> | undefined
}

/**
 * The engine over a cluster, beside the executions view; both over the deployment's `SqlClient`. (The view is not
 * given to the cluster: the services workflows see are the worker's, not ones the cluster captured.)
 */
const withEngine = <E>(
  cluster: Layer.Layer<ClusterServices, E, SqlClient.SqlClient>
): Layer.Layer<
  WorkflowEngine.WorkflowEngine | Executions.Executions | ClusterServices,
  E | SqlError.SqlError,
  SqlClient.SqlClient
> => Layer.merge(ClusterWorkflowEngine.layer.pipe(Layer.provideMerge(cluster)), Executions.layer)

/**
 * The cluster defaults both deployments change: storage is read often enough that a durable wait is not late by
 * much, and runners come and go within seconds.
 */
const sharedDefaults: Partial<ShardingConfig.ShardingConfig["Type"]> = {
  entityMessagePollInterval: Duration.millis(500),
  entityReplyPollInterval: Duration.millis(100),
  refreshAssignmentsInterval: Duration.seconds(1),
  sendRetryInterval: Duration.millis(50)
}

const embeddedHost = `embedded-${Os.hostname()}`

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * The runner storage, after releasing the shard leases of embedded runners of this machine whose process is gone
 * (killed, crashed): a restarted process takes over at once instead of waiting for their leases to expire. A
 * lease of a live process, or of another machine, is left alone.
 */
const runnerStorageReapingDead = Layer.effectDiscard(
  Effect.gen(function*() {
    const storage = yield* RunnerStorage.RunnerStorage
    const runners = yield* storage.getRunners
    yield* Effect.forEach(
      runners,
      ([runner]) =>
        runner.address.host === embeddedHost && runner.address.port !== process.pid && !isAlive(runner.address.port)
          ? Effect.zipRight(storage.releaseAll(runner.address), storage.unregister(runner.address))
          : Effect.void,
      { discard: true }
    )
  }).pipe(
    Effect.catchAllCause((cause) =>
      Effect.logWarning("could not release the shards of a dead embedded runner; waiting for its leases", cause)
    )
  )
).pipe(Layer.provideMerge(SqlRunnerStorage.layer))

/**
 * One process with SQLite in `file`: the default deployment. Each embedded process is its own runner (its address
 * names the machine and the process id), so two runners on one file share the shards instead of both running
 * everything; a runner restarted after a crash takes over the dead process's shards at once.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEmbedded = (
  options: EmbeddedOptions
): Layer.Layer<Services, StartError> => {
  const runner = options.runner ?? true
  const config = ShardingConfig.layerFromEnv({
    ...sharedDefaults,
    shardLockExpiration: Duration.seconds(10),
    // One process rarely needs the cluster's 300 shards, and each is a lease row refreshed every few seconds.
    // Every process on a database must agree on this number, and it must never change for that database.
    shardsPerGroup: 32,
    runnerAddress: runner ? Option.some(RunnerAddress.make(embeddedHost, process.pid)) : Option.none(),
    ...options.shardingConfig
  })
  // `SingleRunner.layer`, with the reaping runner storage.
  const cluster = Sharding.layer.pipe(
    Layer.provideMerge(Runners.layerNoop),
    Layer.provideMerge(SqlMessageStorage.layer),
    Layer.provide([runner ? runnerStorageReapingDead : SqlRunnerStorage.layer, RunnerHealth.layerNoop]),
    Layer.provide(config)
  )
  return withEngine(cluster).pipe(Layer.provideMerge(Sqlite.layer(options.file)))
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PgOptions {
  /** A connection URL (`postgres://user@host:port/db`), or the parts below. */
  readonly url?: Redacted.Redacted | undefined
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly database?: string | undefined
  readonly username?: string | undefined
  readonly password?: Redacted.Redacted | undefined
  readonly maxConnections?: number | undefined
  /**
   * This process as a runner: the address other runners and clients reach it at (and, when different, where it
   * listens). Omitted: the process is a client (submits, reads, cancels; runs nothing).
   */
  readonly runner?: {
    readonly host: string
    readonly port: number
    readonly listenHost?: string | undefined
    readonly listenPort?: number | undefined
  } | undefined
  /** How runners talk: `socket` (default, TCP with msgpack), `http` or `websocket`. */
  readonly transport?: "socket" | "http" | "websocket" | undefined
  /**
   * Overrides of `@effect/cluster`'s settings. Defaults here: runners health-checked every 5 s (a dead runner's
   * shards move within seconds of the check), heartbeats that lapse after 10 s (the bound when the check itself
   * ran on the runner that died), messages read from the database every 500 ms.
   */
  readonly shardingConfig?: Partial<ShardingConfig.ShardingConfig["Type"]> | undefined
}

/**
 * Runners and clients sharing PostgreSQL.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPg = (options: PgOptions): Layer.Layer<Services, StartError> => {
  const shardingConfig: Partial<ShardingConfig.ShardingConfig["Type"]> = {
    ...sharedDefaults,
    runnerHealthCheckInterval: Duration.seconds(5),
    // A runner's heartbeat lapses after this: how long its shards can wait when the health check itself ran on the
    // runner that died (the check is a cluster singleton and has to move first).
    shardLockExpiration: Duration.seconds(10),
    runnerAddress: options.runner === undefined
      ? Option.none()
      : Option.some(RunnerAddress.make(options.runner.host, options.runner.port)),
    runnerListenAddress: options.runner?.listenHost === undefined
      ? Option.none()
      : Option.some(
        RunnerAddress.make(options.runner.listenHost, options.runner.listenPort ?? options.runner.port)
      ),
    ...options.shardingConfig
  }
  const clientOnly = options.runner === undefined
  const transport = options.transport ?? "socket"
  const cluster: Layer.Layer<ClusterServices, StartError, SqlClient.SqlClient> = transport === "socket"
    ? NodeClusterSocket.layer({ clientOnly, storage: "sql", shardingConfig })
    : NodeClusterHttp.layer({ transport, clientOnly, storage: "sql", shardingConfig })
  const pg = PgClient.layer({
    ...(options.url === undefined ? {} : { url: options.url }),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.database === undefined ? {} : { database: options.database }),
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections })
  })
  return withEngine(cluster).pipe(Layer.provideMerge(pg))
}

/**
 * The addresses of the deployment's runners whose heartbeat is fresher than `lease` (the embedded deployment's
 * lease by default): what a client checks to warn that no worker will pick its execution up.
 *
 * @since 0.1.0
 * @category runners
 */
export const liveRunners = (
  lease: Duration.DurationInput = "10 seconds"
): Effect.Effect<ReadonlyArray<string>, SqlError.SqlError | PersistenceError, SqlClient.SqlClient> =>
  SqlRunnerStorage.make({}).pipe(
    Effect.flatMap((storage) => storage.getRunners),
    Effect.map((runners) => runners.map(([runner]) => `${runner.address.host}:${runner.address.port}`)),
    Effect.provide(ShardingConfig.layer({ shardLockExpiration: Duration.decode(lease) })),
    Effect.scoped
  )
