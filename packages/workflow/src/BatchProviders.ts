/**
 * The providers a worker can run durable batches on: one unified `Batch` service per provider name. An execution
 * names its provider; the worker that picks it up looks the service up here, so one runner serves every provider
 * it has a layer for.
 *
 * @example
 * ```ts
 * import { ArkBatch } from "@barge/ark"
 * import { MoonshotBatch } from "@barge/moonshot"
 * import { BatchProviders } from "@barge/workflow"
 *
 * // Each provider from the environment, by its registry entry:
 * const providers = BatchProviders.layerConfig([ArkBatch.registry, MoonshotBatch.registry])
 * // Or any Batch layers, by name:
 * const custom = BatchProviders.layer({ ark: ArkBatch.registry.layerConfig })
 * ```
 *
 * @since 0.1.0
 */
import * as Batch from "@barge/core/Batch"
import type * as Registry from "@barge/core/Registry"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

/**
 * The execution names a provider this worker has no `Batch` layer for.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownProvider extends Schema.TaggedError<UnknownProvider>("@barge/workflow/UnknownProvider")(
  "UnknownProvider",
  { provider: Schema.String, known: Schema.Array(Schema.String) }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `this worker has no Batch layer for provider "${this.provider}" (it has ${
      this.known.length === 0 ? "none" : this.known.join(", ")
    }); give every worker the same providers`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The providers this worker serves. */
  readonly names: ReadonlyArray<string>
  /** The `Batch` service of `provider`. */
  readonly get: (provider: string) => Effect.Effect<Batch.Service, UnknownProvider>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class BatchProviders extends Context.Tag("@barge/workflow/BatchProviders")<BatchProviders, Service>() {}

/**
 * The service over ready `Batch` services, keyed by provider name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (services: Readonly<Record<string, Batch.Service>>): Service => {
  const names = Object.keys(services)
  return {
    names,
    get: (provider) =>
      Object.hasOwn(services, provider)
        ? Effect.succeed(services[provider]!)
        : Effect.fail(new UnknownProvider({ provider, known: names }))
  }
}

/**
 * Builds each provider's `Batch` layer (its `layerBatch` over its configuration) and serves them by name.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <const Layers extends Readonly<Record<string, Layer.Layer<Batch.Batch, any, any>>>>(
  layers: Layers
): Layer.Layer<
  BatchProviders,
  Layer.Layer.Error<Layers[keyof Layers]>,
  Layer.Layer.Context<Layers[keyof Layers]>
> =>
  Layer.scoped(
    BatchProviders,
    Effect.map(
      Effect.forEach(
        Object.entries(layers),
        ([name, layer]) =>
          Effect.map(Layer.build(layer), (context) => [name, Context.get(context, Batch.Batch)] as const)
      ),
      (entries) => make(Object.fromEntries(entries))
    )
  )

/**
 * Every provider of `entries` (registry entries, e.g. the CLI's `Providers.entries`) configured from the
 * environment (each entry's `layerConfig`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  entries: ReadonlyArray<Registry.Entry>
): Layer.Layer<BatchProviders, ConfigError.ConfigError, HttpClient.HttpClient> =>
  layer(Object.fromEntries(entries.map((entry) => [entry.name, entry.layerConfig])))

/**
 * Every provider of `entries` pointed at an emulator (each entry's `layerEmulated`; `@barge/emulator`'s
 * `Emulator.layer()` provides the endpoints).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEmulated = (
  entries: ReadonlyArray<Registry.Entry>
): Layer.Layer<BatchProviders, never, HttpClient.HttpClient | Registry.Emulated> =>
  layer(Object.fromEntries(entries.map((entry) => [entry.name, entry.layerEmulated])))
