/**
 * Ark on core's provider contract: its data (limits, completion windows, the model forms it takes, the input line)
 * and its wire calls — the upload to TOS, the seven OpenAPI actions, result and input files.
 */
import * as ApiError from "@barge/core/ApiError"
import * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import * as CompletionWindow from "@barge/core/CompletionWindow"
import * as InputValidation from "@barge/core/InputValidation"
import * as Jsonl from "@barge/core/Jsonl"
import type * as Provider from "@barge/core/Provider"
import * as ResultLine from "@barge/core/ResultLine"
import * as Signer from "@barge/core/Signer"
import * as Transport from "@barge/core/Transport"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Arr from "effect/Array"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as ArkBatch from "../ArkBatch.js"
import * as Errors from "../Errors.js"
import * as Job from "../Job.js"
import * as Storage from "../Storage.js"
import * as Wire from "../Wire.js"
import * as OpenApi from "./openapi.js"

/** The tag carrying a job's part key, which `find` looks jobs up by. */
export const partTag = "barge-part"

/** The tag carrying the number of requests the job was created with (Ark reports none until it has read them). */
export const linesTag = "barge-lines"

/**
 * Versions used when a model is named without one (`"doubao-pro-32k"`): Ark's job API needs a version; these are
 * the documented batch models' (spec §1.2).
 */
export const defaultVersions: Readonly<Record<string, string>> = {
  "doubao-pro-32k": "240615",
  "Doubao-pro-32k": "240615",
  "doubao-pro-128k": "240628",
  "doubao-lite-32k": "240828",
  "doubao-1-5-pro-32k": "250115",
  "deepseek-v3": "250324"
}

// 5 GiB per input file (spec §1.10); no documented line cap, so a generous one keeps parts manageable.
const limits: Provider.Limits = { maxBytesPerJob: 5 * 1024 * 1024 * 1024, maxLinesPerJob: 1_000_000 }

/** Whole days, 1d–28d (default 28d when left out): the only spelling Ark documents is `"<N>d"`. */
export const window = CompletionWindow.range({ unit: "d", min: 1, max: 28 })

/**
 * The model a request names, in the forms Ark takes: `name@version`, `custom:<id>`, or a bare name this table
 * knows a version of. Anything else is refused with what to write instead.
 */
export const modelOf = (
  model: string,
  versions: Readonly<Record<string, string>>
): Either.Either<Job.Model, string> => {
  if (model.startsWith("custom:") && model.length > "custom:".length) {
    return Either.right(Job.customModel(model.slice("custom:".length)))
  }
  const at = model.lastIndexOf("@")
  if (at > 0 && at < model.length - 1) return Either.right(Job.foundationModel(model.slice(0, at), model.slice(at + 1)))
  if (/^ep-/.test(model)) {
    return Either.left(
      `model "${model}" is an endpoint id, which Ark batch jobs do not take (endpoints serve the online and ` +
        `batch-chat APIs): name the model and version ("doubao-pro-32k@240615") or a custom model ("custom:<id>")`
    )
  }
  const version = versions[model]
  return version === undefined
    ? Either.left(
      `unknown model "${model}": Ark needs a version for it — write "${model}@<version>" ` +
        `(e.g. "doubao-pro-32k@240615"), or name a custom model as "custom:<id>" (Ark batch jobs take no endpoint ` +
        `id), or add the version to the \`versions\` option`
    )
    : Either.right(Job.foundationModel(model, version))
}

/** Ark's input line: `{ custom_id, body: { messages, ...parameters } }` — the job's ModelReference names the model. */
export const encodeLine = (request: ChatRequest.ChatRequest): string =>
  JSON.stringify({
    custom_id: request.customId,
    body: { messages: request.messages, ...ChatRequest.parameters(request) }
  })

const phases: Readonly<Record<string, Batch.Phase>> = {
  Queued: "pending",
  Running: "running",
  Completed: "completed",
  Failed: "failed",
  Terminating: "cancelling",
  Terminated: "cancelled"
}

const utc = (date: Date | undefined) => (date === undefined ? undefined : DateTime.unsafeFromDate(date))

