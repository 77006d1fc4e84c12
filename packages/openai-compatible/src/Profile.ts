/**
 * What differs between OpenAI-compatible batch platforms, as data: base URL, the endpoint batch lines call, limits,
 * completion windows, status words, the error table and a few quirks. One provider serves every profile
 * (`OpenAiCompatible.make`); a platform is one profile — OpenAI (`OpenAiBatch`), Moonshot (`@barge/moonshot`),
 * Qianfan's `/v2/batches` (`@barge/qianfan`).
 *
 * @since 0.1.0
 */
import type * as ApiError from "@barge/core/ApiError"
import type * as Batch from "@barge/core/Batch"
import type * as CompletionWindow from "@barge/core/CompletionWindow"
import type * as Provider from "@barge/core/Provider"

/**
 * A platform's error mapping: core's `ApiError.Table` without the provider name (the profile's), plus rules on the
 * message for refusals whose code says too little (Moonshot answers its file quota with a plain
 * `invalid_request_error`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Errors extends Omit<ApiError.Table, "provider"> {
  /** Tried in order when the code's rule is missing or generic; the first whose pattern matches the message wins. */
  readonly messages?: ReadonlyArray<readonly [pattern: RegExp, rule: ApiError.Rule]> | undefined
}

/**
 * How many metadata pairs a batch may carry and how long keys and values may be.
 *
 * @since 0.1.0
 * @category models
 */
export interface MetadataLimits {
  readonly maxPairs: number
  readonly maxKeyLength: number
  readonly maxValueLength: number
}

/**
 * What differs between OpenAI-compatible batch platforms.
 *
 * @since 0.1.0
 * @category models
 */
export interface Profile {
  /** The provider's name: the prefix of its batch ids (`openai`, `moonshot`, `qianfan-v2`). */
  readonly name: string
  /** Its name for people (`OpenAI`, `Moonshot (Kimi)`). */
  readonly title: string
  /** The default base URL, with the version prefix (`https://api.openai.com/v1`). */
  readonly baseUrl: string
  /** The endpoint every batch line calls and every batch is created for (`/v1/chat/completions`). */
  readonly endpoint: string
  readonly limits: Provider.Limits
  readonly window: CompletionWindow.Rules
  /** Status word → phase. A word not listed is phase `unknown` (not terminal), the word kept. */
  readonly statuses: Readonly<Record<string, Batch.Phase>>
  readonly errors: Errors
  /** Chat Completions parameters a batch may not set (Kimi's sampling parameters). */
  readonly fixedParameters?: ReadonlyArray<string> | undefined
  readonly metadata: MetadataLimits
  /** Response headers that carry the request id, first present wins. */
  readonly requestIdHeaders: ReadonlyArray<string>
  /**
   * Whether the platform writes every request a cancelled or expired batch never ran to its error file
   * (`batch_cancelled` / `batch_expired`, as OpenAI does). When not, Barge lists them from the input file.
   */
  readonly reportsUnprocessed: boolean
}

/**
 * OpenAI's batch status words (Moonshot uses the same).
 *
 * @since 0.1.0
 * @category data
 */
export const openAiStatuses: Readonly<Record<string, Batch.Phase>> = {
  validating: "pending",
  in_progress: "running",
  finalizing: "finalizing",
  completed: "completed",
  failed: "failed",
  expired: "expired",
  cancelling: "cancelling",
  cancelled: "cancelled"
}

/**
 * OpenAI's metadata limits: 16 pairs, keys up to 64 characters, values up to 512.
 *
 * @since 0.1.0
 * @category data
 */
export const openAiMetadata: MetadataLimits = { maxPairs: 16, maxKeyLength: 64, maxValueLength: 512 }

/**
 * The phase of a status word under a profile; an unknown (or missing) word is `unknown`.
 *
 * @since 0.1.0
 * @category mapping
 */
export const phaseOf = (profile: Profile, status: string | undefined): Batch.Phase =>
  (status === undefined ? undefined : profile.statuses[status]) ?? "unknown"

/**
 * The profile's first status word for a phase (what a mock reports for it).
 *
 * @since 0.1.0
 * @category mapping
 */
export const wordOf = (profile: Profile, phase: Batch.Phase): string =>
  Object.entries(profile.statuses).find(([, p]) => p === phase)?.[0] ?? phase

/**
 * The path of the profile's base URL (`/v1`, `/v2`): what a configured base URL must end with.
 *
 * @since 0.1.0
 * @category accessors
 */
export const versionPath = (profile: Profile): string => new URL(profile.baseUrl).pathname.replace(/\/+$/, "")
