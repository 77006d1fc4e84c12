/**
 * The unified `Batch` driver over `ArkBatch`: parts become `submit` calls (validated, content-addressed, attached
 * to an identical active job), Ark's phases map to the shared ones, result lines to `BatchResult`s.
 */
import * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as ArkBatch from "../ArkBatch.js"
import * as Job from "../Job.js"

/** Failures the driver passes through, untouched, inside `Batch.ProviderError`. */
export type DriverError = ArkBatch.SubmitError | ArkBatch.ResultsError

/**
 * Versions used when a model is named without one (`"doubao-pro-32k"`). Ark's job API needs a version; these are
 * the documented batch models' (spec §1.2). Name a version explicitly as `name@version` (or `name/version`).
 */
export const defaultVersions: Readonly<Record<string, string>> = {
  "doubao-pro-32k": "240615",
  "Doubao-pro-32k": "240615",
  "doubao-pro-128k": "240628",
  "doubao-lite-32k": "240828",
  "doubao-1-5-pro-32k": "250115",
  "deepseek-v3": "250324"
}

/** `name@version`, `name/version`, or a bare name looked up in `versions`. */
export const modelOf = (model: string, versions: Readonly<Record<string, string>>): Job.Model => {
  const match = /^(.+?)[@/](\d{6})$/.exec(model)
  if (match !== null) return Job.foundationModel(match[1]!, match[2]!)
  // An unknown bare name goes out with an empty version; Ark answers with its own parameter error.
  return Job.foundationModel(model, versions[model] ?? "")
}

const utc = (date: Date | undefined) => (date === undefined ? undefined : DateTime.unsafeFromDate(date))

/** Ark's phase as the shared phase. A Terminated job whose window had run out is `expired`. */
export const phaseOf = (job: Job.Job): Batch.Phase => {
  switch (job.phase) {
    case "Queued":
      return "pending"
    case "Running":
      return "running"
    case "Completed":
      return "completed"
    case "Failed":
      return "failed"
    case "Terminating":
      return "cancelling"
    case "Terminated": {
      const expired = job.expiresAt !== undefined && job.phaseTime !== undefined &&
        job.phaseTime.getTime() >= job.expiresAt.getTime()
      return expired ? "expired" : "cancelled"
    }
    default:
      // Unknown phases (an `Initializing` is rumoured) are treated as not yet running.
      return "pending"
  }
}

/** The one mapping from an Ark job to the shared status. */
export const jobStatus = (job: Job.Job): Batch.JobStatus => {
  const terminal = job.isTerminal
  return new Batch.JobStatus({
    jobId: job.id,
    phase: phaseOf(job),
    providerStatus: job.phase,
    counts: new Batch.Counts({ ...job.counts }),
    model: job.model._tag === "Foundation" ? job.model.name : job.model.id,
    ...(job.message === "" ? {} : { message: job.message }),
    createdAt: utc(job.createdAt),
    startedAt: undefined,
    finishedAt: terminal ? utc(job.phaseTime) : undefined,
    expiresAt: utc(job.expiresAt)
  })
}

const decodeResponse = Schema.decodeUnknownEither(ChatRequest.ChatResponse)

/** A result line as the shared result. */
export const resultOf = (result: Job.Result): Batch.BatchResult => {
  if (result._tag === "Error") {
    return {
      _tag: "Failed",
      customId: result.customId,
      error: new Batch.RequestError({ code: result.error.code, message: result.error.message })
    }
  }
  const response = decodeResponse(result.response)
  return Either.isRight(response)
    ? { _tag: "Succeeded", customId: result.customId, response: response.right }
    : {
      _tag: "Failed",
      customId: result.customId,
      error: new Batch.RequestError({
        code: "MalformedResponse",
        message: "Ark returned a response body that is not a chat completion",
        statusCode: result.statusCode
      })
    }
}

/** Ark takes whole days (`Job.completionWindowDays`): round a requested window up, then into that range. */
const windowOf = (window: Duration.Duration | undefined): number | undefined =>
  window === undefined ? undefined : Math.min(
    Job.completionWindowDays.max,
    Math.max(Job.completionWindowDays.min, Math.ceil(Duration.toHours(window) / 24))
  )

/** Builds the driver. */
export const make = (
  service: ArkBatch.Service,
  options: { readonly versions?: Readonly<Record<string, string>> | undefined } = {}
): Batch.Driver<Job.Job, DriverError> => {
  const versions = { ...defaultVersions, ...options.versions }
  return {
    provider: "ark",
    // 5 GiB per input file (spec §1.10); no documented line cap, so a generous one keeps parts manageable.
    limits: { maxBytesPerJob: 5 * 1024 * 1024 * 1024, maxLinesPerJob: 1_000_000 },
    lineBytes: (request) =>
      JSON.stringify({
        custom_id: request.customId,
        body: { messages: request.messages, ...ChatRequest.parameters(request) }
      })
        .length + 1,
    submitOne: (requests, context) => {
      const window = windowOf(context.completionWindow)
      const name = `barge-part-${context.part + 1}-of-${context.parts}`
      return service.submit(
        requests.map((request) => ({
          customId: request.customId,
          // The job's ModelReference names the model; Ark's lines leave it out.
          body: { messages: request.messages, ...ChatRequest.parameters(request) }
        })),
        {
          name,
          model: modelOf(context.model, versions),
          ...(window === undefined ? {} : { completionWindow: window }),
          ...(context.metadata === undefined ? {} : { tags: context.metadata })
        }
      ).pipe(Effect.map((submission) => submission.job))
    },
    get: service.get,
    list: service.list(),
    cancel: (id) => Effect.zipRight(service.stop(id), service.get(id)),
    results: (id) => Stream.map(service.results(id), resultOf),
    status: jobStatus
  }
}
