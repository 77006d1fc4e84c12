/**
 * Baidu Qianfan batch inference as an Effect service: the four console actions, BOS storage, and the lifecycle on
 * top — `submit` (validate, split, upload, create; idempotent on content), `await`, `watch` and `results`.
 *
 * @example
 * ```ts
 * import { QianfanBatch } from "@barge/qianfan"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const qianfan = yield* QianfanBatch.QianfanBatch
 *   const submission = yield* qianfan.submit(
 *     [{ id: "1", query: "地球的自转周期是多久？" }],
 *     { model: { endpoint: "ernie-4.0-8k" } }
 *   )
 *   yield* qianfan.await(submission)
 *   yield* qianfan.results(submission).pipe(Stream.runForEach((r) => Effect.log(r.customId, r._tag)))
 * })
 *
 * program.pipe(
 *   Effect.provide(QianfanBatch.layerConfig()),
 *   Effect.provide(NodeHttpClient.layerUndici),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import * as Credential from "@barge/core/Credential"
import type * as Download from "@barge/core/Download"
import * as InputValidation from "@barge/core/InputValidation"
import * as Jsonl from "@barge/core/Jsonl"
import * as Polling from "@barge/core/Polling"
import * as Signer from "@barge/core/Signer"
import * as Transport from "@barge/core/Transport"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Arr from "effect/Array"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Errors from "./Errors.js"
import * as Console from "./internal/console.js"
import * as Driver from "./internal/driver.js"
import type * as Plan from "./internal/plan.js"
import * as Submit from "./internal/submit.js"
import * as Storage from "./Storage.js"
import * as Wire from "./Wire.js"

/**
 * The model of a task: a preset service's `endpoint` (e.g. `ernie-4.0-8k`) or a model version's `modelId`
 * (`amv-…`) — never both.
 *
 * @since 0.1.0
 * @category models
 */
export type ModelRef =
  | { readonly endpoint: string; readonly modelId?: never }
  | { readonly modelId: string; readonly endpoint?: never }

/**
 * What `submit` takes: input line records (for the default format `{ id, query }`), as an array, an iterable or
 * a `Stream`. The input is read twice — once to validate and plan, once to upload — so a `Stream` must be
 * re-runnable (most are: a file, an array); other iterables are copied into an array first.
 *
 * @since 0.1.0
 * @category models
 */
export type Input<E = never, R = never> = Iterable<unknown> | Stream.Stream<unknown, E, R>

/**
 * @since 0.1.0
 * @category models
 */
export interface SubmitOptions {
  readonly model: ModelRef
  /** Sent as `inferenceParams` (e.g. `{ temperature: 0.9, top_p: 0.3 }`); default `{}`. */
  readonly inferenceParams?: Readonly<Record<string, unknown>> | undefined
  /** The line format; default `default` (`{ id, query }`). */
  readonly dataFormat?: Wire.DataFormat | undefined
  /**
   * Sent as `completion_window`: whole hours (`Wire.completionWindowHours`; the only documented value is `24h`),
   * checked with the input before anything is sent. Omitted by default.
   */
  readonly completionWindow?: string | undefined
  /** Prepended to the description Barge writes (which carries the submission's tag). */
  readonly description?: string | undefined
  /**
   * When the account already has 20 active tasks, retry the create on this schedule instead of failing with
   * `TaskRunningNumberExceedLimit` (e.g. `Schedule.spaced("1 minute").pipe(Schedule.upTo("1 hour"))`).
   */
  readonly waitForCapacity?: Schedule.Schedule<unknown, Errors.QianfanError> | undefined
}

/**
 * The tasks one submission became: one per 100 files / 300 MB of input (see `Limits`).
 *
 * @since 0.1.0
 * @category models
 */
export class Submission extends Schema.Class<Submission>("@barge/qianfan/QianfanBatch/Submission")({
  /** SHA-256 of the input and the task parameters: the idempotency key. */
  hash: Schema.String,
  taskIds: Schema.NonEmptyArray(Schema.String),
  lines: Schema.Number,
  /** How many of the tasks an earlier attempt had already created. */
  attached: Schema.Number
}) {}

/**
 * Tasks to wait for or read: a task id, several, or a submission.
 *
 * @since 0.1.0
 * @category models
 */
export type Target = string | Arr.NonEmptyReadonlyArray<string> | Submission

/**
 * @since 0.1.0
 * @category models
 */
