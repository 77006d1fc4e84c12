/**
 * The first pass of `submit`: every input line checked against its data format (all issues collected), the
 * submission's content hash, and where each line goes — which task and which file — within the limits. Nothing but
 * the counts is kept, so a submission of any size plans in constant memory.
 */
import type * as Batch from "@barge/core/Batch"
import type * as Arr from "effect/Array"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { createHash, type Hash } from "node:crypto"
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

type Issue = Batch.InputValidationError["issues"][number]

const maxIssues = 1000

const encoder = new TextEncoder()

/** Keys sorted at every level, so equal values hash alike whatever their key order. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      )
      : v)

/** A planner fed one line at a time. */
export interface Planner {
  /** Checks a line (a parsed value) and places it; returns the encoded line, or `undefined` if it has an issue. */
  readonly add: (value: unknown) => string | undefined
  /** The issues found, or the plan. */
  readonly finish: () => Either.Either<Plan, Arr.NonEmptyReadonlyArray<Issue>>
}

/**
 * Starts a plan. `header` is hashed first: everything besides the lines that makes two submissions different
 * (model, parameters, data format, window).
 */
export const planner = (format: Wire.DataFormat, limits: Limits, header: string): Planner => {
  const schema: Schema.Schema<{ readonly id: string }, unknown> = Wire.lineSchemas[format] as never
  const decode = Schema.decodeUnknownEither(schema, { errors: "first", onExcessProperty: "preserve" })
  const hash: Hash = createHash("sha256").update(header).update("\n")
  const seen = new Map<string, number>()
  const issues: Array<Issue> = []
  let issueCount = 0
  const tasks: Array<PlannedTask> = []
  let lineNumber = 0

  const report = (rule: string, message: string) => {
    issueCount++
    if (issues.length < maxIssues) issues.push({ lineNumber, rule, message })
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

  return {
    add: (value) => {
      lineNumber++
      const decoded = decode(value)
      if (Either.isLeft(decoded)) {
        const first = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]
        const path = first?.path.join(".") ?? ""
        report(
          path === "id" ? "id" : "shape",
          `not a valid ${format} line${path === "" ? "" : ` at \`${path}\``}: ${first?.message ?? "invalid"}`
        )
        return undefined
      }
      const id = decoded.right.id
      if (id === "") {
        report("id", "`id` must not be empty")
        return undefined
      }
      const earlier = seen.get(id)
      if (earlier !== undefined) {
        report("duplicate-id", `id "${id}" already used on line ${earlier}; ids must be unique within a task`)
        return undefined
      }
      seen.set(id, lineNumber)
      const text = JSON.stringify(value) + "\n"
      const bytes = encoder.encode(text).byteLength
      if (bytes > limits.maxBytesPerFile || bytes > limits.maxBytesPerTask) {
        report("too-large", `the line is ${bytes} bytes, more than one input file may hold (${limits.maxBytesPerFile})`)
        return undefined
      }
      hash.update(text)
      place(bytes)
      return text
    },
    finish: () => {
      if (issueCount === 0 && lineNumber === 0) {
        return Either.left([{ lineNumber: 0, rule: "empty", message: "the submission has no lines" }])
      }
      if (issueCount > 0) {
        if (issueCount > issues.length) {
          issues.push({ lineNumber, rule: "more", message: `${issueCount - issues.length} more issues not listed` })
        }
        return Either.left(issues as unknown as Arr.NonEmptyReadonlyArray<Issue>)
      }
      return Either.right({ hash: hash.digest("hex"), lines: lineNumber, tasks })
    }
  }
}

/** Which task and file every line goes to, in order: the second pass follows this. */
export function* placements(plan: Plan): Generator<{ readonly task: number; readonly file: number }> {
  for (let t = 0; t < plan.tasks.length; t++) {
    const files = plan.tasks[t]!.files
    for (let f = 0; f < files.length; f++) {
      for (let l = 0; l < files[f]!.lines; l++) yield { task: t, file: f }
    }
  }
}
