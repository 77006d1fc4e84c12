/**
 * Volcengine Ark batch inference as an Effect service: the seven OpenAPI actions, plus `submit` (validate, upload
 * to TOS, create — attaching to an identical active job instead of creating a second one), `await`, `watch` and
 * `results`.
 *
 * @example
 * ```ts
 * import { ArkBatch, Job } from "@barge/ark"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Stream } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const ark = yield* ArkBatch.ArkBatch
 *   const { job } = yield* ark.submit(
 *     [{ customId: "q1", body: { messages: [{ role: "user", content: "Why is the sky blue?" }] } }],
 *     { name: "sky", model: Job.foundationModel("doubao-pro-32k", "240615") }
 *   )
 *   yield* ark.await(job.id)
 *   yield* Stream.runForEach(ark.results(job.id), (result) => Effect.log(result))
 * })
 *
 * program.pipe(
 *   Effect.provide(ArkBatch.layerConfig()),
 *   Effect.provide(NodeHttpClient.layerUndici),
 *   Effect.runPromise
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as Batch from "@barge/core/Batch"
import * as Bytes from "@barge/core/Bytes"
import * as Credential from "@barge/core/Credential"
import type * as Download from "@barge/core/Download"
import { InputValidationError } from "@barge/core/InputValidation"
import type * as Jsonl from "@barge/core/Jsonl"
import * as Polling from "@barge/core/Polling"
import * as Signer from "@barge/core/Signer"
import * as Transport from "@barge/core/Transport"
import type * as TransportError from "@barge/core/TransportError"
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { StreamTypeId } from "effect/Stream"
import * as Errors from "./Errors.js"
import * as ArkDriver from "./internal/driver.js"
import * as input from "./internal/input.js"
import * as OpenApi from "./internal/openapi.js"
import * as Results from "./internal/results.js"
import * as Job from "./Job.js"
import * as Storage from "./Storage.js"
import * as Wire from "./Wire.js"

/**
 * One request of a batch: its id (unique in the batch) and the chat-completions body, without `model`.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchRequest {
  readonly customId: string
  readonly body: Readonly<Record<string, unknown>>
}

/**
 * What `create` needs.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateOptions {
  /** 1–200 letters, digits, `-` or `_`. */
  readonly name: string
  readonly description?: string | undefined
  /** Defaults to the service's project (else Ark's `default`). */
  readonly projectName?: string | undefined
  readonly model: Job.Model
  readonly input: Job.Location
  /** A folder; results go to `<key><JobId>/output/results.jsonl`. */
  readonly outputDir: Job.Location
  /** Whole days from 1 to 28 (`3`, `"3d"`); Ark's default is 28 days. */
  readonly completionWindow?: number | string | undefined
  readonly tags?: Readonly<Record<string, string>> | undefined
  readonly dryRun?: boolean | undefined
}

/**
 * Filters and sort of `list` (all optional).
 *
 * @since 0.1.0
 * @category models
 */
export interface ListOptions {
  readonly projectName?: string | undefined
  readonly ids?: ReadonlyArray<string> | undefined
  /** Jobs whose name contains this. */
  readonly name?: string | undefined
  readonly phases?: ReadonlyArray<Wire.Phase> | undefined
  readonly foundationModels?:
    | ReadonlyArray<{ readonly name: string; readonly versions?: ReadonlyArray<string> }>
    | undefined
  readonly customModelIds?: ReadonlyArray<string> | undefined
  /** Jobs with tag `key` set to one of `values` (any value when `values` is empty). */
  readonly tags?: ReadonlyArray<{ readonly key: string; readonly values?: ReadonlyArray<string> }> | undefined
  readonly sortBy?: "CreateTime" | "UpdateTime" | undefined
  readonly sortOrder?: "Asc" | "Desc" | undefined
  /** Items per page request (1–100, default 100). */
  readonly pageSize?: number | undefined
}