export interface PollOptions {
  /**
   * Delays between status checks. Default core `Polling.defaultSchedule()`: adaptive while a task reports
   * `progress` of `totalCount` (half the estimated time left, 5 s to 10 min, re-measured at the floor after a stall);
   * backing off from 2 s to 60 s, jittered, while it reports no total. Delays never sleep past the expiry.
   */
  readonly schedule?: Schedule.Schedule<unknown, unknown> | undefined
  /** The tasks' completion window, to stop waiting once it has passed; default 24 h. */
  readonly completionWindow?: Duration.DurationInput | undefined
  /**
   * Stop every task of the target (`StopBatchInferenceTask`) if this wait is interrupted. Default `false`:
   * interrupting only stops polling and the tasks keep running.
   */
  readonly cancelOnInterrupt?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category errors
 */
export type SubmitError = Errors.QianfanError | InputValidation.InputValidationError

/**
 * @since 0.1.0
 * @category errors
 */
export type AwaitError = Errors.QianfanError | Errors.TaskEnded | Polling.PollingTimeout

/**
 * @since 0.1.0
 * @category errors
 */
export type ResultsError = Errors.QianfanError | Jsonl.JsonlError | Download.DownloadTruncated

/**
 * The service.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** How `submit` cuts input into files and tasks. */
  readonly limits: Limits
  /** The BOS bucket input is uploaded to and output read from. */
  readonly storage: Storage.Service
  /**
   * `CreateBatchInferenceTask`: returns the new task's id. Not retried (see `submit` for the safe way). A
   * `completion_window` Qianfan would refuse fails with `InputValidationError` before anything is sent.
   */
  readonly createTask: (
    request: Wire.CreateTaskRequest
  ) => Effect.Effect<string, Errors.QianfanError | InputValidation.InputValidationError>
  /** `DescribeBatchInferenceTask`. */
  readonly describeTask: (taskId: string) => Effect.Effect<Wire.Task, Errors.QianfanError>
  /** `DescribeBatchInferenceTasks`, every page (`marker`/`maxKeys`), newest first unless `pageReverse`. */
  readonly listTasks: (options?: {
    readonly runStatus?: ReadonlyArray<Wire.RunStatus> | undefined
    readonly pageReverse?: boolean | undefined
    readonly pageSize?: number | undefined
  }) => Stream.Stream<Wire.Task, Errors.QianfanError>
  /** `StopBatchInferenceTask`; `result: false` fails with `StopRefused`. */
  readonly stopTask: (taskId: string) => Effect.Effect<void, Errors.QianfanError | Errors.StopRefused>
  /**
   * Validates every line (nothing is sent if one is bad), splits the input into files and tasks within the
   * limits, uploads it under a prefix named by the content hash, and creates the tasks — or attaches to those an
   * earlier attempt with the same content created (found by the tag in their name and description).
   */
  readonly submit: <E = never, R = never>(
    input: Input<E, R>,
    options: SubmitOptions
  ) => Effect.Effect<Submission, SubmitError | E, R>
  /** Polls until every task is final: `Done` succeeds, `Failed`/`Stopped`/`Expired` fail typed with the task. */
  readonly await: (
    target: Target,
    options?: PollOptions
  ) => Effect.Effect<Arr.NonEmptyReadonlyArray<Wire.Task>, AwaitError>
  /** Every observed change of each task (status, `progress`), ending with its final state. */
  readonly watch: (
    target: Target,
    options?: PollOptions
  ) => Stream.Stream<Wire.Task, Errors.QianfanError | Polling.PollingTimeout>
  /**
   * Every result in every output file under `outputBosUri/outputDir/` of each task, in constant memory; a dropped
   * download resumes from the last complete line.
   */
  readonly results: (target: Target) => Stream.Stream<Batch.BatchResult, ResultsError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class QianfanBatch extends Context.Tag("@barge/qianfan/QianfanBatch")<QianfanBatch, Service>() {}

/**
 * How input is cut: at most `maxFilesPerTask` files of at most `maxBytesPerFile` each and `maxBytesPerTask` in all
 * per task (documented: 100 files, 300 MB; files of 100 MB as the official helper cuts them).
 *
 * @since 0.1.0
 * @category models
 */
export type Limits = Plan.Limits

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultLimits: Limits = {
  maxFilesPerTask: 100,
  maxBytesPerTask: 300 * 1024 * 1024,
  maxBytesPerFile: 100 * 1024 * 1024
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultEndpoint = "https://qianfan.baidubce.com"

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultBosEndpoint = "https://bj.bcebos.com"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly accessKeyId: Redacted.Redacted<string>
  readonly secretAccessKey: Redacted.Redacted<string>
  /** Console endpoint; default `qianfan.baidubce.com` (https). */
  readonly endpoint?: string | undefined
  /** BOS endpoint; default `bj.bcebos.com` (https). */
  readonly bosEndpoint?: string | undefined
  /** The BOS bucket for input and output. */
  readonly bucket: string
  /** Key prefix for uploaded input; default `barge/input/`. */
  readonly inputPrefix?: string | undefined
  /** Key prefix for task output; default `barge/output/`. */
  readonly outputPrefix?: string | undefined
  readonly limits?: Partial<Limits> | undefined
  /** Retry policy of idempotent calls (see core `Transport`). */
  readonly retry?: Transport.RetryOptions | false | undefined
  /** Per-attempt time to response headers; default 60 s. */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Allow plain `http://` endpoints on hosts other than loopback (credentials and data would travel
   * unencrypted). Default `false`: such endpoints are refused with `RequestFailed` (`InsecureEndpoint`).
   */
  readonly allowInsecureHttp?: boolean | undefined
  /**
   * How many times `submit` re-sends a create whose outcome was unknown after finding no task; default 4.
   */
  readonly createAttempts?: number | undefined
  /**
   * The first wait before such a re-send; it doubles (jittered) for each later one. Default 1 s; tests and soaks
   * shorten it.
   */
  readonly createBackoff?: Duration.DurationInput | undefined
}

const withScheme = (endpoint: string) =>
  (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`).replace(/\/+$/, "")

const withSlash = (prefix: string) => (prefix === "" || prefix.endsWith("/") ? prefix : prefix + "/")

const taskIdsOf = (target: Target): Arr.NonEmptyReadonlyArray<string> =>
  typeof target === "string" ? [target] : target instanceof Submission ? target.taskIds : target

/**
 * One output line as a result. A `{error_code, error_msg}` output is a failure; an OpenAI-style output (with
 * `choices`) is kept as it is; a v1 ERNIE output (`result`) becomes a chat completion with its fields preserved.
 *
 * @since 0.1.0
 * @category results
 */
export const toResult = (line: Wire.OutputLine): Batch.BatchResult => {
  const customId = String(line.id)
  const output = line.output
  const failed = (code: string, message: string, statusCode?: number): Batch.BatchResult => ({
    _tag: "Failed",
    customId,
    error: new Batch.RequestError(statusCode === undefined ? { code, message } : { code, message, statusCode })
  })
  if (!Predicate.isRecord(output)) return failed("missing_output", "the output line carries no model response")
  if (output.error_code !== undefined) {
    return failed(String(output.error_code), typeof output.error_msg === "string" ? output.error_msg : "")
  }
  const candidate = Array.isArray(output.choices) ? output : {
    ...output,
    id: output.id === undefined ? undefined : String(output.id),
    choices: [{
      index: 0,
      message: { role: "assistant", content: typeof output.result === "string" ? output.result : null },
      finish_reason: typeof output.finish_reason === "string" ? output.finish_reason : null
    }]
  }
  return Either.match(ChatRequest.decodeResponse(candidate), {
    onLeft: () => failed("invalid_response", "the output is not a chat completion"),
    onRight: (response) => ({ _tag: "Succeeded", customId, response })
  })
}

const bosLocation = (uri: string): { readonly bucket: string; readonly prefix: string } | undefined => {
  const match = /^bos:\/+([^/]+)\/?(.*)$/.exec(uri)
  return match === null ? undefined : { bucket: match[1]!, prefix: withSlash(match[2]!) }
}

/**
 * Builds the service on the ambient `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const signer = Signer.bce({
      accessKeyId: Redacted.value(options.accessKeyId),
      secretAccessKey: options.secretAccessKey
    })
    const common = {
      signer,
      retry: options.retry,
      timeout: options.timeout,
      allowInsecureHttp: options.allowInsecureHttp,
      requestIdHeader: "x-bce-request-id"
    }
    const consoleTransport = yield* Transport.make({
      ...common,
      provider: "qianfan",
      baseUrl: withScheme(options.endpoint ?? defaultEndpoint),
      // The console may answer an error with 200 and the `{requestId, code, message}` envelope.
      isErrorEnvelope: (body) => Option.isSome(Schema.decodeUnknownOption(Wire.ErrorEnvelope)(body))
    })
    const bos = yield* Transport.make({
      ...common,
      provider: "bos",
      baseUrl: withScheme(options.bosEndpoint ?? defaultBosEndpoint)
    })
    const storage = Storage.fromTransport(bos, options.bucket)
    const limits: Limits = { ...defaultLimits, ...options.limits }

    const console = Console.make(consoleTransport)
    const { describeTask, listTasks, stopTask } = console
    const createTask: Service["createTask"] = (request) => {
      const problem = request.completion_window === undefined
        ? undefined
        : Wire.checkCompletionWindow(request.completion_window)
      return problem === undefined ? console.createTask(request) : Effect.fail(
        new InputValidation.InputValidationError({
          issues: [new InputValidation.Issue({ lineNumber: 0, rule: "InvalidParameter", message: problem })],
          totalIssues: 1,
          lines: 0,
          bytes: 0
        })
      )
    }
    const submitWith = Submit.make({
      console,
      storage,
      limits,
      inputPrefix: withSlash(options.inputPrefix ?? "barge/input/"),
      outputPrefix: withSlash(options.outputPrefix ?? "barge/output/"),
      createAttempts: options.createAttempts ?? 4,
      createBackoff: options.createBackoff ?? "1 second"
    })

    const submit = <E, R>(input: Input<E, R>, submitOptions: SubmitOptions) =>
      Effect.map(
        submitWith(
          Stream.StreamTypeId in (input as object)
            ? input as Stream.Stream<unknown, E, R>
            : Stream.fromIterable(Array.isArray(input) ? input : Array.from(input as Iterable<unknown>)),
          submitOptions
        ),
        (result) =>
          new Submission({
            ...result,
            taskIds: result.taskIds as Arr.NonEmptyReadonlyArray<string>
          })
      )

    const pollOptions = (pollingOptions: PollOptions | undefined) => {
      const window = Duration.toMillis(pollingOptions?.completionWindow ?? "24 hours")
      return {
        isTerminal: (task: Wire.Task) => Wire.isTerminal(task.runStatus),
        expiresAt: (task: Wire.Task) => {
          const created = task.createTime === undefined ? NaN : Date.parse(task.createTime)
          return Number.isNaN(created) ? undefined : created + window
        },
        schedule: pollingOptions?.schedule,
        // For core's adaptive default schedule; a task that has not reported its total yet falls back to backoff.
        progress: (task: Wire.Task) =>
          task.totalCount !== undefined && task.totalCount > 0
            ? { completed: task.progress ?? 0, total: task.totalCount }
            : undefined
      }
    }

    const ended = (task: Wire.Task): Effect.Effect<Wire.Task, Errors.TaskEnded> => {
      switch (task.runStatus) {
        case "Failed":
          return Effect.fail(new Errors.TaskFailed({ task }))
        case "Stopped":
          return Effect.fail(new Errors.TaskStopped({ task }))
        case "Expired":
          return Effect.fail(new Errors.TaskExpired({ task }))
        default:
          return Effect.succeed(task)
      }
    }

    // Cancelling on interruption is done for the whole target, outside the per-task polls: a task that fails
    // interrupts its siblings' polls, which must not stop them.
    const stopAll = (target: Target) =>
      Effect.forEach(taskIdsOf(target), (taskId) => Effect.ignore(stopTask(taskId)), {
        concurrency: "unbounded",
        discard: true
      })

    const awaitTasks: Service["await"] = (target, pollingOptions) =>
      Effect.forEach(
        taskIdsOf(target),
        (taskId) =>
          Polling.awaitTerminal(describeTask(taskId), pollOptions(pollingOptions)).pipe(Effect.flatMap(ended)),
        { concurrency: "unbounded" }
      ).pipe(
        Effect.map((tasks) => tasks as unknown as Arr.NonEmptyReadonlyArray<Wire.Task>),
        pollingOptions?.cancelOnInterrupt === true ? Effect.onInterrupt(() => stopAll(target)) : identity
      )

    const watch: Service["watch"] = (target, pollingOptions) => {
      const merged = Stream.mergeAll(
        taskIdsOf(target).map((taskId) => Polling.watch(describeTask(taskId), pollOptions(pollingOptions))),
        { concurrency: "unbounded" }
      )
      return pollingOptions?.cancelOnInterrupt === true
        ? Stream.unwrapScoped(Effect.as(
          Effect.addFinalizer((exit) => Exit.isInterrupted(exit) ? stopAll(target) : Effect.void),
          merged
        ))
        : merged
    }

    const outputOf = (task: Wire.Task): Stream.Stream<Batch.BatchResult, ResultsError> => {
      const location = task.outputBosUri === undefined ? undefined : bosLocation(task.outputBosUri)
      if (location === undefined || task.outputDir === undefined) return Stream.empty
      const bucket = location.bucket === storage.bucket ? storage : Storage.fromTransport(bos, location.bucket)
      return bucket.list(`${location.prefix}${task.outputDir}/`).pipe(
        Stream.flatMap((object) =>
          bucket.lines(object.key).pipe(
            // Chunk by chunk, no Effect per line: output files run to gigabytes. Blank lines are skipped.
            Jsonl.decodeLines(Wire.OutputLine, { fast: Wire.fastOutputLine }),
            Stream.map(toResult)
          )
        )
      )
    }

    const results: Service["results"] = (target) =>
      Stream.fromIterable(taskIdsOf(target)).pipe(
        Stream.mapEffect(describeTask),
        Stream.flatMap(outputOf)
      )

    return QianfanBatch.of({
      limits,
      storage,
      createTask,
      describeTask,
      listTasks,
      stopTask,
      submit,
      await: awaitTasks,
      watch,
      results
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<QianfanBatch, never, HttpClient.HttpClient> =>
  Layer.effect(QianfanBatch, make(options))

/**
 * Reads `QIANFAN_ACCESS_KEY` and `QIANFAN_SECRET_KEY` (the official SDKs' names, redacted), `QIANFAN_BOS_BUCKET`,
 * and optionally `QIANFAN_ENDPOINT`, `QIANFAN_BOS_ENDPOINT`, `QIANFAN_INPUT_PREFIX`, `QIANFAN_OUTPUT_PREFIX`.
 * Values given in `overrides` win over the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides: Partial<Options> = {}
): Layer.Layer<QianfanBatch, ConfigError.ConfigError, HttpClient.HttpClient> => {
  const pick = <K extends keyof Options>(key: K, fallback: Config.Config<Options[K]>): Config.Config<Options[K]> =>
    overrides[key] === undefined ? fallback : Config.succeed(overrides[key] as Options[K])
  const optional = (name: string) => Config.string(name).pipe(Config.option, Config.map(Option.getOrUndefined))
  const endpoint = (name: string) =>
    Transport.endpointConfig(name, { bareHost: true }).pipe(Config.option, Config.map(Option.getOrUndefined))
  return Layer.effect(
    QianfanBatch,
    Effect.flatMap(
      Config.all({
        accessKeyId: pick("accessKeyId", Credential.redacted("QIANFAN_ACCESS_KEY")),
        secretAccessKey: pick("secretAccessKey", Credential.redacted("QIANFAN_SECRET_KEY")),
        bucket: pick("bucket", Config.nonEmptyString("QIANFAN_BOS_BUCKET")),
        endpoint: pick("endpoint", endpoint("QIANFAN_ENDPOINT")),
        bosEndpoint: pick("bosEndpoint", endpoint("QIANFAN_BOS_ENDPOINT")),
        inputPrefix: pick("inputPrefix", optional("QIANFAN_INPUT_PREFIX")),
        outputPrefix: pick("outputPrefix", optional("QIANFAN_OUTPUT_PREFIX"))
      }),
      (config) => make({ ...overrides, ...config })
    )
  )
}

/**
 * The provider-agnostic `Batch` service (from `@barge/core`) over `QianfanBatch`: requests become `{id, query}`
 * lines (or the `role` format for conversations), a part's model becomes `endpoint` (or `modelId` for `amv-…`).
 *
 * @example
 * ```ts
 * import { Batch } from "@barge/core"
 * import { QianfanBatch } from "@barge/qianfan"
 * import { Layer } from "effect"
 *
 * const BatchLive = QianfanBatch.layerBatch.pipe(Layer.provide(QianfanBatch.layerConfig()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBatch: Layer.Layer<Batch.Batch, never, QianfanBatch> = Batch.layer(
  Effect.map(QianfanBatch, (service) => Driver.make(service, service.limits))
)
