/**
 * The durable commands' implementation: loaded on demand by `Durable.ts`, so the workflow stack (cluster, SQL
 * clients) costs nothing to the other commands.
 */
import * as Registry from "@barge/core/Registry"
import * as Emulator from "@barge/emulator/Emulator"
import * as BargeCluster from "@barge/workflow/BargeCluster"
import * as BatchProviders from "@barge/workflow/BatchProviders"
import * as BatchWorkflow from "@barge/workflow/BatchWorkflow"
import * as Executions from "@barge/workflow/Executions"
import * as Sink from "@barge/workflow/Sink"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Path from "node:path"
import * as Cli from "../Cli.js"
import * as Durable from "../Durable.js"
import * as Providers from "../Providers.js"

const { executionOf, prefix } = Durable
type Deployment = Durable.Deployment

const dbFile = (options: Deployment) => Path.resolve(Option.getOrElse(options.db, () => "barge.db"))

const client = (options: Deployment) =>
  Option.match(options.pg, {
    onNone: () => BargeCluster.layerEmbedded({ file: dbFile(options), runner: false }),
    onSome: (url) => BargeCluster.layerPg({ url })
  })

const where = (options: Deployment) => Option.isSome(options.pg) ? "PostgreSQL" : dbFile(options)

const write = (text: string) => Effect.map(Cli.CurrentOutput, (output) => output.out(text))
const writeErr = (text: string) => Effect.map(Cli.CurrentOutput, (output) => output.err(text))

const encodeExecution = Schema.encodeSync(Executions.Execution)
const encodeOutcome = Schema.encodeSync(BatchWorkflow.Outcome)

/**
 * One line about an execution: id, stage, the provider's phase and counts, results in the sink.
 *
 * @since 0.1.0
 * @category rendering
 */
export const line = (execution: Executions.Execution): string => {
  const status = execution.status
  const counts = status === undefined
    ? ""
    : ` ${status.phase} ${status.counts.completed + status.counts.failed}/${status.counts.total}`
  const sink = execution.results > 0 || execution.stage === "done" ? ` sink=${execution.results}` : ""
  const error = execution.error === undefined ? "" : ` — ${execution.error}`
  return `${prefix}${execution.executionId} ${execution.stage}${counts}${sink}${error}`
}

/**
 * Everything about an execution, one field per line.
 *
 * @since 0.1.0
 * @category rendering
 */
export const details = (execution: Executions.Execution): string =>
  [
    `id:        ${prefix}${execution.executionId}`,
    `provider:  ${execution.provider}`,
    `stage:     ${execution.stage}${execution.cancelRequested ? " (cancel requested)" : ""}`,
    ...(execution.batchId === undefined ? [] : [`batch:     ${execution.batchId}`]),
    ...(execution.status === undefined ? [] : [
      `phase:     ${execution.status.phase} (${execution.status.providerStatus})`,
      `counts:    completed=${execution.status.counts.completed} failed=${execution.status.counts.failed} ` +
      `total=${execution.status.counts.total}`
    ]),
    `polls:     ${execution.polls}${
      execution.nextPollAt === undefined ? "" : `, next at ${execution.nextPollAt.toJSON()}`
    }`,
    `sink:      ${Sink.describe(execution.sink)} (${execution.results} results, ${execution.succeeded} succeeded)`,
    ...(execution.error === undefined ? [] : [`error:     ${execution.error}`]),
    `submitted: ${execution.createdAt.toJSON()}`,
    `updated:   ${execution.updatedAt.toJSON()}`
  ].join("\n")

const follow = (executionId: string, json: boolean) =>
  Effect.gen(function*() {
    yield* BatchWorkflow.watch(executionId, { every: "500 millis" }).pipe(
      Stream.map((execution) => json ? JSON.stringify(encodeExecution(execution)) : line(execution)),
      Stream.changes,
      Stream.runForEach((text) => write(`${text}\n`))
    )
    const outcome = yield* BatchWorkflow.await(executionId, { every: "250 millis" })
    if (outcome.phase !== "completed") {
      return yield* new Durable.ExecutionEnded({
        executionId: outcome.executionId,
        phase: outcome.phase,
        results: outcome.results,
        sink: Sink.describe(outcome.sink)
      })
    }
    return outcome
  })

