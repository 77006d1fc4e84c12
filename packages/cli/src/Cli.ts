/**
 * The `barge` command: submit, watch and fetch batch jobs on any provider through the unified `Batch` service.
 *
 * ```
 * barge submit --provider ark|moonshot|openai|qianfan|qianfan-v2 FILE.jsonl [--model M] [--window 24h] [--watch]
 * barge status ID · barge watch ID · barge results ID [-o FILE] · barge cancel ID · barge list --provider P
 * ```
 *
 * Every command takes `--emulator` (an embedded emulator, fresh per process), `--emulator-urls` (a running
 * emulator: its JSON line of URLs, or the base URL of its first port; env `BARGE_EMULATOR_URLS`), `--json`.
 * Exit codes are listed in {@link ExitCode}.
 *
 * @since 0.1.0
 */
import * as ApiError from "@barge/core/ApiError"
import * as Batch from "@barge/core/Batch"
import * as InputValidation from "@barge/core/InputValidation"
import type * as Registry from "@barge/core/Registry"
import * as Emulator from "@barge/emulator/Emulator"
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { dirname } from "node:path"
import * as Durable from "./Durable.js"
import * as Providers from "./Providers.js"
import * as Render from "./Render.js"

/**
 * What the process exit status means, for scripts.
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = {
  /** Done; for `watch`/`submit --watch`, the batch completed. Also when the reader closed the pipe (`| head`). */
  Ok: 0,
  /** Something unexpected: a bug (printed as one to report), or an I/O failure while running. */
  Unexpected: 1,
  /** The command line is wrong: an option, a value or a file that cannot be used (checked before any upload). */
  Usage: 2,
  /** The input file has invalid lines (all listed on stderr); nothing was uploaded. */
  InvalidInput: 3,
  /** The batch ended failed, cancelled or expired. */
  BatchUnsuccessful: 4,
  /** The provider (or the network) refused or failed a call. */
  ProviderFailure: 5,
  /** Credentials or other configuration are missing or invalid (a key that is blank or holds whitespace). */
  Configuration: 6,
  /** The batch id is malformed, belongs to no known provider, or names a job its provider does not know. */
  InvalidId: 7,
  /** `results` of a batch that is still running: wait with `barge watch ID` first. */
  NotFinished: 8
} as const

