/**
 * The providers the CLI knows, read from each provider package's `registry` entry — adding a provider is one line
 * here, never a new branch — and the `Batch` layer for one of them: the real service configured from the
 * environment, or the same service pointed at an emulator (embedded in the process or already running).
 *
 * @since 0.1.0
 */
import * as ArkBatch from "@barge/ark/ArkBatch"
import * as Batch from "@barge/core/Batch"
import * as Registry from "@barge/core/Registry"
import * as MoonshotBatch from "@barge/moonshot/MoonshotBatch"
import * as OpenAiBatch from "@barge/openai-compatible/OpenAiBatch"
import * as QianfanBatch from "@barge/qianfan/QianfanBatch"
import * as QianfanV2Batch from "@barge/qianfan/QianfanV2Batch"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"

/**
 * Every provider, in the order the CLI and the demo list them.
 *
 * @since 0.1.0
 * @category registry
 */
export const entries: ReadonlyArray<Registry.Entry> = [
  ArkBatch.registry,
  MoonshotBatch.registry,
  OpenAiBatch.registry,
  QianfanBatch.registry,
  QianfanV2Batch.registry
]

/**
 * The providers' names (`--provider` values, the prefixes of batch ids).
 *
 * @since 0.1.0
 * @category registry
 */
export const names: ReadonlyArray<string> = entries.map((entry) => entry.name)

/**
 * The entry of a provider name, if the CLI knows it.
 *
 * @since 0.1.0
 * @category registry
 */
export const entryOf = (name: string): Registry.Entry | undefined => entries.find((entry) => entry.name === name)

/**
 * Where requests go: the provider itself (credentials from the environment) or an emulator.
 *
 * @since 0.1.0
 * @category models
 */
export type Target =
  | { readonly _tag: "Provider" }
  | { readonly _tag: "Emulator"; readonly endpoints: Registry.Endpoints }

/**
 * Per-job limits to impose below the provider's own (tests shrink them to force a split).
 *
 * @since 0.1.0
 * @category models
 */
export type LimitOverrides = Partial<Batch.Service["limits"]>

/**
 * The `Batch` layer for a provider and target.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  entry: Registry.Entry,
  target: Target,
  limits: LimitOverrides = {}
): Layer.Layer<Batch.Batch, ConfigError.ConfigError, HttpClient.HttpClient> =>
  (target._tag === "Emulator"
    ? entry.layerEmulated.pipe(Layer.provide(Layer.succeed(Registry.Emulated, target.endpoints)))
    : entry.layerConfig).pipe(Batch.withLimits(limits))
