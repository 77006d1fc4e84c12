/**
 * The emulated Ark OpenAPI surface: `POST /?Action=<Action>&Version=2024-01-01` with a JSON body, every request
 * verified with Volcengine's `HMAC-SHA256` scheme, the seven batch-inference actions, and the
 * `ResponseMetadata` envelope. Job progress is computed from emulated time on each request; a job's output files
 * are written to the TOS store when a request first observes it Completed or Terminated.
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { EmulatorContext, Surface } from "../internal/Context.js"
import * as Credentials from "../internal/Credentials.js"
import * as Http from "../internal/Http.js"
import * as Models from "../internal/Models.js"
import * as Verifier from "../Verifier.js"
import type { ArkError, Meta } from "./Envelope.js"
import { errors, failure, success } from "./Envelope.js"
import type { OutputLayout } from "./Files.js"
import { defaultLayout, outputLocations, readInput, writeOutputs } from "./Files.js"
import type { Job, Phase, View } from "./Jobs.js"
import * as Jobs from "./Jobs.js"
import type { Json } from "./Params.js"
import * as Params from "./Params.js"

/** The only API version Ark's batch actions have. */
export const apiVersion = "2024-01-01"

/** Inspectable state of this surface. */
export interface State {
  /** Jobs by id (deleted jobs are removed). */
  readonly jobs: ReadonlyMap<string, Job>
  /** A job as a client would see it now (phase and counts), or `undefined` for an unknown id. */
  readonly view: (id: string) => Effect.Effect<View | undefined>
  /** Where output files are written. */
  readonly layout: OutputLayout
  /**
   * Changes how one job is rendered in Get and List answers from now on, so a test can show a client what Ark may
   * send (its official SDK marks every field optional): a phase word Barge does not know, a field missing or odd.
   */
  readonly reshape: (id: string, change: (rendered: Record<string, unknown>) => unknown) => void
}

/** Options of the surface beyond the shared context. */
export interface Options {
  readonly region?: string
  readonly layout?: OutputLayout
}

/** Builds the surface. */
export const make = (ctx: EmulatorContext): Effect.Effect<Surface<State>> => makeWith(ctx, {})

