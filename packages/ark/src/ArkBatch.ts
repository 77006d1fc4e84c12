/**
 * Volcengine Ark batch inference as an Effect service, on core's provider contract: the lifecycle verbs every
 * provider shares (`submit`, `await`, `watch`, `results`, …), Ark's own jobs (`create`, `get`, `list`, `cancel`)
 * and Ark's extras in its words (`update`, `delete`, `resume`).
 *
 * A submission's input goes to TOS under a key derived from its content, and each job carries its part's key as a
 * tag, so submitting the same requests again finds the jobs already created — and Ark's own rule (one active job
 * per project, bucket and input key) backs that up.
 *
 * @example
 * ```ts
 * import { ArkBatch } from "@barge/ark"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const ark = yield* ArkBatch.ArkBatch
 *   const submission = yield* ark.submit([
 *     { customId: "q1", model: "doubao-pro-32k", messages: [{ role: "user", content: "Why is the sky blue?" }] }
 *   ], { completionWindow: "3 days" })
 *   yield* ark.await(submission.id)
 *   yield* Stream.runForEach(ark.results(submission.id), (result) => Effect.log(result))
 * })
 *
 * program.pipe(
 *   Effect.provide(ArkBatch.layerConfig()),
 *   Effect.provide(NodeHttpClient.layerUndici),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Batch from "@barge/core/Batch"
import type * as CompletionWindow from "@barge/core/CompletionWindow"
import * as Credential from "@barge/core/Credential"
import type * as InputValidation from "@barge/core/InputValidation"
import * as Provider from "@barge/core/Provider"
import * as Registry from "@barge/core/Registry"
import * as Transport from "@barge/core/Transport"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Errors from "./Errors.js"
import * as internal from "./internal/provider.js"
import type * as Job from "./Job.js"
import type * as Wire from "./Wire.js"

/**
 * Ark's own submit options, beside core's (`model`, `completionWindow`, `metadata` — stored as job tags).
 *
 * @since 0.1.0
 * @category models
 */
export interface SubmitOptions {
  /** The bucket for the input and outputs; default the service's. */
  readonly bucket?: string | undefined
  /** Key prefix for `inputs/` and `outputs/`; default the service's (else `barge/ark/`). */
  readonly prefix?: string | undefined
  /** Default the service's project (else Ark's `default`). */
  readonly projectName?: string | undefined
  /** The jobs' name (letters, digits, `-`, `_`); a split submission adds `-<n>-of-<parts>`. Default `barge-<key>`. */
  readonly name?: string | undefined
  readonly description?: string | undefined
}

/**
 * What `list` takes (all optional).
 *
 * @since 0.1.0
 * @category models
 */
export interface ListFilter {
  readonly projectName?: string | undefined
  readonly ids?: ReadonlyArray<string> | undefined
  /** Jobs whose name contains this. */
  readonly name?: string | undefined
  readonly phases?: ReadonlyArray<Wire.Phase> | undefined
  readonly foundationModels?:
    | ReadonlyArray<{ readonly name: string; readonly versions?: ReadonlyArray<string> | undefined }>
    | undefined
  readonly customModelIds?: ReadonlyArray<string> | undefined
  /** Jobs with tag `key` set to one of `values` (any value when `values` is empty). */
  readonly tags?:
    | ReadonlyArray<{ readonly key: string; readonly values?: ReadonlyArray<string> | undefined }>
    | undefined
  readonly sortBy?: "CreateTime" | "UpdateTime" | undefined
  readonly sortOrder?: "Asc" | "Desc" | undefined
  /** Items per page request (1–100, default 100). */
  readonly pageSize?: number | undefined
}

/**
 * Ark's own create: one job over an input already in TOS, in Ark's terms.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateRequest {
  /** 1–200 letters, digits, `-` or `_`. */
  readonly name: string
  readonly description?: string | undefined
  /** Default the service's project (else Ark's `default`). */
  readonly projectName?: string | undefined
  readonly model: Job.Model
  readonly input: Job.Location
  /** A folder; results go to `<key><JobId>/output/results.jsonl`. */
  readonly outputDir: Job.Location
  /** Sent as whole days `"<N>d"`, 1–28 (`"3 days"`, `"36 hours"` → `"2d"`); Ark's default is 28 days. */
  readonly completionWindow?: CompletionWindow.Input | undefined
  readonly tags?: Readonly<Record<string, string>> | undefined
}

/**
 * How Ark's own `create` fails beyond a refusal: an identical job is already active (Ark's idempotency rule), or
 * the completion window is not one Ark accepts (found before anything is sent).
 *
 * @since 0.1.0
 * @category models
 */
export type CreateError = Errors.DuplicateActiveJob | InputValidation.InputValidationError

/**
 * @since 0.1.0
 * @category models
 */
