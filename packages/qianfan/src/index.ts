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
 * The typed error union and the mapping from BCE error envelopes and transport failures.
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
 * The `QianfanBatch` service: every console action plus submit, await, watch and results.
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
 * An in-memory, scripted `QianfanBatch` layer for users' tests.
 *
 * @since 0.1.0
 */
export * as Mock from "./Mock.js"
