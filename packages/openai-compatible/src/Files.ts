/**
 * The Files API of an OpenAI-compatible platform, and `cleanup`: what deletes old batch files before the platform's
 * file quota is reached (Kimi keeps at most 1000 batch files per organization).
 *
 * @since 0.1.0
 */
import type * as Provider from "@barge/core/Provider"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type * as Client from "./internal/client.js"
import * as Wire from "./Wire.js"

/**
 * A file to upload: its bytes as a re-runnable stream, its exact size, and its purpose (default `batch`).
 *
 * @since 0.1.0
 * @category models
 */
export type UploadInput<E> = Client.UploadInput<E>

/**
 * The platform's Files API.
 *
 * @since 0.1.0
 * @category models
 */
export interface Files {
  /** Uploads a file as a streamed multipart body. */
  readonly upload: <E>(input: UploadInput<E>) => Effect.Effect<Wire.FileObject, Provider.Failure | E>
  /** Every file (output and error files included), page by page. */
  readonly list: Stream.Stream<Wire.FileObject, Provider.Failure>
  /** One file's metadata. */
  readonly retrieve: (fileId: string) => Effect.Effect<Wire.FileObject, Provider.Failure>
  /** Deletes a file. */
  readonly delete: (fileId: string) => Effect.Effect<Wire.FileDeleted, Provider.Failure>
  /** The file's bytes from `offset` (default 0). */
  readonly content: (
    fileId: string,
    options?: { readonly offset?: number | undefined }
  ) => Stream.Stream<Uint8Array, Provider.Failure>
}

/**
 * Options of `cleanup`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CleanupOptions {
  /** Only files uploaded longer ago than this (`"7 days"`, `Duration.days(7)`). */
  readonly olderThan: Duration.DurationInput
  /** List what would be deleted without deleting it; default `true`. */
  readonly dryRun?: boolean | undefined
}

/**
 * What `cleanup` found (and, unless a dry run, deleted).
 *
 * @since 0.1.0
 * @category models
 */
export class CleanupReport extends Schema.Class<CleanupReport>("@barge/openai-compatible/CleanupReport")({
  provider: Schema.String,
  dryRun: Schema.Boolean,
  /** The `purpose=batch` files older than the cutoff that no unfinished batch reads. */
  files: Schema.Array(Wire.FileObject),
  /** Files deleted (0 on a dry run). */
  deleted: Schema.Number,
  /** Old batch files kept because an unfinished batch reads them. */
  inUse: Schema.Number
}) {
  /**
   * One line per file, then a summary: what a command line prints.
   *
   * @since 0.1.0
   */
  get lines(): ReadonlyArray<string> {
    const verb = this.dryRun ? "would delete" : "deleted"
    return [
      ...this.files.map((file) =>
        `${verb} ${file.id} ${file.filename ?? ""} (${file.bytes ?? "?"} bytes, uploaded ${
          file.created_at == null ? "?" : new Date(file.created_at * 1000).toISOString()
        })`
      ),
      `${this.provider}: ${
        this.dryRun ? `${this.files.length} batch files to delete (dry run)` : `${this.deleted} deleted`
      }` +
      (this.inUse > 0 ? `; ${this.inUse} kept for unfinished batches` : "")
    ]
  }
}