export interface Service extends Provider.Service<Job.Job, SubmitOptions, ListFilter, CreateRequest, CreateError> {
  /** Renames a job or changes its description. */
  readonly update: (
    jobId: string,
    changes: { readonly name?: string | undefined; readonly description?: string | undefined }
  ) => Effect.Effect<void, Provider.Failure>
  /** Deletes a finished job (its output files stay in TOS). */
  readonly delete: (jobId: string) => Effect.Effect<void, Provider.Failure>
  /** Runs a Terminated or Failed job again (what ran before is kept); the job after the request. */
  readonly resume: (jobId: string) => Effect.Effect<Job.Job, Provider.Failure>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class ArkBatch extends Context.Tag("@barge/ark/ArkBatch")<ArkBatch, Service>() {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly accessKeyId: Redacted.Redacted<string>
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string> | undefined
  /** Default `cn-beijing`. */
  readonly region?: string | undefined
  /** The OpenAPI endpoint; default `https://open.volcengineapi.com`. */
  readonly endpoint?: string | undefined
  /** The TOS endpoint; default `https://tos-<region>.volces.com`. */
  readonly tosEndpoint?: string | undefined
  /** The TOS bucket submissions use (same region and account as the jobs). */
  readonly bucket: string
  /** Key prefix submissions use; default `barge/ark/`. */
  readonly prefix?: string | undefined
  readonly projectName?: string | undefined
  /**
   * Versions for models named without one (`"doubao-pro-32k"` → `240615`), on top of the built-in table
   * (`defaultVersions`). A request may also name `name@version`, or a custom model as `custom:<id>`.
   */
  readonly versions?: Readonly<Record<string, string>> | undefined
  readonly retry?: Transport.RetryOptions | false | undefined
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Allow plain `http://` endpoints on hosts other than loopback (credentials and data would travel
   * unencrypted). Default `false`: such endpoints are refused with `RequestFailed` (`InsecureEndpoint`).
   */
  readonly allowInsecureHttp?: boolean | undefined
  /** How the lifecycle creates jobs whose create answer was lost. */
  readonly create?: Provider.MakeOptions | undefined
}

/**
 * Versions used when a model is named without one: the documented batch models' (spec §1.2).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultVersions: Readonly<Record<string, string>> = internal.defaultVersions

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.map(internal.make(options), (ark) => {
    const service = Provider.make(ark.provider, { ...options.create, create: ark.create })
    return ArkBatch.of({ ...service, update: ark.update, delete: ark.delete, resume: ark.resume })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<ArkBatch, never, HttpClient.HttpClient> =>
  Layer.effect(ArkBatch, make(options))

const defaultEndpoint = "https://open.volcengineapi.com"

/** The given value when there is one, else the configuration. */
const given = <A>(value: A | undefined, config: Config.Config<A>): Config.Config<A> =>
  value === undefined ? config : Config.succeed(value)

const optional = <A>(value: A | undefined, config: Config.Config<A>): Config.Config<A | undefined> =>
  value === undefined ? Config.map(Config.option(config), Option.getOrUndefined) : Config.succeed(value)

/**
 * The options from the environment, the values given winning: `VOLC_ACCESSKEY` and `VOLC_SECRETKEY` (the official
 * SDKs' names, as `Redacted`), `ARK_TOS_BUCKET`, and optionally `VOLC_SESSIONTOKEN` (STS), `VOLC_REGION` (default
 * `cn-beijing`), `ARK_ENDPOINT` (default `https://open.volcengineapi.com`), `TOS_ENDPOINT` (default
 * `https://tos-<region>.volces.com`), `ARK_PROJECT_NAME` and `ARK_TOS_PREFIX`. A missing one is a `ConfigError`
 * naming it.
 *
 * @since 0.1.0
 * @category config
 */
export const config = (overrides: Partial<Options> = {}): Config.Config<Options> =>
  Config.all({
    accessKeyId: given(overrides.accessKeyId, Credential.redacted("VOLC_ACCESSKEY")),
    secretAccessKey: given(overrides.secretAccessKey, Credential.redacted("VOLC_SECRETKEY")),
    sessionToken: optional(overrides.sessionToken, Credential.redacted("VOLC_SESSIONTOKEN")),
    region: given(overrides.region, Config.withDefault(Config.nonEmptyString("VOLC_REGION"), "cn-beijing")),
    endpoint: given(overrides.endpoint, Config.withDefault(Transport.endpointConfig("ARK_ENDPOINT"), defaultEndpoint)),
    tosEndpoint: optional(overrides.tosEndpoint, Transport.endpointConfig("TOS_ENDPOINT", { bareHost: true })),
    bucket: given(overrides.bucket, Config.nonEmptyString("ARK_TOS_BUCKET")),
    prefix: optional(overrides.prefix, Config.string("ARK_TOS_PREFIX")),
    projectName: optional(overrides.projectName, Config.nonEmptyString("ARK_PROJECT_NAME"))
  }).pipe(Config.map((read): Options => ({ ...overrides, ...read })))

/**
 * The service configured from the environment (see {@link config}); the values given win over it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides?: Partial<Options>
): Layer.Layer<ArkBatch, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(ArkBatch, Effect.flatMap(config(overrides), make))

/**
 * The service pointed at an emulator (`@barge/emulator`'s layers provide `Registry.Emulated`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEmulated: Layer.Layer<ArkBatch, never, HttpClient.HttpClient | Registry.Emulated> = Registry
  .layerEmulated(ArkBatch, (emulated) =>
    make({
      accessKeyId: emulated.credential("volcengine.accessKeyId"),
      secretAccessKey: emulated.credential("volcengine.secretAccessKey"),
      endpoint: emulated.url("ark"),
      tosEndpoint: emulated.url("tos"),
      bucket: emulated.bucket
    }))

/**
 * The provider-agnostic `Batch` service backed by `ArkBatch`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBatch: Layer.Layer<Batch.Batch, never, ArkBatch> = Batch.layer(ArkBatch)

/**
 * Ark as the CLI and tools see it.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry: Registry.Entry = Registry.entry(ArkBatch, {
  name: "ark",
  title: "Volcengine Ark",
  model: "doubao-pro-32k",
  credentials: ["VOLC_ACCESSKEY", "VOLC_SECRETKEY", "ARK_TOS_BUCKET"],
  layerConfig: layerConfig(),
  layerEmulated
})