/**
 * `results` was asked for a batch that has not finished.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFinished extends Schema.TaggedError<NotFinished>("@barge/cli/NotFinished")("NotFinished", {
  status: Batch.BatchStatus
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const { counts, id, phase } = this.status
    return `batch ${id} is still ${phase} (${counts.completed + counts.failed}/${counts.total} done); ` +
      `wait for it with \`barge watch ${id}\`, then ask for its results`
  }
}

/**
 * An id whose provider prefix the CLI does not know.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownProvider extends Schema.TaggedError<UnknownProvider>("@barge/cli/UnknownProvider")(
  "UnknownProvider",
  { id: Schema.String }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `"${this.id}" is not a barge batch id: expected <${
      Providers.names.join("|")
    }>:<job id>, as printed by submit`
  }
}

/**
 * A well-formed id whose job the provider does not know: looking it up found nothing.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownBatch extends Schema.TaggedError<UnknownBatch>("@barge/cli/UnknownBatch")("UnknownBatch", {
  id: Schema.String,
  provider: Schema.String,
  cause: ApiError.ApiError
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.provider} has no batch ${this.id} (${this.cause.message}); ` +
      `check the id: \`barge list -p ${this.provider}\` shows the batches it has`
  }
}

/**
 * The emulator URLs given are not usable.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadEmulatorUrls extends Schema.TaggedError<BadEmulatorUrls>("@barge/cli/BadEmulatorUrls")(
  "BadEmulatorUrls",
  { value: Schema.String }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `--emulator-urls must be the JSON line the emulator prints ({"ark":…,"bos":…}) or the base URL of its ` +
      `first port (http://127.0.0.1:PORT with its ${Emulator.services.length} services on PORT…PORT+${
        Emulator.services.length - 1
      }); got "${this.value}"`
  }
}

/**
 * A duration option that cannot be read.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadDuration extends Schema.TaggedError<BadDuration>("@barge/cli/BadDuration")("BadDuration", {
  option: Schema.String,
  value: Schema.String
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `--${this.option}: cannot read "${this.value}" as a duration; use e.g. 24h, 3d, 90m, 30s or 500ms`
  }
}

/**
 * A file named on the command line that cannot be used as given: missing, a loop of symbolic links, a directory,
 * unreadable, or an output that would overwrite a file the command reads.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadPath extends Schema.TaggedError<BadPath>("@barge/cli/BadPath")("BadPath", {
  argument: Schema.String,
  path: Schema.String,
  problem: Schema.String
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.argument} "${this.path}" ${this.problem}`
  }
}

/**
 * An option whose value is out of its range.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadOption extends Schema.TaggedError<BadOption>("@barge/cli/BadOption")("BadOption", {
  option: Schema.String,
  value: Schema.String,
  expected: Schema.String
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `--${this.option}: "${this.value}" is not usable; ${this.expected}`
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Shared options
// ---------------------------------------------------------------------------------------------------------------

const common = {
  emulator: Options.boolean("emulator").pipe(
    Options.withDescription("run against an embedded emulator (no credentials; state lives only in this process)")
  ),
  emulatorUrls: Options.text("emulator-urls").pipe(
    Options.withDescription(
      "use a running emulator: its JSON line of URLs or the base URL of its first port (env BARGE_EMULATOR_URLS)"
    ),
    Options.withFallbackConfig(Config.string("BARGE_EMULATOR_URLS")),
    Options.optional
  ),
  timeScale: Options.float("time-scale").pipe(
    Options.withDescription("embedded emulator only: emulated seconds per real second"),
    Options.withDefault(50)
  ),
  json: Options.boolean("json").pipe(Options.withDescription("machine-readable output (JSON / JSON lines)")),
  poll: Options.text("poll").pipe(
    Options.withDescription(
      "poll interval, e.g. 2s or 500ms (default: adaptive, 5s to 10m as the batch progresses, backing off from 2s " +
        "to 60s while the provider reports no counts; 250ms against an emulator)"
    ),
    Options.optional
  )
}

type Common = {
  readonly emulator: boolean
  readonly emulatorUrls: Option.Option<string>
  readonly timeScale: number
  readonly json: boolean
  readonly poll: Option.Option<string>
}

/**
 * Reads `24h`, `1d`, `90m`, `30s`, `500ms` — or anything `Duration.decode` accepts (`"2 hours"`).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseDuration = (text: string): Option.Option<Duration.Duration> => {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim())
  if (match !== null) {
    const n = Number(match[1])
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "ms" | "s" | "m" | "h" | "d"]
    return Option.some(Duration.millis(n * unit))
  }
  return Option.liftThrowable(Duration.decode)(text as Duration.DurationInput).pipe(
    Option.filter((d) => Duration.isFinite(d) && Duration.greaterThan(d, Duration.zero))
  )
}

const durationOption = (name: string) => (value: string): Effect.Effect<Duration.Duration, BadDuration> =>
  Option.match(parseDuration(value), {
    onNone: () => Effect.fail(new BadDuration({ option: name, value })),
    onSome: Effect.succeed
  })

const errnoOf = (error: PlatformError.PlatformError): string | undefined =>
  Predicate.hasProperty(error.cause, "code") && typeof error.cause.code === "string" ? error.cause.code : undefined

/** What a failed `stat` or `access` means for a path a user named, in words. */
const pathProblem = (error: PlatformError.PlatformError): string => {
  switch (errnoOf(error)) {
    case "ENOENT":
      return "does not exist"
    case "ELOOP":
      return "is a loop of symbolic links; point it at the real file"
    case "EACCES":
    case "EPERM":
      return "cannot be read: permission denied"
    case "ENOTDIR":
      return "is not a path to a file: a part of it is not a directory"
    case "ENAMETOOLONG":
      return "is longer than a file name may be"
    default:
      return `cannot be used: ${error.message}`
  }
}

