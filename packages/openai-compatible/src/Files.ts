/**
 * The Files API of an OpenAI-compatible platform, and `cleanup`: what deletes old batch files before the platform's
 * file quota is reached (Kimi keeps at most 1000 batch files per organization).
 *
 * @since 0.1.0
 */
import type * as Batch from "@barge/core/Batch"
import type * as Provider from "@barge/core/Provider"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type * as Client from "./internal/client.js"
import type * as Wire from "./Wire.js"

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
 * Options of `cleanup` (core's).
 *
 * @since 0.1.0
 * @category models
 */
export type CleanupOptions = Batch.CleanupOptions

/**
 * What `cleanup` found (and, unless a dry run, deleted): core's report.
 *
 * @since 0.1.0
 * @category models
 */
export type CleanupReport = Batch.CleanupReport
