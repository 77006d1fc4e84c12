/**
 * Collecting a finished batch into its sink in committed chunks. The cursor (results and bytes or parts already
 * in the sink, the id of the last one) is committed after each chunk is durably written; a restarted collection
 * first cuts the sink back to the committed cursor, then skips the committed results of the (deterministically
 * ordered) result stream and goes on. Every result lands in the sink exactly once.
 */
import type * as Batch from "@barge/core/Batch"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Executions from "../Executions.js"
import * as Sink from "../Sink.js"

/** How far a sink is written; stored after every chunk. */
export type Cursor = Executions.Cursor

/** An empty sink. */
export const start: Cursor = { results: 0, succeeded: 0, offset: 0, lastId: undefined, done: false }

interface Writer {
  /** Brings the sink back to exactly what `cursor` committed. */
  readonly rewind: (cursor: Cursor) => Effect.Effect<void, Sink.SinkError>
  /** Durably adds one chunk; returns the new offset. */
  readonly append: (cursor: Cursor, bytes: Uint8Array) => Effect.Effect<number, Sink.SinkError>
  /** Completes the sink once every result is in (`commit` records it before any clean-up). */
  readonly finish: <E>(
    cursor: Cursor,
    commit: (cursor: Cursor) => Effect.Effect<void, E>
  ) => Effect.Effect<void, Sink.SinkError | E>
}

const fileWriter = (sink: Sink.File, fs: FileSystem.FileSystem): Writer => {
  const fail = Sink.ioError(sink)
  return {
    rewind: (cursor) =>
      Effect.gen(function*() {
        const exists = yield* fs.exists(sink.path)
        const size = exists ? Number((yield* fs.stat(sink.path)).size) : 0
        if (size < cursor.offset) {
          return yield* new Sink.SinkError({
            sink,
            reason: "Truncated",
            detail: `${size} bytes, ${cursor.offset} committed`
          })
        }
        if (!exists) yield* fs.writeFile(sink.path, new Uint8Array(0))
        else if (size > cursor.offset) yield* fs.truncate(sink.path, cursor.offset)
      }).pipe(Effect.mapError((e) => e instanceof Sink.SinkError ? e : fail(e))),
    append: (cursor, bytes) =>
      Effect.scoped(Effect.gen(function*() {
        const file = yield* fs.open(sink.path, { flag: "a" })
        yield* file.writeAll(bytes)
        yield* file.sync
        return cursor.offset + bytes.length
      })).pipe(Effect.mapError(fail)),
    finish: (cursor, commit) => commit({ ...cursor, done: true })
  }
}

/** Part `n` (0-based) of an object sink. */
export const partKey = (key: string, n: number): string => `${key}.parts/${String(n + 1).padStart(8, "0")}`

const objectWriter = (sink: Sink.Object, store: Sink.ObjectStore["Type"]): Writer => {
  const fail = Sink.ioError(sink)
  const parts = (cursor: Cursor) => Array.from({ length: cursor.offset }, (_, n) => partKey(sink.key, n))
  return {
    // A part past the cursor is rewritten whole by the next append: nothing to cut back.
    rewind: () => Effect.void,
    append: (cursor, bytes) =>
      store.put(partKey(sink.key, cursor.offset), Stream.make(bytes), {
        contentLength: bytes.length,
        contentType: "application/x-ndjson"
      }).pipe(Effect.mapError(fail), Effect.as(cursor.offset + 1)),
    finish: (cursor, commit) =>
      Effect.gen(function*() {
        const keys = parts(cursor)
        const sizes = yield* Effect.forEach(keys, (key) => Effect.map(store.head(key), (info) => info.size), {
          concurrency: 8
        }).pipe(Effect.mapError(fail))
        const body = Stream.concatAll(Chunk.fromIterable(keys.map((key) =>
          Stream.unwrap(
            Effect.map(store.get(key), (got) => got.body)
          )
        )))
        yield* store.put(sink.key, body, {
          contentLength: sizes.reduce((a, b) => a + b, 0),
          contentType: "application/x-ndjson"
        }).pipe(Effect.mapError(fail))
        yield* commit({ ...cursor, done: true })
        // Clean-up after the commit: a part left behind by a crash here costs space, never a result.
        yield* Effect.forEach(keys, (key) => Effect.ignore(store.delete(key)), { concurrency: 8, discard: true })
      })
  }
}

const writerFor = (sink: Sink.Sink): Effect.Effect<Writer, Sink.SinkError, FileSystem.FileSystem> =>
  sink._tag === "File"
    ? Effect.map(FileSystem.FileSystem, (fs) => fileWriter(sink, fs))
    : Effect.flatMap(Effect.serviceOption(Sink.ObjectStore), (store) =>
      Option.isNone(store)
        ? Effect.fail(
          new Sink.SinkError({ sink, reason: "Missing", detail: "this worker has no ObjectStore for object sinks" })
        )
        : Effect.succeed(objectWriter(sink, store.value)))

const encoder = new TextEncoder()

/**
 * Writes every result of `results` not yet committed to `sink`, `chunkSize` at a time, calling `commit` after
 * each durable write; returns the final (done) cursor.
 */
export const collect = <E, E2>(options: {
  readonly sink: Sink.Sink
  readonly results: Stream.Stream<Batch.BatchResult, E>
  readonly cursor: Cursor
  readonly chunkSize: number
  readonly commit: (cursor: Cursor) => Effect.Effect<void, E2>
}): Effect.Effect<Cursor, Sink.SinkError | E | E2, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const { commit, cursor: committed, sink } = options
    if (committed.done) return committed
    const writer = yield* writerFor(sink)
    yield* writer.rewind(committed)
    let seen = 0
    const reordered = (detail: string) => new Sink.SinkError({ sink, reason: "Reordered", detail })
    const fresh = options.results.pipe(
      Stream.mapEffect((result) => {
        seen += 1
        return seen === committed.results && result.customId !== committed.lastId
          ? Effect.fail(reordered(
            `result ${seen} is now ${result.customId}, it was ${committed.lastId} when it was committed`
          ))
          : Effect.succeed(result)
      }),
      Stream.drop(committed.results)
    )
    const last = yield* fresh.pipe(
      Stream.grouped(options.chunkSize),
      Stream.runFoldEffect(committed, (cursor, chunk) =>
        Effect.gen(function*() {
          const results = Chunk.toReadonlyArray(chunk)
          const bytes = encoder.encode(results.map(Sink.encodeLine).join(""))
          const offset = yield* writer.append(cursor, bytes)
          const next: Cursor = {
            results: cursor.results + results.length,
            succeeded: cursor.succeeded + results.filter((r) => r._tag === "Succeeded").length,
            offset,
            lastId: results[results.length - 1]!.customId,
            done: false
          }
          yield* commit(next)
          return next
        }))
    )
    if (seen < committed.results) {
      return yield* reordered(`the provider now returns ${seen} results, ${committed.results} were committed`)
    }
    const done: Cursor = { ...last, done: true }
    yield* writer.finish(last, commit)
    return done
  })
