/**
 * What any process can read about a durable batch: its stage, the provider's last status, poll count and next
 * poll, how many results are committed to the sink, whether a cancel was asked for, and why it failed. One row per
 * execution in the deployment's own database (table `barge_executions`), written by the workflow's activities and
 * read with plain queries — a status view needs no cluster membership.
 *
 * The row also holds the collect cursor (results and bytes or parts committed to the sink, the last result's id),
 * committed after each durable chunk, so a collection resumed on any runner continues where the sink ends.
 *
 * The execution itself (its steps, stored results, timers and signals) lives in `@effect/workflow`'s storage;
 * this table is a view of it plus the cursor.
 *
 * @since 0.1.0
 */
import * as Batch from "@barge/core/Batch"
import * as SqlClient from "@effect/sql/SqlClient"
import type * as SqlError from "@effect/sql/SqlError"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as Sink from "./Sink.js"

/**
 * Where an execution is: `submitted` (stored, no runner has started it), `preparing`, `launching` (creating the
 * provider job), `running` (polling the provider), `collecting` (writing results to the sink), `done` (the batch
 * ended — completed, failed, cancelled or expired: see `status.phase` — and its results are in the sink), or
 * `failed` (the execution stopped: invalid input, or a provider or sink error; see `error`).
 *
 * @since 0.1.0
 * @category models
 */
export const Stage = Schema.Literal("submitted", "preparing", "launching", "running", "collecting", "done", "failed")

/**
 * @since 0.1.0
 * @category models
 */
export type Stage = typeof Stage.Type

/**
 * Whether an execution in this stage will not change again.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isFinal = (stage: Stage): boolean => stage === "done" || stage === "failed"

/**
 * One execution as any process sees it.
 *
 * @since 0.1.0
 * @category models
 */
export class Execution extends Schema.Class<Execution>("@barge/workflow/Executions/Execution")({
  executionId: Schema.String,
  /** The submission's content hash. */
  key: Schema.String,
  provider: Schema.String,
  sink: Sink.Sink,
  stage: Stage,
  /** The logical batch id (`<provider>:<job>…`) once launched. */
  batchId: Schema.optional(Schema.String),
  /** The provider's status at the last poll. */
  status: Schema.optional(Batch.BatchStatus),
  polls: Schema.Number,
  nextPollAt: Schema.optional(Schema.DateTimeUtc),
  /** Results committed to the sink so far, and how many of them succeeded. */
  results: Schema.Number,
  succeeded: Schema.Number,
  cancelRequested: Schema.Boolean,
  error: Schema.optional(Schema.String),
  createdAt: Schema.DateTimeUtc,
  updatedAt: Schema.DateTimeUtc
}) {}

/**
 * How far an execution's sink is written: committed after every durable chunk, read back when a collection
 * resumes.
 *
 * @since 0.1.0
 * @category models
 */
