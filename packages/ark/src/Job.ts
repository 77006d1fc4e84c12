/**
 * The domain model of an Ark batch inference job, in camelCase, and the one mapping between it and the wire
 * (`Wire.BatchInferenceJob`, results lines). Everything public in `@barge/ark` speaks these types.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Wire from "./Wire.js"

/**
 * A bucket and key in TOS.
 *
 * @since 0.1.0
 * @category models
 */
export class Location extends Schema.Class<Location>("@barge/ark/Job/Location")({
  bucket: Schema.String,
  key: Schema.String
}) {}

/**
 * The model a job runs: a foundation model at a version, or a custom model id.
 *
 * @since 0.1.0
 * @category models
 */
export const Model = Schema.Union(
  Schema.TaggedStruct("Foundation", { name: Schema.String, version: Schema.String }),
  Schema.TaggedStruct("Custom", { id: Schema.String })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Model = typeof Model.Type

/**
 * A foundation model reference.
 *
 * @since 0.1.0
 * @category constructors
 */
export const foundationModel = (name: string, version: string): Model => ({ _tag: "Foundation", name, version })

/**
 * A custom (fine-tuned) model reference.
 *
 * @since 0.1.0
 * @category constructors
 */
export const customModel = (id: string): Model => ({ _tag: "Custom", id })

/**
 * Request counts: `completed + failed` of `total` are done.
 *
 * @since 0.1.0
 * @category models
 */
export class Counts extends Schema.Class<Counts>("@barge/ark/Job/Counts")({
  total: Schema.Number,
  completed: Schema.Number,
  failed: Schema.Number
}) {}

/**
 * A phase: one of `Wire.Phase`, or a string Ark added later (treated as not terminal).
 *
 * @since 0.1.0
 * @category models
 */
export type Phase = Wire.Phase | (string & {})

/**
 * A batch inference job.
 *
 * @since 0.1.0
 * @category models
 */
export class Job extends Schema.Class<Job>("@barge/ark/Job/Job")({
  id: Schema.String,
  name: Schema.String,
  description: Schema.optional(Schema.String),
  projectName: Schema.String,
  model: Model,
  input: Location,
  outputDir: Location,
  /** Where failed requests are written (only `get` reports it; `list` items lack it). */
  errorFile: Schema.optional(Location),
  completionWindow: Schema.optional(Schema.String),
  phase: Schema.String,
  phaseTime: Schema.optional(Schema.DateFromSelf),
  message: Schema.String,
  counts: Counts,
  tags: Schema.Array(Schema.Struct({ key: Schema.String, value: Schema.String })),
  createdAt: Schema.DateFromSelf,
  updatedAt: Schema.optional(Schema.DateFromSelf),
  expiresAt: Schema.optional(Schema.DateFromSelf)
}) {
  /**
   * Completed, Terminated or Failed: the job will not change again on its own.
   *
   * @since 0.1.0
   */
  get isTerminal(): boolean {
    return isTerminalPhase(this.phase)
  }
}

/**
 * @since 0.1.0
 * @category predicates
 */
export const isTerminalPhase = (phase: string): boolean =>
  phase === "Completed" || phase === "Terminated" || phase === "Failed"

/**
 * Queued or Running: the phases that block an identical submission (Ark's idempotency rule).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isActivePhase = (phase: string): boolean => phase === "Queued" || phase === "Running"

const date = (text: string | undefined): Date | undefined => {
  if (text === undefined || text === "") return undefined
  const parsed = new Date(text)
  return Number.isNaN(parsed.getTime()) ? undefined : parsed
}

/**
 * Parses a completion window: `"3d"` as documented, or `"3 days"` as the BytePlus edition returns it. Returns whole
 * days, or `undefined` for anything else.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseCompletionWindow = (text: string): number | undefined => {
  const match = /^\s*(\d+)\s*(?:d|days?)\s*$/i.exec(text)
  return match === null ? undefined : Number(match[1])
}

/**
 * The completion windows `create` and `submit` accept before sending anything: whole days in `[min, max]`. The
 * 2024-09-29 doc reads "1d~28d", whole days only; the BytePlus edition also takes and returns `"N days"`. Whether
 * other spellings (hours, fractions) are refused by the server is UNCONFIRMED: change the range here if Ark widens it.
 *
 * @since 0.1.0
 * @category constants
 */
export const completionWindowDays = { min: 1, max: 28 } as const

/**
 * Why a completion window (`3`, `"3d"`, `"3 days"`) would be refused, or `undefined` when Ark accepts it.
 *
 * @since 0.1.0
 * @category parsing
 */
export const checkCompletionWindow = (window: number | string): string | undefined => {
  const { max, min } = completionWindowDays
  const days = typeof window === "number" ? window : parseCompletionWindow(window)
  return days !== undefined && Number.isInteger(days) && days >= min && days <= max
    ? undefined
    : `completionWindow ${
      JSON.stringify(window)
    } is not allowed: Ark's CompletionWindow takes whole days from ${min} to ${max} (${min}, "${min}d", "${max} days")`
}

/**
 * The wire job as the domain job.
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromWire = (job: Wire.BatchInferenceJob): Job => {
  const createdAt = date(job.CreateTime) ?? new Date(0)
  const window = job.CompletionWindow === undefined ? undefined : parseCompletionWindow(job.CompletionWindow)
  return Job.make({
    id: job.Id,
    name: job.Name,
    ...(job.Description === undefined ? {} : { description: job.Description }),
    projectName: job.ProjectName,
    model: job.ModelReference.FoundationModel !== undefined
      ? foundationModel(job.ModelReference.FoundationModel.Name, job.ModelReference.FoundationModel.ModelVersion)
      : customModel(job.ModelReference.CustomModelId ?? ""),
    input: locationFromWire(job.InputFileTosLocation),
    outputDir: locationFromWire(job.OutputDirTosLocation),
    ...(job.ErrorFileTosLocation === undefined ? {} : { errorFile: locationFromWire(job.ErrorFileTosLocation) }),
    ...(job.CompletionWindow === undefined ? {} : { completionWindow: job.CompletionWindow }),
    phase: job.Status.Phase,
    ...optionalDate("phaseTime", job.Status.PhaseTime),
    message: job.Status.Message,
    counts: Counts.make({
      total: job.RequestCounts.Total,
      completed: job.RequestCounts.Completed,
      failed: job.RequestCounts.Failed
    }),
    tags: job.Tags.map((tag) => ({ key: tag.Key, value: tag.Value })),
    createdAt,
    ...optionalDate("updatedAt", job.UpdateTime),
    // Ark reports ExpireTime; when it does not, CreateTime + CompletionWindow is the same instant.
    ...(date(job.ExpireTime) !== undefined
      ? { expiresAt: date(job.ExpireTime)! }
      : window === undefined
      ? {}
      : { expiresAt: new Date(createdAt.getTime() + window * 86_400_000) })
  })
}

const optionalDate = <K extends string>(key: K, text: string | undefined) => {
  const value = date(text)
  return (value === undefined ? {} : { [key]: value }) as { readonly [P in K]?: Date }
}

/**
 * @since 0.1.0
 * @category mapping
 */
export const locationFromWire = (location: Wire.TosLocation): Location =>
  Location.make({ bucket: location.BucketName, key: location.ObjectKey })

/**
 * @since 0.1.0
 * @category mapping
 */
export const locationToWire = (location: Location): Wire.TosLocation =>
  Wire.TosLocation.make({ BucketName: location.bucket, ObjectKey: location.key })

/**
 * @since 0.1.0
 * @category mapping
 */
export const modelToWire = (model: Model): Wire.ModelReference =>
  model._tag === "Foundation"
    ? Wire.ModelReference.make({
      FoundationModel: Wire.FoundationModel.make({ Name: model.name, ModelVersion: model.version })
    })
    : Wire.ModelReference.make({ CustomModelId: model.id })

/**
 * One outcome read from a job's output files: the response body of a request, or its error.
 *
 * @since 0.1.0
 * @category models
 */
export type Result =
  | { readonly _tag: "Response"; readonly customId: string; readonly statusCode: number; readonly response: unknown }
  | {
    readonly _tag: "Error"
    readonly customId: string
    readonly error: { readonly code: string; readonly type?: string | undefined; readonly message: string }
  }

/**
 * A result line as the domain result: a line with an `error`, or without a 2xx response, is an error.
 *
 * @since 0.1.0
 * @category mapping
 */
export const resultFromWire = (line: Wire.ResultLine): Result => {
  const response = line.response ?? undefined
  const status = response?.status_code ?? 200
  if (line.error != null || response === undefined || status < 200 || status > 299) {
    return {
      _tag: "Error",
      customId: line.custom_id,
      error: {
        code: line.error?.code ?? (response === undefined ? "Unknown" : `HTTP${status}`),
        ...(line.error?.type == null ? {} : { type: line.error.type }),
        message: line.error?.message ?? ""
      }
    }
  }
  return { _tag: "Response", customId: line.custom_id, statusCode: status, response: response.body }
}