/** Builds the surface with explicit options (region, output layout). */
export const makeWith = (ctx: EmulatorContext, options: Options): Effect.Effect<Surface<State>> =>
  Effect.sync(() => {
    const region = options.region ?? "cn-beijing"
    const layout = options.layout ?? defaultLayout
    const jobs = new Map<string, Job>()
    const reshaped = new Map<string, (rendered: Record<string, unknown>) => unknown>()

    /** Writes the output files of every run that ended since the last request, once per run. */
    const settle = (now: number): void => {
      for (const job of jobs.values()) {
        if (job.materialized !== undefined) continue
        const current = Jobs.view(job, now, ctx.processing)
        if (current.phase === "Completed" || current.phase === "Terminated") {
          writeOutputs(ctx.objects.tos, job, current.processed, layout, ctx.completions, ctx.nextId)
          job.materialized = current.phase
        } else if (current.phase === "Failed") {
          job.materialized = current.phase
        }
      }
    }

    const handle = (action: string, body: Json, query: URLSearchParams, accessKeyId: string, now: number) => {
      settle(now)
      const handlers: Record<string, () => unknown> = {
        CreateBatchInferenceJob: () => create(body, accessKeyId, now),
        GetBatchInferenceJob: () => render(find(Params.string(body, "Id"), accessKeyId), now, true),
        ListBatchInferenceJobs: () => list(body, accessKeyId, now),
        UpdateBatchInferenceJob: () => update(body, accessKeyId, now),
        DeleteBatchInferenceJob: () => remove(body, accessKeyId, now),
        StopBatchInferenceJob: () => stop(body, accessKeyId, now),
        ResumeBatchInferenceJob: () => resume(body, query, accessKeyId, now)
      }
      const handler = handlers[action]
      if (handler === undefined) throw new Params.Reject(errors.invalidActionOrVersion(action, apiVersion))
      return handler()
    }

    const find = (id: string, accessKeyId: string): Job => {
      const job = jobs.get(id)
      if (job === undefined || job.accessKeyId !== accessKeyId) throw new Params.Reject(errors.jobNotFound(id))
      return job
    }

    const activeDuplicate = (accessKeyId: string, project: string, input: Jobs.TosLocation, now: number) => {
      for (const job of jobs.values()) {
        if (
          job.accessKeyId === accessKeyId && job.projectName === project &&
          job.input.BucketName === input.BucketName && job.input.ObjectKey === input.ObjectKey &&
          Jobs.isActive(Jobs.view(job, now, ctx.processing).phase)
        ) return job
      }
      return undefined
    }

    const modelOf = (reference: Json): { name: string; reference: Job["modelReference"] } => {
      const foundation = Params.optionalObject(reference, "FoundationModel", "ModelReference")
      const custom = Params.optionalString(reference, "CustomModelId", "ModelReference")
      if (foundation === undefined && custom === undefined) {
        throw new Params.Reject(errors.missingParameter("ModelReference.FoundationModel"))
      }
      if (foundation !== undefined && custom !== undefined) {
        throw new Params.Reject(
          errors.invalidParameter("ModelReference", "specify exactly one of FoundationModel and CustomModelId")
        )
      }
      if (custom !== undefined) {
        // Custom (fine-tuned) models cannot exist in the emulator, so every id is unknown.
        throw new Params.Reject(errors.modelNotFound(custom))
      }
      const name = Params.string(foundation!, "Name", "ModelReference.FoundationModel")
      const version = Params.string(foundation!, "ModelVersion", "ModelReference.FoundationModel")
      if (!Models.hasArkModel(ctx.models, name, version)) {
        throw new Params.Reject(errors.modelNotFound(`${name}/${version}`))
      }
      return { name, reference: { FoundationModel: { Name: name, ModelVersion: version } } }
    }

    const tagsOf = (body: Json) =>
      Params.optionalArray(body, "Tags", (value, path) => {
        const tag = Params.objectItem(value, path)
        return { Key: Params.string(tag, "Key", path), Value: Params.optionalString(tag, "Value", path) ?? "" }
      }) ?? []

    const create = (body: Json, accessKeyId: string, now: number) => {
      const name = Params.string(body, "Name")
      if (!Jobs.isValidName(name)) {
        throw new Params.Reject(
          errors.invalidParameter("Name", "use 1–200 letters, digits, '-' or '_' (no spaces or punctuation)")
        )
      }
      const description = Params.optionalString(body, "Description")
      if (description !== undefined && description.length > 300) {
        throw new Params.Reject(errors.invalidParameter("Description", "at most 300 characters"))
      }
      const projectName = Params.optionalString(body, "ProjectName") ?? "default"
      const model = modelOf(Params.object(body, "ModelReference"))
      const input = Params.tosLocation(body, "InputFileTosLocation", { allowEmptyKey: false })
      const output = Params.tosLocation(body, "OutputDirTosLocation", { allowEmptyKey: true })
      const window = Params.optionalString(body, "CompletionWindow") ?? Jobs.defaultCompletionWindow
      const days = Jobs.parseCompletionWindow(window)
      if (days === undefined) {
        throw new Params.Reject(
          errors.invalidParameter(
            "CompletionWindow",
            `"${window}" is not a whole number of days written "<N>d", from "1d" to "28d"`
          )
        )
      }
      const tags = tagsOf(body)
      const dryRun = Params.optionalBoolean(body, "DryRun") ?? false
      const duplicate = activeDuplicate(accessKeyId, projectName, input, now)
      if (duplicate !== undefined) throw new Params.Reject(errors.duplicateActiveJob(duplicate.id))
      if (dryRun) return {}
      const id = `bi-${Jobs.idTimestamp(now)}-${idSuffix()}`
      const windowMillis = days * 24 * 60 * 60 * 1000
      const job: Job = {
        id,
        accessKeyId,
        name,
        description,
        projectName,
        modelReference: model.reference,
        modelName: model.name,
        input,
        output,
        errorFile: outputLocations(output, id, layout).errors,
        completionWindow: `${days}d`,
        windowMillis,
        tags: [...tags, { Key: "sys:ark:createdBy", Value: `IAMUser/${accessKeyId}` }],
        createTime: now,
        updateTime: now,
        expireTime: now + windowMillis,
        source: readInput(ctx.objects.tos, input, model.name, ctx.completions, Math.floor(now / 1000)),
        queuedAt: now,
        processedBefore: 0,
        stoppedAt: undefined,
        materialized: undefined
      }
      jobs.set(id, job)
      return { Id: id }
    }

    const idSuffix = (): string => {
      const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
      const seed = ctx.nextId("")
      let hash = 0
      for (let i = 0; i < seed.length; i++) hash = (Math.imul(hash, 31) + seed.charCodeAt(i)) >>> 0
      let out = ""
      for (let i = 0; i < 5; i++) {
        out += alphabet[hash % alphabet.length]
        hash = Math.floor(hash / alphabet.length) + Math.imul(i + 7, 2654435761) >>> 0
      }
      return out
    }

    const render = (job: Job, now: number, detailed: boolean): unknown => {
      const current = Jobs.view(job, now, ctx.processing)
      const rendered = {
        Id: job.id,
        Name: job.name,
        ...(job.description === undefined ? {} : { Description: job.description }),
        ProjectName: job.projectName,
        InputFileTosLocation: job.input,
        OutputDirTosLocation: job.output,
        ...(detailed ? { ErrorFileTosLocation: job.errorFile } : {}),
        CompletionWindow: job.completionWindow,
        Status: { Phase: current.phase, PhaseTime: Jobs.rfc3339(current.phaseTime), Message: current.message },
        ModelReference: job.modelReference,
        RequestCounts: { Total: current.total, Completed: current.completed, Failed: current.failed },
        Tags: job.tags,
        CreateTime: Jobs.rfc3339(job.createTime),
        UpdateTime: Jobs.rfc3339(Math.max(job.updateTime, current.phaseTime)),
        ExpireTime: Jobs.rfc3339(job.expireTime)
      }
      return reshaped.get(job.id)?.(rendered) ?? rendered
    }

    const list = (body: Json, accessKeyId: string, now: number) => {
      const pageNumber = Params.optionalInteger(body, "PageNumber", 1, 1_000_000) ?? 1
      const pageSize = Params.optionalInteger(body, "PageSize", 1, 100) ?? 10
      const sortBy = Params.optionalString(body, "SortBy") ?? "CreateTime"
      if (sortBy !== "CreateTime" && sortBy !== "UpdateTime") {
        throw new Params.Reject(errors.invalidParameter("SortBy", "expected CreateTime or UpdateTime"))
      }
      const sortOrder = Params.optionalString(body, "SortOrder") ?? "Desc"
      if (sortOrder !== "Asc" && sortOrder !== "Desc") {
        throw new Params.Reject(errors.invalidParameter("SortOrder", "expected Asc or Desc"))
      }
      const project = Params.optionalString(body, "ProjectName")
      const filter = Params.optionalObject(body, "Filter") ?? {}
      const ids = Params.optionalArray(filter, "Ids", Params.stringItem, "Filter")
      const name = Params.optionalString(filter, "Name", "Filter")
      const wanted = Params.optionalArray(filter, "Phases", (value, path) => {
        const phase = Params.stringItem(value, path)
        if (!Jobs.phases.includes(phase as Phase)) {
          throw new Params.Reject(errors.invalidParameter(path, `unknown phase ${phase}`))
        }
        return phase as Phase
      }, "Filter")
      const foundationModels = Params.optionalArray(filter, "FoundationModels", (value, path) => {
        const model = Params.objectItem(value, path)
        return {
          name: Params.string(model, "Name", path),
          versions: Params.optionalArray(model, "ModelVersions", Params.stringItem, path)
        }
      }, "Filter")
      const customModelIds = Params.optionalArray(filter, "CustomModelIds", Params.stringItem, "Filter")
      const tagFilters = Params.optionalArray(body, "TagFilters", (value, path) => {
        const tag = Params.objectItem(value, path)
        return {
          key: Params.string(tag, "Key", path),
          values: Params.optionalArray(tag, "Values", Params.stringItem, path)
        }
      })
      const matches = (job: Job, phase: Phase): boolean => {
        if (project !== undefined && job.projectName !== project) return false
        if (ids !== undefined && ids.length > 0 && !ids.includes(job.id)) return false
        if (name !== undefined && !job.name.toLowerCase().includes(name.toLowerCase())) return false
        if (wanted !== undefined && wanted.length > 0 && !wanted.includes(phase)) return false
        const models = [
          ...(foundationModels ?? []).map((model) => ({ kind: "foundation" as const, model })),
          ...(customModelIds ?? []).map((id) => ({ kind: "custom" as const, id }))
        ]
        if (models.length > 0) {
          const foundation = job.modelReference.FoundationModel
          const hit = models.some((entry) =>
            entry.kind === "custom"
              ? job.modelReference.CustomModelId === entry.id
              : foundation !== undefined && foundation.Name === entry.model.name &&
                (entry.model.versions === undefined || entry.model.versions.length === 0 ||
                  entry.model.versions.includes(foundation.ModelVersion))
          )
          if (!hit) return false
        }
        for (const tagFilter of tagFilters ?? []) {
          const ok = job.tags.some((tag) =>
            tag.Key === tagFilter.key &&
            (tagFilter.values === undefined || tagFilter.values.length === 0 || tagFilter.values.includes(tag.Value))
          )
          if (!ok) return false
        }
        return true
      }
      const selected: Array<{ job: Job; updated: number }> = []
      for (const job of jobs.values()) {
        if (job.accessKeyId !== accessKeyId) continue
        const current = Jobs.view(job, now, ctx.processing)
        if (matches(job, current.phase)) selected.push({ job, updated: Math.max(job.updateTime, current.phaseTime) })
      }
      const key = (entry: { job: Job; updated: number }) =>
        sortBy === "CreateTime" ? entry.job.createTime : entry.updated
      // Ties (jobs created in the same millisecond) fall back to the id, which embeds the creation second.
      selected.sort((a, b) => (key(a) - key(b)) || a.job.id.localeCompare(b.job.id))
      if (sortOrder === "Desc") selected.reverse()
      const page = selected.slice((pageNumber - 1) * pageSize, pageNumber * pageSize)
      return {
        Items: page.map((entry) => render(entry.job, now, false)),
        PageNumber: pageNumber,
        PageSize: pageSize,
        TotalCount: selected.length
      }
    }

    const update = (body: Json, accessKeyId: string, now: number) => {
      const job = find(Params.string(body, "Id"), accessKeyId)
      const name = Params.optionalString(body, "Name")
      const description = Params.optionalString(body, "Description")
      if (name !== undefined && !Jobs.isValidName(name)) {
        throw new Params.Reject(errors.invalidParameter("Name", "use 1–200 letters, digits, '-' or '_'"))
      }
      if (description !== undefined && description.length > 300) {
        throw new Params.Reject(errors.invalidParameter("Description", "at most 300 characters"))
      }
      if (Params.optionalBoolean(body, "DryRun") === true) return {}
      if (name !== undefined) job.name = name
      if (description !== undefined) job.description = description
      job.updateTime = now
      return {}
    }

    const remove = (body: Json, accessKeyId: string, now: number) => {
      const job = find(Params.string(body, "Id"), accessKeyId)
      const phase = Jobs.view(job, now, ctx.processing).phase
      // UNCONFIRMED whether Ark deletes active jobs; refusing keeps the idempotency rule meaningful.
      if (!Jobs.isTerminal(phase)) throw new Params.Reject(errors.operationDenied(job.id, phase, "deleted"))
      if (Params.optionalBoolean(body, "DryRun") === true) return {}
      // The job's output files stay in TOS (UNCONFIRMED, but they belong to the user's bucket).
      jobs.delete(job.id)
      return {}
    }

    const stop = (body: Json, accessKeyId: string, now: number) => {
      const job = find(Params.string(body, "Id"), accessKeyId)
      const phase = Jobs.view(job, now, ctx.processing).phase
      if (phase === "Terminating") return {}
      if (!Jobs.isActive(phase)) throw new Params.Reject(errors.operationDenied(job.id, phase, "stopped"))
      if (Params.optionalBoolean(body, "DryRun") === true) return {}
      job.stoppedAt = now
      job.updateTime = now
      return {}
    }

    const resume = (body: Json, query: URLSearchParams, accessKeyId: string, now: number) => {
      // The doc example sends `Id` in the query with an empty body; the Node SDK sends it in the body.
      const id = Params.optionalString(body, "Id") ?? query.get("Id") ?? undefined
      if (id === undefined || id === "") throw new Params.Reject(errors.missingParameter("Id"))
      const job = find(id, accessKeyId)
      const current = Jobs.view(job, now, ctx.processing)
      // UNCONFIRMED which phases resume; Terminated and Failed are the plausible ones.
      if (current.phase !== "Terminated" && current.phase !== "Failed") {
        throw new Params.Reject(errors.operationDenied(job.id, current.phase, "resumed"))
      }
      const duplicate = activeDuplicate(accessKeyId, job.projectName, job.input, now)
      if (duplicate !== undefined) throw new Params.Reject(errors.duplicateActiveJob(duplicate.id))
      if (job.source._tag === "Invalid") {
        // A failed input may have been fixed in place; read it again.
        job.source = readInput(ctx.objects.tos, job.input, job.modelName, ctx.completions, Math.floor(now / 1000))
        job.processedBefore = 0
      } else {
        job.processedBefore = current.processed
      }
      job.queuedAt = now
      job.stoppedAt = undefined
      // UNCONFIRMED: a resumed job gets a fresh completion window, otherwise an expired job could never run.
      job.expireTime = now + job.windowMillis
      job.updateTime = now
      job.materialized = undefined
      return { Id: job.id }
    }

    const requestIdAt = (now: number): string =>
      `${Jobs.idTimestamp(now)}${ctx.nextId("").replace(/[^0-9a-z]/gi, "").toUpperCase().padEnd(20, "0").slice(0, 20)}`

    const lookupSecret = Credentials.secretLookup(ctx.credentials.volcengine)

    const app: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> = Effect
      .gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const now = yield* ctx.time.now
        const { path: rawPath, query: rawQuery } = Http.splitUrl(request.url)
        const query = new URLSearchParams(rawQuery)
        const meta: Meta = {
          requestId: requestIdAt(now),
          action: query.get("Action") ?? "",
          version: query.get("Version") ?? "",
          region
        }
        const answer = (error: ArkError) => failure(meta, error)
        const body = yield* Effect.orElseSucceed(
          Effect.map(request.arrayBuffer, (buffer) => new Uint8Array(buffer)),
          () => undefined
        )
        if (body === undefined) return answer(errors.invalidParameter("body", "the request body could not be read"))
        // Signatures are checked against the real clock: emulated time may run faster than the client's.
        const wallClock = yield* Clock.currentTimeMillis
        const verified = Verifier.verifyVolcengine(
          { method: request.method, path: rawPath, query: rawQuery, headers: request.headers, body },
          { lookupSecret, now: wallClock, service: "ark" }
        )
        if (Either.isLeft(verified)) return answer(authError(verified.left))
        if (meta.action === "") return answer(errors.missingParameter("Action"))
        if (meta.version === "") return answer(errors.missingParameter("Version"))
        if (meta.version !== apiVersion) return answer(errors.invalidActionOrVersion(meta.action, meta.version))
        let json: unknown = {}
        if (body.byteLength > 0) {
          try {
            json = JSON.parse(new TextDecoder().decode(body))
          } catch {
            return answer(errors.invalidParameter("body", "the request body is not JSON"))
          }
        }
        if (!Params.isObject(json)) {
          return answer(errors.invalidParameter("body", "the request body must be a JSON object"))
        }
        try {
          return success(meta, handle(meta.action, json, query, verified.right.accessKeyId, now))
        } catch (error) {
          if (error instanceof Params.Reject) return answer(error.error)
          return answer(errors.internalError())
        }
      })

    const state: State = {
      jobs,
      layout,
      reshape: (id, change) => void reshaped.set(id, change),
      view: (id) =>
        Effect.map(ctx.time.now, (now) => {
          const job = jobs.get(id)
          return job === undefined ? undefined : Jobs.view(job, now, ctx.processing)
        })
    }
    return { app, state }
  })

const authError = (failure: Verifier.VerificationFailure): ArkError => {
  switch (failure.reason) {
    case "MissingAuthorization":
      return errors.missingAuthenticationToken()
    case "MalformedAuthorization":
      return errors.invalidAuthorization(failure.message)
    case "UnknownAccessKey":
      return errors.invalidAccessKey()
    case "SignatureMismatch":
      return errors.signatureDoesNotMatch()
    case "Expired":
      return errors.invalidTimestamp()
    case "MissingDate":
      return errors.missingRequestInfo("the X-Date header")
  }
}
