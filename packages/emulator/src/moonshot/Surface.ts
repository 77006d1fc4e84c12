/**
 * The emulated Moonshot (Kimi) API: Files and Batches under `/v1`, OpenAI-shaped, with Bearer authentication and
 * Moonshot's `{"error":{"type","message"}}` envelope. Faithful enough that the `openai` npm client works unmodified.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Multipart from "@effect/platform/Multipart"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type { EmulatorContext, Surface } from "../internal/Context.js"
import * as Verifier from "../Verifier.js"
import { ApiError, invalidRequest, notFound, serverError, toResponse, unauthenticated } from "./Errors.js"
import * as Lifecycle from "./Lifecycle.js"
import * as Store from "./Store.js"
import * as Validation from "./Validation.js"

/** Inspectable state of this surface: every file and batch. */
export type State = Store.MoonshotState

/** Moonshot's documented limits (spec A1). */
export const limits = {
  maxFileBytes: 100 * 1024 * 1024,
  maxBatchFiles: 1000
} as const

const purposes = new Set(["batch", "file-extract", "image", "video"])

const authenticate = (ctx: EmulatorContext, request: HttpServerRequest.HttpServerRequest) => {
  const verified = Verifier.verifyBearer(
    {
      method: request.method,
      path: request.url,
      query: "",
      headers: request.headers,
      // Bearer auth never reads the body; not buffering it keeps 100 MB uploads streaming.
      body: new Uint8Array(0)
    },
    [{ accessKeyId: "moonshot", token: Redacted.make(ctx.credentials.moonshot.apiKey) }]
  )
  return Either.isRight(verified)
    ? Effect.void
    : Effect.fail(unauthenticated(`Invalid Authentication: ${verified.left.message}`))
}

const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

const pathParam = (name: string) =>
  Effect.flatMap(HttpRouter.params, (params) => {
    const value = params[name]
    return value === undefined || value === "" ? Effect.fail(notFound(`Missing ${name}`)) : Effect.succeed(value)
  })

const searchParam = (name: string) =>
  Effect.map(HttpServerRequest.ParsedSearchParams, (params) => {
    const value = params[name]
    return typeof value === "string" ? value : undefined
  })

/** Reads the multipart upload part by part, keeping the file's chunks as they arrive (never one big copy). */
const readUpload = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const fields: Record<string, string> = {}
  let file: { name: string; chunks: Array<Uint8Array>; bytes: number } | undefined
  yield* request.multipartStream.pipe(
    // Every part that carries a filename is a file, whatever its content type (the default treats JSON as a field).
    Multipart.withLimitsStream({ fieldMimeTypes: [] }),
    Stream.mapError((error) => invalidRequest(`Invalid multipart body: ${error.message}`)),
    Stream.runForEach((part) => {
      if (part._tag === "Field") {
        fields[part.key] = part.value
        return Effect.void
      }
      if (part._tag !== "File" || part.key !== "file") return Effect.void
      const current = { name: part.name, chunks: [] as Array<Uint8Array>, bytes: 0 }
      file = current
      return part.content.pipe(
        Stream.mapError((error) => invalidRequest(`Invalid multipart body: ${error.message}`)),
        Stream.runForEachChunk((chunk) => {
          for (const bytes of chunk) {
            current.chunks.push(bytes)
            current.bytes += bytes.length
          }
          return current.bytes > limits.maxFileBytes
            ? Effect.fail(
              invalidRequest("File size is too large, max file size is 100MB, please confirm and re-upload the file")
            )
            : Effect.void
        })
      )
    })
  )
  return { fields, file }
})

/** A single `Range: bytes=start-[end]`, or undefined when absent or in a form this emulator ignores. */
const parseRange = (header: string | undefined, size: number) => {
  if (header === undefined) return undefined
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim())
  if (match === null) return undefined
  const start = Number(match[1])
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1)
  return { start, end }
}

/** Views of bytes `[start, end]` (inclusive) of a chunked body, without copying. */
const sliceChunks = (chunks: ReadonlyArray<Uint8Array>, start: number, end: number): Array<Uint8Array> => {
  const views: Array<Uint8Array> = []
  let offset = 0
  for (const chunk of chunks) {
    const chunkEnd = offset + chunk.length
    if (chunkEnd > start && offset <= end) {
      views.push(chunk.subarray(Math.max(0, start - offset), Math.min(chunk.length, end - offset + 1)))
    }
    offset = chunkEnd
    if (offset > end) break
  }
  return views
}

