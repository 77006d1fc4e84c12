/**
 * The provider contract: what one batch platform supplies so that core can run the whole batch lifecycle on it.
 *
 * Core owns the lifecycle once — validation of every request before anything is sent, planning and splitting into
 * jobs and files, encoding (the provider's {@link Provider.encodeLine} is the single source of both the size check
 * and the uploaded bytes, counted in UTF-8), upload, idempotent create (find → create → on an ambiguous failure find
 * again), polling, results (every submitted request exactly once, unprocessed ones included) and cancel. A provider
 * fills in data (limits, completion-window rules, fixed parameters, an error table) and a few wire calls (upload,
 * create, find, get, list, cancel, results). {@link make} turns a provider into its service: the same verbs with the
 * same shapes on every provider — `submit`, `await`, `watch`, `results`, `create`, `get`, `list`, `cancel` — to
 * which a provider package adds its genuine extras in its own words.
 *
 * @since 0.1.0
 */
import type * as Arr from "effect/Array"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"
import type * as ApiError from "./ApiError.js"
import type * as Batch from "./Batch.js"
import type * as ChatRequest from "./ChatRequest.js"
import type * as CompletionWindow from "./CompletionWindow.js"
import type * as Download from "./Download.js"
import * as lifecycle from "./internal/lifecycle.js"
import type * as Jsonl from "./Jsonl.js"
import type * as TransportError from "./TransportError.js"

/**
 * How a provider call can fail: the provider refused (`ApiError`, its code kept) or no usable answer came
 * (`TransportFailure`). The contract's error channel is closed: a provider's genuine extras (Ark's duplicate-job
 * error, …) live on its own verbs, never in the lifecycle.
 *
 * @since 0.1.0
 * @category models
 */
export type Failure = ApiError.ApiError | TransportError.TransportFailure

/**
 * How reading results can fail, beyond a call failing: a download that stayed short, a line that is not JSON.
 *
 * @since 0.1.0
 * @category models
 */
export type ResultsFailure = Failure | Download.DownloadTruncated | Jsonl.JsonlError

/**
 * What one provider job accepts. A submission beyond any of these is split into several jobs; a job whose input
 * exceeds `maxBytesPerFile` is cut into several files (at most `maxFilesPerJob`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  /** Most request lines one job takes. */
  readonly maxLinesPerJob: number
  /** Most bytes of input one job takes (encoded lines with their newlines). */
  readonly maxBytesPerJob: number
  /** Most bytes of one input file; default `maxBytesPerJob` (one file per job). */
  readonly maxBytesPerFile?: number | undefined
  /** Most input files of one job; default 1. */
  readonly maxFilesPerJob?: number | undefined
}

/**
 * One input file of a part, as core hands it to {@link Provider.upload}.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadFile<E> {
  /** 0-based within the part. */
  readonly index: number
  readonly lines: number
  /** The exact byte length of `body`. */
  readonly bytes: number
  /**
   * The encoded lines, each ending in `"\n"`. Re-runnable: each run reads the input again (so a failed put can be
   * sent again); it fails if the input changed since it was validated.
   */
  readonly body: Stream.Stream<Uint8Array, E>
}

/**
 * One planned job's input, to upload.
 *
 * @since 0.1.0
 * @category models
 */
export interface Upload<E> {
  /** The part's idempotency key: the same submission planned again gives the same key. */
  readonly key: string
  /** The submission's content hash (every part of it shares this). */
  readonly submission: string
  readonly index: number
  readonly count: number
  readonly model: string
  /** What the provider's `partKey` gave every request of the part (the model when it has none). */
  readonly group: string
  readonly lines: number
  readonly bytes: number
  readonly files: Arr.NonEmptyReadonlyArray<UploadFile<E>>
}

/**
 * One planned job, uploaded, to create.
 *
 * @since 0.1.0
 * @category models
 */
