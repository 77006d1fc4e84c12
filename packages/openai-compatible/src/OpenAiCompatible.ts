/**
 * The OpenAI-compatible batch service, written once and parameterised by a {@link Profile.Profile}: core's
 * lifecycle (`submit`, `await`, `watch`, `results`, …) over the platform's Files and Batches API, its own jobs
 * (`create`, `get`, `list`, `cancel`), and its genuine extras — the Files API (`files`) and `cleanup`, which deletes
 * old batch files before the platform's file quota is reached.
 *
 * Every platform's service (`OpenAiBatch`, `MoonshotBatch`, `QianfanV2Batch`) is this service under its own tag,
 * built with {@link define}.
 *
 * @since 0.1.0
 */
import * as Batch from "@barge/core/Batch"
import * as Credential from "@barge/core/Credential"
import * as Provider from "@barge/core/Provider"
import * as Registry from "@barge/core/Registry"
import * as Transport from "@barge/core/Transport"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as Files from "./Files.js"
import * as Client from "./internal/client.js"
import * as internal from "./internal/provider.js"
import * as assemble from "./internal/service.js"
import * as Profile from "./Profile.js"
import type * as Wire from "./Wire.js"

/**
 * The raw create: a batch over a file already uploaded, in the platform's terms. The window is mapped onto what
 * the platform accepts (or refused before sending); default the profile's.
 *
 * @since 0.1.0
 * @category models
 */
export type CreateRequest = internal.CreateRequest

/**
 * What the batches `list` takes.
 *
 * @since 0.1.0
 * @category models
 */
export type ListFilter = internal.ListFilter

/**
 * The service of every OpenAI-compatible platform: the provider contract's verbs plus the Files API and `cleanup`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends Provider.Service<Wire.Batch, {}, ListFilter, CreateRequest> {
  /** The profile, with the base URL in use. */
  readonly profile: Profile.Profile
  readonly files: Files.Files
  /**
   * Deletes `purpose=batch` files older than `olderThan` that no unfinished batch reads — a dry run unless
   * `dryRun: false` — so uploads stay under the platform's file quota (Kimi: 1000 batch files).
   */
  readonly cleanup: (options: Files.CleanupOptions) => Effect.Effect<Files.CleanupReport, Provider.Failure>
}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly apiKey: Redacted.Redacted<string>
  /** Overrides the profile's base URL (a proxy, an emulator); include the version path (`/v1`). */
  readonly baseUrl?: string | undefined
  /** Retry policy of the calls (core `Transport`); quota refusals are never retried. */
  readonly retry?: Transport.RetryOptions | false | undefined
  /** Per-attempt time to response headers; default 60 s. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Allow plain `http://` to hosts other than loopback (the key would travel unencrypted); default `false`. */
  readonly allowInsecureHttp?: boolean | undefined
  /** How hard `submit` tries to create a batch whose create answer was lost (core `Provider.MakeOptions`). */
  readonly create?: Provider.MakeOptions | undefined
  /** Delays between reopening a dropped result download (core `Download.resumableLines`). */
  readonly downloadSchedule?: Schedule.Schedule<unknown, unknown> | undefined
  /**
   * Delete each batch's input file once the batch is final and its results no longer need it (the platforms cap
   * how many files an account keeps); default `true`.
   */
  readonly deleteInputFiles?: boolean | undefined
}

/**
 * The service for a profile, on the ambient `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  profile: Profile.Profile,
  options: Options
): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.map(Client.make(profile, options), (client) => {
    const bound: Profile.Profile = { ...profile, baseUrl: client.baseUrl }
    const { create, provider } = internal.make(client, options)
    const files: Files.Files = {
      upload: client.upload,
      list: client.listFiles,
      retrieve: client.retrieveFile,
      delete: client.deleteFile,
      content: (fileId, contentOptions) => client.content(fileId, contentOptions?.offset ?? 0)
    }
    return assemble.service(
      bound,
      Provider.make(provider, { ...options.create, create }),
      files,
      assemble.cleanup(client)
    )
  })

/**
 * Where a platform's service reads its configuration and where the emulator serves it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Definition<O> {
  readonly profile: Profile.Profile
  /** A model the platform documents for batch jobs (for examples and the demo; the emulator knows it). */
  readonly model: string
  /** Environment variables: the API key (required) and the base URL (optional, with the version path). */
  readonly env: { readonly apiKey: string; readonly baseUrl: string }
  /** The emulated service's name and credential name in `Registry.Emulated`. */
  readonly emulated: { readonly service: string; readonly credential: string }
  /** Turns the service's own options into {@link Options} (e.g. Moonshot's region into a base URL). */
  readonly options?: ((options: O) => Options) | undefined
}

/**
 * What {@link define} builds for a platform's tag: the constructors every provider package exports.
 *
 * @since 0.1.0
 * @category models
 */
export interface Defined<I, O> {
  /** The service, on the ambient `HttpClient`. */
  readonly make: (options: O) => Effect.Effect<Service, never, HttpClient.HttpClient>
  /** The service under the platform's tag. */
  readonly layer: (options: O) => Layer.Layer<I, never, HttpClient.HttpClient>
  /** The service from the environment; the overrides given win over it. */
  readonly layerConfig: (overrides?: Partial<O>) => Layer.Layer<I, ConfigError.ConfigError, HttpClient.HttpClient>
  /** The service pointed at an emulator (`Registry.Emulated`). */
  readonly layerEmulated: Layer.Layer<I, never, HttpClient.HttpClient | Registry.Emulated>
  /** The unified `Batch` service over the platform's tag. */
  readonly layerBatch: Layer.Layer<Batch.Batch, never, I>
  /** The platform as the tools list it. */
  readonly registry: Registry.Entry
}

/**
 * A platform's constructors from its tag and definition: `make`, `layer`, `layerConfig` (values given win over
 * the environment), `layerEmulated`, `layerBatch` and its `registry` entry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const define = <I, O extends Options = Options>(
  tag: Context.Tag<I, Service>,
  definition: Definition<O>
): Defined<I, O> => {
  const { emulated, env, profile } = definition
  const toOptions = definition.options ?? ((options: O): Options => options)
  const makeService = (options: O) => make(profile, toOptions(options))
  const layer = (options: O) => Layer.effect(tag, makeService(options))
  const layerConfig = (overrides?: Partial<O>) =>
    Layer.effect(
      tag,
      Effect.flatMap(
        Config.all({
          apiKey: overrides?.apiKey === undefined
            ? Credential.redacted(env.apiKey)
            : Config.succeed(overrides.apiKey),
          baseUrl: Config.option(Transport.endpointConfig(env.baseUrl))
        }),
        ({ apiKey, baseUrl }) =>
          makeService({
            ...Option.match(baseUrl, { onNone: () => ({}), onSome: (url) => ({ baseUrl: url }) }),
            ...overrides,
            apiKey
          } as O)
      )
    )
  const layerEmulated = Registry.layerEmulated(tag, (endpoints) =>
    make(profile, {
      apiKey: endpoints.credential(emulated.credential),
      baseUrl: `${endpoints.url(emulated.service)}${Profile.versionPath(profile)}`
    }))
  // Not `Batch.layer(tag)`: a tag is invariant in its service, and this service extends the contract's.
  const layerBatch = Batch.layer(tag)
  return {
    make: makeService,
    layer,
    layerConfig,
    layerEmulated,
    layerBatch,
    registry: Registry.entry(tag, {
      name: profile.name,
      title: profile.title,
      model: definition.model,
      credentials: [env.apiKey],
      layerConfig: layerConfig(),
      layerEmulated
    })
  }
}
