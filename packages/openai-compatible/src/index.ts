/**
 * @since 0.1.0
 */

/**
 * What differs between OpenAI-compatible platforms, as data: base URL, endpoint, limits, windows, status words,
 * error table and quirks.
 *
 * @since 0.1.0
 */
export * as Profile from "./Profile.js"

/**
 * The Files and Batches objects as the platforms send them, decoded leniently.
 *
 * @since 0.1.0
 */
export * as Wire from "./Wire.js"

/**
 * How a platform's refusals become core `ApiError`s: tables, hints and the shared OpenAI codes.
 *
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"

/**
 * The Files API and `cleanup` of an OpenAI-compatible platform.
 *
 * @since 0.1.0
 */
export * as Files from "./Files.js"

/**
 * The OpenAI-compatible batch service, written once and parameterised by a profile.
 *
 * @since 0.1.0
 */
export * as OpenAiCompatible from "./OpenAiCompatible.js"

/**
 * OpenAI's Batch API as the `OpenAiBatch` service.
 *
 * @since 0.1.0
 */
export * as OpenAiBatch from "./OpenAiBatch.js"

/**
 * In-memory OpenAI-compatible services for users' tests.
 *
 * @since 0.1.0
 */
export * as Mock from "./Mock.js"
