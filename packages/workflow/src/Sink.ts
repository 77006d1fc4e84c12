/**
 * Where a durable batch writes its results: a JSONL file, or an object in object storage. The results arrive in
 * committed chunks, each recorded with a durable cursor, so a worker that dies while collecting resumes at the
 * last committed line and the sink holds every result exactly once.
 *
 * A file sink is appended to and truncated back to the last committed byte on resume; the worker that collects
 * must see the path (an absolute path on the worker's machine, or a shared volume). An object sink writes each
 * chunk as its own part object (`<key>.parts/00000001`, …), then joins them into `<key>` and deletes the parts; the
 * worker needs the {@link ObjectStore} service.
 *
 * @example
 * ```ts
 * import { Sink } from "@barge/workflow"
 *
 * const toFile = Sink.file("/var/lib/barge/results/run-42.jsonl")
 * const toBucket = Sink.object("results/run-42.jsonl")
 * ```
 *
 * @since 0.1.0
 */
import * as Batch from "@barge/core/Batch"
import * as Jsonl from "@barge/core/Jsonl"
import type * as ObjectStorage from "@barge/core/ObjectStorage"
import * as ObjectStorageHelpers from "@barge/core/ObjectStorage"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

/**
 * Results appended to a JSONL file, one `Batch.BatchResult` per line.
 *
 * @since 0.1.0
 * @category models
 */
export const File = Schema.TaggedStruct("File", { path: Schema.String })

/**
 * @since 0.1.0
 * @category models
 */
export type File = typeof File.Type

/**
 * Results written to one object (JSONL) through the worker's {@link ObjectStore}.
 *
 * @since 0.1.0
 * @category models
 */
export const Object = Schema.TaggedStruct("Object", { key: Schema.String })

/**
 * @since 0.1.0
 * @category models
 */
export type Object = typeof Object.Type

/**
 * A sink, as stored with the execution.
 *
 * @since 0.1.0
 * @category models
 */
export const Sink = Schema.Union(File, Object)

/**
 * @since 0.1.0
 * @category models
 */
export type Sink = typeof Sink.Type

/**
 * A JSONL file sink at `path` (use an absolute path: the worker resolves a relative one against its own
 * working directory).
 *
 * @since 0.1.0
 * @category constructors
 */
export const file = (path: string): File => File.make({ path })

/**
 * An object sink at `key` in the worker's {@link ObjectStore}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const object = (key: string): Object => Object.make({ key })

/**
 * How a person reads the sink: the file path, or `object:<key>`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const describe = (sink: Sink): string => sink._tag === "File" ? sink.path : `object:${sink.key}`

/**
 * Whether two sinks are the same place.
 *
 * @since 0.1.0
 * @category predicates
 */
export const equals = (a: Sink, b: Sink): boolean =>
  a._tag === "File" ? b._tag === "File" && a.path === b.path : b._tag === "Object" && a.key === b.key

/**
 * The object storage object sinks write to (TOS, BOS or any `ObjectStorage`). Provide it to every worker that may
 * collect into an object sink, and to any process that reads such a sink back.
 *
 * @since 0.1.0
 * @category tags
 */
export class ObjectStore extends Context.Tag("@barge/workflow/Sink/ObjectStore")<
  ObjectStore,
  ObjectStorage.ObjectStorage<unknown>
>() {}

/**
 * The {@link ObjectStore} layer over a storage (for example `QianfanStorage` or Ark's TOS storage).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerObjectStore = <E>(storage: ObjectStorage.ObjectStorage<E>): Layer.Layer<ObjectStore> =>
  Layer.succeed(ObjectStore, storage as ObjectStorage.ObjectStorage<unknown>)

/**
 * Writing to or reading from a sink failed. `reason`: `Io` (the file system or object storage refused),
 * `Truncated` (the sink holds fewer bytes than were committed to it: something else shortened it),
 * `Reordered` (the provider returned results in a different order than before the restart, so the cursor cannot be
 * trusted), `Missing` (no object store to write to or read from).
 *
 * @since 0.1.0
 * @category errors
 */
export class SinkError extends Schema.TaggedError<SinkError>("@barge/workflow/Sink/SinkError")("SinkError", {
  sink: Sink,
  reason: Schema.Literal("Io", "Truncated", "Reordered", "Missing"),
  detail: Schema.String
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const where = describe(this.sink)
    switch (this.reason) {
      case "Truncated":
        return `the sink ${where} is shorter than the results already committed to it (${this.detail}); ` +
          `restore it, or submit again with a new sink`
      case "Reordered":
        return `cannot resume writing ${where}: ${this.detail}`
      case "Missing":
        return `cannot use ${where}: ${this.detail}`
      default:
        return `writing ${where} failed: ${this.detail}`
    }
  }
}

const encodeResult = Schema.encodeSync(Batch.BatchResult)

/**
 * One result as the line a sink holds (with its newline).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeLine = (result: Batch.BatchResult): string => `${JSON.stringify(encodeResult(result))}\n`

/**
 * A `SinkError` with reason `Io` for whatever the file system or object storage failed with.
 *
 * @since 0.1.0
 * @category errors
 */
export const ioError = (sink: Sink) => (cause: unknown): SinkError =>
  new SinkError({
    sink,
    reason: "Io",
    detail: Predicate.hasProperty(cause, "message") ? String(cause.message) : String(cause)
  })

/**
 * Every result in a finished sink, in order.
 *
 * @since 0.1.0
 * @category reading
 */
export const read = (
  sink: Sink
): Stream.Stream<Batch.BatchResult, SinkError | Jsonl.JsonlError, FileSystem.FileSystem> => {
  const bytes: Stream.Stream<Uint8Array, SinkError, FileSystem.FileSystem> = sink._tag === "File"
    ? Stream.unwrap(Effect.map(
      FileSystem.FileSystem,
      (fs) => fs.stream(sink.path).pipe(Stream.mapError(ioError(sink)))
    ))
    : Stream.unwrap(Effect.map(
      Effect.serviceOption(ObjectStore),
      (store) =>
        store._tag === "None"
          ? Stream.fail(new SinkError({ sink, reason: "Missing", detail: "no ObjectStore is provided" }))
          : ObjectStorageHelpers.stream(store.value, sink.key).pipe(Stream.mapError(ioError(sink)))
    ))
  return Jsonl.decode(Batch.BatchResult)(bytes)
}