export interface Part<Options> {
  /** Must be stored on the job so {@link Provider.find} finds it again (metadata, a tag, the name …). */
  readonly key: string
  readonly submission: string
  readonly index: number
  readonly count: number
  readonly model: string
  /** What the provider's `partKey` gave every request of the part (the model when it has none). */
  readonly group: string
  readonly lines: number
  readonly bytes: number
  /** What {@link Provider.upload} returned. */
  readonly input: string
  /** The completion window's wire value, already checked against the provider's rules; `undefined`: leave out. */
  readonly window: string | undefined
  readonly metadata: Readonly<Record<string, string>>
  /**
   * The Chat Completions parameters every request of the part shares, for providers that take parameters per job
   * (its {@link Provider.partKey} groups by them); `{}` otherwise.
   */
  readonly parameters: Readonly<Record<string, unknown>>
  /** The provider's own submit options. */
  readonly options: Options
}

/**
 * What a provider supplies. `Job` is its job object, `Options` its own submit options (bucket, project …) and
 * `Filter` what its `list` takes.
 *
 * @since 0.1.0
 * @category models
 */
export interface Provider<Job, Options = {}, Filter = void> {
  /** Short name: the prefix of logical batch ids (`ark`, `moonshot`, `openai`, `qianfan`, `qianfan-v2`). */
  readonly name: string
  readonly limits: Limits
  readonly window: CompletionWindow.Rules
  /**
   * The endpoint batch lines call (`/v1/chat/completions`): an OpenAI batch line naming another `url` is refused,
   * never rewritten.
   */
  readonly endpoint: string
  /**
   * Further `url`s a line may name, for a provider whose input lines carry none (Ark, Qianfan's console): the chat
   * completions paths that mean the same request there. Default: only {@link endpoint}.
   */
  readonly acceptedEndpoints?: ReadonlyArray<string> | undefined
  /**
   * Chat Completions parameters the provider does not let a batch set (Kimi's fixed sampling parameters). A request
   * carrying one is refused, or — when the user asks for it — sent without it and reported.
   */
  readonly fixedParameters?: ReadonlyArray<string> | undefined
  /** What must be equal inside one job; default the model. Qianfan's console adds the parameters. */
  readonly partKey?: ((request: ChatRequest.ChatRequest) => string) | undefined
  /**
   * Provider rules for a submission's options (metadata limits, …), as messages reported with the input's issues
   * before anything is sent; none when they are fine.
   */
  readonly checkSubmission?: ((options: Batch.SubmitOptions & Partial<Options>) => ReadonlyArray<string>) | undefined
  /** Provider rules for one request beyond core's (the model's form, …), as messages; none when it is fine. */
  readonly check?: ((request: ChatRequest.ChatRequest) => ReadonlyArray<string>) | undefined
  /** The request as one line of the provider's input file, without the newline. */
  readonly encodeLine: (request: ChatRequest.ChatRequest) => string
  /** Uploads a part's files; returns what `create` needs to find them (a file id, an object key or prefix). */
  readonly upload: <E>(upload: Upload<E>, options: Options) => Effect.Effect<string, Failure | E>
  /** Creates one job over an uploaded part, storing `part.key` on it. Called only after `find` found none. */
  readonly create: (part: Part<Options>) => Effect.Effect<Job, Failure>
  /** Every job that carries this part key, in any state. */
  readonly find: (key: string, options: Options) => Stream.Stream<Job, Failure>
  /** The job as the provider reports it now. */
  readonly get: (jobId: string) => Effect.Effect<Job, Failure>
  /** The provider's jobs, newest first where the provider sorts. */
  readonly list: (filter?: Filter) => Stream.Stream<Job, Failure>
  /** Asks the provider to stop the job; the job as it stands after the request. */
  readonly cancel: (jobId: string) => Effect.Effect<Job, Failure>
  /** The one mapping onto the shared status; an unknown status word is phase `unknown`, the word kept. */
  readonly status: (job: Job) => Batch.JobStatus
  /** Every result the provider wrote for the job (output and error files), each once, in a stable order. */
  readonly results: (job: Job) => Stream.Stream<Batch.BatchResult, ResultsFailure>
  /**
   * The custom ids of the job's input, for a provider that does not itself report requests a cancelled, failed or
   * expired job never ran: core reports those as `Failed`. Leave out when the provider reports them.
   */
  readonly inputIds?: ((job: Job) => Stream.Stream<string, ResultsFailure>) | undefined
  /**
   * Counts for a final job when the provider's status does not carry them (Qianfan reports no failures): read once,
   * from the results, and cached.
   */
  readonly finalCounts?: ((job: Job) => Effect.Effect<Batch.Counts, ResultsFailure>) | undefined
  /** Runs once when a poll first sees the job final (e.g. deleting its input file); failures are only logged. */
  readonly onFinal?: ((job: Job) => Effect.Effect<void, Failure>) | undefined
}