/**
 * The one mapping onto the shared status. A Terminated job that ended at its expiry is `expired`; a phase word
 * Barge does not know is `unknown` (not terminal), the word kept.
 */
export const status = (job: Job.Job): Batch.JobStatus => {
  const known = Object.hasOwn(phases, job.phase) ? phases[job.phase]! : "unknown"
  const expired = known === "cancelled" && job.phaseTime !== undefined && job.expiresAt !== undefined &&
    job.phaseTime.getTime() >= job.expiresAt.getTime()
  const phase = expired ? "expired" : known
  const lines = Number(job.tag(linesTag))
  return new Batch.JobStatus({
    jobId: job.id,
    phase,
    providerStatus: job.phase === "" ? "(none)" : job.phase,
    counts: new Batch.Counts({
      ...job.counts,
      // Ark counts a job's requests once it has read its input; until then the count it was created with.
      total: job.counts.total === 0 && Number.isSafeInteger(lines) && lines > 0 ? lines : job.counts.total
    }),
    model: job.model === undefined ? undefined : job.model._tag === "Foundation" ? job.model.name : job.model.id,
    message: job.message === "" ? undefined : job.message,
    createdAt: utc(job.createdAt),
    finishedAt: Batch.isTerminal(phase) ? utc(job.phaseTime ?? job.updatedAt) : undefined,
    expiresAt: utc(job.expiresAt)
  })
}

const noMessages: ReadonlyArray<string> = []

/** Ark's data, shared by the real provider and the Mock. */
export const data = (versions: Readonly<Record<string, string>>) => ({
  name: "ark",
  limits,
  window,
  endpoint: "/v1/chat/completions",
  // Ark's input lines carry no url: a line naming Ark's own chat path means the same request.
  acceptedEndpoints: ["/api/v3/chat/completions"],
  check: (request: ChatRequest.ChatRequest): ReadonlyArray<string> => {
    // Once per line: no callbacks built per call.
    const model = modelOf(request.model, versions)
    return Either.isLeft(model) ? [model.left] : noMessages
  },
  encodeLine,
  status
})

