/**
 * Baidu Qianfan (千帆) batch inference as an Effect service, with BOS object storage.
 *
 * @since 0.1.0
 */

/**
 * Qianfan's wire shapes: the console actions, the input and output lines, BOS listings and the BCE error envelope.
 *
 * @since 0.1.0
 */
export * as Wire from "./Wire.js"

/**
 * The BCE error envelope and the console's and BOS's codes as core `ApiError` reasons (a data table).
 *
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"

/**
 * BOS object storage (`bce-auth-v1`) as core `ObjectStorage`.
 *
 * @since 0.1.0
 */
export * as Storage from "./Storage.js"

/**
 * The `QianfanBatch` service: core's batch lifecycle on the console API, Qianfan's own tasks, and `delete`.
 *
 * @since 0.1.0
 */
export * as QianfanBatch from "./QianfanBatch.js"

/**
 * The `QianfanV2Batch` service: Qianfan's OpenAI-style `/v2/batches` API on the OpenAI-compatible service.
 *
 * @since 0.1.0
 */
export * as QianfanV2Batch from "./QianfanV2Batch.js"

/**
 * An in-memory `QianfanBatch` layer for users' tests, driven by the `Clock`.
 *
 * @since 0.1.0
 */
export * as Mock from "./Mock.js"
