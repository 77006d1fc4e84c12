/**
 * The first pass of `submit`: every input line checked with core `InputValidation` (JSON object, `id` a unique
 * non-empty string, size) plus its data format's schema, the submission's content hash, and where each line goes —
 * which task and which file — within the limits. Nothing but the counts is kept, so a submission of any size plans
 * in constant memory (apart from the set of ids core keeps for uniqueness).
 */
import * as InputValidation from "@barge/core/InputValidation"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"
import * as Wire from "../Wire.js"
/** Where input goes, per task and file. */
export interface Limits {
  readonly maxFilesPerTask: number
  readonly maxBytesPerTask: number
  readonly maxBytesPerFile: number
}

/** One planned task: the number of lines in each of its files. */
export interface PlannedTask {
  readonly files: Array<{ lines: number; bytes: number }>
  bytes: number
}

/** The result of checking and planning. */
export interface Plan {
  readonly hash: string
  readonly lines: number
  readonly tasks: ReadonlyArray<PlannedTask>
}

const maxIssues = 100

const encoder = new TextEncoder()

/** Keys sorted at every level, so equal values hash alike whatever their key order. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      )
      : v)

/** What core `InputValidation` checks on Qianfan lines: the id, and that one line fits in one file and task. */
const rules = (limits: Limits): InputValidation.Rules => ({
  idField: "id",
  maxLineBytes: Math.min(limits.maxBytesPerFile, limits.maxBytesPerTask),
  emptyLines: "fail"
})

/** The model and task parameters `submit` was given. */
export interface Model {
  readonly endpoint?: string | undefined
  readonly modelId?: string | undefined
}

/**
 * Checks and plans a submission in one pass over `source`. `header` is hashed first: everything besides the lines
 * that makes two submissions different (model, parameters, data format, window). Every issue — core's, the data
 * format's, the model's and the completion window's — comes back in one `InputValidationError`, before anything is sent.
 */
export const plan = <E, R>(
  source: Stream.Stream<unknown, E, R>,
  options: {
    readonly format: Wire.DataFormat
    readonly model: Model
    readonly limits: Limits
    readonly header: string
    readonly completionWindow?: string | undefined
  }
): Effect.Effect<Plan, InputValidation.InputValidationError | E, R> =>
  Effect.suspend(() => {
    const { format, limits } = options
    const schema: Schema.Schema<{ readonly id: string }, unknown> = Wire.lineSchemas[format] as never
    const decode = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "preserve" })
    const hash = createHash("sha256").update(options.header).update("\n")
    const issues: Array<InputValidation.Issue> = []
    let totalIssues = 0
    const tasks: Array<PlannedTask> = []
    let lineNumber = 0

    const report = (line: number, rule: InputValidation.IssueRule, message: string) => {
      totalIssues++
      if (issues.length < maxIssues) issues.push(new InputValidation.Issue({ lineNumber: line, rule, message }))
    }
    if ((options.model.endpoint === undefined) === (options.model.modelId === undefined)) {
      report(0, "InvalidParameter", "give exactly one of model.endpoint and model.modelId")
    }
    const windowProblem = options.completionWindow === undefined
      ? undefined
      : Wire.checkCompletionWindow(options.completionWindow)
    if (windowProblem !== undefined) report(0, "InvalidParameter", windowProblem)

    // The id and the JSON shape are core's to report; this adds what the data format requires of the rest.
    const checkFormat = (value: unknown) => {
      if (!Predicate.isRecord(value)) return
      const decoded = decode(value)
      if (Either.isRight(decoded)) return
      const first = ParseResult.ArrayFormatter.formatErrorSync(decoded.left).find((issue) => issue.path[0] !== "id")
      if (first === undefined) return
      const path = first.path.join(".")
      report(
        lineNumber,
        "InvalidField",
        `not a valid ${format} line${path === "" ? "" : ` at \`${path}\``}: ${first.message}`
      )
    }

    const place = (bytes: number) => {
      let task = tasks[tasks.length - 1]
      if (task === undefined || task.bytes + bytes > limits.maxBytesPerTask) {
        task = { files: [], bytes: 0 }
        tasks.push(task)
      }
      let file = task.files[task.files.length - 1]
      if (file === undefined || file.bytes + bytes > limits.maxBytesPerFile) {
        if (task.files.length >= limits.maxFilesPerTask) {
          task = { files: [], bytes: 0 }
          tasks.push(task)
        }
        file = { lines: 0, bytes: 0 }
        task.files.push(file)
      }
      file.lines++
      file.bytes += bytes
      task.bytes += bytes
    }

    const encode = (value: unknown): Uint8Array => {
      lineNumber++
      checkFormat(value)
      const text = JSON.stringify(value) + "\n"
      hash.update(text)
      const bytes = encoder.encode(text)
      place(bytes.byteLength)
      return bytes
    }

    return InputValidation.validate(rules(limits))(Stream.map(source, encode)).pipe(
      InputValidation.withIssues(() => ({ issues, totalIssues })),
      Effect.map((summary) => ({ hash: hash.digest("hex"), lines: summary.lines, tasks }))
    )
  })

/** Which task and file every line goes to, in order: the second pass follows this. */
export function* placements(plan: Plan): Generator<{ readonly task: number; readonly file: number }> {
  for (let t = 0; t < plan.tasks.length; t++) {
    const files = plan.tasks[t]!.files
    for (let f = 0; f < files.length; f++) {
      for (let l = 0; l < files[f]!.lines; l++) yield { task: t, file: f }
    }
  }
}
