/**
 * Moonshot (Kimi) batch inference as the `MoonshotBatch` service: the OpenAI-compatible service
 * (`@barge/openai-compatible`) with Moonshot's profile — windows of 12h to 7d, 100 MB input files, Kimi's sampling
 * parameters fixed for batches, its error types, and the hint to run `cleanup` when the 1000-file quota is reached.
 *
 * @example
 * ```ts
 * import { MoonshotBatch } from "@barge/moonshot"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const kimi = yield* MoonshotBatch.MoonshotBatch
 *   const submitted = yield* kimi.submit([
 *     { customId: "q-1", model: "kimi-k2.6", messages: [{ role: "user", content: "Hello" }] }
 *   ])
 *   yield* kimi.await(submitted.id)
 *   yield* kimi.results(submitted.id).pipe(Stream.runForEach((r) => Effect.log(r.customId, r._tag)))
 * })
 *
 * program.pipe(
 *   Effect.provide(MoonshotBatch.layerConfig()), // MOONSHOT_API_KEY, MOONSHOT_BASE_URL
 *   Effect.provide(NodeHttpClient.layerUndici),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as ApiError from "@barge/core/ApiError"
import * as CompletionWindow from "@barge/core/CompletionWindow"
import * as Errors from "@barge/openai-compatible/Errors"
import * as OpenAiCompatible from "@barge/openai-compatible/OpenAiCompatible"
import * as Profile from "@barge/openai-compatible/Profile"
import * as Context from "effect/Context"

/**
 * Moonshot's hosts: mainland China (`api.moonshot.cn`, the default) and global (`api.moonshot.ai`). Keys from one
 * do not work on the other.
 *
 * @since 0.1.0
 * @category profiles
 */
export const baseUrls = {
  cn: "https://api.moonshot.cn/v1",
  global: "https://api.moonshot.ai/v1"
} as const

const keyHint = "check MOONSHOT_API_KEY, and that the base URL is the platform that issued it (.cn or .ai)"

/**
 * Moonshot's profile (spec moonshot.md A1–A4 and its 2026-11-30 section).
 *
 * @since 0.1.0
 * @category profiles
 */
export const profile: Profile.Profile = {
  name: "moonshot",
  title: "Moonshot",
  baseUrl: baseUrls.cn,
  endpoint: "/v1/chat/completions",
  // "100MB" read as 100,000,000 bytes, the smaller reading; no documented cap on lines (UNCONFIRMED both).
  limits: { maxBytesPerJob: 100_000_000, maxLinesPerJob: 100_000 },
  // "12h to 7d"; the grammar beyond "12h", "24h", "1d", "3d", "7d" is UNCONFIRMED, so whole hours are sent.
  window: CompletionWindow.range({ unit: "h", min: 12, max: 168, default: "24h" }),
  statuses: Profile.openAiStatuses,
  errors: {
    read: ApiError.readOpenAiEnvelope,
    codes: {
      invalid_authentication_error: { reason: "Authentication", hint: keyHint },
      incorrect_api_key_error: { reason: "Authentication", hint: keyHint },
      permission_denied_error: { reason: "PermissionDenied", hint: "check the account's balance and permissions" },
      resource_not_found_error: { reason: "NotFound", hint: "check the id or model name" },
      content_filter: { reason: "InvalidRequest", hint: "the content filter rejected the input" },
      rate_limit_reached_error: { reason: "RateLimited", hint: "slow down and retry later" },
      engine_overloaded_error: { reason: "Overloaded", hint: "Moonshot is overloaded; retry later" },
      exceeded_current_quota_error: { reason: "QuotaExceeded", hint: "top up the account; retrying will not help" },
      server_error: { reason: "Server" },
      unexpected_output: { reason: "Server" },
      server_unavailable: { reason: "Overloaded" }
    },
    statusHints: { 401: keyHint, 403: "insufficient balance, or the key may not do this" },
    // The 1000-file quota comes as a plain `invalid_request_error`: only its message tells it apart.
    messages: [[/exceeded the max file count/i, { reason: "QuotaExceeded", hint: Errors.cleanupHint }]]
  },
  // The batch guide: "temperature, top_p and other parameters cannot be modified"; the model page lists these.
  fixedParameters: ["temperature", "top_p", "n", "presence_penalty", "frequency_penalty"],
  metadata: Profile.openAiMetadata,
  requestIdHeaders: ["x-request-id", "msh-request-id", "request-id"],
  // UNCONFIRMED whether Kimi's error file lists what a cancelled or expired batch never ran: Barge lists it from
  // the input file (kept until then), so no request goes missing either way.
  reportsUnprocessed: false
}

/**
 * The service: the OpenAI-compatible service on Moonshot.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends OpenAiCompatible.Service {}

/**
 * @since 0.1.0
 * @category tags
 */
export class MoonshotBatch extends Context.Tag("@barge/moonshot/MoonshotBatch")<MoonshotBatch, Service>() {}

/**
 * Options of {@link make}: the OpenAI-compatible options, plus the region.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OpenAiCompatible.Options {
  /** `cn` (`api.moonshot.cn`, the default) or `global` (`api.moonshot.ai`); a `baseUrl` wins. */
  readonly region?: keyof typeof baseUrls | undefined
}

const defined = OpenAiCompatible.define<MoonshotBatch, Options>(MoonshotBatch, {
  model: "kimi-k2.6",
  profile,
  env: { apiKey: "MOONSHOT_API_KEY", baseUrl: "MOONSHOT_BASE_URL" },
  emulated: { service: "moonshot", credential: "moonshot.apiKey" },
  options: ({ region, ...options }) => ({ ...options, baseUrl: options.baseUrl ?? baseUrls[region ?? "cn"] })
})

/**
 * Builds the service in code from a Kimi API key (a `Redacted`) and a `region` (`cn`, the default, or `global`)
 * or an explicit `baseUrl` with `/v1`. Needs an `HttpClient`.
 *
 * @example
 * ```ts
 * import { MoonshotBatch } from "@barge/moonshot"
 * import { Redacted } from "effect"
 *
 * const kimi = MoonshotBatch.make({ apiKey: Redacted.make("sk-…"), region: "global" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = defined.make

/**
 * {@link make} as a Layer of `MoonshotBatch`, for keys the program holds itself.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = defined.layer

/**
 * Reads `MOONSHOT_API_KEY` (required, redacted) and `MOONSHOT_BASE_URL` (optional, with `/v1`; e.g.
 * `https://api.moonshot.ai/v1` for the global platform); values given win.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = defined.layerConfig

/**
 * `MoonshotBatch` on an emulator that speaks Kimi's `/v1` API and refuses what Kimi refuses (a changed
 * temperature, a window over 7 days) — `Registry.Emulated`, which `@barge/emulator`'s layers provide.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEmulated = defined.layerEmulated

/**
 * The unified `Batch` service over `MoonshotBatch` (ids `moonshot:…`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBatch = defined.layerBatch

/**
 * Moonshot as the tools list it: `barge --provider moonshot`, the demo, reading `MOONSHOT_API_KEY`.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = defined.registry
