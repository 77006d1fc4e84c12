/**
 * @since 0.1.0
 */

/**
 * Ark's wire shapes: the OpenAPI envelope, the batch actions, input lines and TOS's error body and listing.
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
 * Ark's and TOS's error tables (onto core `ApiError`) and `DuplicateActiveJob`.
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
 * The `ArkBatch` service on core's provider contract, with Ark's extras (`update`, `delete`, `resume`).
 *
 * @since 0.1.0
 */
export * as ArkBatch from "./ArkBatch.js"

/**
 * An in-memory `ArkBatch` layer for users' tests, over core's `Mock` platform.
 *
 * @since 0.1.0
 */
export * as Mock from "./Mock.js"