/** The input file: it exists, is a regular file (after symbolic links) and can be read. */
const inputFile = (argument: string, path: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const fail = (problem: string) => new BadPath({ argument, path, problem })
    const info = yield* Effect.mapError(fs.stat(path), (error) => fail(pathProblem(error)))
    if (info.type === "Directory") return yield* fail("is a directory; name the JSONL file in it")
    if (info.type !== "File") return yield* fail("is not a regular file; name a JSONL file")
    yield* Effect.mapError(fs.access(path, { readable: true }), (error) => fail(pathProblem(error)))
    return info
  })

/**
 * The output file: absent in an existing directory, or a regular file that is none of the files the command reads
 * (`reads`, their `stat`), which writing would destroy.
 */
const outputFile = (
  argument: string,
  path: string,
  reads: ReadonlyArray<{ readonly path: string; readonly info: FileSystem.File.Info }>
) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const fail = (problem: string) => new BadPath({ argument, path, problem })
    const existing = yield* fs.stat(path).pipe(
      Effect.map(Option.some),
      Effect.catchAll((error) =>
        errnoOf(error) === "ENOENT" ? Effect.succeedNone : Effect.fail(fail(pathProblem(error)))
      )
    )
    if (Option.isNone(existing)) {
      const directory = dirname(path)
      const parent = yield* Effect.mapError(
        fs.stat(directory),
        (error) => fail(`cannot be created: "${directory}" ${pathProblem(error)}`)
      )
      if (parent.type !== "Directory") return yield* fail(`cannot be created: "${directory}" is not a directory`)
      return
    }
    const info = existing.value
    if (info.type === "Directory") return yield* fail("is a directory; name a file to write the results to")
    for (const read of reads) {
      const same = info.dev === read.info.dev && Option.isSome(info.ino) && Option.isSome(read.info.ino) &&
        info.ino.value === read.info.ino.value
      if (same) {
        return yield* fail(
          `is the input file "${read.path}": writing results there would destroy the requests; choose another file`
        )
      }
    }
  })

/**
 * Parses `--emulator-urls`: the emulator's JSON line, or a base URL whose port is the first of five.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseEmulatorUrls = (value: string): Option.Option<Emulator.Urls> => {
  const trimmed = value.trim()
  if (trimmed.startsWith("{")) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>
      const urls = Predicate.isRecord(parsed.urls) ? parsed.urls : parsed
      return Emulator.services.every((name) => typeof urls[name] === "string")
        ? Option.some(urls as Emulator.Urls)
        : Option.none()
    } catch {
      return Option.none()
    }
  }
  try {
    const base = new URL(trimmed)
    const first = Number(base.port)
    if (!Number.isInteger(first) || first <= 0) return Option.none()
    const urls: Record<string, string> = {}
    for (const [index, name] of Emulator.services.entries()) {
      urls[name] = `${base.protocol}//${base.hostname}:${first + index}`
    }
    return Option.some(urls as Emulator.Urls)
  } catch {
    return Option.none()
  }
}

/**
 * Where the CLI writes, and whether stdout is a terminal. The default is the process's own streams
 * (`BARGE_FORCE_TTY=1|0` overrides the terminal check); tests provide a capturing one.
 *
 * @since 0.1.0
 * @category models
 */
export interface Output {
  /** Writes to stdout as is (no newline added). */
  readonly out: (text: string) => void
  /** Writes to stderr as is. */
  readonly err: (text: string) => void
  /** Whether stdout is a terminal (live bar) or not (plain lines). */
  readonly isTty: () => boolean
}

/**
 * The process's stdout and stderr.
 *
 * @since 0.1.0
 * @category constructors
 */
