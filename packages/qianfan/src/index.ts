/**
 * Baidu Qianfan (千帆) batch inference as an Effect service, with BOS object storage.
 *
 * @since 0.1.0
 */

/**
 * Every failure of the Qianfan batch client and the mapping from BCE error envelopes.
 *
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"

/**
 * A `QianfanBatch` with no HTTP whose tasks a test scripts.
 *
 * @since 0.1.0
 */
export * as Mock from "./Mock.js"

/**
 * The `QianfanBatch` service: console actions, submit, await, watch, results.
 *
 * @since 0.1.0
 */
export * as QianfanBatch from "./QianfanBatch.js"

/**
 * BOS object storage signed with `bce-auth-v1`.
 *
 * @since 0.1.0
 */
export * as Storage from "./Storage.js"

/**
 * Request, response and line schemas as they travel.
 *
 * @since 0.1.0
 */
export * as Wire from "./Wire.js"
