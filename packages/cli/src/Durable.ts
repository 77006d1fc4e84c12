/**
 * Durable batches from the command line (`@barge/workflow`): `barge worker` runs a runner; `barge submit --durable`
 * starts — or joins — an execution and prints its id (`durable:<execution>`); `status`, `watch`, `results` and
 * `cancel` take such ids.
 *
 * ```
 * barge worker [--db barge.db | --pg URL --listen HOST:PORT] [--emulator | --emulator-urls URLS]
 * barge submit --durable --provider P FILE.jsonl [-o results.jsonl] [--db … | --pg …] [--watch]
 * barge status|watch|results|cancel durable:<execution> [--db … | --pg …]
 * ```
 *
 * The deployment is the embedded one (SQLite in `--db`, env `BARGE_DB`, default `./barge.db`) unless `--pg` (env
 * `BARGE_PG_URL`) names a PostgreSQL database. Only `worker` runs executions; the other commands are clients.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Cli from "./Cli.js"

/**
 * The prefix of a durable batch id.
 *
 * @since 0.1.0
 * @category ids
 */
export const prefix = "durable:"

/**
 * Whether `id` names a durable batch (`durable:<execution>`).
 *
 * @since 0.1.0
 * @category ids
 */
export const isDurableId = (id: string): boolean => id.startsWith(prefix)

/**
 * The execution id in a durable batch id.
 *
 * @since 0.1.0
 * @category ids
 */
export const executionOf = (id: string): string => id.slice(prefix.length)

/**
 * A durable batch ended other than completed (failed, cancelled or expired): its results so far are in its sink.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExecutionEnded extends Schema.TaggedError<ExecutionEnded>("@barge/cli/Durable/ExecutionEnded")(
  "ExecutionEnded",
  { executionId: Schema.String, phase: Schema.String, results: Schema.Number, sink: Schema.String }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `durable batch ${prefix}${this.executionId} ended ${this.phase}; ` +
      `its ${this.results} results so far are in ${this.sink}`
  }
}

/**
 * `--durable` was combined with an option that only applies to a batch run in this process.
 *
 * @since 0.1.0
 * @category errors
 */
export class DurableUsage extends Schema.TaggedError<DurableUsage>("@barge/cli/Durable/DurableUsage")(
  "DurableUsage",
  { detail: Schema.String }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return this.detail
  }
}

/**
 * The options that choose the deployment: `--db` (embedded) or `--pg` (PostgreSQL).
 *
 * @since 0.1.0
 * @category options
 */
export const deploymentOptions = {
  db: Options.text("db").pipe(
    Options.withDescription("durable batches, embedded: the SQLite database file (env BARGE_DB; default ./barge.db)"),
    Options.withFallbackConfig(Config.string("BARGE_DB")),
    Options.optional
  ),
  pg: Options.redacted("pg").pipe(
    Options.withDescription("durable batches on PostgreSQL: the connection URL (env BARGE_PG_URL)"),
    Options.withFallbackConfig(Config.redacted("BARGE_PG_URL")),
    Options.optional
  )
}

/**
 * What `submit` gains: `--durable`, and the deployment.
 *
 * @since 0.1.0
 * @category options
 */
export const submitOptions = {
  durable: Options.boolean("durable").pipe(
    Options.withDescription("run it as a durable batch on the workers of --db / --pg; -o names its sink")
  ),
  ...deploymentOptions
}

/**
 * @since 0.1.0
 * @category options
 */
export interface Deployment {
  readonly db: Option.Option<string>
  readonly pg: Option.Option<Redacted.Redacted>
}

/**
 * What `submit --durable` reads from the command line.
 *
 * @since 0.1.0
 * @category options
 */
export interface SubmitOptions extends Deployment {
  /** A provider name of the registry (`Providers.names`). */
  readonly provider: string
  readonly file: string
  readonly output: Option.Option<string>
  readonly model: Option.Option<string>
  readonly window: Option.Option<string>
  readonly watch: boolean
  readonly json: boolean
  readonly emulator: boolean
  readonly emulatorUrls: Option.Option<string>
}

/**
 * What `status`, `watch` and `cancel` read from the command line.
 *
 * @since 0.1.0
 * @category options
 */
export interface IdOptions extends Deployment {
  readonly id: string
  readonly json: boolean
}

/**
 * What `barge worker` reads from the command line.
 *
 * @since 0.1.0
 * @category options
 */
