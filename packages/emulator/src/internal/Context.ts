/**
 * What every provider surface of the emulator receives. Owned by the emulator's infrastructure; provider
 * surfaces (`ark/`, `tos/`, `moonshot/`, `qianfan/`, `bos/`) depend on it and nothing else of each other.
 *
 * CONTRACT (initial version; the infrastructure work fills in the implementations behind these types).
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"

/** Credentials the emulator accepts. */
export interface Credentials {
  readonly volcengine: { readonly accessKeyId: string; readonly secretAccessKey: string }
  readonly bce: { readonly accessKeyId: string; readonly secretAccessKey: string }
  readonly moonshot: { readonly apiKey: string }
  readonly openai: { readonly apiKey: string }
  /** Qianfan's API key (`bce-v3/ALTAK-…/…`) for its OpenAI-style `/v2` API; `bce` signs its console API. */
  readonly qianfan: { readonly apiKey: string }
}

/** Emulated time: `Clock` scaled by the time scale, plus any manual advance. */
export interface EmulatorTime {
  /** Emulated epoch milliseconds. */
  readonly now: Effect.Effect<number>
  /** The same reading, synchronously (for code that is not an Effect, e.g. inside an `ObjectStore` call). */
  readonly unsafeNow: () => number
  readonly timeScale: number
  /** Emulated epoch milliseconds at which the emulator started (emulated and real time agree there). */
  readonly startedAt: number
  /** Moves emulated time forward by `duration` (emulated), independently of the `Clock`. */
  readonly advance: (duration: Duration.DurationInput) => Effect.Effect<void>
}

/** A stored object. */
export interface StoredObject {
  readonly bucket: string
  readonly key: string
  /**
   * The whole object as one array. For an object stored as chunks this joins them on first access (and caches the
   * result), so prefer `chunks`/`slice` for large objects.
   */
  readonly body: Uint8Array
  /** MD5 of the body, lowercase hex, without quotes (computed on first access). */
  readonly etag: string
  readonly contentType: string
  /** Epoch milliseconds of the write, in emulated time when the store was given a clock. */
  readonly lastModified: number
  /** Size in bytes. */
  readonly size: number
  /** The body as stored, never copied. */
  readonly chunks: ReadonlyArray<Uint8Array>
  /** Bytes `[start, end)` as views into the stored chunks (no copy). `end` defaults to `size`. */
  readonly slice: (start: number, end?: number) => ReadonlyArray<Uint8Array>
}

/** Builds one large object chunk by chunk; nothing is visible until `commit`. */
export interface ObjectWriter {
  readonly append: (bytes: Uint8Array) => void
  /** Stores the object atomically (replacing any previous one) and returns it. */
  readonly commit: () => StoredObject
}

/** An in-memory bucket store, one per storage service (TOS, BOS). Synchronous, so updates never interleave. */
export interface ObjectStore {
  readonly createBucket: (bucket: string) => void
  readonly hasBucket: (bucket: string) => boolean
  readonly put: (bucket: string, key: string, body: Uint8Array, contentType?: string) => StoredObject
  readonly get: (bucket: string, key: string) => StoredObject | undefined
  readonly delete: (bucket: string, key: string) => boolean
  /** Objects whose key starts with `prefix`, sorted by key. */
  readonly list: (bucket: string, prefix: string) => ReadonlyArray<StoredObject>
  /** Stores a body given as chunks (kept as they are, not joined). */
  readonly putChunks: (
    bucket: string,
    key: string,
    chunks: ReadonlyArray<Uint8Array>,
    contentType?: string
  ) => StoredObject
  /** Starts an object that is appended to piece by piece (e.g. a 1 GB results file) and stored on `commit`. */
  readonly writer: (bucket: string, key: string, contentType?: string) => ObjectWriter
  /** Names of existing buckets, sorted. */
  readonly buckets: () => ReadonlyArray<string>
}

/** The outcome of one emulated chat completion. */
export type CompletionOutcome =
  | { readonly _tag: "Success"; readonly body: ChatCompletion }
  | { readonly _tag: "Failure"; readonly statusCode: number; readonly code: string; readonly message: string }

/** An OpenAI-shaped chat completion with usage. */
export interface ChatCompletion {
  readonly id: string
  readonly object: "chat.completion"
  readonly created: number
  readonly model: string
  readonly choices: ReadonlyArray<{
    readonly index: number
    readonly message: { readonly role: "assistant"; readonly content: string }
    readonly finish_reason: "stop"
  }>
  readonly usage: { readonly prompt_tokens: number; readonly completion_tokens: number; readonly total_tokens: number }
}

/** Deterministic fake completions. A request whose message content contains `[[barge:fail]]` fails. */
export interface Completions {
  readonly complete: (
    request: { readonly customId: string; readonly model: string; readonly body: unknown },
    createdAtSeconds: number
  ) => CompletionOutcome
}

/** How fast emulated jobs move, in emulated time. */
export interface ProcessingModel {
  readonly queuedFor: Duration.Duration
  readonly perRequest: Duration.Duration
  readonly finalizingFor: Duration.Duration
}

/** The kinds of fault the emulator can inject. */
export type FaultKind =
  | "serverError"
  | "throttle"
  | "reset"
  | "truncate"
  | "slowBody"
  | "latency"
  | "lostResponse"

/** How many faults were injected, by kind, plus the total. */
export type FaultCounts = { readonly [K in FaultKind]: number } & { readonly total: number }

/** Seeded fault injection for one service. */
export interface Faults {
  /** Wraps a surface's app so the configured faults apply to its routes. */
  readonly wrap: (service: ServiceName, app: HttpApp.Default) => HttpApp.Default
  /** Faults injected so far. */
  readonly counts: () => FaultCounts
}

/** An emulated service's name, as the emulator's registry of surfaces lists it (`ark`, `moonshot`, …). */
export type ServiceName = string

/** Models each provider knows. */
export interface Models {
  readonly ark: ReadonlyArray<{ readonly name: string; readonly versions: ReadonlyArray<string> }>
  readonly moonshot: ReadonlyArray<string>
  readonly openai: ReadonlyArray<string>
  readonly qianfan: ReadonlyArray<string>
}

/** Everything a provider surface receives. */
export interface EmulatorContext {
  readonly time: EmulatorTime
  readonly credentials: Credentials
  readonly objects: { readonly tos: ObjectStore; readonly bos: ObjectStore }
  readonly completions: Completions
  readonly processing: ProcessingModel
  readonly models: Models
  /** Seeded randomness for ids, so a run with the same seed is reproducible. */
  readonly nextId: (prefix: string) => string
  /** The fault injector (already applied to every surface's app by the emulator; surfaces need not call it). */
  readonly faults: Faults
  /** The seed of this emulator run. */
  readonly seed: number
}

/** A provider surface: its HTTP app and its inspectable state. */
export interface Surface<State> {
  readonly app: HttpApp.Default
  readonly state: State
}
