/**
 * Validation of batch input JSONL before anything is uploaded. Every problem is collected — with its line number,
 * the rule it broke and a message a person can act on — into one {@link InputValidationError}, so a user fixes the
 * file once instead of once per upload attempt.
 *
 * Streaming, in constant memory apart from the set of ids seen (needed for uniqueness).
 *
 * Providers parameterise the rules: Ark and Moonshot key requests by `custom_id`, Qianfan by `id`; Moonshot also
 * requires `method`, `url` and `body`; all require one model per job.
 *
 * @since 0.1.0
 */
import type * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as Jsonl from "./Jsonl.js"

/**
 * @since 0.1.0
 * @category models
 */
export const IssueRule = Schema.Literal(
  "InvalidUtf8",
  "InvalidJson",
  "NotAnObject",
  "MissingField",
  "InvalidId",
  "DuplicateId",
  "InvalidBody",
  "InvalidField",
  "InvalidParameter",
  "MissingModel",
  "MixedModels",
  "EmptyLine",
  "LineTooLarge",
  "TooManyLines",
  "FileTooLarge",
  "EmptyFile",
  "FixedParameter",
  "InputChanged",
  "Unreadable"
)

/**
 * @since 0.1.0
 * @category models
 */
export type IssueRule = typeof IssueRule.Type

/**
 * One problem. `lineNumber` is 1-based; file-level problems (too large, empty) use 0.
 *
 * @since 0.1.0
 * @category models
 */
export class Issue extends Schema.Class<Issue>("@barge/core/InputValidation/Issue")({
  lineNumber: Schema.Number,
  rule: IssueRule,
  message: Schema.String
}) {}

/**
 * The input has problems; nothing was uploaded. `issues` holds the first `maxIssues` of them in file order;
 * `totalIssues` counts them all.
 *
 * @since 0.1.0
 * @category errors
 */
export class InputValidationError
  extends Schema.TaggedError<InputValidationError>("@barge/core/InputValidation/InputValidationError")(
    "InputValidationError",
    {
      issues: Schema.Array(Issue),
      totalIssues: Schema.Number,
      lines: Schema.Number,
      bytes: Schema.Number
    }
  )
{
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const shown = this.issues.slice(0, 5).map((issue) =>
      issue.lineNumber === 0 ? issue.message : `line ${issue.lineNumber}: ${issue.message}`
    )
    const more = this.totalIssues - shown.length
    return `the batch input has ${this.totalIssues} problem${
      this.totalIssues === 1 ? "" : "s"
    }; nothing was uploaded. ${shown.join("; ")}${more > 0 ? `; and ${more} more (see .issues)` : ""}`
  }
}

/**
 * What a valid input holds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  /** Requests (non-empty lines). */
  readonly lines: number
  readonly bytes: number
  /** The one model every line names, when `modelPath` is set. */
  readonly model: string | undefined
}

/**
 * The rules a provider checks.
 *
 * @since 0.1.0
 * @category models
 */
export interface Rules {
  /** The field holding each request's id: a non-empty string, unique in the file. `custom_id` or `id`. */
  readonly idField: string
  /** Further top-level fields every line must have (the id field is always required). */
  readonly requiredFields?: ReadonlyArray<string> | undefined
  /** A field that must be a JSON object (typically `body`); checked only when present or required. */
  readonly objectFields?: ReadonlyArray<string> | undefined
  /** Top-level fields that, when present, must hold exactly this value (Moonshot: `method` `POST`, `url`). */
  readonly fieldValues?: Readonly<Record<string, string>> | undefined
  /** Dot path to the model (`body.model`): when set, every line must name one and the same model. */
  readonly modelPath?: string | undefined
  readonly maxBytes?: number | undefined
  readonly maxLines?: number | undefined
  readonly maxLineBytes?: number | undefined
  /** Empty lines: reject them (default) or ignore them. */
  readonly emptyLines?: "fail" | "skip" | undefined
  /** How many issues the error keeps (all are counted); default 100. */
  readonly maxIssues?: number | undefined
}

