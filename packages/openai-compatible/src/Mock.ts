/**
 * An OpenAI-compatible service with no HTTP, for users' tests: core's in-memory platform (`Mock.make`, moved by
 * `Clock`, so `TestClock` drives it) seen through a profile — its status words, limits, windows, fixed parameters
 * and line encoding are the real ones, and so are validation, splitting and idempotency. `layer` is OpenAI's;
 * `layerFor` builds one for any platform's tag (`MoonshotBatch`, `QianfanV2Batch`).
 *
 * @example
 * ```ts
 * import { Mock, OpenAiBatch } from "@barge/openai-compatible"
 * import { Effect, TestClock } from "effect"
 *
 * const test = Effect.gen(function*() {
 *   const openai = yield* OpenAiBatch.OpenAiBatch
 *   const submitted = yield* openai.submit([
 *     { customId: "a", model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }
 *   ])
 *   yield* TestClock.adjust("1 minute")
 *   const done = yield* openai.get(submitted.status.parts[0].jobId) // status "completed"
 * }).pipe(Effect.provide(Mock.layer()))
 * ```
 *
 * @since 0.1.0
 */
import * as ApiError from "@barge/core/ApiError"
import * as CoreMock from "@barge/core/Mock"
import * as Provider from "@barge/core/Provider"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type * as Files from "./Files.js"
import * as internal from "./internal/provider.js"
import * as assemble from "./internal/service.js"
import * as OpenAiBatch from "./OpenAiBatch.js"
import type * as OpenAiCompatible from "./OpenAiCompatible.js"
import * as Profile from "./Profile.js"
import * as Wire from "./Wire.js"

/**
 * The script: core's mock options (responses, timing, refusals), with the platform's own rules taken from its
 * profile. `limits` may only lower the profile's.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Omit<CoreMock.Options, "name" | "window" | "fixedParameters" | "endpoint"> {}

const seconds = (millis: number) => Math.floor(millis / 1000)

const encoder = new TextEncoder()

/**
 * The mock service for a profile.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (profile: Profile.Profile, options: Options = {}): Effect.Effect<OpenAiCompatible.Service> =>
  Effect.gen(function*() {
    const mock = yield* CoreMock.make({
      ...options,
      name: profile.name,
      limits: { ...profile.limits, ...options.limits },
      window: profile.window,
      fixedParameters: profile.fixedParameters,
      endpoint: profile.endpoint
    })
    const base = mock.provider
    const uploaded = new Map<string, Wire.FileObject>()

    const toBatch = (job: CoreMock.MockJob): Wire.Batch =>
      new Wire.Batch({
        id: job.id,
        object: "batch",
        endpoint: profile.endpoint,
        model: job.model,
        input_file_id: job.input,
        completion_window: job.window ?? null,
        status: Profile.wordOf(profile, CoreMock.status(job).phase),
        created_at: seconds(job.createdAt),
        expires_at: seconds(job.expiresAt),
        request_counts: new Wire.RequestCounts({ total: job.total, completed: job.completed, failed: job.failed }),
        output_file_id: null,
        error_file_id: null,
        metadata: { ...job.metadata, [internal.keyField]: job.key, [internal.linesField]: String(job.total) }
      })

    const record = (id: string, filename: string, bytes: number) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const file = new Wire.FileObject({
          id,
          object: "file",
          bytes,
          created_at: seconds(now),
          filename,
          purpose: "batch",
          status: "processed"
        })
        uploaded.set(id, file)
        return file
      })

    const notFound = (action: string, fileId: string) =>
      Effect.fail(
        new ApiError.ApiError({
          provider: profile.name,
          action,
          reason: "NotFound",
          status: 404,
          description: `no file ${fileId}`
        })
      )

    const provider: Provider.Provider<Wire.Batch, {}, internal.ListFilter> = {
      name: profile.name,
      limits: base.limits,
      window: profile.window,
      endpoint: profile.endpoint,
      fixedParameters: profile.fixedParameters,
      checkSubmission: (options) => internal.metadataIssues(profile, options.metadata),
      encodeLine: internal.encodeLine(profile),
      upload: (upload, own) =>
        Effect.tap(
          base.upload(upload, own),
          (id) => record(id, `barge-${upload.key.slice(0, 16)}.jsonl`, upload.bytes)
        ),
      create: (part) => Effect.map(base.create(part), toBatch),
      find: (key, own) => Stream.map(base.find(key, own), toBatch),
      get: (id) => Effect.map(base.get(id), toBatch),
      list: () => Stream.map(base.list(), toBatch),
      cancel: (id) => Effect.map(base.cancel(id), toBatch),
      status: internal.status(profile),
      results: (batch) => Stream.unwrap(Effect.map(base.get(batch.id), base.results)),
      // The core mock writes no error file for requests a batch never ran: core lists them from the input.
      inputIds: (batch) => Stream.unwrap(Effect.map(base.get(batch.id), (job) => base.inputIds?.(job) ?? Stream.empty))
    }

    const create = (request: internal.CreateRequest) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        provider.create({
          key: `raw-${now}-${request.inputFileId}`,
          submission: "",
          index: 0,
          count: 1,
          model: "",
          group: "",
          lines: 0,
          bytes: 0,
          input: request.inputFileId,
          window: typeof request.completionWindow === "string" ? request.completionWindow : profile.window.default,
          metadata: { ...request.metadata },
          parameters: {},
          options: {}
        }))

    const lookup = (action: string, fileId: string) => {
      const file = uploaded.get(fileId)
      return file === undefined ? notFound(action, fileId) : Effect.succeed(file)
    }

    const files: Files.Files = {
      upload: (input) =>
        Effect.flatMap(
          base.upload({
            key: "upload",
            submission: "",
            index: 0,
            count: 1,
            model: "",
            group: "",
            lines: 0,
            bytes: input.size,
            files: [{ index: 0, lines: 0, bytes: input.size, body: input.content }]
          }, {}),
          (id) => record(id, input.filename, input.size)
        ),
      list: Stream.suspend(() => Stream.fromIterable([...uploaded.values()].reverse())),
      retrieve: (fileId) => lookup("RetrieveFile", fileId),
      delete: (fileId) =>
        Effect.map(lookup("DeleteFile", fileId), (file) => {
          uploaded.delete(file.id)
          return new Wire.FileDeleted({ id: file.id, deleted: true })
        }),
      content: (fileId, contentOptions) =>
        Stream.unwrap(Effect.map(lookup("FileContent", fileId), (file) => {
          const lines = mock.state().files.get(file.id) ?? []
          const bytes = encoder.encode(lines.map((line) => `${line}\n`).join(""))
          return Stream.make(bytes.subarray(contentOptions?.offset ?? 0))
        }))
    }

    const cleanup = assemble.cleanup({
      profile,
      listBatches: () => provider.list(),
      listFiles: files.list,
      deleteFile: files.delete
    })
    return assemble.service(profile, Provider.make(provider, { create, settle: 0 }), files, cleanup)
  })

/**
 * A mock layer for a platform's tag and profile.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFor =
  <I>(tag: Context.Tag<I, OpenAiCompatible.Service>, profile: Profile.Profile) => (options?: Options): Layer.Layer<I> =>
    Layer.effect(tag, make(profile, options))

/**
 * The mock `OpenAiBatch`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options?: Options) => Layer.Layer<OpenAiBatch.OpenAiBatch> = layerFor(
  OpenAiBatch.OpenAiBatch,
  OpenAiBatch.profile
)