/**
 * Options of `submit`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SubmitOptions extends Omit<CreateOptions, "input" | "outputDir"> {
  /** The bucket for the input and outputs; defaults to the service's bucket. */
  readonly bucket?: string | undefined
  /** Key prefix for `inputs/` and `outputs/` (default the service's prefix, else `barge/ark/`). */
  readonly prefix?: string | undefined
  /**
   * What to do when Ark says an identical job (same project, bucket and input key) is already Queued or Running:
   * `"attach"` (default) returns that job; `"fail"` fails with `DuplicateActiveJob`.
   */
  readonly onDuplicate?: "attach" | "fail" | undefined
}

/**
 * What `submit` did.
 *
 * @since 0.1.0
 * @category models
 */
export interface Submission {
  readonly job: Job.Job
  /** `true` when an identical active job already existed and was attached to instead of creating one. */
  readonly attached: boolean
  /** Where the input was uploaded (derived from its content hash). */
  readonly input: Job.Location
  readonly requests: number
}

/**
 * Options of `await` and `watch`.
 *
 * @since 0.1.0
 * @category models
 */
export interface PollOptions {
  /**
   * Delays between status checks. Default `Polling.defaultSchedule()`: adaptive while the job reports counts (half
   * the estimated time left, 5 s to 10 min, re-measured at the floor after a stall); backing off from 2 s to 60 s,
   * jittered, while it reports none (queued, finalizing). Delays never sleep past the expiry.
   */
  readonly schedule?: Schedule.Schedule<unknown, Job.Job> | undefined
  /** How long past `ExpireTime` to keep polling for the final phase (default 10 minutes). */
  readonly expiryGrace?: Duration.DurationInput | undefined
  /**
   * Stop the job (`StopBatchInferenceJob`) if this wait is interrupted. Default `false`: interrupting only stops
   * polling and the job keeps running.
   */
  readonly cancelOnInterrupt?: boolean | undefined
}

/**
 * Failures of a control-plane call.
 *
 * @since 0.1.0
 * @category models
 */
export type CallError = Errors.ApiError | TransportError.TransportError

/**
 * Failures of `submit`.
 *
 * @since 0.1.0
 * @category models
 */
export type SubmitError =
  | CallError
  | Storage.StorageError
  | InputValidationError
  | MissingBucket

/**
 * Failures of `results`.
 *
 * @since 0.1.0
 * @category models
 */
export type ResultsError = CallError | Storage.StorageError | Download.DownloadTruncated | Jsonl.JsonlError