/**
 * `barge submit --durable`: starts (or joins) the execution of FILE and prints its id; with `--watch`, follows it
 * to the end.
 *
 * @since 0.1.0
 * @category commands
 */
export const submit = (options: Durable.SubmitOptions) =>
  Effect.gen(function*() {
    if (options.emulator || Option.isSome(options.emulatorUrls)) {
      return yield* new Durable.DurableUsage({
        detail: "a durable batch runs on the workers: give --emulator / --emulator-urls to `barge worker`, " +
          "and only --db or --pg to `submit --durable`"
      })
    }
    const window = yield* Effect.transposeMapOption(options.window, (text) =>
      Option.match(Cli.parseDuration(text), {
        onNone: () => Effect.fail(new Cli.BadDuration({ option: "window", value: text })),
        onSome: Effect.succeed
      }))
    const fs = yield* FileSystem.FileSystem
    const input = yield* fs.readFileString(options.file)
    const sink = Sink.file(Path.resolve(Option.getOrElse(options.output, () => `${options.file}.results.jsonl`)))
    const started = yield* BatchWorkflow.start(input, {
      provider: options.provider,
      sink,
      ...Option.match(options.model, { onNone: () => ({}), onSome: (model) => ({ model }) }),
      ...Option.match(window, { onNone: () => ({}), onSome: (completionWindow) => ({ completionWindow }) })
    })
    if (options.json) yield* write(JSON.stringify(encodeExecution(started.execution)) + "\n")
    else yield* write(`${prefix}${started.executionId}\n`)
    yield* writeErr(
      `${started.joined ? "joined the durable batch already started for this input" : "started a durable batch"}` +
        ` on ${where(options)}; results go to ${Sink.describe(started.execution.sink)}\n`
    )
    if (Option.isNone(options.pg) && (yield* Effect.orElseSucceed(BargeCluster.liveRunners(), () => [])).length === 0) {
      yield* writeErr(
        `no worker is running on ${dbFile(options)}: start one with \`barge worker --db ${dbFile(options)}\`\n`
      )
    }
    if (options.watch) yield* follow(started.executionId, options.json)
  }).pipe(Effect.asVoid, Effect.provide(client(options)))

/**
 * `barge status durable:…`.
 *
 * @since 0.1.0
 * @category commands
 */
export const status = (options: Durable.IdOptions) =>
  BatchWorkflow.status(executionOf(options.id)).pipe(
    Effect.flatMap((execution) =>
      write((options.json ? JSON.stringify(encodeExecution(execution)) : details(execution)) + "\n")
    ),
    Effect.provide(client(options))
  )

/**
 * `barge watch durable:…`: one line per change until the execution ends; fails with {@link ExecutionEnded} when
 * the batch did not complete.
 *
 * @since 0.1.0
 * @category commands
 */
export const watch = (options: Durable.IdOptions) =>
  follow(executionOf(options.id), options.json).pipe(
    Effect.flatMap((outcome) => options.json ? write(JSON.stringify(encodeOutcome(outcome)) + "\n") : Effect.void),
    Effect.provide(client(options))
  )

/**
 * `barge results durable:…`: the results in the execution's sink, as JSON lines, to `-o FILE` or stdout.
 *
 * @since 0.1.0
 * @category commands
 */
export const results = (options: Durable.IdOptions & { readonly output: Option.Option<string> }) =>
  Effect.gen(function*() {
    let count = 0
    const lines = BatchWorkflow.results(executionOf(options.id)).pipe(
      Stream.map((result) => {
        count += 1
        return Sink.encodeLine(result)
      })
    )
    if (Option.isSome(options.output)) {
      const fs = yield* FileSystem.FileSystem
      yield* lines.pipe(Stream.encodeText, Stream.run(fs.sink(options.output.value)))
    } else {
      yield* Stream.runForEach(lines, write)
    }
    yield* writeErr(`${count} results${Option.match(options.output, { onNone: () => "", onSome: (p) => ` → ${p}` })}\n`)
  }).pipe(Effect.provide(client(options)))