export const processOutput: Output = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  isTty: () => {
    const forced = process.env.BARGE_FORCE_TTY
    if (forced === "1") return true
    if (forced === "0") return false
    return process.stdout.isTTY === true
  }
}

/**
 * The {@link Output} in use; {@link processOutput} unless provided.
 *
 * @since 0.1.0
 * @category tags
 */
export class CurrentOutput extends Context.Reference<CurrentOutput>()("@barge/cli/Cli/CurrentOutput", {
  defaultValue: (): Output => processOutput
}) {}

const write = (text: string) => Effect.map(CurrentOutput, (output) => output.out(text))
const writeErr = (text: string) => Effect.map(CurrentOutput, (output) => output.err(text))
const isTty = Effect.map(CurrentOutput, (output) => output.isTty())

const encodeStatus = Schema.encodeSync(Batch.BatchStatus)
const encodeProgress = Schema.encodeSync(Batch.Progress)
const encodeResult = Schema.encodeSync(Batch.BatchResult)
const encodeCleanup = Schema.encodeSync(Batch.CleanupReport)

// ---------------------------------------------------------------------------------------------------------------
// Running a program against a provider
// ---------------------------------------------------------------------------------------------------------------

/**
 * The services a command needs around `Batch`: the HTTP client and the file system.
 *
 * @since 0.1.0
 * @category models
 */
export type Environment = HttpClient.HttpClient | FileSystem.FileSystem

const withBatch = <A, E, R>(
  entry: Registry.Entry,
  options: Common,
  use: (batch: Batch.Service) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function*() {
    // Checked here too for the commands that do not poll: an option given is an option checked.
    yield* pollOptions(options)
    const urls = Option.isSome(options.emulatorUrls)
      ? Option.some(
        yield* Option.match(parseEmulatorUrls(options.emulatorUrls.value), {
          onNone: () =>
            Effect.fail(new BadEmulatorUrls({ value: options.emulatorUrls.pipe(Option.getOrElse(() => "")) })),
          onSome: Effect.succeed
        })
      )
      : Option.none()
    const batchLayer = Option.isSome(urls)
      ? Providers.layer(entry, {
        _tag: "Emulator",
        endpoints: Emulator.endpoints({ urls: urls.value, credentials: Emulator.defaultCredentials })
      })
      : options.emulator
      ? Layer.unwrapEffect(Effect.map(
        Emulator.Emulator,
        (emulator) => Providers.layer(entry, { _tag: "Emulator", endpoints: Emulator.endpoints(emulator) })
      )).pipe(Layer.provide(Emulator.layer({ timeScale: options.timeScale })))
      : Providers.layer(entry, { _tag: "Provider" })
    return yield* Effect.flatMap(Batch.Batch, use).pipe(Effect.provide(batchLayer))
  })

const providerOfId = (id: string): Effect.Effect<Registry.Entry, UnknownProvider> => {
  const entry = Providers.entryOf(id.slice(0, Math.max(0, id.indexOf(":"))))
  return entry === undefined ? Effect.fail(new UnknownProvider({ id })) : Effect.succeed(entry)
}

const providerNamed = (name: string): Registry.Entry => Providers.entryOf(name)!

/** The batch's status, or `UnknownBatch` when the provider has no such job (the id is wrong, not the provider). */
const known = (batch: Batch.Service, id: string) =>
  batch.get(id).pipe(
    Effect.catchIf(
      ApiError.is("NotFound"),
      (cause) => Effect.fail(new UnknownBatch({ id, provider: batch.provider, cause }))
    )
  )

const pollOptions = (options: Common): Effect.Effect<Batch.PollOptions, BadDuration> =>
  Option.match(options.poll, {
    onNone: () =>
      Effect.succeed(
        options.emulator || Option.isSome(options.emulatorUrls) ? { schedule: Schedule.spaced("250 millis") } : {}
      ),
    onSome: (text) => Effect.map(durationOption("poll")(text), (every) => ({ schedule: Schedule.spaced(every) }))
  })

