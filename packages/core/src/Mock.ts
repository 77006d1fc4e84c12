/**
 * An in-memory batch platform for tests: a {@link Provider.Provider} whose jobs move with Effect's `Clock` (queued
 * for a while, then a fixed time per request), so `TestClock` drives them. It keeps what a real platform keeps —
 * uploaded files, jobs carrying their idempotency key, results and errors — and answers per request with what
 * `respond` says. Provider packages build their `Mock` layers on it, mapping {@link MockJob} onto their own job
 * type; a program's tests can use it directly through `Provider.make`.
 *
 * @example
 * ```ts
 * import { Batch, Mock, Provider } from "@barge/core"
 * import { Effect, Layer } from "effect"
 *
 * const BatchTest = Layer.effect(
 *   Batch.Batch,
 *   Effect.flatMap(Mock.make(), (mock) => Batch.fromProvider(Provider.make(mock.provider)))
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as ApiError from "./ApiError.js"
import * as Batch from "./Batch.js"
import * as ChatRequest from "./ChatRequest.js"
import * as CompletionWindow from "./CompletionWindow.js"
import type * as Provider from "./Provider.js"

/**
 * Where a mock job is. `stopped` and `expired` jobs ran only the requests processed before.
 *
 * @since 0.1.0
 * @category models
 */
export type MockState = "queued" | "running" | "done" | "failed" | "stopping" | "stopped" | "expired"

/**
 * A mock job as it stands at one instant.
 *
 * @since 0.1.0
 * @category models
 */
export interface MockJob {
  readonly id: string
  readonly key: string
  readonly model: string
  readonly state: MockState
  readonly createdAt: number
  readonly expiresAt: number
  readonly total: number
  readonly completed: number
  readonly failed: number
  readonly window: string | undefined
  readonly metadata: Readonly<Record<string, string>>
  readonly parameters: Readonly<Record<string, unknown>>
  /** The input file id. */
  readonly input: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Default `mock`. */
  readonly name?: string | undefined
  readonly limits?: Partial<Provider.Limits> | undefined
  /** Default `CompletionWindow.range({ unit: "h", min: 1, max: 168, default: "24h" })`. */
  readonly window?: CompletionWindow.Rules | undefined
  readonly fixedParameters?: ReadonlyArray<string> | undefined
  /** Default `/v1/chat/completions`. */
  readonly endpoint?: string | undefined
  /** What each request gets: a completion, or the error it fails with. Default: an echo of the last message. */
  readonly respond?: ((request: ChatRequest.ChatRequest) => ChatRequest.ChatResponse | Batch.RequestError) | undefined
  /** How long a job waits before running; default 1 s. */
  readonly queuedFor?: Duration.DurationInput | undefined
  /** Time per request once running; default 100 ms. */
  readonly perRequest?: Duration.DurationInput | undefined
  /** Refuses a create with this error (e.g. a quota) — for the part of this index, or every part. */
  readonly refuseCreate?: ((part: { readonly index: number }) => ApiError.ApiError | undefined) | undefined
  /** Fails a job once it starts running, with this message. */
  readonly failJob?: ((part: { readonly index: number }) => string | undefined) | undefined
}

/**
 * What the platform holds, for assertions.
 *
 * @since 0.1.0
 * @category models
 */