/**
 * `barge cancel durable:…`: sends the durable cancel signal; prints the execution.
 *
 * @since 0.1.0
 * @category commands
 */
export const cancel = (options: Durable.IdOptions) =>
  BatchWorkflow.cancel(executionOf(options.id)).pipe(
    Effect.flatMap((execution) =>
      write((options.json ? JSON.stringify(encodeExecution(execution)) : line(execution)) + "\n")
    ),
    Effect.provide(client(options))
  )

const parseAddress = (value: string): Option.Option<{ readonly host: string; readonly port: number }> => {
  const match = /^(.+):(\d+)$/.exec(value.trim())
  if (match === null) return Option.none()
  const port = Number(match[2])
  return port > 0 && port < 65536 ? Option.some({ host: match[1]!, port }) : Option.none()
}

/** `barge worker`: builds the deployment's runner with every provider it can serve and runs it until interrupted. */
export const runWorker = (opts: Durable.WorkerOptions) =>
  Effect.gen(function*() {
    const urls = Option.isSome(opts.emulatorUrls)
      ? Option.some(
        yield* Option.match(Cli.parseEmulatorUrls(opts.emulatorUrls.value), {
          onNone: () => Effect.fail(new Cli.BadEmulatorUrls({ value: Option.getOrElse(opts.emulatorUrls, () => "") })),
          onSome: Effect.succeed
        })
      )
      : opts.emulator
      ? Option.some((yield* Emulator.make({ timeScale: opts.timeScale })).urls)
      : Option.none()
    const target: Providers.Target = Option.match(urls, {
      onNone: () => ({ _tag: "Provider" }),
      onSome: (urls) => ({
        _tag: "Emulator",
        endpoints: Emulator.endpoints({ urls, credentials: Emulator.defaultCredentials })
      })
    })
    const served = Providers.entries.filter((entry) =>
      target._tag === "Emulator" || Registry.hasCredentials(entry, process.env)
    )
    if (served.length === 0) {
      return yield* new Durable.DurableUsage({
        detail: `no provider has credentials in the environment (${
          Providers.entries.map((entry) => `${entry.name}: ${entry.credentials.join("+")}`).join(", ")
        }); or run against an emulator with --emulator`
      })
    }
    const poll = Option.isSome(opts.poll)
      ? Option.fromNullable(Option.getOrUndefined(Cli.parseDuration(opts.poll.value)))
      : Option.none()
    const listen = Option.flatMap(opts.listen, parseAddress)
    if (Option.isSome(opts.pg) && Option.isNone(listen)) {
      return yield* new Durable.DurableUsage({ detail: "--pg needs --listen HOST:PORT (where this runner is reached)" })
    }
    const deployment = Option.match(opts.pg, {
      onNone: () => BargeCluster.layerEmbedded({ file: dbFile(opts) }),
      onSome: (url) => BargeCluster.layerPg({ url, runner: Option.getOrUndefined(listen), transport: opts.transport })
    })
    const layer = BatchWorkflow.layer.pipe(
      Layer.provide(
        BatchProviders.layer(Object.fromEntries(served.map((entry) => [entry.name, Providers.layer(entry, target)])))
      ),
      Layer.provide(BatchWorkflow.layerSettings(Option.match(poll, {
        onNone: () => ({}),
        onSome: (every) => ({
          poll: { floor: every, initial: every, max: Duration.max(every, Duration.seconds(60)) }
        })
      }))),
      Layer.provideMerge(deployment)
    )
    yield* writeErr(
      `barge worker on ${where(opts)}${
        Option.match(listen, { onNone: () => "", onSome: (a) => ` at ${a.host}:${a.port}` })
      }` +
        `, serving ${served.map((entry) => entry.name).join(", ")}${
          target._tag === "Emulator" ? " (emulator)" : ""
        }; Ctrl-C to stop\n`
    )
    return yield* Layer.launch(layer)
  }).pipe(Effect.scoped)
