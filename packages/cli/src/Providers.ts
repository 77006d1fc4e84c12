/**
 * Which `Batch` layer the CLI builds for a provider: the real service configured from the environment, or the
 * same service pointed at an emulator (embedded in the process or already running).
 *
 * @since 0.1.0
 */
import * as ArkBatch from "@barge/ark/ArkBatch"
import * as Batch from "@barge/core/Batch"
import type * as Emulator from "@barge/emulator/Emulator"
import * as MoonshotBatch from "@barge/moonshot/MoonshotBatch"
import * as QianfanBatch from "@barge/qianfan/QianfanBatch"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * The providers the CLI knows.
 *
 * @since 0.1.0
 * @category models
 */
export const ProviderName = Schema.Literal("ark", "moonshot", "qianfan")

/**
 * @since 0.1.0
 * @category models
 */
export type ProviderName = typeof ProviderName.Type

/**
 * @since 0.1.0
 * @category models
 */
export const names: ReadonlyArray<ProviderName> = ProviderName.literals

/**
 * Where requests go: the provider itself (credentials from the environment) or an emulator at these URLs.
 *
 * @since 0.1.0
 * @category models
 */
export type Target =
  | { readonly _tag: "Provider" }
  | {
    readonly _tag: "Emulator"
    readonly urls: Emulator.Urls
    readonly credentials: Emulator.AcceptedCredentials
  }

/**
 * The environment variables a provider needs before it can run for real (credentials and storage bucket).
 *
 * @since 0.1.0
 * @category constants
 */
export const credentialVariables: Readonly<Record<ProviderName, ReadonlyArray<string>>> = {
  ark: ["VOLC_ACCESSKEY", "VOLC_SECRETKEY", "ARK_TOS_BUCKET"],
  moonshot: ["MOONSHOT_API_KEY"],
  qianfan: ["QIANFAN_ACCESS_KEY", "QIANFAN_SECRET_KEY", "QIANFAN_BOS_BUCKET"]
}

/**
 * Whether the provider's credentials are all present in `env` (the demo uses this to pick real or emulated).
 *
 * @since 0.1.0
 * @category predicates
 */
export const hasCredentials = (provider: ProviderName, env: Record<string, string | undefined>): boolean =>
  credentialVariables[provider].every((name) => (env[name] ?? "").length > 0)

/**
 * Per-job limits to impose below the provider's own (tests shrink them to force a split).
 *
 * @since 0.1.0
 * @category models
 */
export type LimitOverrides = Partial<Batch.Limits>

const redacted = (value: string) => Redacted.make(value)

const qianfan = (target: Target) =>
  QianfanBatch.layerBatch.pipe(Layer.provide(
    target._tag === "Emulator"
      ? QianfanBatch.layer({
        accessKeyId: redacted(target.credentials.bce.accessKeyId),
        secretAccessKey: redacted(target.credentials.bce.secretAccessKey),
        endpoint: target.urls.qianfan,
        bosEndpoint: target.urls.bos,
        bucket: "barge"
      })
      : QianfanBatch.layerConfig()
  ))

const ark = (target: Target) =>
  ArkBatch.layerBatch.pipe(Layer.provide(
    target._tag === "Emulator"
      ? ArkBatch.layer({
        accessKeyId: redacted(target.credentials.volcengine.accessKeyId),
        secretAccessKey: redacted(target.credentials.volcengine.secretAccessKey),
        endpoint: target.urls.ark,
        tosEndpoint: target.urls.tos,
        bucket: "barge"
      })
      : ArkBatch.layerConfig()
  ))

const moonshot = (target: Target) =>
  MoonshotBatch.layerBatch.pipe(Layer.provide(
    target._tag === "Emulator"
      ? MoonshotBatch.layer({
        apiKey: redacted(target.credentials.moonshot.apiKey),
        baseUrl: `${target.urls.moonshot}/v1`
      })
      : MoonshotBatch.layerConfig()
  ))

/**
 * The `Batch` layer for a provider and target.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  provider: ProviderName,
  target: Target,
  limits: LimitOverrides = {}
): Layer.Layer<Batch.Batch, ConfigError.ConfigError, HttpClient.HttpClient> => {
  const wired = provider === "ark" ? ark(target) : provider === "moonshot" ? moonshot(target) : qianfan(target)
  return wired.pipe(Batch.withLimits(limits))
}