/**
 * Follows a batch to its end, drawing progress; fails with `BatchFailed` when it ends other than completed.
 */
const follow = (batch: Batch.Service, id: string, options: Common, poll: Batch.PollOptions) =>
  Effect.gen(function*() {
    const tty = !options.json && (yield* isTty)
    let lastKey = ""
    let last: Batch.Progress | undefined
    yield* batch.watch(id, poll).pipe(
      Stream.runForEach((progress) => {
        last = progress
        if (options.json) return write(JSON.stringify(encodeProgress(progress)) + "\n")
        if (tty) return write(`\r\x1b[2K${Render.bar(progress)}`)
        const key = Render.changeKey(progress.status)
        if (key === lastKey) return Effect.void
        lastKey = key
        return write(Render.line(progress) + "\n")
      })
    )
    if (tty) yield* write("\n")
    const status = last?.status ?? (yield* batch.get(id))
    if (status.phase !== "completed") {
      return yield* Batch.isTerminal(status.phase)
        ? new Batch.BatchFailed({ status })
        : new Batch.BatchTimeout({ status })
    }
    return status
  })

/**
 * Writes every result as a JSON line to `output` (or stdout); a count to stderr.
 */
const writeResults = (batch: Batch.Service, id: string, output: Option.Option<string>) =>
  Effect.gen(function*() {
    const status = yield* known(batch, id)
    // A provider writes its result files when the job ends; asking earlier gets a confusing provider error.
    if (!Batch.isTerminal(status.phase)) return yield* new NotFinished({ status })
    let succeeded = 0
    let failed = 0
    const lines = batch.results(id).pipe(
      Stream.tap((result) =>
        Effect.sync(() => {
          if (result._tag === "Succeeded") succeeded += 1
          else failed += 1
        })
      ),
      Stream.map((result) => JSON.stringify(encodeResult(result)) + "\n")
    )
    if (Option.isSome(output)) {
      const fs = yield* FileSystem.FileSystem
      yield* lines.pipe(Stream.encodeText, Stream.run(fs.sink(output.value)))
    } else {
      yield* Stream.runForEach(lines, write)
    }
    const where = Option.match(output, { onNone: () => "", onSome: (path) => ` → ${path}` })
    yield* writeErr(`${succeeded + failed} results: ${succeeded} succeeded, ${failed} failed${where}\n`)
  })

const printStatus = (status: Batch.BatchStatus, options: Common) =>
  write((options.json ? JSON.stringify(encodeStatus(status)) : Render.status(status)) + "\n")

// ---------------------------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------------------------

const provider = Options.choice("provider", Providers.names).pipe(
  Options.withAlias("p"),
  Options.withDescription("which provider runs the batch")
)
const batchId = Args.text({ name: "ID" }).pipe(Args.withDescription("a batch id as printed by submit or list"))
// Paths are text, checked by `inputFile` / `outputFile`: @effect/cli's own file check dies on a loop of symbolic links.
const output = Options.text("output").pipe(
  Options.withAlias("o"),
  Options.withDescription("write results (JSON lines) to this file instead of stdout"),
  Options.optional
)

/** `-o`, checked: `Some(path)` when given and usable (it names none of `reads`). */
const checkedOutput = (
  value: Option.Option<string>,
  reads: ReadonlyArray<{ readonly path: string; readonly info: FileSystem.File.Info }> = []
) =>
  Option.match(value, {
    onNone: () => Effect.succeedNone,
    onSome: (path) => Effect.as(outputFile("-o", path, reads), Option.some(path))
  })