/**
 * `submit` needs a bucket and none was configured.
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingBucket extends Schema.TaggedError<MissingBucket>("@barge/ark/ArkBatch/MissingBucket")(
  "MissingBucket",
  {}
) {
  /** @since 0.1.0 */
  override get message(): string {
    return "submit needs a TOS bucket: pass { bucket } or configure one (BARGE_ARK_BUCKET)"
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Creates a job over an input already in TOS and returns its id. A completion window Ark would refuse fails
   * with `InputValidationError` before anything is sent.
   */
  readonly create: (options: CreateOptions) => Effect.Effect<string, CallError | InputValidationError>
  /** The job as Ark reports it now. */
  readonly get: (id: string) => Effect.Effect<Job.Job, CallError>
  /** Every job matching the filters, page after page. */
  readonly list: (options?: ListOptions) => Stream.Stream<Job.Job, CallError>
  /** Renames a job or changes its description. */
  readonly update: (
    id: string,
    changes: { readonly name?: string | undefined; readonly description?: string | undefined }
  ) => Effect.Effect<void, CallError>
  /** Deletes a finished job (its output files stay in TOS). */
  readonly delete: (id: string) => Effect.Effect<void, CallError>
  /** Stops a Queued or Running job: it goes Terminating, then Terminated, keeping finished results. */
  readonly stop: (id: string) => Effect.Effect<void, CallError>
  /** Resumes a Terminated or Failed job. */
  readonly resume: (id: string) => Effect.Effect<string, CallError>
  /**
   * Validates every request, uploads them to TOS under a key derived from their content, and creates the job —
   * or attaches to the identical job that is already active (see `onDuplicate`).
   */
  readonly submit: {
    (path: string, options: SubmitOptions): Effect.Effect<
      Submission,
      SubmitError | PlatformError.PlatformError,
      FileSystem.FileSystem
    >
    <E = never, R = never>(
      requests: Iterable<BatchRequest> | Stream.Stream<BatchRequest, E, R>,
      options: SubmitOptions
    ): Effect.Effect<Submission, SubmitError | E, R>
  }
  /** Polls until Completed (success), Failed (`JobFailed`) or Terminated (`JobTerminated`). */
  readonly await: (
    id: string,
    options?: PollOptions
  ) => Effect.Effect<Job.Job, CallError | Errors.JobFailed | Errors.JobTerminated | Polling.PollingTimeout>
  /** Every observed change of phase or counts, ending with the terminal state. */
  readonly watch: (id: string, options?: PollOptions) => Stream.Stream<Job.Job, CallError | Polling.PollingTimeout>
  /** Every result of a job: responses from `results.jsonl`, then errors from the errors file. */
  readonly results: (job: string | Job.Job) => Stream.Stream<Job.Result, ResultsError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class ArkBatch extends Context.Tag("@barge/ark/ArkBatch")<ArkBatch, Service>() {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly accessKeyId: Redacted.Redacted<string>
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string> | undefined
  /** Default `cn-beijing`. */
  readonly region?: string | undefined
  /** The OpenAPI endpoint; default `https://open.volcengineapi.com`. */
  readonly endpoint?: string | undefined
  /** The TOS endpoint; default `https://tos-<region>.volces.com`. */
  readonly tosEndpoint?: string | undefined
  readonly projectName?: string | undefined
  /** The bucket `submit` uses by default. */
  readonly bucket?: string | undefined
  /** Key prefix `submit` uses (default `barge/ark/`). */
  readonly prefix?: string | undefined
  readonly retry?: Transport.RetryOptions | false | undefined
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Allow plain `http://` endpoints on hosts other than loopback (credentials and data would travel
   * unencrypted). Default `false`: such endpoints are refused with `RequestFailed` (`InsecureEndpoint`).
   */
  readonly allowInsecureHttp?: boolean | undefined
}

const defaultEndpoint = "https://open.volcengineapi.com"
const terminalPhases = (job: Job.Job) => job.isTerminal

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const region = options.region ?? "cn-beijing"
    const tosEndpoint = options.tosEndpoint ?? `https://tos-${region}.volces.com`
    const defaultPrefix = options.prefix ?? "barge/ark/"
    const context = yield* Effect.context<HttpClient.HttpClient>()
    // The access key id is an identifier, not a secret; only the secret stays redacted up to the signing call.
    const accessKeyId = Redacted.value(options.accessKeyId)
    const transport = yield* Transport.make({
      provider: "ark",
      baseUrl: options.endpoint ?? defaultEndpoint,
      signer: Signer.volcengine({
        accessKeyId,
        secretAccessKey: options.secretAccessKey,
        sessionToken: options.sessionToken,
        region,
        service: "ark"
      }),
      retry: options.retry,
      timeout: options.timeout,
      allowInsecureHttp: options.allowInsecureHttp,
      requestIdHeader: ["x-tt-logid", "x-request-id"]
    })

    const storages = new Map<string, Storage.Service>()
    const storageFor = (bucket: string): Effect.Effect<Storage.Service> =>
      Effect.suspend(() => {
        const cached = storages.get(bucket)
        if (cached !== undefined) return Effect.succeed(cached)
        return Storage.make({
          endpoint: tosEndpoint,
          region,
          bucket,
          accessKeyId,
          secretAccessKey: options.secretAccessKey,
          sessionToken: options.sessionToken,
          retry: options.retry,
          timeout: options.timeout,
          allowInsecureHttp: options.allowInsecureHttp
        }).pipe(Effect.provide(context), Effect.tap((storage) => Effect.sync(() => storages.set(bucket, storage))))
      })

    /**
     * Calls one action. Get and List are reads; Create is safe to repeat because Ark refuses a duplicate of an
     * active job (a retried Create comes back as `DuplicateActiveJob`, which `submit` attaches to).
     */
    const call = OpenApi.makeCall(transport)

    const create: Service["create"] = (createOptions) =>
      Effect.suspend((): Effect.Effect<string, CallError | InputValidationError> => {
        const problems = input.parameterIssues(createOptions)
        if (problems.length > 0) {
          return Effect.fail(
            new InputValidationError({ issues: problems, totalIssues: problems.length, lines: 0, bytes: 0 })
          )
        }
        const projectName = createOptions.projectName ?? options.projectName
        const request = Wire.CreateBatchInferenceJobRequest.make({
          Name: createOptions.name,
          ...(createOptions.description === undefined ? {} : { Description: createOptions.description }),
          ...(projectName === undefined ? {} : { ProjectName: projectName }),
          ModelReference: Job.modelToWire(createOptions.model),
          InputFileTosLocation: Job.locationToWire(createOptions.input),
          OutputDirTosLocation: Job.locationToWire(createOptions.outputDir),
          ...(createOptions.completionWindow === undefined
            ? {}
            : { CompletionWindow: windowText(createOptions.completionWindow) }),
          ...(createOptions.tags === undefined
            ? {}
            : { Tags: Object.entries(createOptions.tags).map(([Key, Value]) => Wire.Tag.make({ Key, Value })) }),
          ...(createOptions.dryRun === undefined ? {} : { DryRun: createOptions.dryRun })
        })
        return call(
          "CreateBatchInferenceJob",
          Schema.encodeSync(Wire.CreateBatchInferenceJobRequest)(request),
          Schema.Struct({ Id: Schema.optional(Schema.String) }),
          true
        ).pipe(
          Effect.map((result) => result.Id ?? ""),
          Effect.catchAll((error): Effect.Effect<string, CallError> => {
            if (!mayBeUnnamedDuplicate(error)) return Effect.fail(error)
            // The refusal named no job id: find the active job on the same input (spec §2.1 fallback).
            return findActive(projectName ?? "default", createOptions.input).pipe(
              Effect.flatMap(Option.match({
                onNone: (): Effect.Effect<never, CallError> => Effect.fail(error),
                onSome: (active): Effect.Effect<never, CallError> =>
                  Effect.fail(
                    new Errors.DuplicateActiveJob({
                      action: error.action,
                      status: error.status,
                      code: error.code,
                      ...(error.codeN === undefined ? {} : { codeN: error.codeN }),
                      description: error.description,
                      ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
                      activeJobId: active.id
                    })
                  )
              }))
            )
          })
        )
      })

    const findActive = (projectName: string, location: Job.Location) =>
      list({ projectName, phases: ["Queued", "Running"] }).pipe(
        Stream.filter((job) => job.input.bucket === location.bucket && job.input.key === location.key),
        Stream.runHead
      )

    const get: Service["get"] = (id) =>
      call("GetBatchInferenceJob", { Id: id }, Wire.BatchInferenceJob, true).pipe(Effect.map(Job.fromWire))

    const list: Service["list"] = (listOptions = {}) => {
      const pageSize = listOptions.pageSize ?? 100
      const projectName = listOptions.projectName ?? options.projectName
      const filter = Wire.ListFilter.make({
        ...(listOptions.ids === undefined ? {} : { Ids: listOptions.ids }),
        ...(listOptions.name === undefined ? {} : { Name: listOptions.name }),
        ...(listOptions.phases === undefined ? {} : { Phases: listOptions.phases }),
        ...(listOptions.foundationModels === undefined ? {} : {
          FoundationModels: listOptions.foundationModels.map((model) => ({
            Name: model.name,
            ...(model.versions === undefined ? {} : { ModelVersions: model.versions })
          }))
        }),
        ...(listOptions.customModelIds === undefined ? {} : { CustomModelIds: listOptions.customModelIds })
      })
      const body = (page: number) =>
        Schema.encodeSync(Wire.ListBatchInferenceJobsRequest)(Wire.ListBatchInferenceJobsRequest.make({
          ...(projectName === undefined ? {} : { ProjectName: projectName }),
          PageNumber: page,
          PageSize: pageSize,
          ...(listOptions.sortBy === undefined ? {} : { SortBy: listOptions.sortBy }),
          ...(listOptions.sortOrder === undefined ? {} : { SortOrder: listOptions.sortOrder }),
          Filter: filter,
          ...(listOptions.tags === undefined
            ? {}
            : { TagFilters: listOptions.tags.map((tag) => ({ Key: tag.key, Values: tag.values ?? [] })) })
        }))
      return Stream.paginateChunkEffect(1, (page) =>
        call("ListBatchInferenceJobs", body(page), Wire.ListBatchInferenceJobsResult, true).pipe(
          Effect.map((result) => {
            const items = Chunk.unsafeFromArray(result.Items.map(Job.fromWire))
            const seen = (page - 1) * pageSize + result.Items.length
            const more = result.Items.length > 0 && seen < result.TotalCount
            return [items, more ? Option.some(page + 1) : Option.none()] as const
          })
        ))
    }

    const update: Service["update"] = (id, changes) =>
      call(
        "UpdateBatchInferenceJob",
        Schema.encodeSync(Wire.UpdateBatchInferenceJobRequest)(Wire.UpdateBatchInferenceJobRequest.make({
          Id: id,
          ...(changes.name === undefined ? {} : { Name: changes.name }),
          ...(changes.description === undefined ? {} : { Description: changes.description })
        })),
        Wire.EmptyResult,
        true
      ).pipe(Effect.asVoid)

    const remove: Service["delete"] = (id) =>
      // Not retried: a retry after a lost success would answer NotFound for a job that was deleted.
      call("DeleteBatchInferenceJob", { Id: id }, Wire.EmptyResult, false).pipe(Effect.asVoid)

    const stop: Service["stop"] = (id) =>
      call("StopBatchInferenceJob", { Id: id }, Wire.EmptyResult, true).pipe(Effect.asVoid)

    const resume: Service["resume"] = (id) =>
      call("ResumeBatchInferenceJob", { Id: id }, Wire.IdResult, false).pipe(Effect.map((result) =>
        result.Id
      ))

    const submitChecked = <E>(
      checked: input.Checked,
      body: Stream.Stream<Uint8Array, E> | Uint8Array,
      submitOptions: SubmitOptions
    ): Effect.Effect<Submission, SubmitError | E> =>
      Effect.gen(function*() {
        const bucket = submitOptions.bucket ?? options.bucket
        if (bucket === undefined) return yield* new MissingBucket()
        const prefix = normalizePrefix(submitOptions.prefix ?? defaultPrefix)
        // The key is the content's hash: a restarted submission of the same input uploads to the same key, so
        // Ark's idempotency rule (same project, bucket and key) sees the two as one.
        const inputLocation = Job.Location.make({ bucket, key: `${prefix}inputs/${checked.sha256}.jsonl` })
        const storage = yield* storageFor(bucket)
        // Already uploaded by an earlier attempt (same hash, same size): skip the upload.
        const existing = yield* storage.exists(inputLocation.key)
        if (Option.isNone(existing) || existing.value.size !== checked.size) {
          const contentType = "application/jsonl"
          yield* body instanceof Uint8Array
            ? storage.putBytes(inputLocation.key, body, { contentType })
            : storage.put(inputLocation.key, body, { contentLength: checked.size, contentType })
        }
        const { onDuplicate: _onDuplicate, bucket: _bucket, prefix: _prefix, ...createOptions } = submitOptions
        const attach = (error: Errors.DuplicateActiveJob) =>
          (submitOptions.onDuplicate ?? "attach") === "fail"
            ? Effect.fail(error)
            : Effect.map(get(error.activeJobId), (job) => ({ job, attached: true }))
        const outcome = yield* create({
          ...createOptions,
          input: inputLocation,
          outputDir: Job.Location.make({ bucket, key: `${prefix}outputs/` })
        }).pipe(
          Effect.flatMap((id) => Effect.map(get(id), (job) => ({ job, attached: false }))),
          Effect.catchTag("DuplicateActiveJob", attach)
        )
        return { ...outcome, input: inputLocation, requests: checked.requests }
      })

    const submit = ((
      requests: string | Iterable<BatchRequest> | Stream.Stream<BatchRequest, unknown, unknown>,
      submitOptions: SubmitOptions
    ) => {
      if (typeof requests === "string") {
        return Effect.gen(function*() {
          const fs = yield* FileSystem.FileSystem
          const checked = yield* input.checkBytes(() => fs.stream(requests), input.parameterIssues(submitOptions))
          return yield* submitChecked(checked, fs.stream(requests), submitOptions)
        })
      }
      const stream: Stream.Stream<BatchRequest, unknown, unknown> = isStream(requests)
        ? requests
        : Stream.fromIterable(requests)
      return input.checkRequests(
        Stream.map(stream, (request) => ({ body: request.body, line: JSON.stringify(toWireLine(request)) })),
        input.parameterIssues(submitOptions)
      ).pipe(
        Effect.flatMap((checked) => submitChecked(checked, Bytes.concat(checked.chunks, checked.size), submitOptions))
      )
    }) as Service["submit"]

    const pollOptions = (id: string, pollOptionsInput: PollOptions | undefined) => ({
      isTerminal: terminalPhases,
      expiresAt: (job: Job.Job) => job.expiresAt,
      ...(pollOptionsInput?.schedule === undefined ? {} : { schedule: pollOptionsInput.schedule }),
      ...(pollOptionsInput?.expiryGrace === undefined ? {} : { expiryGrace: pollOptionsInput.expiryGrace }),
      ...(pollOptionsInput?.cancelOnInterrupt === true ? { onInterrupt: Effect.ignore(stop(id)) } : {})
    })

    const awaitJob: Service["await"] = (id, awaitOptions) =>
      Polling.awaitTerminal(get(id), pollOptions(id, awaitOptions)).pipe(
        Effect.flatMap((job): Effect.Effect<Job.Job, Errors.JobFailed | Errors.JobTerminated> =>
          job.phase === "Failed"
            ? Effect.fail(new Errors.JobFailed({ job }))
            : job.phase === "Terminated"
            ? Effect.fail(new Errors.JobTerminated({ job }))
            : Effect.succeed(job)
        )
      )

    const watch: Service["watch"] = (id, watchOptions) =>
      Polling.watch(get(id), {
        ...pollOptions(id, watchOptions),
        equivalence: (a, b) =>
          a.phase === b.phase && a.counts.completed === b.counts.completed && a.counts.failed === b.counts.failed &&
          a.counts.total === b.counts.total
      })

    const results: Service["results"] = (jobOrId) =>
      Stream.unwrap(Effect.gen(function*() {
        const job = typeof jobOrId === "string" || jobOrId.errorFile === undefined
          ? yield* get(typeof jobOrId === "string" ? jobOrId : jobOrId.id)
          : jobOrId
        const dir = `${normalizePrefix(job.outputDir.key)}${job.id}/`
        // UNCONFIRMED layout: Ark names the errors file in ErrorFileTosLocation; without it, use the CN layout.
        const errorFile = job.errorFile ??
          Job.Location.make({ bucket: job.outputDir.bucket, key: `${dir}error/errors.jsonl` })
        return Stream.concat(
          readResults(job.outputDir.bucket, `${dir}output/results.jsonl`),
          readResults(errorFile.bucket, errorFile.key)
        )
      }))

    const readResults = (bucket: string, key: string): Stream.Stream<Job.Result, ResultsError> =>
      Stream.unwrap(Effect.map(storageFor(bucket), (storage) => Results.read(storage, key)))

    return ArkBatch.of({
      create,
      get,
      list,
      update,
      delete: remove,
      stop,
      resume,
      submit,
      await: awaitJob,
      watch,
      results
    })
  })

