/**
 * @since 0.1.0
 */

/**
 * The `MoonshotBatch` service: Moonshot's profile on the OpenAI-compatible service.
 *
 * @since 0.1.0
 */
export * as MoonshotBatch from "./MoonshotBatch.js"

/**
 * An in-memory `MoonshotBatch` layer for users' tests.
 *
 * @since 0.1.0
 */
export * as Mock from "./Mock.js"