/**
 * Options of {@link make}: how hard the lifecycle tries to create a job whose create answer was lost.
 *
 * @since 0.1.0
 * @category models
 */
export interface MakeOptions {
  /** Creates sent in all for one part when outcomes stay unknown (it looks for the job before each resend); default 5. */
  readonly createAttempts?: number | undefined
  /** The first wait before resending a create; it doubles, jittered; default 1 s. */
  readonly createBackoff?: Duration.DurationInput | undefined
  /**
   * How long a process that created a job waits before looking again for a job another process created for the
   * same submission at the same moment (see `Idempotency`); at least the resolution of the provider's creation
   * times. Default 1 s.
   */
  readonly settle?: Duration.DurationInput | undefined
}

/**
 * The service every provider package exposes (`ArkBatch`, `MoonshotBatch`, `QianfanBatch`, …), with the same verbs
 * and shapes everywhere: the lifecycle on batch ids (`submit`, `prepare`, `launch`, `await`, `watch`, `results`,
 * `batchStatus`, `cancelBatch`; an id is a logical batch id `<provider>:<job>[+<job>…]` or one bare job id), and
 * the provider's own jobs (`create`, `get`, `list`, `cancel`, `jobStatus`). `CreateRequest` is the provider's own create request (a job over input already
 * uploaded) and `CreateError` its genuine extra create failures.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service<Job, Options = {}, Filter = void, CreateRequest = Part<Options>, CreateError = never>
  extends Batch.Lifecycle<Options>
{
  /** The contract the service runs on (what `Batch.fromProvider` and tests build other views from). */
  readonly contract: Provider<Job, Options, Filter>
  /** Creates one job over input already uploaded, in the provider's own terms (prefer `submit`). */
  readonly create: (request: CreateRequest) => Effect.Effect<Job, Failure | CreateError>
  /** The provider's job as it stands now. */
  readonly get: (jobId: string) => Effect.Effect<Job, Failure>
  /** The provider's jobs. */
  readonly list: (filter?: Filter) => Stream.Stream<Job, Failure>
  /** Asks the provider to stop one job; the job after the request. */
  readonly cancel: (jobId: string) => Effect.Effect<Job, Failure>
  /** The shared status of one of its jobs. */
  readonly jobStatus: (job: Job) => Batch.JobStatus
  /** The status of a batch (a logical id or one job id), one request per job. */
  readonly batchStatus: (id: string) => Effect.Effect<Batch.BatchStatus, Batch.BatchError>
  /** Asks the provider to stop every unfinished job of a batch; the status after the request. */
  readonly cancelBatch: (id: string) => Effect.Effect<Batch.BatchStatus, Batch.BatchError>
  /** Deletes old batch input files, where the provider keeps them against a quota (see `Batch.Service.cleanup`). */
  readonly cleanup?: ((options: Batch.CleanupOptions) => Effect.Effect<Batch.CleanupReport, Failure>) | undefined
  /** The same service with limits lowered (never raised): tests use it to force a split with a small input. */
  readonly withLimits: (limits: Partial<Limits>) => Service<Job, Options, Filter, CreateRequest, CreateError>
}

/**
 * The service over a provider. `create` is the provider's own create verb; by default it is the contract's (a part
 * already uploaded).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: {
  <Job, Options, Filter, CreateRequest, CreateError>(
    provider: Provider<Job, Options, Filter>,
    options: MakeOptions & {
      readonly create: (request: CreateRequest) => Effect.Effect<Job, Failure | CreateError>
    }
  ): Service<Job, Options, Filter, CreateRequest, CreateError>
  <Job, Options = {}, Filter = void>(
    provider: Provider<Job, Options, Filter>,
    options?: MakeOptions
  ): Service<Job, Options, Filter>
} = (provider: Provider<any, any, any>, options?: MakeOptions & { readonly create?: any }): any =>
  lifecycle.make(provider, options)