/**
 * Validates JSONL bytes against `rules`, succeeding with a {@link Summary} or failing with one
 * {@link InputValidationError} listing every problem. Invalid UTF-8 stops the scan (line boundaries after it cannot
 * be trusted); the problems found before it are still reported.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate =
  (rules: Rules) =>
  <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Effect.Effect<Summary, InputValidationError | E, R> =>
    Effect.suspend(() => {
      const state = makeState(rules)
      // A pure fold, not `runForEachChunk`: an Effect per chunk kept each chunk's lines reachable from the fiber's
      // promoted objects, so the young-generation collector promoted them too (the heap grew by 100 MiB).
      return Jsonl.lines(bytes).pipe(
        Stream.run(Sink.foldLeftChunks(state, (checked, chunk: Chunk.Chunk<Jsonl.Line>) => {
          for (const line of chunk) checkLine(checked, line)
          return checked
        })),
        Effect.catchIf(
          (error): error is Jsonl.JsonlError => error instanceof Jsonl.JsonlError,
          (error) =>
            Effect.sync(() => {
              state.report(error.lineNumber, "InvalidUtf8", `${error.description}; save the file as UTF-8`)
            })
        ),
        Effect.flatMap(() => finish(state))
      )
    })

/**
 * Issues a provider finds beyond the core rules (a per-format line schema, a model that differs, file-level
 * parameters); `totalIssues` counts them all when only some are listed.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExtraIssues {
  readonly issues: ReadonlyArray<Issue>
  readonly totalIssues?: number | undefined
}

/**
 * Adds a provider's own issues to the verdict of {@link validate}, so the user still gets one error listing
 * everything (issues in line order). `extra` is read after the scan, so it may collect while the input streams.
 *
 * @example
 * ```ts
 * import { InputValidation } from "@barge/core"
 * import { Stream } from "effect"
 *
 * const checked = InputValidation.validate({ idField: "id" })(Stream.empty).pipe(
 *   InputValidation.withIssues(() => [])
 * )
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const withIssues = (extra: () => ReadonlyArray<Issue> | ExtraIssues) =>
<E, R>(
  self: Effect.Effect<Summary, InputValidationError | E, R>
): Effect.Effect<Summary, InputValidationError | E, R> => {
  const read = (): { readonly issues: ReadonlyArray<Issue>; readonly total: number } => {
    const found = extra()
    return "issues" in found
      ? { issues: found.issues, total: found.totalIssues ?? found.issues.length }
      : { issues: found, total: found.length }
  }
  return Effect.matchEffect(self, {
    onFailure: (error): Effect.Effect<never, InputValidationError | E> => {
      if (!(error instanceof InputValidationError)) return Effect.fail(error)
      const more = read()
      return Effect.fail(
        new InputValidationError({
          issues: [...error.issues, ...more.issues].sort((a, b) => a.lineNumber - b.lineNumber),
          totalIssues: error.totalIssues + more.total,
          lines: error.lines,
          bytes: error.bytes
        })
      )
    },
    onSuccess: (summary) => {
      const more = read()
      return more.total === 0 ? Effect.succeed(summary) : Effect.fail(
        new InputValidationError({
          issues: more.issues,
          totalIssues: more.total,
          lines: summary.lines,
          bytes: summary.bytes
        })
      )
    }
  })
}

interface State {
  readonly rules: Rules
  readonly ids: Map<string, number>
  readonly issues: Array<Issue>
  totalIssues: number
  lines: number
  bytes: number
  model: string | undefined
  modelLine: number
  readonly report: (lineNumber: number, rule: IssueRule, message: string) => void
}

const makeState = (rules: Rules): State => {
  const maxIssues = rules.maxIssues ?? 100
  const state: State = {
    rules,
    ids: new Map(),
    issues: [],
    totalIssues: 0,
    lines: 0,
    bytes: 0,
    model: undefined,
    modelLine: 0,
    report: (lineNumber, rule, message) => {
      state.totalIssues++
      if (state.issues.length < maxIssues) state.issues.push(new Issue({ lineNumber, rule, message }))
    }
  }
  return state
}

const checkLine = (state: State, line: Jsonl.Line): void => {
  const { rules } = state
  const size = line.byteEnd - line.byteStart
  state.bytes = line.byteEnd
  const n = line.lineNumber
  if (line.text === "" || line.text.trim() === "") {
    if (rules.emptyLines !== "skip") state.report(n, "EmptyLine", "empty line; remove it")
    return
  }
  state.lines++
  if (rules.maxLines !== undefined && state.lines === rules.maxLines + 1) {
    state.report(n, "TooManyLines", `more than ${rules.maxLines} requests; split the input into several jobs`)
  }
  if (rules.maxLineBytes !== undefined && size > rules.maxLineBytes) {
    state.report(n, "LineTooLarge", `${size} bytes, over the ${rules.maxLineBytes}-byte limit for one request`)
  }
  let value: unknown
  try {
    value = JSON.parse(line.text)
  } catch (error) {
    state.report(n, "InvalidJson", `not valid JSON (${error instanceof Error ? error.message : String(error)})`)
    return
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    state.report(n, "NotAnObject", `expected a JSON object, got ${describe(value)}`)
    return
  }
  const record = value as Record<string, unknown>
  checkId(state, n, record)
  for (const field of rules.requiredFields ?? []) {
    if (field !== rules.idField && !(field in record)) state.report(n, "MissingField", `missing "${field}"`)
  }
  for (const field of rules.objectFields ?? []) {
    if (!(field in record)) continue
    const inner = record[field]
    if (typeof inner !== "object" || inner === null || Array.isArray(inner)) {
      state.report(n, "InvalidBody", `"${field}" must be a JSON object, got ${describe(inner)}`)
    }
  }
  for (const [field, expected] of Object.entries(rules.fieldValues ?? {})) {
    if (field in record && record[field] !== expected) {
      state.report(n, "InvalidField", `"${field}" must be ${JSON.stringify(expected)}, got ${describe(record[field])}`)
    }
  }
  if (rules.modelPath !== undefined) checkModel(state, n, record, rules.modelPath)
}

const checkId = (state: State, n: number, record: Record<string, unknown>): void => {
  const field = state.rules.idField
  if (!(field in record)) {
    state.report(n, "MissingField", `missing "${field}"; every request needs a unique "${field}"`)
    return
  }
  const id = record[field]
  if (typeof id !== "string" || id.trim() === "") {
    const blank = typeof id === "string" && id !== "" ? " (it holds only whitespace)" : ""
    state.report(n, "InvalidId", `"${field}" must be a non-empty string, got ${describe(id)}${blank}`)
    return
  }
  const first = state.ids.get(id)
  if (first !== undefined) {
    state.report(n, "DuplicateId", `"${field}" ${JSON.stringify(id)} is already used on line ${first}`)
    return
  }
  state.ids.set(id, n)
}

const checkModel = (state: State, n: number, record: Record<string, unknown>, path: string): void => {
  let current: unknown = record
  for (const key of path.split(".")) {
    current = typeof current === "object" && current !== null ? (current as Record<string, unknown>)[key] : undefined
  }
  if (typeof current !== "string" || current === "") {
    state.report(n, "MissingModel", `"${path}" must name the model, got ${describe(current)}`)
    return
  }
  if (state.model === undefined) {
    state.model = current
    state.modelLine = n
  } else if (current !== state.model) {
    state.report(
      n,
      "MixedModels",
      `uses model ${JSON.stringify(current)} but line ${state.modelLine} uses ${
        JSON.stringify(state.model)
      }; one job runs one model`
    )
  }
}

const finish = (state: State): Effect.Effect<Summary, InputValidationError> => {
  const { rules } = state
  if (rules.maxBytes !== undefined && state.bytes > rules.maxBytes) {
    state.report(0, "FileTooLarge", `the input is ${state.bytes} bytes, over the ${rules.maxBytes}-byte limit`)
  }
  if (state.lines === 0 && state.totalIssues === 0) {
    state.report(0, "EmptyFile", "the input has no requests")
  }
  if (state.totalIssues > 0) {
    // File-level issues were found last; list them first.
    const issues = [...state.issues].sort((a, b) => a.lineNumber - b.lineNumber)
    return Effect.fail(
      new InputValidationError({ issues, totalIssues: state.totalIssues, lines: state.lines, bytes: state.bytes })
    )
  }
  return Effect.succeed({ lines: state.lines, bytes: state.bytes, model: state.model })
}

const describe = (value: unknown): string => {
  if (value === undefined) return "nothing"
  if (value === null) return "null"
  if (Array.isArray(value)) return "an array"
  if (typeof value === "string") return value === "" ? "an empty string" : "a string"
  return `a ${typeof value}`
}
