/**
 * Qianfan's OpenAI-style batch API (`/v2/files`, `/v2/batches`, Bearer API key) as the `QianfanV2Batch` service:
 * the OpenAI-compatible service (`@barge/openai-compatible`) with Qianfan's `/v2` profile — windows of whole hours
 * from 1h to 672h, input files of at most 1 GB and 5000 requests, and capitalised statuses (`Queuing`, `Running`,
 * `Done`, `Stopped`, `Failed`, `Expired`). The console API (`/v2/batchinference`, BOS, AK/SK) is `QianfanBatch`.
 *
 * @example
 * ```ts
 * import { QianfanV2Batch } from "@barge/qianfan"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const qianfan = yield* QianfanV2Batch.QianfanV2Batch
 *   const submitted = yield* qianfan.submit(
 *     [{ customId: "q-1", model: "ernie-4.5-turbo-128k", messages: [{ role: "user", content: "你好" }] }],
 *     { completionWindow: "3 days" } // sent as "72h"
 *   )
 *   yield* qianfan.await(submitted.id)
 *   yield* qianfan.results(submitted.id).pipe(Stream.runForEach((r) => Effect.log(r.customId, r._tag)))
 * })
 *
 * program.pipe(
 *   Effect.provide(QianfanV2Batch.layerConfig()), // QIANFAN_API_KEY, QIANFAN_BASE_URL
 *   Effect.provide(NodeHttpClient.layerUndici),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as CompletionWindow from "@barge/core/CompletionWindow"
import * as Errors from "@barge/openai-compatible/Errors"
import * as OpenAiMock from "@barge/openai-compatible/Mock"
import * as OpenAiCompatible from "@barge/openai-compatible/OpenAiCompatible"
import * as Profile from "@barge/openai-compatible/Profile"
import * as Context from "effect/Context"

const keyHint = "check QIANFAN_API_KEY (an API key such as bce-v3/ALTAK-…, not the AK/SK pair)"

/**
 * Qianfan's `/v2` batches profile (spec qianfan.md §4 "Newer OpenAI-compatible alternative" and §8).
 *
 * @since 0.1.0
 * @category profiles
 */
export const profile: Profile.Profile = {
  name: "qianfan-v2",
  title: "Qianfan /v2",
  baseUrl: "https://qianfan.baidubce.com/v2",
  endpoint: "/v2/chat/completions",
  // "1G" read as 10^9 bytes, the smaller reading (UNCONFIRMED); at most 5000 requests per file.
  limits: { maxBytesPerJob: 1_000_000_000, maxLinesPerJob: 5000 },
  window: CompletionWindow.range({ unit: "h", min: 1, max: 672, default: "24h" }),
  statuses: {
    Queuing: "pending",
    Running: "running",
    Done: "completed",
    Failed: "failed",
    Expired: "expired",
    // UNCONFIRMED: the docs list no word between a cancel and `Stopped`; the console API says `Stopping`.
    Stopping: "cancelling",
    Stopped: "cancelled"
  },
  errors: {
    read: Errors.readCodeFirst,
    codes: {
      invalid_iam_token: { reason: "Authentication", hint: keyHint },
      access_denied: { reason: "PermissionDenied", hint: "the key may not use this model or action" },
      rate_limit_exceeded: { reason: "RateLimited", hint: "slow down and retry later" },
      rpm_rate_limit_exceeded: { reason: "RateLimited", hint: "requests per minute exceeded; retry later" },
      tpm_rate_limit_exceeded: { reason: "RateLimited", hint: "tokens per minute exceeded; retry later" },
      internal_error: { reason: "Server" }
    },
    statusHints: { 401: keyHint, 404: "check the batch or file id" }
  },
  metadata: Profile.openAiMetadata,
  requestIdHeaders: ["x-bce-request-id", "x-request-id"],
  // UNCONFIRMED whether unprocessed requests reach the error file: Barge lists them from the input file.
  reportsUnprocessed: false
}

/**
 * The service: the OpenAI-compatible service on Qianfan's `/v2` API.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends OpenAiCompatible.Service {}

/**
 * @since 0.1.0
 * @category tags
 */
export class QianfanV2Batch extends Context.Tag("@barge/qianfan/QianfanV2Batch")<QianfanV2Batch, Service>() {}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends OpenAiCompatible.Options {}

const defined = OpenAiCompatible.define<QianfanV2Batch, Options>(QianfanV2Batch, {
  model: "ernie-4.5-turbo-128k",
  profile,
  env: { apiKey: "QIANFAN_API_KEY", baseUrl: "QIANFAN_BASE_URL" },
  emulated: { service: "qianfan-v2", credential: "qianfan.apiKey" }
})

/**
 * Builds the service in code from a Qianfan API key (`bce-v3/…`, a `Redacted`; sent as a bearer token) and,
 * optionally, a `baseUrl` with `/v2` (default `https://qianfan.baidubce.com/v2`). Needs an `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = defined.make

/**
 * {@link make} as a Layer of `QianfanV2Batch`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = defined.layer

/**
 * Reads `QIANFAN_API_KEY` (required, redacted) and `QIANFAN_BASE_URL` (optional, with `/v2`); values given win.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = defined.layerConfig

/**
 * `QianfanV2Batch` on an emulator's `/v2/files` and `/v2/batches` (`Registry.Emulated`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEmulated = defined.layerEmulated

/**
 * The unified `Batch` service over `QianfanV2Batch`, with ids `qianfan-v2:…` — distinct from the console API's
 * `qianfan:…`, since the two APIs keep separate jobs.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBatch = defined.layerBatch

/**
 * Qianfan's `/v2` batches as the tools list them (`barge --provider qianfan-v2`), reading `QIANFAN_API_KEY`.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = defined.registry

/**
 * An in-memory `QianfanV2Batch` for users' tests (see `@barge/openai-compatible`'s `Mock`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMock = OpenAiMock.layerFor(QianfanV2Batch, profile)
