/**
 * The domain model of an Ark batch inference job, in camelCase, and the one mapping from the wire
 * (`Wire.BatchInferenceJob`). Everything public in `@barge/ark` speaks these types. Only `id` is sure to be there:
 * Ark's official SDK marks every field of a job optional, so Barge does too.
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
 * The model a job runs: a foundation model at a version, or a custom (fine-tuned) model id.
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
 * A batch inference job.
 *
 * @since 0.1.0
 * @category models
 */
export class Job extends Schema.Class<Job>("@barge/ark/Job/Job")({
  id: Schema.String,
  name: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  projectName: Schema.optional(Schema.String),
  model: Schema.optional(Model),
  input: Schema.optional(Location),
  outputDir: Schema.optional(Location),
  /** Where failed requests are written (only `get` reports it; `list` items lack it). */
  errorFile: Schema.optional(Location),
  completionWindow: Schema.optional(Schema.String),
  /** Ark's phase word verbatim (one of `Wire.Phase`, or a word Ark added); `""` when Ark sent none. */
  phase: Schema.String,
  phaseTime: Schema.optional(Schema.DateFromSelf),
  message: Schema.String,
  counts: Counts,
  tags: Schema.Array(Schema.Struct({ key: Schema.String, value: Schema.String })),
  createdAt: Schema.optional(Schema.DateFromSelf),
  updatedAt: Schema.optional(Schema.DateFromSelf),
  expiresAt: Schema.optional(Schema.DateFromSelf)
}) {
  /**
   * Completed, Terminated or Failed: the job will not change again on its own.
   *
   * @since 0.1.0
   */
  get isTerminal(): boolean {
    return this.phase === "Completed" || this.phase === "Terminated" || this.phase === "Failed"
  }

  /**
   * The value of one of the job's tags.
   *
   * @since 0.1.0
   */
  tag(key: string): string | undefined {
    return this.tags.find((tag) => tag.key === key)?.value
  }
}

const date = (text: string | undefined): Date | undefined => {
  if (text === undefined || text === "") return undefined
  const parsed = new Date(text)
  return Number.isNaN(parsed.getTime()) ? undefined : parsed
}

/**
 * Whole days of a completion window as Ark returns it: `"3d"` as documented, or `"3 days"` as the BytePlus edition
 * shows it; `undefined` for anything else.
 *
 * @since 0.1.0
 * @category parsing
 */
export const windowDays = (text: string): number | undefined => {
  const match = /^\s*(\d+)\s*(?:d|days?)\s*$/i.exec(text)
  return match === null ? undefined : Number(match[1])
}

/**
 * The wire job as the domain job.
 *
 * @since 0.1.0
 * @category mapping
 */
export const fromWire = (job: Wire.BatchInferenceJob): Job => {
  const createdAt = date(job.CreateTime)
  const days = job.CompletionWindow === undefined ? undefined : windowDays(job.CompletionWindow)
  // Ark reports ExpireTime; when it does not, CreateTime + CompletionWindow is the same instant.
  const expiresAt = date(job.ExpireTime) ??
    (createdAt === undefined || days === undefined ? undefined : new Date(createdAt.getTime() + days * 86_400_000))
  const reference = job.ModelReference
  const model = reference?.FoundationModel !== undefined
    ? foundationModel(reference.FoundationModel.Name, reference.FoundationModel.ModelVersion)
    : reference?.CustomModelId !== undefined
    ? customModel(reference.CustomModelId)
    : undefined
  const counts = job.RequestCounts
  return Job.make({
    id: job.Id,
    ...defined("name", job.Name),
    ...defined("description", job.Description),
    ...defined("projectName", job.ProjectName),
    ...defined("model", model),
    ...defined("input", locationFromWire(job.InputFileTosLocation)),
    ...defined("outputDir", locationFromWire(job.OutputDirTosLocation)),
    ...defined("errorFile", locationFromWire(job.ErrorFileTosLocation)),
    ...defined("completionWindow", job.CompletionWindow),
    phase: job.Status?.Phase ?? "",
    ...defined("phaseTime", date(job.Status?.PhaseTime)),
    message: job.Status?.Message ?? "",
    counts: Counts.make({
      total: counts?.Total ?? 0,
      completed: counts?.Completed ?? 0,
      failed: counts?.Failed ?? 0
    }),
    tags: (job.Tags ?? []).map((tag) => ({ key: tag.Key, value: tag.Value })),
    ...defined("createdAt", createdAt),
    ...defined("updatedAt", date(job.UpdateTime)),
    ...defined("expiresAt", expiresAt)
  })
}

/** `{ [key]: value }`, or nothing when the value is absent (the model's optional fields are exact). */
const defined = <K extends string, A>(key: K, value: A | undefined) =>
  (value === undefined ? {} : { [key]: value }) as { readonly [P in K]?: A }

const locationFromWire = (location: Wire.TosLocation | undefined): Location | undefined =>
  location === undefined ? undefined : Location.make({ bucket: location.BucketName, key: location.ObjectKey })

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
 * The model in Barge's words: `name@version`, or `custom:<id>` (what `ChatRequest.model` takes on Ark).
 *
 * @since 0.1.0
 * @category mapping
 */
export const modelName = (model: Model): string =>
  model._tag === "Foundation" ? `${model.name}@${model.version}` : `custom:${model.id}`