export interface Cursor {
  /** Results committed to the sink, in the order the provider returns them. */
  readonly results: number
  /** Of which succeeded. */
  readonly succeeded: number
  /** A file sink: bytes committed. An object sink: parts written. */
  readonly offset: number
  /** The `customId` of the last committed result: checked on resume, so a reordered result stream is caught. */
  readonly lastId: string | undefined
  /** The sink is complete (an object sink's parts are joined). */
  readonly done: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Records a new execution, or returns the one already recorded under this id (the first submit wins);
   * `created` says which.
   */
  readonly register: (execution: {
    readonly executionId: string
    readonly key: string
    readonly provider: string
    readonly sink: Sink.Sink
  }) => Effect.Effect<{ readonly execution: Execution; readonly created: boolean }, SqlError.SqlError>
  /** The execution, if this deployment has it. */
  readonly get: (executionId: string) => Effect.Effect<Option.Option<Execution>, SqlError.SqlError>
  /** The most recently updated executions first. */
  readonly list: (options?: { readonly limit?: number }) => Effect.Effect<ReadonlyArray<Execution>, SqlError.SqlError>
  /** Moves the execution to `stage`. */
  readonly setStage: (executionId: string, stage: Stage) => Effect.Effect<void, SqlError.SqlError>
  /** Records the provider's status (after the launch or a poll), the stage, poll count and next poll. */
  readonly recordStatus: (
    executionId: string,
    update: {
      readonly stage: Stage
      readonly status: Batch.BatchStatus
      readonly polls?: number | undefined
      readonly nextPollAt?: number | undefined
    }
  ) => Effect.Effect<void, SqlError.SqlError>
  /** Records why the execution is waiting (the provider has no room for another job yet). */
  readonly recordWait: (executionId: string, reason: string) => Effect.Effect<void, SqlError.SqlError>
  /** Records a status read that failed (the execution backs off and reads again). */
  readonly recordPollFailure: (
    executionId: string,
    update: { readonly polls: number; readonly nextPollAt: number; readonly error: string }
  ) => Effect.Effect<void, SqlError.SqlError>
  /** The sink's committed cursor (the start for an execution that has not collected yet). */
  readonly cursor: (executionId: string) => Effect.Effect<Cursor, SqlError.SqlError>
  /** Commits the cursor, once the chunk it covers is durably in the sink. */
  readonly commit: (executionId: string, cursor: Cursor) => Effect.Effect<void, SqlError.SqlError>
  /** Notes that a cancel was asked for (the signal itself goes through the workflow engine). */
  readonly requestCancel: (executionId: string) => Effect.Effect<void, SqlError.SqlError>
  /** The execution ended: `done`, or `failed` with the reason. */
  readonly finish: (
    executionId: string,
    outcome: { readonly stage: "done" | "failed"; readonly error?: string | undefined }
  ) => Effect.Effect<void, SqlError.SqlError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Executions extends Context.Tag("@barge/workflow/Executions")<Executions, Service>() {}

/**
 * The table's name.
 *
 * @since 0.1.0
 * @category constants
 */
export const table = "barge_executions"

// libsql (intMode bigint) returns integers as bigint, PostgreSQL returns BIGINT as a string.
const toNumber = (u: unknown): number => (u === null || u === undefined ? 0 : Number(u))
const toOptionalNumber = (u: unknown): number | undefined => (u === null || u === undefined ? undefined : Number(u))

const decodeSink = Schema.decodeUnknownSync(Schema.parseJson(Sink.Sink))
const encodeSink = Schema.encodeSync(Schema.parseJson(Sink.Sink))
const decodeStatus = Schema.decodeUnknownSync(Schema.parseJson(Batch.BatchStatus))
const encodeStatus = Schema.encodeSync(Schema.parseJson(Batch.BatchStatus))
const decodeStage = Schema.decodeUnknownSync(Stage)

type Row = Record<string, unknown>

const fromRow = (row: Row): Execution => {
  const nextPollAt = toOptionalNumber(row.next_poll_at)
  return new Execution({
    executionId: String(row.execution_id),
    key: String(row.submission_key),
    provider: String(row.provider),
    sink: decodeSink(row.sink),
    stage: decodeStage(row.stage),
    ...(row.batch_id === null || row.batch_id === undefined ? {} : { batchId: String(row.batch_id) }),
    ...(row.status === null || row.status === undefined ? {} : { status: decodeStatus(row.status) }),
    polls: toNumber(row.polls),
    ...(nextPollAt === undefined ? {} : { nextPollAt: DateTime.unsafeMake(nextPollAt) }),
    results: toNumber(row.results_committed),
    succeeded: toNumber(row.succeeded_committed),
    cancelRequested: toNumber(row.cancel_requested) === 1,
    ...(row.error === null || row.error === undefined ? {} : { error: String(row.error) }),
    createdAt: DateTime.unsafeMake(toNumber(row.created_at)),
    updatedAt: DateTime.unsafeMake(toNumber(row.updated_at))
  })
}

/**
 * The service over the deployment's `SqlClient`; creates the table if it is missing.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, SqlError.SqlError, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = (yield* SqlClient.SqlClient).withoutTransforms()
  const t = sql(table)
  // Several processes may start at once against a new database: a lost race to create the table is retried.
  yield* sql`
    CREATE TABLE IF NOT EXISTS ${t} (
      execution_id VARCHAR(64) PRIMARY KEY,
      submission_key VARCHAR(100) NOT NULL,
      provider VARCHAR(64) NOT NULL,
      sink TEXT NOT NULL,
      stage VARCHAR(16) NOT NULL,
      batch_id TEXT,
      status TEXT,
      polls BIGINT NOT NULL DEFAULT 0,
      next_poll_at BIGINT,
      results_committed BIGINT NOT NULL DEFAULT 0,
      succeeded_committed BIGINT NOT NULL DEFAULT 0,
      sink_offset BIGINT NOT NULL DEFAULT 0,
      last_custom_id TEXT,
      sink_done INTEGER NOT NULL DEFAULT 0,
      cancel_requested INTEGER NOT NULL DEFAULT 0,
      error TEXT,
      created_by VARCHAR(64),
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )
  `.pipe(Effect.retry({ times: 3 }))

  const get = (executionId: string) =>
    Effect.map(
      sql<Row>`SELECT * FROM ${t} WHERE execution_id = ${executionId}`,
      (rows) => Option.map(Option.fromNullable(rows[0]), fromRow)
    )

  const update = (executionId: string, values: Record<string, unknown>) =>
    Effect.flatMap(
      Clock.currentTimeMillis,
      (now) =>
        sql`UPDATE ${t} SET ${sql.update({ ...values, updated_at: now })} WHERE execution_id = ${executionId}`.pipe(
          Effect.asVoid
        )
    )

  return {
    register: (execution) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const token = Crypto.randomUUID()
        yield* sql`
          INSERT INTO ${t} ${
          sql.insert({
            execution_id: execution.executionId,
            submission_key: execution.key,
            provider: execution.provider,
            sink: encodeSink(execution.sink),
            stage: "submitted",
            created_by: token,
            created_at: now,
            updated_at: now
          })
        }
          ON CONFLICT (execution_id) DO NOTHING
        `
        const rows = yield* sql<Row>`SELECT * FROM ${t} WHERE execution_id = ${execution.executionId}`
        const row = rows[0]
        if (row === undefined) {
          return yield* Effect.dieMessage(`execution ${execution.executionId} vanished right after it was recorded`)
        }
        return { execution: fromRow(row), created: row.created_by === token }
      }),
    get,
    list: (options) =>
      Effect.map(
        sql<Row>`SELECT * FROM ${t} ORDER BY updated_at DESC LIMIT ${options?.limit ?? 50}`,
        (rows) => rows.map(fromRow)
      ),
    setStage: (executionId, stage) => update(executionId, { stage }),
    recordStatus: (executionId, { nextPollAt, polls, stage, status }) =>
      update(executionId, {
        stage,
        batch_id: status.id,
        status: encodeStatus(status),
        error: null,
        ...(polls === undefined ? {} : { polls }),
        // Whole milliseconds: PostgreSQL's BIGINT takes no fraction.
        next_poll_at: nextPollAt === undefined ? null : Math.round(nextPollAt)
      }),
    recordWait: (executionId, reason) => update(executionId, { error: reason }),
    recordPollFailure: (executionId, { error, nextPollAt, polls }) =>
      update(executionId, { polls, next_poll_at: Math.round(nextPollAt), error }),
    cursor: (executionId) =>
      Effect.map(
        sql<Row>`
          SELECT results_committed, succeeded_committed, sink_offset, last_custom_id, sink_done
          FROM ${t} WHERE execution_id = ${executionId}
        `,
        (rows): Cursor => {
          const row = rows[0] ?? {}
          return {
            results: toNumber(row.results_committed),
            succeeded: toNumber(row.succeeded_committed),
            offset: toNumber(row.sink_offset),
            lastId: row.last_custom_id === null || row.last_custom_id === undefined
              ? undefined
              : String(row.last_custom_id),
            done: toNumber(row.sink_done) === 1
          }
        }
      ),
    commit: (executionId, cursor) =>
      update(executionId, {
        results_committed: cursor.results,
        succeeded_committed: cursor.succeeded,
        sink_offset: cursor.offset,
        last_custom_id: cursor.lastId ?? null,
        sink_done: cursor.done ? 1 : 0
      }),
    requestCancel: (executionId) => update(executionId, { cancel_requested: 1 }),
    finish: (executionId, { error, stage }) =>
      update(executionId, { stage, next_poll_at: null, ...(error === undefined ? {} : { error }) })
  }
})

/**
 * The service as a layer over the deployment's `SqlClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Executions, SqlError.SqlError, SqlClient.SqlClient> = Layer.effect(Executions, make)
