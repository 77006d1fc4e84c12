/**
 * OpenAI's Batch API (`/v1/files`, `/v1/batches`) as the `OpenAiBatch` service: the OpenAI-compatible service with
 * OpenAI's profile — only the `24h` window, at most 200 MB and 50,000 requests per input file.
 *
 * @example
 * ```ts
 * import { OpenAiBatch } from "@barge/openai-compatible"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const openai = yield* OpenAiBatch.OpenAiBatch
 *   const submitted = yield* openai.submit([
 *     { customId: "q-1", model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello" }] }
 *   ])
 *   yield* openai.await(submitted.id)
 *   yield* openai.results(submitted.id).pipe(Stream.runForEach((r) => Effect.log(r.customId, r._tag)))
 * })
 *
 * program.pipe(
 *   Effect.provide(OpenAiBatch.layerConfig()), // OPENAI_API_KEY, OPENAI_BASE_URL
 *   Effect.provide(NodeHttpClient.layerUndici),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as CompletionWindow from "@barge/core/CompletionWindow"
import * as Context from "effect/Context"
import * as Errors from "./Errors.js"
import * as OpenAiCompatible from "./OpenAiCompatible.js"
import * as Profile from "./Profile.js"

/**
 * OpenAI's profile.
 *
 * @since 0.1.0
 * @category profiles
 */
export const profile: Profile.Profile = {
  name: "openai",
  title: "OpenAI",
  baseUrl: "https://api.openai.com/v1",
  endpoint: "/v1/chat/completions",
  // "200 MB" read as 200,000,000 bytes, the smaller reading (UNCONFIRMED which one OpenAI counts).
  limits: { maxBytesPerJob: 200_000_000, maxLinesPerJob: 50_000 },
  window: CompletionWindow.oneOf(["24h"], { default: "24h" }),
  statuses: Profile.openAiStatuses,
  errors: {
    read: Errors.readCodeFirst,
    codes: Errors.openAiCodes,
    statusHints: { 401: "check OPENAI_API_KEY", 404: "check the batch or file id" }
  },
  metadata: Profile.openAiMetadata,
  requestIdHeaders: ["x-request-id"],
  reportsUnprocessed: true
}

/**
 * The service: the OpenAI-compatible service on OpenAI.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends OpenAiCompatible.Service {}

/**
 * @since 0.1.0
 * @category tags
 */
export class OpenAiBatch extends Context.Tag("@barge/openai-compatible/OpenAiBatch")<OpenAiBatch, Service>() {}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OpenAiCompatible.Options {}

const defined = OpenAiCompatible.define<OpenAiBatch, Options>(OpenAiBatch, {
  model: "gpt-4o-mini",
  profile,
  env: { apiKey: "OPENAI_API_KEY", baseUrl: "OPENAI_BASE_URL" },
  emulated: { service: "openai", credential: "openai.apiKey" }
})

/**
 * Builds the service in code from an `apiKey` (a `Redacted`) and, optionally, a `baseUrl` with `/v1` (default
 * `https://api.openai.com/v1`; a gateway that speaks the same Files and Batches API works too), the transport's
 * retry and timeout, and the create options. Needs an `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = defined.make

/**
 * {@link make} as a Layer of `OpenAiBatch`, for keys a program holds itself (e.g. from a secret store).
 *
 * @example
 * ```ts
 * import { OpenAiBatch } from "@barge/openai-compatible"
 * import { Redacted } from "effect"
 *
 * const OpenAi = OpenAiBatch.layer({ apiKey: Redacted.make("sk-…") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = defined.layer

/**
 * Reads `OPENAI_API_KEY` (required, redacted) and `OPENAI_BASE_URL` (optional, with `/v1`); values given win.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = defined.layerConfig

/**
 * `OpenAiBatch` on an emulator's `/v1/files` and `/v1/batches`, with the key it accepts (`Registry.Emulated`,
 * which `@barge/emulator`'s layers provide).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEmulated = defined.layerEmulated

/**
 * The unified `Batch` service over `OpenAiBatch`: ids `openai:…`, the same verbs as every other provider.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBatch = defined.layerBatch

/**
 * OpenAI's entry for the tools: `barge --provider openai`, the demo, `@barge/emulator`'s helpers.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = defined.registry