const submit = Command.make(
  "submit",
  {
    ...common,
    provider,
    file: Args.text({ name: "FILE.jsonl" }),
    model: Options.text("model").pipe(
      Options.withAlias("m"),
      Options.withDescription("model for lines that name none"),
      Options.optional
    ),
    window: Options.text("window").pipe(
      Options.withDescription("completion window, e.g. 24h or 3d (each provider rounds to what it accepts)"),
      Options.optional
    ),
    watch: Options.boolean("watch").pipe(Options.withAlias("w"), Options.withDescription("follow it to the end")),
    output,
    ...Durable.submitOptions
  },
  (options) =>
    Effect.gen(function*() {
      // Every option is checked before anything is uploaded or created.
      const input = yield* inputFile("FILE.jsonl", options.file)
      const out = yield* checkedOutput(options.output, [{ path: options.file, info: input }])
      const poll = yield* pollOptions(options)
      const window = Option.isSome(options.window)
        ? Option.some(yield* durationOption("window")(options.window.value))
        : Option.none()
      return yield* withBatch(providerNamed(options.provider), options, (batch) =>
        submitAndFollow(batch, options, out, poll, window))
    })
).pipe(
  Command.transformHandler((handler, options) =>
    Durable.choose(options.durable, () => Durable.submit(options), () => handler)
  ),
  Command.withDescription("validate a JSONL file of chat requests and submit it as one batch")
)

const submitAndFollow = (
  batch: Batch.Service,
  options: Common & {
    readonly file: string
    readonly model: Option.Option<string>
    readonly watch: boolean
  },
  output: Option.Option<string>,
  poll: Batch.PollOptions,
  window: Option.Option<Duration.Duration>
) =>
  Effect.gen(function*() {
    const submitted = yield* batch.submit(Batch.jsonlFile(options.file), {
      ...Option.match(options.model, { onNone: () => ({}), onSome: (model) => ({ model }) }),
      ...Option.match(window, { onNone: () => ({}), onSome: (completionWindow) => ({ completionWindow }) })
    })
    const status = submitted.status
    if (options.json) yield* printStatus(status, options)
    else {
      yield* write(`${submitted.id}\n`)
      yield* writeErr(
        `submitted ${status.counts.total} requests to ${status.provider} as ${status.parts.length} job(s)${
          submitted.attached > 0 ? ` (${submitted.attached} already existed: attached)` : ""
        }\n`
      )
      for (const dropped of submitted.dropped) {
        yield* writeErr(
          `line ${dropped.lineNumber} (${dropped.customId}): dropped ${dropped.parameter}=${
            JSON.stringify(dropped.value)
          } (fixed by ${status.provider} for batches)\n`
        )
      }
    }
    if (options.watch || Option.isSome(output)) {
      yield* follow(batch, submitted.id, options, poll)
      if (Option.isSome(output)) yield* writeResults(batch, submitted.id, output)
    } else if (options.emulator && Option.isNone(options.emulatorUrls)) {
      yield* writeErr(
        `barge: warning: --emulator runs the emulator inside this command, so ${submitted.id} is gone when it ` +
          `exits. Add --watch (and -o FILE) to follow it and fetch its results in this run, or start ` +
          `barge-emulator and pass its URLs with --emulator-urls.\n`
      )
    }
  })

const id = { ...common, ...Durable.deploymentOptions, id: batchId }

const status = Command.make(
  "status",
  id,
  (options) =>
    Effect.flatMap(
      providerOfId(options.id),
      (p) => withBatch(p, options, (batch) => Effect.flatMap(known(batch, options.id), (s) => printStatus(s, options)))
    )
).pipe(
  Command.transformHandler((handler, options) =>
    Durable.route(options.id, () => Durable.status(options), () => handler)
  ),
  Command.withDescription("show a batch's phase and counts")
)

const watch = Command.make(
  "watch",
  id,
  (options) =>
    Effect.gen(function*() {
      const p = yield* providerOfId(options.id)
      const poll = yield* pollOptions(options)
      return yield* withBatch(
        p,
        options,
        (batch) => Effect.zipRight(known(batch, options.id), Effect.asVoid(follow(batch, options.id, options, poll)))
      )
    })
).pipe(
  Command.transformHandler((handler, options) =>
    Durable.route(options.id, () => Durable.watch(options), () => handler)
  ),
  Command.withDescription("follow a batch to its end with live progress")
)

