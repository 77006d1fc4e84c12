/**
 * @since 0.1.0
 */

/**
 * Moonshot's wire shapes: the Files and Batches objects, the batch input line and the error envelope.
 *
 * @since 0.1.0
 */
export * as Wire from "./Wire.js"

/**
 * The typed error union and the mapping from error envelopes and transport failures.
 *
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"

/**
 * The `MoonshotBatch` service: files, batches, submit, await, watch and results.
 *
 * @since 0.1.0
 */
export * as MoonshotBatch from "./MoonshotBatch.js"

/**
 * An in-memory, scripted `MoonshotBatch` layer for users' tests.
 *
 * @since 0.1.0
 */
export * as Mock from "./Mock.js"

/**
 * The OpenAI-compatible batch client `MoonshotBatch` is built on, written once and parameterised by a profile.
 *
 * @since 0.1.0
 */
export * as OpenAiCompatible from "./OpenAiCompatible.js"

/**
 * Platform profiles for the OpenAI-compatible client: Moonshot (cn / global) and OpenAI.
 *
 * @since 0.1.0
 */
export * as Profile from "./Profile.js"