const isStream = (u: unknown): u is Stream.Stream<BatchRequest, unknown, unknown> =>
  typeof u === "object" && u !== null && StreamTypeId in u

/** A Create refusal whose code we do not know (or a parameter error) that reads like the duplicate rule. */
const mayBeUnnamedDuplicate = (error: CallError): error is Errors.ArkApiError | Errors.InvalidParameter =>
  (error._tag === "ArkApiError" || error._tag === "InvalidParameter") && Errors.looksLikeDuplicate(error.description)

const toWireLine = (request: BatchRequest) => ({ custom_id: request.customId, body: request.body })

const windowText = (window: number | string): string => (typeof window === "number" ? `${window}d` : window)

const normalizePrefix = (prefix: string): string => (prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<ArkBatch, never, HttpClient.HttpClient> =>
  Layer.effect(ArkBatch, make(options))

/**
 * The configuration `layerConfig` reads, each overridable.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions {
  readonly accessKeyId?: Config.Config<Redacted.Redacted<string>>
  readonly secretAccessKey?: Config.Config<Redacted.Redacted<string>>
  readonly sessionToken?: Config.Config<Option.Option<Redacted.Redacted<string>>>
  readonly region?: Config.Config<string>
  readonly endpoint?: Config.Config<string>
  readonly tosEndpoint?: Config.Config<Option.Option<string>>
  readonly projectName?: Config.Config<Option.Option<string>>
  readonly bucket?: Config.Config<Option.Option<string>>
  readonly prefix?: Config.Config<Option.Option<string>>
}

/**
 * Reads `VOLC_ACCESSKEY` and `VOLC_SECRETKEY` (the official SDKs' names, as `Redacted`), and optionally
 * `VOLC_SESSIONTOKEN` (STS), `VOLC_REGION` (default `cn-beijing`), `ARK_ENDPOINT` (default
 * `https://open.volcengineapi.com`), `TOS_ENDPOINT` (default `https://tos-<region>.volces.com`),
 * `ARK_PROJECT_NAME`, `ARK_TOS_BUCKET` and `ARK_TOS_PREFIX`. A missing credential is a `ConfigError` naming it.
 *
 * @since 0.1.0
 * @category config
 */
export const config = (overrides: ConfigOptions = {}): Config.Config<Options> =>
  Config.all({
    accessKeyId: overrides.accessKeyId ?? Credential.redacted("VOLC_ACCESSKEY"),
    secretAccessKey: overrides.secretAccessKey ?? Credential.redacted("VOLC_SECRETKEY"),
    sessionToken: overrides.sessionToken ?? Config.option(Credential.redacted("VOLC_SESSIONTOKEN")),
    region: overrides.region ?? Config.withDefault(Config.string("VOLC_REGION"), "cn-beijing"),
    endpoint: overrides.endpoint ?? Config.withDefault(Transport.endpointConfig("ARK_ENDPOINT"), defaultEndpoint),
    tosEndpoint: overrides.tosEndpoint ?? Config.option(Transport.endpointConfig("TOS_ENDPOINT")),
    projectName: overrides.projectName ?? Config.option(Config.string("ARK_PROJECT_NAME")),
    bucket: overrides.bucket ?? Config.option(Config.string("ARK_TOS_BUCKET")),
    prefix: overrides.prefix ?? Config.option(Config.string("ARK_TOS_PREFIX"))
  }).pipe(Config.map((c): Options => ({
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    sessionToken: Option.getOrUndefined(c.sessionToken),
    region: c.region,
    endpoint: c.endpoint,
    tosEndpoint: Option.getOrUndefined(c.tosEndpoint),
    projectName: Option.getOrUndefined(c.projectName),
    bucket: Option.getOrUndefined(c.bucket),
    prefix: Option.getOrUndefined(c.prefix)
  })))

/**
 * The service from configuration (see {@link config}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides?: ConfigOptions
): Layer.Layer<ArkBatch, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(ArkBatch, Effect.flatMap(config(overrides), make))

/**
 * The driver the unified `Batch` service runs on. `versions` maps bare model names to Ark model versions (a model
 * may also be named `name@version`).
 *
 * @since 0.1.0
 * @category batch
 */
export const driver: (
  service: Service,
  options?: { readonly versions?: Readonly<Record<string, string>> | undefined }
) => Batch.Driver<Job.Job, ArkDriver.DriverError> = ArkDriver.make

/**
 * The provider-agnostic `Batch` service backed by `ArkBatch`.
 *
 * @since 0.1.0
 * @category batch
 */
export const layerBatch: Layer.Layer<Batch.Batch, never, ArkBatch> = Layer.effect(
  Batch.Batch,
  Effect.flatMap(ArkBatch, (service) => Batch.make(driver(service)))
)
