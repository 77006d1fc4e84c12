/**
 * The service every OpenAI-compatible platform gets, assembled from core's lifecycle and the platform's extras —
 * shared by the real service and the mock, so both check and clean alike.
 */
import * as Batch from "@barge/core/Batch"
import type * as Provider from "@barge/core/Provider"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as Files from "../Files.js"
import type * as OpenAiCompatible from "../OpenAiCompatible.js"
import * as Profile from "../Profile.js"
import type * as Wire from "../Wire.js"
import type * as Client from "./client.js"
import type * as internal from "./provider.js"

const isNotFound = (error: Provider.Failure) => error._tag === "ApiError" && error.reason === "NotFound"

/** What `cleanup` reads and deletes through. */
export type CleanupClient = Pick<Client.Client, "profile" | "listBatches" | "listFiles" | "deleteFile">

/** The `cleanup` verb over a client. */
export const cleanup = (client: CleanupClient) => (options: Files.CleanupOptions) =>
  Effect.gen(function*() {
    const profile = client.profile
    const dryRun = options.dryRun ?? true
    const cutoff = (yield* Clock.currentTimeMillis) - Duration.toMillis(options.olderThan)
    // Deleting the input of a batch still running would break it.
    const reading = new Set<string>()
    yield* client.listBatches().pipe(
      Stream.filter((batch) => !Batch.isTerminal(Profile.phaseOf(profile, batch.status ?? undefined))),
      Stream.runForEach((batch) => Effect.sync(() => batch.input_file_id == null || reading.add(batch.input_file_id)))
    )
    const old = yield* client.listFiles.pipe(
      Stream.filter((file) => file.purpose === "batch" && file.created_at != null && file.created_at * 1000 < cutoff),
      Stream.runCollect
    )
    const files = [...old].filter((file) => !reading.has(file.id))
    const deleted = dryRun ? 0 : yield* Effect.forEach(
      files,
      (file) => client.deleteFile(file.id).pipe(Effect.as(1), Effect.catchIf(isNotFound, () => Effect.succeed(0))),
      { concurrency: 4 }
    ).pipe(Effect.map((counts) => counts.reduce((a, b) => a + b, 0)))
    const report = new Batch.CleanupReport({
      provider: profile.name,
      dryRun,
      files: files.map((file) =>
        new Batch.StoredFile({
          id: file.id,
          ...(file.filename == null ? {} : { name: file.filename }),
          ...(file.bytes == null ? {} : { bytes: file.bytes }),
          ...(file.created_at == null ? {} : { uploadedAt: DateTime.unsafeMake(file.created_at * 1000) })
        })
      ),
      deleted,
      inUse: old.length - files.length
    })
    yield* Effect.forEach(report.lines, (line) => Effect.logInfo(line), { discard: true })
    return report
  }).pipe(Effect.withSpan(`${client.profile.name}.cleanup`))

/** The service: core's lifecycle plus the platform's extras. */
export const service = (
  profile: Profile.Profile,
  base: Provider.Service<Wire.Batch, {}, internal.ListFilter, internal.CreateRequest>,
  files: Files.Files,
  clean: OpenAiCompatible.Service["cleanup"]
): OpenAiCompatible.Service => ({
  ...base,
  withLimits: (limits) => service(profile, base.withLimits(limits), files, clean),
  profile,
  files,
  cleanup: clean
})
