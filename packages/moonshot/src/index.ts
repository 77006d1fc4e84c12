/**
 * @since 0.1.0
 */

/**
 * The OpenAI-compatible batch client, written once and parameterised by a profile.
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

/**
 * The Moonshot (Kimi) batch service.
 *
 * @since 0.1.0
 */
export * as MoonshotBatch from "./MoonshotBatch.js"

/**
 * Every failure, and the mapping from error envelopes.
 *
 * @since 0.1.0
 */
export * as MoonshotErrors from "./Errors.js"

/**
 * The wire shapes.
 *
 * @since 0.1.0
 */
export * as Wire from "./Wire.js"

/**
 * A scripted MoonshotBatch with no HTTP, for tests.
 *
 * @since 0.1.0
 */
export * as Mock from "./Mock.js"