const results = Command.make(
  "results",
  { ...id, output },
  (options) =>
    Effect.gen(function*() {
      const p = yield* providerOfId(options.id)
      const out = yield* checkedOutput(options.output)
      return yield* withBatch(p, options, (batch) => writeResults(batch, options.id, out))
    })
).pipe(
  Command.transformHandler((handler, options) =>
    Durable.route(options.id, () => Durable.results(options), () => handler)
  ),
  Command.withDescription("stream every result of a batch as JSON lines")
)

const cancel = Command.make(
  "cancel",
  id,
  (options) =>
    Effect.flatMap(
      providerOfId(options.id),
      (p) =>
        withBatch(
          p,
          options,
          (batch) =>
            Effect.zipRight(
              known(batch, options.id),
              Effect.flatMap(batch.cancel(options.id), (s) => printStatus(s, options))
            )
        )
    )
).pipe(
  Command.transformHandler((handler, options) =>
    Durable.route(options.id, () => Durable.cancel(options), () => handler)
  ),
  Command.withDescription("ask the provider to stop a batch")
)

const list = Command.make(
  "list",
  {
    ...common,
    provider,
    limit: Options.integer("limit").pipe(Options.withDescription("show at most this many"), Options.withDefault(20))
  },
  (options) =>
    Effect.gen(function*() {
      if (options.limit < 1) {
        return yield* new BadOption({ option: "limit", value: String(options.limit), expected: "show at least 1" })
      }
      return yield* withBatch(providerNamed(options.provider), options, (batch) =>
        batch.list.pipe(
          Stream.take(options.limit),
          Stream.runForEach((s) => write((options.json ? JSON.stringify(encodeStatus(s)) : Render.listRow(s)) + "\n"))
        ))
    })
).pipe(Command.withDescription("list a provider's recent batch jobs"))

const cleanup = Command.make(
  "cleanup",
  {
    ...common,
    provider,
    olderThan: Options.text("older-than").pipe(
      Options.withDescription("only batch files uploaded longer ago than this, e.g. 7d or 12h"),
      Options.withDefault("7d")
    ),
    delete: Options.boolean("delete").pipe(
      Options.withDescription("delete them; without it, only list what would be deleted (a dry run)")
    )
  },
  (options) =>
    Effect.gen(function*() {
      const olderThan = yield* durationOption("older-than")(options.olderThan)
      return yield* withBatch(providerNamed(options.provider), options, (batch) =>
        Effect.gen(function*() {
          if (batch.cleanup === undefined) {
            return yield* new BadOption({
              option: "provider",
              value: batch.provider,
              expected: "a provider that keeps uploaded batch files against a quota; this one keeps none to clean up"
            })
          }
          const report = yield* batch.cleanup({ olderThan, dryRun: !options.delete })
          if (options.json) return yield* write(JSON.stringify(encodeCleanup(report)) + "\n")
          for (const line of report.lines) yield* write(`${line}\n`)
        }))
    })
).pipe(Command.withDescription("list (or with --delete, delete) old batch input files that count against a quota"))

/**
 * The `barge` command tree.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("barge").pipe(
  Command.withDescription(`Run LLM batch jobs on ${Providers.entries.map((entry) => entry.title).join(", ")}`),
  Command.withSubcommands([submit, status, watch, results, cancel, list, cleanup, Durable.worker(common)])
)

/**
 * Runs the CLI on `argv` (without the node and script paths) and resolves to the exit code; messages for the
 * failures go to stderr.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (argv: ReadonlyArray<string>) =>
  Command.run(command, { name: "barge", version: "0.1.0" })(["node", "barge", ...argv]).pipe(
    Effect.as<number>(ExitCode.Ok),
    Effect.catchAll((error) => Effect.as(report(error), exitCodeOf(error))),
    // What is left is a defect (or an interruption, which the executable turns into 130): never an empty exit.
    Effect.catchAllCause((cause) =>
      Cause.isInterruptedOnly(cause)
        ? Effect.failCause(cause)
        : Effect.as(writeErr(bugReport(Cause.pretty(cause))), ExitCode.Unexpected)
    )
  )

/**
 * What the CLI prints for a defect: the cause, and that it is a bug to report.
 *
 * @since 0.1.0
 * @category running
 */
