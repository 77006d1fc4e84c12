/**
 * What a provider package tells the tools around it — the `barge` CLI, the demo, the emulator helper — so they
 * list providers from data instead of a `switch`: its name, the credentials it reads, and its `Batch` layer
 * configured from the environment or pointed at an emulator.
 *
 * @example
 * ```ts
 * import { Registry } from "@barge/core"
 * import { MoonshotBatch } from "@barge/moonshot"
 *
 * const providers: ReadonlyArray<Registry.Entry> = [MoonshotBatch.registry]
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Batch from "./Batch.js"
import type * as Provider from "./Provider.js"

/**
 * Where an emulator of the providers listens, and what it accepts: provided by `@barge/emulator`, read by each
 * provider's {@link Entry.layerEmulated}. Providers look their services up by name, so core names none.
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoints {
  /** The base URL of one emulated service (`ark`, `tos`, `moonshot`, …), without a trailing slash. */
  readonly url: (service: string) => string
  /** A credential the emulator accepts (`volcengine.accessKeyId`, `moonshot.apiKey`, …). */
  readonly credential: (name: string) => Redacted.Redacted<string>
  /** An object-storage bucket that exists in every emulated object store. */
  readonly bucket: string
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Emulated extends Context.Tag("@barge/core/Registry/Emulated")<Emulated, Endpoints>() {}

/**
 * One provider as the tools see it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  /** The provider's name: the prefix of its batch ids and the CLI's `--provider` value. */
  readonly name: string
  /** Its name for people (`Volcengine Ark`). */
  readonly title: string
  /** A model the provider documents for batch jobs (what examples and the demo send; the emulator knows it). */
  readonly model: string
  /** The environment variables it needs to run for real (credentials, a bucket). */
  readonly credentials: ReadonlyArray<string>
  /** The unified `Batch` service configured from the environment. */
  readonly layerConfig: Layer.Layer<Batch.Batch, ConfigError.ConfigError, HttpClient.HttpClient>
  /** The unified `Batch` service pointed at an emulator. */
  readonly layerEmulated: Layer.Layer<Batch.Batch, never, HttpClient.HttpClient | Emulated>
}

/**
 * Whether every variable the provider needs is set (non-empty) in `env`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const hasCredentials = (entry: Entry, env: Readonly<Record<string, string | undefined>>): boolean =>
  entry.credentials.every((name) => (env[name] ?? "").trim().length > 0)

/**
 * A provider's service pointed at an emulator: built by `make` from the endpoints the emulator provides
 * ({@link Emulated}) — every provider's `layerEmulated` has this shape.
 *
 * @example
 * ```ts
 * import { Registry } from "@barge/core"
 * import { MoonshotBatch } from "@barge/moonshot"
 *
 * const emulated = Registry.layerEmulated(MoonshotBatch.MoonshotBatch, (endpoints) =>
 *   MoonshotBatch.make({ apiKey: endpoints.credential("moonshot.apiKey"), baseUrl: `${endpoints.url("moonshot")}/v1` }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const layerEmulated = <I, S, R>(
  tag: Context.Tag<I, S>,
  make: (endpoints: Endpoints) => Effect.Effect<S, never, R>
): Layer.Layer<I, never, R | Emulated> => Layer.effect(tag, Effect.flatMap(Emulated, make))

/**
 * A provider's {@link Entry} from its service's tag and the two layers of that service: the unified `Batch`
 * over each.
 *
 * @since 0.1.0
 * @category constructors
 */
export const entry = <I, S extends Provider.Service<any, any, any, any, any>>(
  tag: Context.Tag<I, S>,
  options: {
    readonly name: string
    readonly title: string
    readonly model: string
    readonly credentials: ReadonlyArray<string>
    readonly layerConfig: Layer.Layer<I, ConfigError.ConfigError, HttpClient.HttpClient>
    readonly layerEmulated: Layer.Layer<I, never, HttpClient.HttpClient | Emulated>
  }
): Entry => {
  const batch = Batch.layer(tag)
  return {
    ...options,
    layerConfig: Layer.provide(batch, options.layerConfig),
    layerEmulated: Layer.provide(batch, options.layerEmulated)
  }
}
