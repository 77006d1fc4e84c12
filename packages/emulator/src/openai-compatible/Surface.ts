/**
 * An emulated OpenAI-compatible platform: Files and Batches under the profile's version path, with Bearer
 * authentication and the profile's status words, windows, limits and error envelope. Faithful enough that the
 * `openai` npm client works unmodified on all three profiles (Moonshot, OpenAI, Qianfan's `/v2`).
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
import type { Profile } from "./Profile.js"
import * as Store from "./Store.js"
import * as Validation from "./Validation.js"

/** Inspectable state of this surface: every file and batch, and the quirks a test sets. */
export type State = Store.State

const authenticate = (profile: Profile, ctx: EmulatorContext, request: HttpServerRequest.HttpServerRequest) => {
  const verified = Verifier.verifyBearer(
    {
      method: request.method,
      path: request.url,
      query: "",
      headers: request.headers,
      // Bearer auth never reads the body; not buffering it keeps 100 MB uploads streaming.
      body: new Uint8Array(0)
    },
    [{ accessKeyId: profile.service, token: Redacted.make(profile.apiKey(ctx)) }]
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
const readUpload = (profile: Profile) =>
  Effect.gen(function*() {
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
            return current.bytes > profile.limits.maxFileBytes
              ? Effect.fail(invalidRequest(profile.messages.fileTooLarge))
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

/** Builds the surface for a profile. */
export const make = (profile: Profile) => (ctx: EmulatorContext): Effect.Effect<Surface<State>> =>
  Effect.gen(function*() {
    const state = Store.makeState(profile)
    const now = ctx.time.now
    const purposes = new Set(profile.purposes)

    const findFile = (id: string) => {
      const file = state.files.get(id)
      return file === undefined ? Effect.fail(notFound(`File not found: ${id}`)) : Effect.succeed(file)
    }
    const findBatch = (id: string) => {
      const batch = state.batches.get(id)
      return batch === undefined ? Effect.fail(notFound(`Batch not found: ${id}`)) : Effect.succeed(batch)
    }

    const uploadFile = Effect.gen(function*() {
      const { fields, file } = yield* readUpload(profile)
      const purpose = fields.purpose
      if (purpose === undefined) return yield* invalidRequest("Missing required parameter: 'purpose'", "purpose")
      if (!purposes.has(purpose)) {
        return yield* invalidRequest(
          `Invalid purpose '${purpose}': only ${profile.purposes.map((p) => `'${p}'`).join(", ")} are accepted`,
          "purpose"
        )
      }
      if (file === undefined) return yield* invalidRequest("Missing required parameter: 'file'", "file")
      if (file.bytes === 0) return yield* invalidRequest(profile.messages.fileEmpty)
      // Checked and stored in one synchronous step, so concurrent uploads cannot both take the last slot.
      // UNCONFIRMED: only `batch` files count toward the cap (result files are `batch_output`).
      const cap = profile.limits.maxBatchFiles
      if (purpose === "batch" && cap !== undefined && Store.countFiles(state, "batch") >= cap) {
        return yield* invalidRequest(profile.messages.fileCap(cap))
      }
      const stored = Store.putFile(state, ctx, {
        filename: file.name,
        purpose,
        bytes: file.bytes,
        createdAt: yield* now,
        chunks: file.chunks
      })
      return json(Store.fileObject(state, stored))
    })

    /** Newest first, after the item `after`, at most `limit` (within `[1, max]`, `fallback` when absent). */
    const page = <A extends { readonly id: string }>(all: ReadonlyArray<A>, fallback: number, max: number) =>
      Effect.gen(function*() {
        const after = yield* searchParam("after")
        const limitParam = yield* searchParam("limit")
        const limit = limitParam === undefined ? fallback : Number(limitParam)
        if (!Number.isInteger(limit) || limit < 1 || limit > max) {
          return yield* invalidRequest(`Invalid limit '${limitParam}': it must be an integer from 1 to ${max}`, "limit")
        }
        let start = 0
        if (after !== undefined) {
          const index = all.findIndex((item) => item.id === after)
          if (index === -1) return yield* invalidRequest(`Invalid after '${after}': no such object`, "after")
          start = index + 1
        }
        return { items: all.slice(start, start + limit), hasMore: start + limit < all.length }
      })

    const listFiles = Effect.gen(function*() {
      Store.observeAll(state, ctx, yield* now)
      const purpose = yield* searchParam("purpose")
      const all = [...state.files.values()].filter((file) => purpose === undefined || file.purpose === purpose)
        .reverse()
      // UNCONFIRMED: Moonshot documents no paging for this list (one page, every file); OpenAI pages by `after`.
      const { hasMore, items } = profile.filePaging
        ? yield* page(all, 10_000, 10_000)
        : { items: all, hasMore: false }
      return json({
        object: "list",
        data: items.map((file) => Store.fileObject(state, file)),
        has_more: hasMore,
        ...(profile.filePaging ? { first_id: items[0]?.id ?? null, last_id: items.at(-1)?.id ?? null } : {})
      })
    })

    const retrieveFile = Effect.gen(function*() {
      Store.observeAll(state, ctx, yield* now)
      return json(Store.fileObject(state, yield* findFile(yield* pathParam("id"))))
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
        return yield* invalidRequest("Missing required parameter: 'input_file_id'", "input_file_id")
      }
      if (typeof completion_window !== "string") {
        return yield* invalidRequest("Missing required parameter: 'completion_window'", "completion_window")
      }
      // Moonshot's own curl sample omits `endpoint`; its first allowed value is then assumed.
      const endpointValue = endpoint === undefined && profile.endpointOptional ? profile.endpoints[0] : endpoint
      if (typeof endpointValue !== "string" || !profile.endpoints.includes(endpointValue)) {
        return yield* invalidRequest(
          `Invalid endpoint '${String(endpointValue)}': supported are ${profile.endpoints.join(", ")}`,
          "endpoint"
        )
      }
      const windowMillis = yield* Validation.parseCompletionWindow(profile, completion_window)
      const checkedMetadata = yield* Validation.validateMetadata(metadata)
      const file = yield* findFile(input_file_id)
      if (file.purpose !== "batch") {
        return yield* invalidRequest(`File ${file.id} has purpose '${file.purpose}'; a batch needs purpose 'batch'`)
      }
      const input = Validation.checkInput(profile, endpointValue, file.filename, file.chunks)
      yield* Validation.checkModel(input.model, profile.models(ctx))
      const createdAt = yield* now
      const invalid = input.errors.length > 0
      const startedSeconds = Math.floor((createdAt + Duration.toMillis(ctx.processing.queuedFor)) / 1000)
      const outcomes = invalid
        ? []
        : input.requests.map((r) =>
          ctx.completions.complete({ customId: r.customId, model: r.model, body: r.body }, startedSeconds)
        )
      const batch: Store.StoredBatch = {
        id: ctx.nextId(profile.idPrefixes.batch),
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
      return json(Store.batchJson(state, ctx, batch, createdAt))
    })

    const retrieveBatch = Effect.gen(function*() {
      const batch = yield* findBatch(yield* pathParam("id"))
      return json(Store.batchJson(state, ctx, batch, yield* now))
    })

    const listBatches = Effect.gen(function*() {
      const at = yield* now
      // UNCONFIRMED on Moonshot and Qianfan: the maximum `limit`; 100 like OpenAI. Newest first.
      const { hasMore, items } = yield* page([...state.batches.values()].reverse(), 20, 100)
      return json({
        object: "list",
        data: items.map((batch) => Store.batchJson(state, ctx, batch, at)),
        first_id: items[0]?.id ?? null,
        last_id: items.at(-1)?.id ?? null,
        has_more: hasMore
      })
    })

    const cancelBatch = Effect.gen(function*() {
      const batch = yield* findBatch(yield* pathParam("id"))
      const at = yield* now
      const phase = Store.observe(state, ctx, batch, at)
      if (!Lifecycle.isCancellable(phase.status)) {
        return yield* invalidRequest(
          `Batch ${batch.id} is ${profile.statuses[phase.status]} and can no longer be cancelled`
        )
      }
      batch.plan = { ...batch.plan, cancelRequestedAt: at }
      return json(Store.batchJson(state, ctx, batch, at))
    })

    const router = HttpRouter.empty.pipe(
      HttpRouter.post("/files", uploadFile),
      HttpRouter.get("/files", listFiles),
      HttpRouter.get("/files/:id", retrieveFile),
      HttpRouter.del("/files/:id", deleteFile),
      HttpRouter.get("/files/:id/content", fileContent),
      HttpRouter.post("/batches", createBatch),
      HttpRouter.get("/batches", listBatches),
      HttpRouter.get("/batches/:id", retrieveBatch),
      HttpRouter.post("/batches/:id/cancel", cancelBatch),
      HttpRouter.prefixAll(profile.prefix)
    )
    const routes = yield* HttpRouter.toHttpApp(router)

    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      yield* authenticate(profile, ctx, request)
      return yield* routes
    }).pipe(
      Effect.scoped,
      Effect.catchAll((error) =>
        Effect.succeed(toResponse(
          profile,
          error instanceof ApiError
            ? error
            : error._tag === "RouteNotFound"
            ? notFound(profile.messages.unknownRoute(error.request.method, error.request.url))
            : invalidRequest(`Invalid request: ${String(error)}`)
        ))
      ),
      Effect.catchAllDefect((defect) =>
        Effect.succeed(toResponse(profile, serverError(`Internal error: ${String(defect)}`)))
      )
    )
    return { app, state }
  })
