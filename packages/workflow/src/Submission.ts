/**
 * What a durable batch is started from: the provider, the input (JSONL text), the submit options and the sink —
 * plus the submission's content hash. The hash of input, options and provider is the workflow's idempotency key, so
 * every submit of the same input with the same options to the same provider, concurrent or repeated, from any
 * process on any machine, is one execution (and so one provider job).
 *
 * @since 0.1.0
 */
import type * as Batch from "@barge/core/Batch"
import type * as ChatRequest from "@barge/core/ChatRequest"
import * as CompletionWindow from "@barge/core/CompletionWindow"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"
import * as Sink from "./Sink.js"

/**
 * The submit options, in a form that is stored and hashed: the completion window in milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export const Options = Schema.Struct({
  /** The model for lines that name none. */
  model: Schema.optional(Schema.String),
  /** The completion window, when it reads as a duration. */
  completionWindowMillis: Schema.optional(Schema.Number),
  /** A completion window that does not read as a duration, kept as given: `prepare` refuses it with its reason. */
  completionWindow: Schema.optional(Schema.String),
  metadata: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  /** What to do with a parameter the provider fixes for batches (`Batch.SubmitOptions.fixedParameters`). */
  fixedParameters: Schema.optional(Schema.Literal("refuse", "drop"))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Options = typeof Options.Type

/**
 * The workflow payload. `input` is the JSONL the provider's `Batch` service validates (Barge, OpenAI batch or
 * Qianfan lines); it travels with the execution, so any worker can run it.
 *
 * @since 0.1.0
 * @category models
 */
export const fields = {
  key: Schema.String,
  provider: Schema.String,
  input: Schema.String,
  options: Options,
  sink: Sink.Sink
}

/**
 * @since 0.1.0
 * @category models
 */
export const Submission = Schema.Struct(fields)

/**
 * @since 0.1.0
 * @category models
 */
export type Submission = typeof Submission.Type

/**
 * The options `Batch.prepare` takes, from the stored ones.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toSubmitOptions = (options: Options): Batch.SubmitOptions => ({
  ...(options.model === undefined ? {} : { model: options.model }),
  ...(options.completionWindowMillis !== undefined
    ? { completionWindow: Duration.millis(options.completionWindowMillis) }
    : options.completionWindow !== undefined
    ? { completionWindow: options.completionWindow }
    : {}),
  ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
  ...(options.fixedParameters === undefined ? {} : { fixedParameters: options.fixedParameters })
})

/**
 * The stored options, from what a caller passes to `start`. A window is stored in milliseconds, so `"24h"` and
 * `"1 day"` are the same submission.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromSubmitOptions = (options: Batch.SubmitOptions | undefined): Options => {
  const window = options?.completionWindow
  return {
    ...(options?.model === undefined ? {} : { model: options.model }),
    ...(window === undefined ? {} : Option.match(CompletionWindow.parse(window), {
      onNone: () => ({ completionWindow: String(window) }),
      onSome: (duration) => ({ completionWindowMillis: Duration.toMillis(duration) })
    })),
    ...(options?.metadata === undefined ? {} : { metadata: options.metadata }),
    ...(options?.fixedParameters === undefined ? {} : { fixedParameters: options.fixedParameters })
  }
}

const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : typeof value === "object" && value !== null
    ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
    : value

/**
 * The submission's content hash: SHA-256 over the provider, the options (keys sorted) and the input text, as
 * `sha256:<hex>`. Equal for equal submissions whatever process computes it.
 *
 * @since 0.1.0
 * @category hashing
 */
export const contentKey = (provider: string, input: string, options: Options): string =>
  "sha256:" +
  Crypto.createHash("sha256")
    .update(JSON.stringify(["barge-durable-batch/1", provider, canonical(options)]))
    .update("\n")
    .update(input)
    .digest("hex")

/**
 * A submission of `input` (JSONL text) to `provider`, its key computed.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly provider: string
  readonly input: string
  readonly sink: Sink.Sink
  readonly submit?: Batch.SubmitOptions | undefined
}): Submission => {
  const stored = fromSubmitOptions(options.submit)
  return {
    key: contentKey(options.provider, options.input, stored),
    provider: options.provider,
    input: options.input,
    options: stored,
    sink: options.sink
  }
}

/**
 * What `BatchWorkflow.start` takes: JSONL text, JSONL bytes, or requests built in code (written as Barge JSONL lines,
 * one per request, in order).
 *
 * @since 0.1.0
 * @category models
 */
export type Input<E = never, R = never> =
  | string
  | Stream.Stream<Uint8Array, E, R>
  | Iterable<ChatRequest.ChatRequest>

/**
 * The input as the JSONL text a submission carries.
 *
 * @since 0.1.0
 * @category conversions
 */
export const inputText = <E, R>(input: Input<E, R>): Effect.Effect<string, E, R> => {
  if (typeof input === "string") return Effect.succeed(input)
  if (Stream.StreamTypeId in (input as object)) {
    return Stream.decodeText(input as Stream.Stream<Uint8Array, E, R>).pipe(Stream.mkString)
  }
  return Effect.sync(() => Array.from(input as Iterable<unknown>, (request) => `${JSON.stringify(request)}\n`).join(""))
}