const normalizePrefix = (prefix: string): string => (prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`)

const tos = /^tos:\/\/([^/]+)\/(.+)$/

const invalid = (action: string, description: string) =>
  new ApiError.ApiError({ provider: "ark", action, reason: "InvalidRequest", description })

const InputId = Schema.Struct({ custom_id: Schema.String })
const decodeJob = Schema.decodeUnknownEither(Wire.BatchInferenceJob)

/** What the service is built from: the contract and Ark's own verbs. */
export interface Ark {
  readonly provider: Provider.Provider<Job.Job, ArkBatch.SubmitOptions, ArkBatch.ListFilter>
  readonly create: (request: ArkBatch.CreateRequest) => Effect.Effect<Job.Job, Provider.Failure | ArkBatch.CreateError>
  readonly update: ArkBatch.Service["update"]
  readonly delete: ArkBatch.Service["delete"]
  readonly resume: ArkBatch.Service["resume"]
}

/** Builds Ark's provider over its OpenAPI and TOS. */
export const make = (options: ArkBatch.Options): Effect.Effect<Ark, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const region = options.region ?? "cn-beijing"
    const tosEndpoint = options.tosEndpoint ?? `https://tos-${region}.volces.com`
    const versions = { ...defaultVersions, ...options.versions }
    const context = yield* Effect.context<HttpClient.HttpClient>()
    // The access key id is an identifier, not a secret; only the secret stays redacted up to the signing call.
    const accessKeyId = Redacted.value(options.accessKeyId)
    const call = OpenApi.makeCall(
      yield* Transport.make({
        provider: "ark",
        baseUrl: options.endpoint ?? "https://open.volcengineapi.com",
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
    )

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

    // --- jobs ---------------------------------------------------------------------------------------------------

    const get = (jobId: string) =>
      call("GetBatchInferenceJob", { Id: jobId }, Wire.BatchInferenceJob, true).pipe(Effect.map(Job.fromWire))

    /** One item of a list page, or none when Barge cannot read it (logged): the rest of the page still counts. */
    const listItem = (page: number) => (item: unknown, index: number) =>
      Either.match(decodeJob(item), {
        onLeft: (error) =>
          Effect.as(
            Effect.logWarning(
              `ark ListBatchInferenceJobs: skipped item ${index + 1} of page ${page}, which Barge cannot read: ` +
                ParseResult.TreeFormatter.formatErrorSync(error)
            ),
            Option.none<Job.Job>()
          ),
        onRight: (job) => Effect.succeed(Option.some(Job.fromWire(job)))
      })

    const list = (filter: ArkBatch.ListFilter = {}): Stream.Stream<Job.Job, Provider.Failure> => {
      const pageSize = filter.pageSize ?? 100
      const projectName = filter.projectName ?? options.projectName
      const request = (page: number) =>
        Schema.encodeSync(Wire.ListBatchInferenceJobsRequest)(Wire.ListBatchInferenceJobsRequest.make({
          ...(projectName === undefined ? {} : { ProjectName: projectName }),
          PageNumber: page,
          PageSize: pageSize,
          ...(filter.sortBy === undefined ? {} : { SortBy: filter.sortBy }),
          ...(filter.sortOrder === undefined ? {} : { SortOrder: filter.sortOrder }),
          Filter: Wire.ListFilter.make({
            ...(filter.ids === undefined ? {} : { Ids: filter.ids }),
            ...(filter.name === undefined ? {} : { Name: filter.name }),
            ...(filter.phases === undefined ? {} : { Phases: filter.phases }),
            ...(filter.foundationModels === undefined ? {} : {
              FoundationModels: filter.foundationModels.map((model) => ({
                Name: model.name,
                ...(model.versions === undefined ? {} : { ModelVersions: model.versions })
              }))
            }),
            ...(filter.customModelIds === undefined ? {} : { CustomModelIds: filter.customModelIds })
          }),
          ...(filter.tags === undefined
            ? {}
            : { TagFilters: filter.tags.map((tag) => ({ Key: tag.key, Values: tag.values ?? [] })) })
        }))
      return Stream.paginateChunkEffect(
        1,
        (page) =>
          call("ListBatchInferenceJobs", request(page), Wire.ListBatchInferenceJobsResult, true).pipe(
            Effect.flatMap((result) => {
              const items = result.Items ?? []
              const seen = (page - 1) * pageSize + items.length
              const more = items.length > 0 &&
                (result.TotalCount === undefined ? items.length >= pageSize : seen < result.TotalCount)
              return Effect.map(
                Effect.forEach(items, listItem(page)),
                (jobs) =>
                  [Chunk.fromIterable(Arr.getSomes(jobs)), more ? Option.some(page + 1) : Option.none()] as const
              )
            })
          )
      )
    }

    /** The active job on `input`, for a duplicate refusal whose message names none (spec §2.1 fallback). */
    const activeOn = (projectName: string | undefined, input: Wire.TosLocation) =>
      list({ projectName, phases: ["Queued", "Running"] }).pipe(
        Stream.filter((job) => job.input?.bucket === input.BucketName && job.input.key === input.ObjectKey),
        Stream.runHead
      )

    const duplicateOf = (request: Wire.CreateBatchInferenceJobRequest) => (error: ApiError.ApiError) => {
      const duplicate = (activeJobId: string) =>
        new Errors.DuplicateActiveJob({
          activeJobId,
          ...(error.status === undefined ? {} : { status: error.status }),
          ...(error.code === undefined ? {} : { code: error.code }),
          description: error.description,
          ...(error.requestId === undefined ? {} : { requestId: error.requestId })
        })
      if (error.reason === "Authentication" || error.reason === "PermissionDenied") return Effect.fail(error)
      const named = Errors.jobIdPattern.exec(error.description)
      if (named !== null) return Effect.fail(duplicate(named[0]))
      if (!Errors.looksLikeDuplicate(error)) return Effect.fail(error)
      return Effect.flatMap(
        activeOn(request.ProjectName, request.InputFileTosLocation),
        Option.match({
          onNone: () => Effect.fail<Provider.Failure | Errors.DuplicateActiveJob>(error),
          onSome: (active) => Effect.fail(duplicate(active.id))
        })
      )
    }

    /** Sends one Create and reads the job back; a refusal under Ark's duplicate rule is `DuplicateActiveJob`. */
    const send = (request: Wire.CreateBatchInferenceJobRequest) =>
      // Safe to send again: Ark refuses a second active job on the same input, which is `DuplicateActiveJob`.
      call(
        "CreateBatchInferenceJob",
        Schema.encodeSync(Wire.CreateBatchInferenceJobRequest)(request),
        Wire.IdResult,
        true
      )
        .pipe(
          Effect.catchTag("ApiError", duplicateOf(request)),
          Effect.flatMap((result) => get(result.Id))
        )

    const tags = (entries: Readonly<Record<string, string>>) =>
      Object.entries(entries).map(([Key, Value]) => Wire.Tag.make({ Key, Value }))

    const create: Ark["create"] = (request) =>
      Effect.suspend((): ReturnType<Ark["create"]> => {
        const resolved = CompletionWindow.resolve(window, "ark", request.completionWindow)
        if (Either.isLeft(resolved)) {
          const issue = new InputValidation.Issue({ lineNumber: 0, rule: "InvalidParameter", message: resolved.left })
          return Effect.fail(
            new InputValidation.InputValidationError({ issues: [issue], totalIssues: 1, lines: 0, bytes: 0 })
          )
        }
        const projectName = request.projectName ?? options.projectName
        return send(Wire.CreateBatchInferenceJobRequest.make({
          Name: request.name,
          ...(request.description === undefined ? {} : { Description: request.description }),
          ...(projectName === undefined ? {} : { ProjectName: projectName }),
          ModelReference: Job.modelToWire(request.model),
          InputFileTosLocation: Job.locationToWire(request.input),
          OutputDirTosLocation: Job.locationToWire(request.outputDir),
          ...(resolved.right === undefined ? {} : { CompletionWindow: resolved.right }),
          ...(request.tags === undefined ? {} : { Tags: tags(request.tags) })
        }))
      })

    // --- the contract -------------------------------------------------------------------------------------------

    const inputKey = (prefix: string, key: string) => `${prefix}inputs/${key}.jsonl`

    const upload: Ark["provider"]["upload"] = (part, submit) =>
      Effect.gen(function*() {
        const bucket = submit.bucket ?? options.bucket
        const key = inputKey(normalizePrefix(submit.prefix ?? options.prefix ?? "barge/ark/"), part.key)
        const storage = yield* storageFor(bucket)
        // The key is the part's content hash: an earlier attempt's upload of the same size is this one.
        const existing = yield* storage.exists(key)
        const file = part.files[0]
        if (Option.isNone(existing) || existing.value.size !== file.bytes) {
          yield* storage.put(key, file.body, { contentLength: file.bytes, contentType: "application/jsonl" }).pipe(
            // The body is read again on each attempt, so a put cut short can be sent again.
            Effect.retry({
              schedule: Schedule.intersect(Schedule.exponential("500 millis"), Schedule.recurs(3)),
              while: ApiError.isRetryable
            })
          )
        }
        return `tos://${bucket}/${key}`
      })

    const createPart: Ark["provider"]["create"] = (part) =>
      Effect.suspend(() => {
        const input = tos.exec(part.input)
        if (input === null) {
          return Effect.fail(invalid("CreateBatchInferenceJob", `"${part.input}" is not a tos://bucket/key location`))
        }
        const model = modelOf(part.model, versions)
        if (Either.isLeft(model)) return Effect.fail(invalid("CreateBatchInferenceJob", model.left))
        const [, bucket, key] = input as unknown as [string, string, string]
        const suffix = `inputs/${part.key}.jsonl`
        const prefix = key.endsWith(suffix) ? key.slice(0, -suffix.length) : key.slice(0, key.lastIndexOf("/") + 1)
        const projectName = part.options.projectName ?? options.projectName
        const name = part.options.name ?? `barge-${part.key.slice(0, 12)}`
        return send(Wire.CreateBatchInferenceJobRequest.make({
          Name: part.count === 1 ? name : `${name}-${part.index + 1}-of-${part.count}`,
          ...(part.options.description === undefined ? {} : { Description: part.options.description }),
          ...(projectName === undefined ? {} : { ProjectName: projectName }),
          ModelReference: Job.modelToWire(model.right),
          InputFileTosLocation: Wire.TosLocation.make({ BucketName: bucket, ObjectKey: key }),
          OutputDirTosLocation: Wire.TosLocation.make({ BucketName: bucket, ObjectKey: `${prefix}outputs/` }),
          ...(part.window === undefined ? {} : { CompletionWindow: part.window }),
          Tags: tags({ ...part.metadata, [partTag]: part.key, [linesTag]: String(part.lines) })
        })).pipe(
          // The contract's create attaches to the job already running this input.
          Effect.catchTag("DuplicateActiveJob", (duplicate) => get(duplicate.activeJobId))
        )
      })

    const cancel = (jobId: string) =>
      Effect.zipRight(call("StopBatchInferenceJob", { Id: jobId }, Wire.EmptyResult, true), get(jobId))

    /** One output file's results; an absent file (Ark writes no errors file when nothing failed) is empty. */
    const resultsOf = (location: Job.Location) =>
      Stream.unwrap(
        Effect.map(storageFor(location.bucket), (storage) =>
          ResultLine.decodeLines(storage.lines(location.key)).pipe(
            Stream.catchAll((error) =>
              error._tag === "ApiError" && Storage.isAbsent(error) ? Stream.empty : Stream.fail(error)
            )
          ))
      )

    const results = (job: Job.Job): Stream.Stream<Batch.BatchResult, Provider.ResultsFailure> => {
      if (job.outputDir === undefined) return Stream.empty
      const dir = `${normalizePrefix(job.outputDir.key)}${job.id}/`
      // UNCONFIRMED layout: Ark names the errors file in ErrorFileTosLocation; without it, the CN layout.
      const errorFile = job.errorFile ??
        Job.Location.make({ bucket: job.outputDir.bucket, key: `${dir}error/errors.jsonl` })
      return Stream.concat(
        resultsOf(Job.Location.make({ bucket: job.outputDir.bucket, key: `${dir}output/results.jsonl` })),
        resultsOf(errorFile)
      )
    }

    // Ark does not report the requests a Terminated or Failed job never ran: they are read from its input.
    const inputIds = (job: Job.Job): Stream.Stream<string, Provider.ResultsFailure> => {
      const input = job.input
      if (input === undefined) return Stream.empty
      return Stream.unwrap(Effect.map(storageFor(input.bucket), (storage) =>
        storage.lines(input.key).pipe(
          Jsonl.decodeLines(InputId),
          Stream.map((line) => line.custom_id)
        )))
    }

    const provider: Ark["provider"] = {
      ...data(versions),
      upload,
      create: createPart,
      find: (key, submit) => list({ projectName: submit.projectName, tags: [{ key: partTag, values: [key] }] }),
      get,
      list,
      cancel,
      results,
      inputIds
    }

    return {
      provider,
      create,
      update: (jobId, changes) =>
        call(
          "UpdateBatchInferenceJob",
          Schema.encodeSync(Wire.UpdateBatchInferenceJobRequest)(Wire.UpdateBatchInferenceJobRequest.make({
            Id: jobId,
            ...(changes.name === undefined ? {} : { Name: changes.name }),
            ...(changes.description === undefined ? {} : { Description: changes.description })
          })),
          Wire.EmptyResult,
          true
        ).pipe(Effect.asVoid),
      // Not retried: a retry after a lost success would answer NotFound for a job that was deleted.
      delete: (jobId) => Effect.asVoid(call("DeleteBatchInferenceJob", { Id: jobId }, Wire.EmptyResult, false)),
      resume: (jobId) =>
        Effect.zipRight(call("ResumeBatchInferenceJob", { Id: jobId }, Wire.IdResult, false), get(jobId))
    }
  })
