/**
 * Baidu Qianfan batch inference (the console's `/v2/batchinference?Action=…` API, input and output in BOS) as an
 * Effect service. The lifecycle is core's (`Provider.make`): `submit` checks every request before anything is
 * sent, puts requests that share a model, data format and parameters into one task (Qianfan takes
 * `inferenceParams` per task, so no request's parameters are ever replaced by another's), splits within the
 * documented limits (100 files, 300 MB per task), uploads each task's files under a prefix named by its part key and
 * creates each task once; `await`, `watch` and `results` work on the logical batch id. The provider's own jobs are
 * there too — `create`, `get`, `list`, `cancel` — plus `delete` (`DeleteBatchInferenceTask`).
 *
 * @example
 * ```ts
 * import { QianfanBatch } from "@barge/qianfan"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const qianfan = yield* QianfanBatch.QianfanBatch
 *   const submitted = yield* qianfan.submit([
 *     { customId: "1", model: "ernie-4.0-8k", messages: [{ role: "user", content: "地球的自转周期是多久？" }] }
 *   ])
 *   yield* qianfan.await(submitted.id)
 *   yield* qianfan.results(submitted.id).pipe(Stream.runForEach((r) => Effect.log(r.customId, r._tag)))
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
import type * as ApiError from "@barge/core/ApiError"
import * as Batch from "@barge/core/Batch"
import * as Credential from "@barge/core/Credential"
import type * as InputValidation from "@barge/core/InputValidation"
import * as Provider from "@barge/core/Provider"
import * as Registry from "@barge/core/Registry"
import * as Signer from "@barge/core/Signer"
import * as Transport from "@barge/core/Transport"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Console from "./internal/console.js"
import * as Qianfan from "./internal/provider.js"
import * as Storage from "./Storage.js"
import * as Wire from "./Wire.js"

/**
 * Qianfan's own submit options, beside core's (`model`, `completionWindow` — `24h` or none —, …).
 *
 * @since 0.1.0
 * @category models
 */
export interface SubmitOptions {
  /**
   * When the account already has 20 active tasks, retry the create on this schedule instead of failing with
   * `TaskRunningNumberExceedLimit` (e.g. `Schedule.spaced("1 minute").pipe(Schedule.upTo("1 hour"))`).
   */
  readonly waitForCapacity?: Schedule.Schedule<unknown, ApiError.ApiError | Provider.Failure> | undefined
}

/**
 * What `list` takes (`DescribeBatchInferenceTasks`): statuses to keep, the order, the page size.
 *
 * @since 0.1.0
 * @category models
 */
export type ListFilter = Console.ListFilter

/**
 * The service: core's lifecycle on batch ids, Qianfan's own tasks (`create` is `CreateBatchInferenceTask` over
 * input already in BOS; its `completion_window` other than `"24h"` is refused before anything is sent), and
 * `delete`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends
  Provider.Service<
    Wire.Task,
    SubmitOptions,
    ListFilter,
    Wire.CreateTaskRequest,
    InputValidation.InputValidationError
  >
{
  /**
   * `DeleteBatchInferenceTask`: removes a finished, failed or stopped task (its output stays in BOS). A task still
   * running is refused by Qianfan: `ApiError` with reason `Conflict`.
   */
  readonly delete: (taskId: string) => Effect.Effect<void, Provider.Failure>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class QianfanBatch extends Context.Tag("@barge/qianfan/QianfanBatch")<QianfanBatch, Service>() {}

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
  /** Retry policy of idempotent calls (see core `Transport`); `false` also sends a failed upload only once. */
  readonly retry?: Transport.RetryOptions | false | undefined
  /** Per-attempt time to response headers; default 60 s. */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Allow plain `http://` endpoints on hosts other than loopback (credentials and data would travel
   * unencrypted). Default `false`: such endpoints are refused with `RequestFailed` (`InsecureEndpoint`).
   */
  readonly allowInsecureHttp?: boolean | undefined
  /** How hard a create whose answer was lost is retried (core `Provider.MakeOptions`). */
  readonly create?: Provider.MakeOptions | undefined
}

const withScheme = (endpoint: string) =>
  (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`).replace(/\/+$/, "")

const withSlash = (prefix: string) => (prefix === "" || prefix.endsWith("/") ? prefix : prefix + "/")

/**
 * Builds the service on the ambient `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const common = {
      signer: Signer.bce({
        accessKeyId: Redacted.value(options.accessKeyId),
        secretAccessKey: options.secretAccessKey
      }),
      retry: options.retry,
      timeout: options.timeout,
      allowInsecureHttp: options.allowInsecureHttp,
      requestIdHeader: "x-bce-request-id"
    }
    const console = Console.make(
      yield* Transport.make({
        ...common,
        provider: "qianfan",
        baseUrl: withScheme(options.endpoint ?? defaultEndpoint),
        // The console may answer an error with 200 and the `{requestId, code, message}` envelope.
        isErrorEnvelope: (body) => Option.isSome(Schema.decodeUnknownOption(Wire.ErrorEnvelope)(body))
      })
    )
    const bos = yield* Transport.make({
      ...common,
      provider: "bos",
      baseUrl: withScheme(options.bosEndpoint ?? defaultBosEndpoint)
    })
    const contract = Qianfan.make({
      console,
      storage: Storage.fromTransport(bos, options.bucket),
      bucket: (name) => Storage.fromTransport(bos, name),
      inputPrefix: withSlash(options.inputPrefix ?? "barge/input/"),
      outputPrefix: withSlash(options.outputPrefix ?? "barge/output/"),
      uploadRetry: options.retry === false ? undefined : Transport.defaultRetrySchedule()
    })
    const service = Provider.make(contract, {
      ...options.create,
      create: (request: Wire.CreateTaskRequest) =>
        Qianfan.checkWindow(request).pipe(
          Effect.zipRight(console.create(request)),
          Effect.flatMap(console.describe)
        )
    })
    return QianfanBatch.of({ ...service, delete: console.delete })
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
 * The service pointed at an emulator (`@barge/emulator`'s `Emulator.layer()` provides `Registry.Emulated`): its
 * Qianfan and BOS URLs, the BCE credentials it accepts and its bucket.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEmulated: Layer.Layer<QianfanBatch, never, HttpClient.HttpClient | Registry.Emulated> = Registry
  .layerEmulated(QianfanBatch, (emulated) =>
    make({
      accessKeyId: emulated.credential("bce.accessKeyId"),
      secretAccessKey: emulated.credential("bce.secretAccessKey"),
      endpoint: emulated.url("qianfan"),
      bosEndpoint: emulated.url("bos"),
      bucket: emulated.bucket
    }))

/**
 * The provider-agnostic `Batch` service (from `@barge/core`) over `QianfanBatch`.
 *
 * @example
 * ```ts
 * import { QianfanBatch } from "@barge/qianfan"
 * import { Layer } from "effect"
 *
 * const BatchLive = QianfanBatch.layerBatch.pipe(Layer.provide(QianfanBatch.layerConfig()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBatch: Layer.Layer<Batch.Batch, never, QianfanBatch> = Batch.layer(QianfanBatch)

/**
 * Qianfan as the tools (the `barge` CLI, the demo) see it.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry: Registry.Entry = Registry.entry(QianfanBatch, {
  name: "qianfan",
  title: "Baidu Qianfan",
  model: "ernie-4.5-turbo-32k",
  credentials: ["QIANFAN_ACCESS_KEY", "QIANFAN_SECRET_KEY", "QIANFAN_BOS_BUCKET"],
  layerConfig: layerConfig(),
  layerEmulated
})
