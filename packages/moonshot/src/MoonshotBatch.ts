/**
 * The Moonshot (Kimi) batch service: Files + Batches on the OpenAI-compatible core with the Moonshot profile.
 *
 * @example
 * ```ts
 * import { MoonshotBatch, OpenAiCompatible } from "@barge/moonshot"
 * import { NodeContext, NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const kimi = yield* MoonshotBatch.MoonshotBatch
 *   const batch = yield* kimi.submit(OpenAiCompatible.fromPath("requests.jsonl"))
 *   yield* kimi.await(batch.id)
 *   yield* kimi.results(batch.id).pipe(Stream.runForEach((r) => Effect.log(r.customId, r._tag)))
 * })
 *
 * program.pipe(
 *   Effect.provide(MoonshotBatch.layerConfig()),
 *   Effect.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer)),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import type * as Transport from "@barge/core/Transport"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as OpenAiCompatible from "./OpenAiCompatible.js"

/**
 * The service: the OpenAI-compatible client bound to Moonshot.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends OpenAiCompatible.Client {}

/**
 * @since 0.1.0
 * @category tags
 */
export class MoonshotBatch extends Context.Tag("@barge/moonshot/MoonshotBatch")<MoonshotBatch, Service>() {}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category constructors
 */
export interface Options {
  readonly apiKey: Redacted.Redacted<string>
  /** `cn` (`api.moonshot.cn`, the default) or `global` (`api.moonshot.ai`). */
  readonly region?: keyof typeof OpenAiCompatible.moonshotBaseUrls | undefined
  /** Overrides the region's URL (an emulator, a proxy); include the `/v1`. */
  readonly baseUrl?: string | undefined
  readonly retry?: Transport.RetryOptions | false | undefined
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  OpenAiCompatible.make({
    profile: OpenAiCompatible.moonshot({
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl })
    }),
    apiKey: options.apiKey,
    retry: options.retry,
    timeout: options.timeout
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<MoonshotBatch, never, HttpClient.HttpClient> =>
  Layer.effect(MoonshotBatch, make(options))

/**
 * Reads `MOONSHOT_API_KEY` (required, redacted) and `MOONSHOT_BASE_URL` (optional; e.g.
 * `https://api.moonshot.ai/v1` for the global platform).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: Omit<Options, "apiKey" | "baseUrl">
): Layer.Layer<MoonshotBatch, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    MoonshotBatch,
    Effect.flatMap(
      Config.all({
        apiKey: Config.redacted("MOONSHOT_API_KEY"),
        baseUrl: Config.option(Config.nonEmptyString("MOONSHOT_BASE_URL"))
      }),
      ({ apiKey, baseUrl }) =>
        make({ ...options, apiKey, ...(baseUrl._tag === "Some" ? { baseUrl: baseUrl.value } : {}) })
    )
  )
