/**
 * @since 0.1.0
 */

/**
 * Ark's wire shapes: the OpenAPI envelope, the batch actions, TOS listings and result lines.
 *
 * @since 0.1.0
 */
export * as Wire from "./Wire.js"

/**
 * The camelCase job model and its one mapping from the wire.
 *
 * @since 0.1.0
 */
export * as Job from "./Job.js"

/**
 * The typed error union and the mapping from Ark/TOS envelopes and transport failures.
 *
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"

/**
 * TOS object storage (TOS4-HMAC-SHA256; path style on loopback, virtual host otherwise).
 *
 * @since 0.1.0
 */
export * as Storage from "./Storage.js"

/**
 * The `ArkBatch` service: every action plus submit, await, watch and results.
 *
 * @since 0.1.0
 */
export * as ArkBatch from "./ArkBatch.js"

/**
 * An in-memory, scripted `ArkBatch` layer for users' tests.
 *
 * @since 0.1.0
 */
export * as Mock from "./Mock.js"
