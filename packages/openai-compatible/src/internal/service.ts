/**
 * The service every OpenAI-compatible platform gets, assembled from core's lifecycle and the platform's extras —
 * shared by the real service and the mock, so both check and clean alike.
 */
import * as Batch from "@barge/core/Batch"
import * as InputValidation from "@barge/core/InputValidation"
import type * as Provider from "@barge/core/Provider"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Files from "../Files.js"
import type * as OpenAiCompatible from "../OpenAiCompatible.js"
import * as Profile from "../Profile.js"
import type * as Wire from "../Wire.js"
import type * as Client from "./client.js"
import * as internal from "./provider.js"

const metadataIssues = (
  profile: Profile.Profile,
  metadata: Readonly<Record<string, string>> | undefined
): ReadonlyArray<string> => {
  const entries = Object.entries(metadata ?? {})
  const limits = profile.metadata
  const issues: Array<string> = []
  const taken = entries.filter(([key]) => internal.reserved.includes(key)).map(([key]) => key)
  if (taken.length > 0) issues.push(`metadata key ${taken.join(", ")} is Barge's own; use another name`)
  const room = limits.maxPairs - internal.reserved.length
  if (entries.length > room) {
    issues.push(
      `metadata has ${entries.length} pairs; ${profile.title} takes ${limits.maxPairs}, ` +
        `of which Barge uses ${internal.reserved.length}: at most ${room}`
    )
  }
  for (const [key, value] of entries) {
    if (key.length > limits.maxKeyLength || value.length > limits.maxValueLength) {
      issues.push(
        `metadata "${key.slice(0, 80)}" is longer than ${profile.title} takes ` +
          `(keys ${limits.maxKeyLength}, values ${limits.maxValueLength} characters)`
      )
    }
  }
  return issues
}

const checkMetadata = (
  profile: Profile.Profile,
  metadata: Readonly<Record<string, string>> | undefined
): Effect.Effect<void, InputValidation.InputValidationError> => {
  const issues = metadataIssues(profile, metadata)
  return issues.length === 0 ? Effect.void : Effect.fail(
    new InputValidation.InputValidationError({
      issues: issues.map((message) => new InputValidation.Issue({ lineNumber: 0, rule: "InvalidParameter", message })),
      totalIssues: issues.length,
      lines: 0,
      bytes: 0
    })
  )
}

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
    const report = new Files.CleanupReport({
      provider: profile.name,
      dryRun,
      files,
      deleted,
      inUse: old.length - files.length
    })
    yield* Effect.forEach(report.lines, (line) => Effect.logInfo(line), { discard: true })
    return report
  }).pipe(Effect.withSpan(`${client.profile.name}.cleanup`))

/** The service: core's lifecycle with the metadata checked before anything is uploaded, plus the extras. */
export const service = (
  profile: Profile.Profile,
  base: Provider.Service<Wire.Batch, {}, internal.ListFilter, internal.CreateRequest>,
  files: Files.Files,
  clean: OpenAiCompatible.Service["cleanup"]
): OpenAiCompatible.Service => ({
  ...base,
  // Core knows no metadata limits: checked with the input, before anything is uploaded.
  prepare: (input, options) => Effect.zipRight(checkMetadata(profile, options?.metadata), base.prepare(input, options)),
  submit: (input, options) => Effect.zipRight(checkMetadata(profile, options?.metadata), base.submit(input, options)),
  withLimits: (limits) => service(profile, base.withLimits(limits), files, clean),
  profile,
  files,
  cleanup: clean
})