export const bugReport = (cause: string): string =>
  `barge: unexpected error. This is a bug in barge, not in your input or setup: please report it with the command ` +
  `you ran and the text below.\n${cause}\n`

/** A provider's answer that the job does not exist (any provider's not-found error, or an HTTP 404). */
/**
 * The exit code for a failure.
 *
 * @since 0.1.0
 * @category running
 */
export const exitCodeOf = (error: unknown): number => {
  if (ValidationError.isValidationError(error)) return ExitCode.Usage
  if (ConfigError.isConfigError(error)) return ExitCode.Configuration
  if (!Predicate.hasProperty(error, "_tag")) return ExitCode.Unexpected
  switch (error._tag) {
    case "InputValidationError":
      return ExitCode.InvalidInput
    case "BatchFailed":
    case "BatchTimeout":
      return ExitCode.BatchUnsuccessful
    case "ApiError":
    case "RequestFailed":
    case "RequestTimeout":
    case "ResponseDecodeError":
    case "DownloadTruncated":
    case "JsonlError":
    case "PartialSubmission":
      return ExitCode.ProviderFailure
    case "InvalidBatchId":
    case "UnknownProvider":
    case "UnknownBatch":
      return ExitCode.InvalidId
    case "NotFinished":
      return ExitCode.NotFinished
    case "BadEmulatorUrls":
    case "BadDuration":
    case "BadOption":
    case "BadPath":
    case "InvalidOptions": // the embedded emulator refused an option (a time scale of 0)
      return ExitCode.Usage
    default:
      return Durable.exitCodeOf(String(error._tag)) ?? ExitCode.Unexpected
  }
}

const report = (error: unknown) =>
  // @effect/cli has already printed the help for a usage error.
  ValidationError.isValidationError(error)
    ? Effect.void
    : writeErr(`barge: ${describe(error)}\n`)

const describe = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) {
    // Per variable: not set, or what is wrong with it (never its value: Credential's messages do not repeat it).
    return `missing or invalid configuration: ${configProblems(error).join("; ")}. ` +
      `Set it in the environment, or run against the emulator with --emulator.`
  }
  if (error instanceof InputValidation.InputValidationError) {
    // The whole report, one line per problem: the file is fixed once, not once per run.
    const shown = error.issues.map((issue) =>
      issue.lineNumber === 0
        ? `  ${issue.message} [${issue.rule}]`
        : `  line ${issue.lineNumber} [${issue.rule}]: ${issue.message}`
    )
    const more = error.totalIssues > shown.length ? [`  … and ${error.totalIssues - shown.length} more`] : []
    return [`${error.totalIssues} problem(s) in the input; nothing was uploaded:`, ...shown, ...more].join("\n")
  }
  return Predicate.hasProperty(error, "message") ? String(error.message) : String(error)
}

const configProblems = (error: ConfigError.ConfigError): Array<string> => {
  switch (error._op) {
    case "And":
    case "Or":
      return [...new Set([...configProblems(error.left), ...configProblems(error.right)])]
    case "MissingData": {
      const name = error.path.join(".")
      // Effect's own words ("Expected X to exist…", or "<redacted>" inside `Config.redacted`) say less than "X is
      // not set"; a check's own message (Credential's) says more.
      return [error.message.startsWith(name) ? error.message : `${name} is not set`]
    }
    default: {
      const name = error.path.join(".")
      return [
        error.message.startsWith(name)
          ? error.message
          : error.message === "<redacted>"
          ? `${name} is invalid`
          : `${name}: ${error.message}`
      ]
    }
  }
}
