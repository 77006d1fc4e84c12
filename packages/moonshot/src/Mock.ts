/**
 * A `MoonshotBatch` with no HTTP, for users' tests: files and batches live in memory, each `retrieve` moves a batch
 * one step along a scripted list of statuses, results come from a function of each input line, and any operation
 * can be made to fail. Input validation and idempotency are the real ones.
 *
 * @example
 * ```ts
 * import { Mock, MoonshotBatch, OpenAiCompatible } from "@barge/moonshot"
 * import { Effect } from "effect"
 *
 * const test = Effect.gen(function*() {
 *   const kimi = yield* MoonshotBatch.MoonshotBatch
 *   const batch = yield* kimi.submit(OpenAiCompatible.fromLines("in.jsonl", lines))
 *   const done = yield* kimi.await(batch.id) // validating → in_progress → finalizing → completed
 * }).pipe(Effect.provide(Mock.layer({ statuses: ["validating", "in_progress", "completed"] })))
 * ```
 *
 * @since 0.1.0
 */
import type * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Errors from "./Errors.js"
import { MoonshotBatch, type Service } from "./MoonshotBatch.js"
import * as OpenAiCompatible from "./OpenAiCompatible.js"
import * as Profile from "./Profile.js"
import * as Wire from "./Wire.js"

/**
 * Operations a script can make fail.
 *
 * @since 0.1.0
 * @category models
 */
export type Operation = "upload" | "create" | "retrieve" | "list" | "cancel" | "content"

/**
 * The script.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Statuses a batch reports: the first at create, then one step per `retrieve`; the last repeats. Default
   * `validating, in_progress, finalizing, completed`. A final `expired`/`cancelled` keeps the first half of the
   * results; `failed` keeps none.
   */
  readonly statuses?: ReadonlyArray<Wire.BatchStatus> | undefined
  /** The result of each input line; default a success echoing its last message. */
  readonly respond?: ((line: Wire.InputLine) => Batch.BatchResult) | undefined
  /** The `errors` a `failed` batch reports. */
  readonly validationErrors?: ReadonlyArray<{ readonly code: string; readonly message: string; readonly line?: number }>
  /** Failures to return instead of performing an operation. */
  readonly failures?: { readonly [K in Operation]?: Errors.MoonshotError } | undefined
  /** Default: the Moonshot profile. */
  readonly profile?: Profile.Profile | undefined
}

const defaultStatuses: ReadonlyArray<Wire.BatchStatus> = ["validating", "in_progress", "finalizing", "completed"]

const decodeInput = Schema.decodeUnknownEither(Schema.parseJson(Wire.InputLine))

