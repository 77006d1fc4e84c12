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
}

/** Emulated time: `Clock` scaled by the time scale, plus any manual advance. */
export interface EmulatorTime {
  /** Emulated epoch milliseconds. */
  readonly now: Effect.Effect<number>
  readonly timeScale: number
}

/** A stored object. */
export interface StoredObject {
  readonly bucket: string
  readonly key: string
  readonly body: Uint8Array
  readonly etag: string
  readonly contentType: string
  readonly lastModified: number
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

/** Seeded fault injection for one service. */
export interface Faults {
  /** Wraps a surface's app so the configured faults apply to its routes. */
  readonly wrap: (service: ServiceName, app: HttpApp.Default) => HttpApp.Default
}

/** The five emulated services. */
export type ServiceName = "ark" | "tos" | "moonshot" | "qianfan" | "bos"

/** Models each provider knows. */
export interface Models {
  readonly ark: ReadonlyArray<{ readonly name: string; readonly versions: ReadonlyArray<string> }>
  readonly moonshot: ReadonlyArray<string>
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
}

/** A provider surface: its HTTP app and its inspectable state. */
export interface Surface<State> {
  readonly app: HttpApp.Default
  readonly state: State
}
