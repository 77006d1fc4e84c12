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
import * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import * as Credential from "@barge/core/Credential"
import type * as Download from "@barge/core/Download"
import type * as Jsonl from "@barge/core/Jsonl"
import * as Transport from "@barge/core/Transport"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as OpenAiCompatible from "./OpenAiCompatible.js"
import * as Profile from "./Profile.js"
import type * as Wire from "./Wire.js"

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
  readonly region?: keyof typeof Profile.moonshotBaseUrls | undefined
  /** Overrides the region's URL (an emulator, a proxy); include the `/v1`. */
  readonly baseUrl?: string | undefined
  readonly retry?: Transport.RetryOptions | false | undefined
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Allow plain `http://` endpoints on hosts other than loopback (credentials and data would travel
   * unencrypted). Default `false`: such endpoints are refused with `RequestFailed` (`InsecureEndpoint`).
   */
  readonly allowInsecureHttp?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  OpenAiCompatible.make({
    profile: Profile.moonshot({
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl })
    }),
    apiKey: options.apiKey,
    retry: options.retry,
    timeout: options.timeout,
    allowInsecureHttp: options.allowInsecureHttp
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
        apiKey: Credential.redacted("MOONSHOT_API_KEY"),
        baseUrl: Config.option(Transport.endpointConfig("MOONSHOT_BASE_URL"))
      }),
      ({ apiKey, baseUrl }) =>
        make({ ...options, apiKey, ...(baseUrl._tag === "Some" ? { baseUrl: baseUrl.value } : {}) })
    )
  )

// ---------------------------------------------------------------------------------------------------------------
// The unified `Batch` front
// ---------------------------------------------------------------------------------------------------------------

const phases: Record<Wire.BatchStatus, Batch.Phase> = {
  validating: "pending",
  in_progress: "running",
  finalizing: "finalizing",
  completed: "completed",
  failed: "failed",
  expired: "expired",
  cancelling: "cancelling",
  cancelled: "cancelled"
}

const utc = (seconds: number | null | undefined): DateTime.Utc | undefined =>
  seconds === null || seconds === undefined ? undefined : DateTime.unsafeMake(seconds * 1000)

/**
 * A Moonshot batch as the shared status.
 *
 * @since 0.1.0
 * @category batch
 */
export const jobStatus = (batch: Wire.Batch): Batch.JobStatus => {
  const reasons = batch.errorItems.map((e) => e.message ?? e.code ?? "").filter((m) => m !== "")
  return new Batch.JobStatus({
    jobId: batch.id,
    phase: phases[batch.status],
    providerStatus: batch.status,
    counts: new Batch.Counts({ ...batch.counts }),
    ...(reasons.length === 0 ? {} : { message: reasons.join("; ") }),
    createdAt: utc(batch.created_at),
    startedAt: utc(batch.in_progress_at),
    finishedAt: utc(batch.completed_at ?? batch.failed_at ?? batch.expired_at ?? batch.cancelled_at),
    expiresAt: utc(batch.expires_at)
  })
}

/** Moonshot takes whole hours from 12h to 7d: round a requested window up, then into that range. */
const windowOf = (window: Duration.Duration | undefined): string | undefined => {
  if (window === undefined) return undefined
  const hours = Math.ceil(Duration.toHours(window))
  return `${Math.min(168, Math.max(12, hours))}h`
}

/**
 * The driver the unified `Batch` service runs on. A part is written as OpenAI batch lines and submitted with
 * `submit`, so it is validated and idempotent on its content like any other submission.
 *
 * @since 0.1.0
 * @category batch
 */
export const driver = (
  service: Service
): Batch.Driver<Wire.Batch, OpenAiCompatible.SubmitError | Download.DownloadTruncated | Jsonl.JsonlError> => {
  const encoder = new TextEncoder()
  return {
    provider: "moonshot",
    // 100 MB per file, with room for the multipart framing; Moonshot documents no cap on lines (UNCONFIRMED).
    limits: { maxBytesPerJob: 100 * 1024 * 1024 - 64 * 1024, maxLinesPerJob: 100_000 },
    submitOne: (requests, context) => {
      const window = windowOf(context.completionWindow)
      return service.submit(
        OpenAiCompatible.fromStream(
          `barge-part-${context.part + 1}-of-${context.parts}.jsonl`,
          Stream.fromIterable(requests).pipe(
            Stream.map((request) => encoder.encode(`${ChatRequest.toOpenAiLine(request)}\n`))
          )
        ),
        {
          ...(window === undefined ? {} : { completionWindow: window }),
          ...(context.metadata === undefined ? {} : { metadata: context.metadata })
        }
      )
    },
    get: service.batches.retrieve,
    list: service.batches.list(),
    cancel: service.batches.cancel,
    results: service.results,
    status: jobStatus
  }
}

/**
 * The provider-agnostic `Batch` service backed by `MoonshotBatch`.
 *
 * @since 0.1.0
 * @category batch
 */
export const layerBatch: Layer.Layer<Batch.Batch, never, MoonshotBatch> = Batch.layer(Effect.map(MoonshotBatch, driver))