export interface WorkerOptions extends Deployment {
  readonly emulator: boolean
  readonly emulatorUrls: Option.Option<string>
  readonly timeScale: number
  readonly poll: Option.Option<string>
  readonly listen: Option.Option<string>
  readonly transport: "socket" | "http" | "websocket"
}

// The workflow stack (cluster, SQL clients) loads only when a durable command runs: every other command starts as
// fast as before.
const implementation = Effect.promise(() => import("./internal/durable.js"))

/**
 * `barge submit --durable`: starts (or joins) the execution of FILE and prints its id; with `--watch`, follows it
 * to the end.
 *
 * @since 0.1.0
 * @category commands
 */
export const submit = (options: SubmitOptions) => Effect.flatMap(implementation, (impl) => impl.submit(options))

/**
 * `barge status durable:…`.
 *
 * @since 0.1.0
 * @category commands
 */
export const status = (options: IdOptions) => Effect.flatMap(implementation, (impl) => impl.status(options))

/**
 * `barge watch durable:…`: one line per change until the execution ends; fails with {@link ExecutionEnded} when
 * the batch did not complete.
 *
 * @since 0.1.0
 * @category commands
 */
export const watch = (options: IdOptions) => Effect.flatMap(implementation, (impl) => impl.watch(options))

/**
 * `barge results durable:…`: the results in the execution's sink, as JSON lines, to `-o FILE` or stdout.
 *
 * @since 0.1.0
 * @category commands
 */
export const results = (options: IdOptions & { readonly output: Option.Option<string> }) =>
  Effect.flatMap(implementation, (impl) => impl.results(options))

/**
 * `barge cancel durable:…`: sends the durable cancel signal; prints the execution.
 *
 * @since 0.1.0
 * @category commands
 */
export const cancel = (options: IdOptions) => Effect.flatMap(implementation, (impl) => impl.cancel(options))

/**
 * `barge worker`: a runner of the deployment, serving every provider it has credentials for (or all of them
 * against an emulator), until interrupted.
 *
 * @since 0.1.0
 * @category commands
 */
export const worker = (common: {
  readonly emulator: Options.Options<boolean>
  readonly emulatorUrls: Options.Options<Option.Option<string>>
  readonly timeScale: Options.Options<number>
  readonly json: Options.Options<boolean>
  readonly poll: Options.Options<Option.Option<string>>
}) =>
  Command.make(
    "worker",
    {
      ...common,
      ...deploymentOptions,
      listen: Options.text("listen").pipe(
        Options.withDescription("PostgreSQL deployment: HOST:PORT other runners and clients reach this runner at"),
        Options.optional
      ),
      transport: Options.choice("transport", ["socket", "http", "websocket"]).pipe(
        Options.withDescription("PostgreSQL deployment: how runners talk (default socket)"),
        Options.withDefault("socket" as const)
      )
    },
    (options) => Effect.flatMap(implementation, (impl) => impl.runWorker(options))
  ).pipe(Command.withDescription("run durable batches: a runner of the embedded or PostgreSQL deployment"))

/**
 * Runs `durable` for a durable id, `provider` for any other: how `status`, `watch`, `results` and `cancel` serve
 * both kinds of id.
 *
 * @since 0.1.0
 * @category commands
 */
export const route = <A, E1, R1, E2, R2>(
  id: string,
  durable: () => Effect.Effect<A, E1, R1>,
  provider: () => Effect.Effect<A, E2, R2>
): Effect.Effect<A, E1 | E2, R1 | R2> => choose(isDurableId(id), durable, provider)

/**
 * Runs `durable` when the flag is set (`submit --durable`), `otherwise` when not.
 *
 * @since 0.1.0
 * @category commands
 */
export const choose = <A, E1, R1, E2, R2>(
  durable: boolean,
  whenDurable: () => Effect.Effect<A, E1, R1>,
  otherwise: () => Effect.Effect<A, E2, R2>
): Effect.Effect<A, E1 | E2, R1 | R2> => durable ? whenDurable() : otherwise()

/**
 * The exit code for a durable command's own failures (`undefined` for the others).
 *
 * @since 0.1.0
 * @category running
 */
export const exitCodeOf = (tag: string): number | undefined => {
  switch (tag) {
    case "ExecutionNotFound":
      return Cli.ExitCode.InvalidId
    case "SinkConflict":
    case "DurableUsage":
      return Cli.ExitCode.Usage
    case "ExecutionEnded":
      return Cli.ExitCode.BatchUnsuccessful
    case "StepFailed":
      return Cli.ExitCode.ProviderFailure
    default:
      return undefined
  }
}