const echo = (line: Wire.InputLine): Batch.BatchResult => {
  const messages = (line.body as { messages?: ReadonlyArray<{ content?: unknown }> }).messages ?? []
  const last = messages.at(-1)?.content
  return {
    _tag: "Succeeded",
    customId: line.custom_id,
    response: Schema.decodeUnknownSync(ChatRequest.ChatResponse)({
      id: `chatcmpl-${line.custom_id}`,
      model: String(line.body.model ?? "mock"),
      choices: [{ index: 0, message: { role: "assistant", content: `Echo: ${String(last ?? "")}` } }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
    })
  }
}

interface MockFile {
  readonly object: Wire.FileObject
  readonly bytes: Uint8Array
}

interface MockBatch {
  readonly id: string
  readonly inputFileId: string
  readonly window: string
  readonly metadata: Record<string, string> | undefined
  readonly createdAt: number
  readonly lines: ReadonlyArray<Wire.InputLine>
  step: number
  cancelledAt: number | undefined
}

const windowSeconds = (window: string): number => {
  const match = /^(\d+)([hd])$/.exec(window)
  return match === null ? 86_400 : Number(match[1]) * (match[2] === "d" ? 86_400 : 3_600)
}

/**
 * Builds the scripted service.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service> =>
  Effect.sync(() => {
    const profile = options.profile ?? Profile.moonshot()
    const provider = profile.name
    const statuses = options.statuses !== undefined && options.statuses.length > 0 ? options.statuses : defaultStatuses
    const respond = options.respond ?? echo
    const files = new Map<string, MockFile>()
    const batches = new Map<string, MockBatch>()
    let counter = 0
    const nextId = (prefix: string) => `${prefix}mock${(++counter).toString().padStart(6, "0")}`

    const failWith = (operation: Operation) => {
      const failure = options.failures?.[operation]
      return failure === undefined ? Effect.void : Effect.fail(failure)
    }
    const notFound = (action: string, what: string) =>
      new Errors.NotFoundError({
        provider,
        action,
        status: 404,
        type: "resource_not_found_error",
        description: `${what} not found`
      })

    const statusOf = (batch: MockBatch): Wire.BatchStatus => {
      if (batch.cancelledAt !== undefined) return batch.step > batch.cancelledAt ? "cancelled" : "cancelling"
      return statuses[Math.min(batch.step, statuses.length - 1)]!
    }

    const resultsOf = (batch: MockBatch, status: Wire.BatchStatus): ReadonlyArray<Batch.BatchResult> => {
      if (status === "failed") return []
      const half = Math.ceil(batch.lines.length / 2)
      return batch.lines.map((line, i) =>
        status === "completed" || i < half
          ? respond(line)
          : {
            _tag: "Failed",
            customId: line.custom_id,
            error: { code: status === "expired" ? "batch_expired" : "batch_cancelled", message: `not run: ${status}` }
          } as Batch.BatchResult
      )
    }

    const view = (batch: MockBatch): Wire.Batch => {
      const status = statusOf(batch)
      const terminal = Wire.isTerminal(status)
      const total = status === "validating" || status === "failed" ? 0 : batch.lines.length
      const finished = terminal ? resultsOf(batch, status) : resultsOf(batch, "completed").slice(
        0,
        status === "in_progress" ? Math.floor(total / 2) : status === "finalizing" ? total : 0
      )
      const failed = finished.filter((r) => r._tag === "Failed" && !r.error.code.startsWith("batch_")).length
      const completed = finished.filter((r) => r._tag === "Succeeded").length
      const results = terminal ? resultsOf(batch, status) : []
      return new Wire.Batch({
        id: batch.id,
        object: "batch",
        endpoint: profile.endpoint,
        input_file_id: batch.inputFileId,
        completion_window: batch.window,
        status,
        created_at: batch.createdAt,
        request_counts: new Wire.RequestCounts({ total, completed, failed }),
        output_file_id: results.some((r) => r._tag === "Succeeded") ? `${batch.id}-output` : null,
        error_file_id: results.some((r) => r._tag === "Failed") ? `${batch.id}-error` : null,
        expires_at: batch.createdAt + windowSeconds(batch.window),
        metadata: batch.metadata ?? null,
        ...(status === "failed"
          ? {
            errors: {
              object: "list",
              data: (options.validationErrors ?? [{ code: "invalid_input", message: "scripted failure" }]).map((e) =>
                new Wire.BatchErrorItem({ code: e.code, message: e.message, line: e.line ?? null })
              )
            }
          }
          : {})
      })
    }

    const upload: Service["files"]["upload"] = (source, uploadOptions) =>
      Effect.gen(function*() {
        yield* failWith("upload")
        if (source._tag === "Path") {
          return yield* new Errors.SourceError({
            source: source.path,
            description: "the mock reads no files from disk; pass a Stream"
          })
        }
        const chunks = yield* Stream.runCollect(source.bytes)
        const bytes = Buffer.concat(Chunk.toReadonlyArray(chunks))
        const object = new Wire.FileObject({
          id: nextId("file-"),
          object: "file",
          bytes: bytes.length,
          created_at: Math.floor((yield* Clock.currentTimeMillis) / 1000),
          filename: source.filename,
          purpose: uploadOptions?.purpose ?? "batch",
          status: "ready"
        })
        files.set(object.id, { object, bytes })
        return object
      })

    const retrieveFile = (fileId: string) => {
      const file = files.get(fileId)
      return file === undefined ? Effect.fail(notFound("RetrieveFile", `file ${fileId}`)) : Effect.succeed(file.object)
    }

    const create: Service["batches"]["create"] = (params) =>
      Effect.gen(function*() {
        yield* failWith("create")
        const file = files.get(params.inputFileId)
        if (file === undefined) return yield* notFound("CreateBatch", `file ${params.inputFileId}`)
        const lines = new TextDecoder().decode(file.bytes).split("\n").flatMap((text) =>
          text.trim() === "" ? [] : Either.match(decodeInput(text), { onLeft: () => [], onRight: (l) => [l] })
        )
        const batch: MockBatch = {
          id: nextId("batch_"),
          inputFileId: file.object.id,
          window: params.completionWindow ?? profile.completionWindow.default,
          metadata: params.metadata === undefined ? undefined : { ...params.metadata },
          createdAt: Math.floor((yield* Clock.currentTimeMillis) / 1000),
          lines,
          step: 0,
          cancelledAt: undefined
        }
        batches.set(batch.id, batch)
        return view(batch)
      })

    const retrieve = (batchId: string) =>
      Effect.gen(function*() {
        yield* failWith("retrieve")
        const batch = batches.get(batchId)
        if (batch === undefined) return yield* notFound("RetrieveBatch", `batch ${batchId}`)
        if (!Wire.isTerminal(statusOf(batch))) batch.step++
        return view(batch)
      })

    const list: Service["batches"]["list"] = () =>
      Stream.unwrap(
        Effect.as(
          failWith("list"),
          Stream.suspend(() => Stream.fromIterable([...batches.values()].reverse().map(view)))
        )
      )

    const cancel = (batchId: string) =>
      Effect.gen(function*() {
        yield* failWith("cancel")
        const batch = batches.get(batchId)
        if (batch === undefined) return yield* notFound("CancelBatch", `batch ${batchId}`)
        const status = statusOf(batch)
        if (Wire.isTerminal(status) || status === "cancelling") {
          return yield* new Errors.InvalidRequestError({
            provider,
            action: "CancelBatch",
            status: 400,
            type: "invalid_request_error",
            description: `batch ${batchId} is ${status} and cannot be cancelled`
          })
        }
        batch.cancelledAt = batch.step
        return view(batch)
      })

    const resultLine = (result: Batch.BatchResult): string =>
      JSON.stringify(
        result._tag === "Succeeded"
          ? { custom_id: result.customId, response: { status_code: 200, body: result.response }, error: null }
          : {
            custom_id: result.customId,
            response: null,
            error: { code: result.error.code, message: result.error.message }
          }
      )

    const content: Service["files"]["content"] = (fileId, contentOptions) =>
      Stream.unwrap(Effect.gen(function*() {
        yield* failWith("content")
        const uploaded = files.get(fileId)
        let bytes: Uint8Array
        if (uploaded !== undefined) {
          bytes = uploaded.bytes
        } else {
          const match = /^(.*)-(output|error)$/.exec(fileId)
          const batch = match === null ? undefined : batches.get(match[1]!)
          if (batch === undefined) return yield* notFound("FileContent", `file ${fileId}`)
          const wanted = match![2] === "output" ? "Succeeded" : "Failed"
          const lines = resultsOf(batch, statusOf(batch)).filter((r) => r._tag === wanted).map(resultLine)
          bytes = new TextEncoder().encode(lines.map((l) => `${l}\n`).join(""))
        }
        return Stream.make(bytes.subarray(contentOptions?.offset ?? 0))
      }))

    const submit: Service["submit"] = (source, submitOptions) =>
      Effect.gen(function*() {
        if (source._tag === "Path") {
          return yield* new Errors.SourceError({
            source: source.path,
            description: "the mock reads no files from disk; pass a Stream"
          })
        }
        const { key, metadata, window } = yield* OpenAiCompatible.validate(
          profile,
          source.filename,
          source.bytes,
          submitOptions
        )
        const existing = [...batches.values()].find((b) =>
          b.metadata?.[OpenAiCompatible.idempotencyMetadataKey] === key
        )
        if (existing !== undefined) return view(existing)
        const file = yield* upload(source)
        return yield* create({ inputFileId: file.id, completionWindow: window, metadata })
      })

    // The mock's time does not pass by itself, so polls follow each other without delay unless scripted.
    const immediately = (pollOptions?: OpenAiCompatible.PollOptions): OpenAiCompatible.PollOptions => ({
      ...pollOptions,
      schedule: pollOptions?.schedule ?? Schedule.forever
    })

    const results: Service["results"] = (batchId) =>
      Stream.unwrap(Effect.gen(function*() {
        yield* failWith("content")
        const batch = batches.get(batchId)
        if (batch === undefined) return yield* notFound("RetrieveBatch", `batch ${batchId}`)
        const status = statusOf(batch)
        const all = Wire.isTerminal(status) ? resultsOf(batch, status) : []
        return Stream.fromIterable([
          ...all.filter((r) => r._tag === "Succeeded"),
          ...all.filter((r) => r._tag === "Failed")
        ])
      }))

    return {
      profile,
      files: {
        upload,
        list: Effect.zipRight(failWith("list"), Effect.sync(() => [...files.values()].map((f) => f.object))),
        retrieve: retrieveFile,
        delete: (fileId) =>
          files.delete(fileId)
            ? Effect.succeed(new Wire.FileDeleted({ id: fileId, object: "file", deleted: true }))
            : Effect.fail(notFound("DeleteFile", `file ${fileId}`)),
        content
      },
      batches: { create, retrieve, list, cancel },
      submit,
      await: (batchId, pollOptions) =>
        OpenAiCompatible.awaitWith(provider, retrieve, batchId, immediately(pollOptions)),
      watch: (batchId, pollOptions) =>
        OpenAiCompatible.watchWith(provider, retrieve, batchId, immediately(pollOptions)),
      results
    } satisfies Service
  })

/**
 * The scripted service as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<MoonshotBatch> => Layer.effect(MoonshotBatch, make(options))
