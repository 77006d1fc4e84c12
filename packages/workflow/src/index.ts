/**
 * Durable Barge batches: one execution per submission that survives crashes, restarts and moves between processes
 * and machines, on `@effect/workflow` and `@effect/cluster` with SQL storage (SQLite embedded, or PostgreSQL).
 *
 * @since 0.1.0
 */

/**
 * The two deployments: embedded (SQLite, one process) and PostgreSQL (many runners).
 *
 * @since 0.1.0
 */
export * as BargeCluster from "./BargeCluster.js"

/**
 * The durable batch workflow, its worker layer, and the client operations (start, status, watch, await, cancel,
 * results).
 *
 * @since 0.1.0
 */
export * as BatchWorkflow from "./BatchWorkflow.js"

/**
 * The providers a worker serves: one unified `Batch` service per provider name.
 *
 * @since 0.1.0
 */
export * as BatchProviders from "./BatchProviders.js"

/**
 * The executions view any process reads: stage, status, progress, the collect cursor.
 *
 * @since 0.1.0
 */
export * as Executions from "./Executions.js"

/**
 * Where results go: a JSONL file or an object-storage key.
 *
 * @since 0.1.0
 */
export * as Sink from "./Sink.js"

/**
 * What an execution is started from, and its content hash.
 *
 * @since 0.1.0
 */
export * as Submission from "./Submission.js"