export interface Holdings {
  /** Uploaded files by id: each line's text. */
  readonly files: ReadonlyMap<string, ReadonlyArray<string>>
  /** Creates that reached the platform (one per job). */
  readonly creates: number
  readonly uploads: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Mock {
  readonly provider: Provider.Provider<MockJob>
  /** What the platform holds now. */
  readonly state: () => Holdings
}

interface Stored {
  readonly id: string
  readonly key: string
  readonly model: string
  readonly index: number
  readonly createdAt: number
  readonly window: string | undefined
  readonly metadata: Readonly<Record<string, string>>
  readonly parameters: Readonly<Record<string, unknown>>
  readonly input: string
  readonly requests: ReadonlyArray<ChatRequest.ChatRequest>
  readonly failure: string | undefined
  stoppedAt?: number
}

const echo = (request: ChatRequest.ChatRequest): ChatRequest.ChatResponse => {
  const last = request.messages[request.messages.length - 1]
  return {
    id: `chatcmpl-${request.customId}`,
    model: request.model,
    choices: [{
      index: 0,
      message: { role: "assistant", content: `echo: ${typeof last?.content === "string" ? last.content : ""}` },
      finish_reason: "stop"
    }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
  }
}

const phases: Record<MockState, Batch.Phase> = {
  queued: "pending",
  running: "running",
  done: "completed",
  failed: "failed",
  stopping: "cancelling",
  stopped: "cancelled",
  expired: "expired"
}

/**
 * The shared status of a mock job.
 *
 * @since 0.1.0
 * @category mapping
 */
export const status = (job: MockJob): Batch.JobStatus =>
  new Batch.JobStatus({
    jobId: job.id,
    phase: phases[job.state],
    providerStatus: job.state,
    counts: new Batch.Counts({ total: job.total, completed: job.completed, failed: job.failed }),
    model: job.model,
    createdAt: DateTime.unsafeMake(job.createdAt),
    expiresAt: DateTime.unsafeMake(job.expiresAt)
  })

/**
 * A new, empty mock platform.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Mock> =>
  Effect.sync(() => {
    const name = options.name ?? "mock"
    const respond = options.respond ?? echo
    const queuedFor = Duration.toMillis(options.queuedFor ?? "1 second")
    const perRequest = Math.max(1, Duration.toMillis(options.perRequest ?? "100 millis"))
    const files = new Map<string, ReadonlyArray<string>>()
    const jobs = new Map<string, Stored>()
    let creates = 0
    let uploads = 0
    let nextId = 0

    const outcomes = new Map<string, ChatRequest.ChatResponse | Batch.RequestError>()
    const outcome = (request: ChatRequest.ChatRequest) => {
      let found = outcomes.get(request.customId)
      if (found === undefined) {
        found = respond(request)
        outcomes.set(request.customId, found)
      }
      return found
    }

    const view = (stored: Stored, now: number): MockJob => {
      const window = Duration.toMillis(
        Option.getOrElse(CompletionWindow.parse(stored.window ?? "24h"), () => Duration.days(1))
      )
      const expiresAt = stored.createdAt + window
      const until = Math.min(now, stored.stoppedAt ?? now, expiresAt)
      const started = stored.createdAt + queuedFor
      const processed = Math.max(0, Math.min(stored.requests.length, Math.floor((until - started) / perRequest)))
      let failed = 0
      for (const request of stored.requests.slice(0, processed)) {
        if (outcome(request) instanceof Batch.RequestError) failed++
      }
      const state: MockState = stored.failure !== undefined && now >= started
        ? "failed"
        : processed === stored.requests.length && now >= started
        ? "done"
        : stored.stoppedAt !== undefined
        ? "stopped"
        : now >= expiresAt
        ? "expired"
        : now < started
        ? "queued"
        : "running"
      const ran = state === "failed" ? 0 : processed
      return {
        id: stored.id,
        key: stored.key,
        model: stored.model,
        state,
        createdAt: stored.createdAt,
        expiresAt,
        total: stored.requests.length,
        completed: state === "failed" ? 0 : ran - failed,
        failed: state === "failed" ? 0 : failed,
        window: stored.window,
        metadata: stored.metadata,
        parameters: stored.parameters,
        input: stored.input
      }
    }

    const notFound = (action: string, id: string) =>
      new ApiError.ApiError({
        provider: name,
        action,
        reason: "NotFound",
        status: 404,
        code: "not_found",
        description: `no job or file ${id}`
      })

    const lookup = (action: string, id: string) =>
      Effect.suspend(() => {
        const stored = jobs.get(id)
        return stored === undefined
          ? Effect.fail(notFound(action, id))
          : Effect.map(Clock.currentTimeMillis, (now) => ({ stored, job: view(stored, now) }))
      })

    const provider: Provider.Provider<MockJob> = {
      name,
      limits: { maxLinesPerJob: 50_000, maxBytesPerJob: 100 * 1024 * 1024, ...options.limits },
      window: options.window ?? CompletionWindow.range({ unit: "h", min: 1, max: 168, default: "24h" }),
      endpoint: options.endpoint ?? "/v1/chat/completions",
      fixedParameters: options.fixedParameters,
      encodeLine: (request) =>
        JSON.stringify({
          custom_id: request.customId,
          method: "POST",
          url: options.endpoint ?? "/v1/chat/completions",
          body: ChatRequest.toChatBody(request)
        }),
      upload: (upload) =>
        Effect.gen(function*() {
          const lines: Array<string> = []
          for (const file of upload.files) {
            const text = new TextDecoder().decode(
              Chunk.toReadonlyArray(yield* Stream.runCollect(file.body)).reduce((all, bytes) => {
                const joined = new Uint8Array(all.length + bytes.length)
                joined.set(all)
                joined.set(bytes, all.length)
                return joined
              }, new Uint8Array())
            )
            lines.push(...text.split("\n").filter((line) => line.length > 0))
          }
          uploads++
          const id = `file-${++nextId}`
          files.set(id, lines)
          return id
        }),
      create: (part) =>
        Effect.gen(function*() {
          const refused = options.refuseCreate?.({ index: part.index })
          if (refused !== undefined) return yield* refused
          const lines = files.get(part.input)
          if (lines === undefined) return yield* notFound("CreateBatch", part.input)
          const requests = lines.map((line, i) => {
            const parsed = ChatRequest.fromJsonLine(line, i + 1, part.model)
            return Either.isRight(parsed) ? parsed.right : ({ customId: `line-${i + 1}` } as ChatRequest.ChatRequest)
          })
          const now = yield* Clock.currentTimeMillis
          creates++
          const stored: Stored = {
            id: `job-${++nextId}`,
            key: part.key,
            model: part.model,
            index: part.index,
            createdAt: now,
            window: part.window,
            metadata: part.metadata,
            parameters: part.parameters,
            input: part.input,
            requests,
            failure: options.failJob?.({ index: part.index })
          }
          jobs.set(stored.id, stored)
          return view(stored, now)
        }),
      find: (key) =>
        Stream.unwrap(Effect.map(Clock.currentTimeMillis, (now) =>
          Stream.fromIterable(
            [...jobs.values()].filter((stored) => stored.key === key).map((s) => view(s, now))
          ))),
      get: (id) => Effect.map(lookup("RetrieveBatch", id), ({ job }) => job),
      list: () =>
        Stream.unwrap(Effect.map(Clock.currentTimeMillis, (now) =>
          Stream.fromIterable(
            [...jobs.values()].reverse().map((stored) => view(stored, now))
          ))),
      cancel: (id) =>
        Effect.flatMap(lookup("CancelBatch", id), ({ job, stored }) =>
          Effect.map(Clock.currentTimeMillis, (now) => {
            if (!Batch.isTerminal(phases[job.state])) {
              stored.stoppedAt = now
            }
            return view(stored, now)
          })),
      status,
      results: (job) =>
        Stream.suspend(() => {
          const stored = jobs.get(job.id)
          if (stored === undefined) return Stream.empty
          const ran = stored.requests.slice(0, job.completed + job.failed)
          return Stream.fromIterable(ran).pipe(Stream.map((request): Batch.BatchResult => {
            const result = outcome(request)
            return result instanceof Batch.RequestError
              ? { _tag: "Failed", customId: request.customId, error: result }
              : { _tag: "Succeeded", customId: request.customId, response: result }
          }))
        }),
      inputIds: (job) =>
        Stream.suspend(() =>
          Stream.fromIterable(files.get(job.input) ?? []).pipe(
            Stream.map((line) => String((JSON.parse(line) as { readonly custom_id: unknown }).custom_id))
          )
        )
    }

    return {
      provider,
      state: () => ({ files, creates, uploads })
    }
  })