/** Builds the surface. */
export const make = (ctx: EmulatorContext): Effect.Effect<Surface<State>> =>
  Effect.gen(function*() {
    const state = Store.makeState()
    const now = ctx.time.now

    const findFile = (id: string) => {
      const file = state.files.get(id)
      return file === undefined ? Effect.fail(notFound(`File not found: ${id}`)) : Effect.succeed(file)
    }
    const findBatch = (id: string) => {
      const batch = state.batches.get(id)
      return batch === undefined ? Effect.fail(notFound(`Batch not found: ${id}`)) : Effect.succeed(batch)
    }

    const uploadFile = Effect.gen(function*() {
      const { fields, file } = yield* readUpload
      const purpose = fields.purpose
      if (purpose === undefined) return yield* invalidRequest("Missing required parameter: 'purpose'")
      if (!purposes.has(purpose)) {
        return yield* invalidRequest(
          `Invalid purpose '${purpose}': only 'file-extract', 'image', 'video' and 'batch' are accepted`
        )
      }
      if (file === undefined) return yield* invalidRequest("Missing required parameter: 'file'")
      if (file.bytes === 0) {
        return yield* invalidRequest("File size is zero, please confirm and re-upload the file")
      }
      // Checked and stored in one synchronous step, so concurrent uploads cannot both take the last slot.
      // UNCONFIRMED: only `batch` files count toward the 1000 cap (result files are `batch_output`).
      if (purpose === "batch" && Store.countFiles(state, "batch") >= limits.maxBatchFiles) {
        return yield* invalidRequest(
          `The number of files you have uploaded exceeded the max file count ${limits.maxBatchFiles}, please delete previous uploaded files`
        )
      }
      const stored = Store.putFile(state, ctx, {
        filename: file.name,
        purpose,
        bytes: file.bytes,
        createdAt: yield* now,
        chunks: file.chunks
      })
      return json(Store.fileObject(stored))
    })

    const listFiles = Effect.gen(function*() {
      Store.observeAll(state, ctx, yield* now)
      const purpose = yield* searchParam("purpose")
      // UNCONFIRMED: Moonshot documents no paging for this list; newest first, like OpenAI.
      const data = [...state.files.values()]
        .filter((file) => purpose === undefined || file.purpose === purpose)
        .reverse()
        .map(Store.fileObject)
      return json({ object: "list", data, has_more: false })
    })

    const retrieveFile = Effect.gen(function*() {
      Store.observeAll(state, ctx, yield* now)
      return json(Store.fileObject(yield* findFile(yield* pathParam("id"))))
    })

    const deleteFile = Effect.gen(function*() {
      const file = yield* findFile(yield* pathParam("id"))
      state.files.delete(file.id)
      return json({ id: file.id, object: "file", deleted: true })
    })

    const fileContent = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const file = yield* findFile(yield* pathParam("id"))
      const range = parseRange(request.headers.range, file.bytes)
      const contentType = "application/octet-stream"
      if (range === undefined) {
        return HttpServerResponse.stream(Stream.fromIterable(file.chunks), {
          contentType,
          contentLength: file.bytes,
          headers: { "accept-ranges": "bytes" }
        })
      }
      if (range.start >= file.bytes || range.start > range.end) {
        return HttpServerResponse.empty({ status: 416, headers: { "content-range": `bytes */${file.bytes}` } })
      }
      return HttpServerResponse.stream(Stream.fromIterable(sliceChunks(file.chunks, range.start, range.end)), {
        status: 206,
        contentType,
        contentLength: range.end - range.start + 1,
        headers: { "accept-ranges": "bytes", "content-range": `bytes ${range.start}-${range.end}/${file.bytes}` }
      })
    })

    const createBatch = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const body = yield* request.json.pipe(
        Effect.mapError(() => invalidRequest("The request body is not valid JSON"))
      )
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        return yield* invalidRequest("The request body must be a JSON object")
      }
      const { completion_window, endpoint, input_file_id, metadata } = body as Record<string, unknown>
      if (typeof input_file_id !== "string") {
        return yield* invalidRequest("Missing required parameter: 'input_file_id'")
      }
      if (typeof completion_window !== "string") {
        return yield* invalidRequest("Missing required parameter: 'completion_window'")
      }
      // Moonshot's own curl sample omits `endpoint`; its only allowed value is then assumed.
      const endpointValue = endpoint === undefined ? Validation.chatCompletionsEndpoint : endpoint
      if (endpointValue !== Validation.chatCompletionsEndpoint) {
        return yield* invalidRequest(
          `Invalid endpoint '${String(endpointValue)}': only '${Validation.chatCompletionsEndpoint}' is supported`
        )
      }
      const windowMillis = yield* Validation.parseCompletionWindow(completion_window)
      const checkedMetadata = yield* Validation.validateMetadata(metadata)
      const file = yield* findFile(input_file_id)
      if (file.purpose !== "batch") {
        return yield* invalidRequest(`File ${file.id} has purpose '${file.purpose}'; a batch needs purpose 'batch'`)
      }
      const input = Validation.checkInput(file.filename, file.chunks)
      yield* Validation.checkModel(input.model, ctx.models.moonshot)
      const createdAt = yield* now
      const invalid = input.errors.length > 0
      const startedSeconds = Math.floor((createdAt + Duration.toMillis(ctx.processing.queuedFor)) / 1000)
      const outcomes = invalid
        ? []
        : input.requests.map((r) =>
          ctx.completions.complete({ customId: r.customId, model: r.model, body: r.body }, startedSeconds)
        )
      const batch: Store.StoredBatch = {
        id: ctx.nextId("batch_"),
        endpoint: endpointValue,
        inputFileId: file.id,
        completionWindow: completion_window,
        metadata: checkedMetadata,
        plan: {
          createdAt,
          expiresAt: createdAt + windowMillis,
          total: invalid ? 0 : input.requests.length,
          invalid,
          cancelRequestedAt: undefined
        },
        requests: invalid ? [] : input.requests,
        outcomes,
        failedBefore: Store.failuresBefore(outcomes),
        errors: input.errors,
        results: undefined
      }
      state.batches.set(batch.id, batch)
      return json(Store.batchObject(state, ctx, batch, createdAt))
    })

    const retrieveBatch = Effect.gen(function*() {
      const batch = yield* findBatch(yield* pathParam("id"))
      return json(Store.batchObject(state, ctx, batch, yield* now))
    })

    const listBatches = Effect.gen(function*() {
      const at = yield* now
      const after = yield* searchParam("after")
      const limitParam = yield* searchParam("limit")
      // UNCONFIRMED: the maximum `limit`; 100 like OpenAI. Newest first.
      const limit = limitParam === undefined ? 20 : Number(limitParam)
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        return yield* invalidRequest(`Invalid limit '${limitParam}': it must be an integer from 1 to 100`)
      }
      const all = [...state.batches.values()].reverse()
      let start = 0
      if (after !== undefined) {
        const index = all.findIndex((batch) => batch.id === after)
        if (index === -1) return yield* invalidRequest(`Invalid after '${after}': no such batch`)
        start = index + 1
      }
      const page = all.slice(start, start + limit)
      return json({
        object: "list",
        data: page.map((batch) => Store.batchObject(state, ctx, batch, at)),
        first_id: page[0]?.id ?? null,
        last_id: page.at(-1)?.id ?? null,
        has_more: start + limit < all.length
      })
    })

    const cancelBatch = Effect.gen(function*() {
      const batch = yield* findBatch(yield* pathParam("id"))
      const at = yield* now
      const phase = Store.observe(state, ctx, batch, at)
      if (!Lifecycle.isCancellable(phase.status)) {
        return yield* invalidRequest(`Batch ${batch.id} is ${phase.status} and can no longer be cancelled`)
      }
      batch.plan = { ...batch.plan, cancelRequestedAt: at }
      return json(Store.batchObject(state, ctx, batch, at))
    })

    const router = HttpRouter.empty.pipe(
      HttpRouter.post("/v1/files", uploadFile),
      HttpRouter.get("/v1/files", listFiles),
      HttpRouter.get("/v1/files/:id", retrieveFile),
      HttpRouter.del("/v1/files/:id", deleteFile),
      HttpRouter.get("/v1/files/:id/content", fileContent),
      HttpRouter.post("/v1/batches", createBatch),
      HttpRouter.get("/v1/batches", listBatches),
      HttpRouter.get("/v1/batches/:id", retrieveBatch),
      HttpRouter.post("/v1/batches/:id/cancel", cancelBatch)
    )
    const routes = yield* HttpRouter.toHttpApp(router)

    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      yield* authenticate(ctx, request)
      return yield* routes
    }).pipe(
      Effect.scoped,
      Effect.catchAll((error) =>
        Effect.succeed(toResponse(
          error instanceof ApiError
            ? error
            : error._tag === "RouteNotFound"
            ? notFound(`Unknown route: ${error.request.method} ${error.request.url}`)
            : invalidRequest(`Invalid request: ${String(error)}`)
        ))
      ),
      Effect.catchAllDefect((defect) => Effect.succeed(toResponse(serverError(`Internal error: ${String(defect)}`))))
    )
    return { app, state }
  })
