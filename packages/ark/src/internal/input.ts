/**
 * Checks a batch input before anything is sent, the way Ark's linter does (spec §4.1): every line JSON,
 * `custom_id` present, a string and unique, `body` an object, one model across the file. Every problem is collected
 * with its line number; the content hash names the uploaded object, so the same input always lands on the same key.
 */
import { InputValidationError } from "@barge/core/Batch"
import * as Jsonl from "@barge/core/Jsonl"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"

/** A problem found in one line. */
export interface Issue {
  readonly lineNumber: number
  readonly rule: string
  readonly message: string
}

/** What checking produced: counts, the content hash and, for in-memory input, the encoded bytes. */
export interface Checked {
  readonly requests: number
  readonly size: number
  readonly sha256: string
  readonly model: string | undefined
  readonly chunks: ReadonlyArray<Uint8Array>
}

/** At most this many issues are kept (the count of the rest is still reported). */
const maxIssues = 1000

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** A stateful checker: feed it lines in order, then ask for the verdict. */
export const makeChecker = () => {
  const seen = new Set<string>()
  const issues: Array<Issue> = []
  let model: { name: string; lineNumber: number } | undefined
  let requests = 0
  const report = (lineNumber: number, rule: string, message: string) => {
    if (issues.length < maxIssues) issues.push({ lineNumber, rule, message })
  }
  return {
    line: (lineNumber: number, text: string): void => {
      if (text.trim() === "") return
      requests++
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        return report(lineNumber, "json", "the line is not JSON")
      }
      if (!isObject(value)) return report(lineNumber, "json", "the line is not a JSON object")
      const customId = value.custom_id
      if (customId === undefined) report(lineNumber, "custom_id", "custom_id is missing")
      else if (typeof customId !== "string") report(lineNumber, "custom_id", "custom_id is not a string")
      else if (seen.has(customId)) report(lineNumber, "custom_id", `custom_id "${customId}" is duplicated`)
      else seen.add(customId)
      if (!isObject(value.body)) return report(lineNumber, "body", "body is not a JSON object")
      const lineModel = value.body.model
      if (lineModel !== undefined) {
        if (typeof lineModel !== "string") report(lineNumber, "model", "body.model is not a string")
        else if (model === undefined) model = { name: lineModel, lineNumber }
        else if (model.name !== lineModel) {
          report(
            lineNumber,
            "model",
            `body.model "${lineModel}" differs from "${model.name}" (line ${model.lineNumber}); Ark runs one model per file`
          )
        }
      }
    },
    verdict: (): Effect.Effect<{ requests: number; model: string | undefined }, InputValidationError> => {
      if (requests === 0 && issues.length === 0) report(0, "empty", "the input has no requests")
      const [first, ...rest] = issues
      return first === undefined
        ? Effect.succeed({ requests, model: model?.name })
        : Effect.fail(new InputValidationError({ issues: [first, ...rest] }))
    }
  }
}

const encoder = new TextEncoder()

/** Checks in-memory requests (as their JSONL text lines), keeping the encoded bytes for the upload. */
export const checkLines = <E, R>(
  lines: Stream.Stream<string, E, R>
): Effect.Effect<Checked, E | InputValidationError, R> =>
  Effect.suspend(() => {
    const checker = makeChecker()
    const hash = createHash("sha256")
    const chunks: Array<Uint8Array> = []
    let size = 0
    let lineNumber = 0
    return Stream.runForEach(lines, (text) =>
      Effect.sync(() => {
        lineNumber++
        checker.line(lineNumber, text)
        const bytes = encoder.encode(`${text}\n`)
        hash.update(bytes)
        chunks.push(bytes)
        size += bytes.byteLength
      })).pipe(
        Effect.zipRight(Effect.suspend(checker.verdict)),
        Effect.map((verdict) => ({ ...verdict, size, sha256: hash.digest("hex"), chunks }))
      )
  })

/** Checks raw JSONL bytes (a file) in one streaming pass, hashing the bytes as they are. */
export const checkBytes = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>
): Effect.Effect<Checked, E | InputValidationError | Jsonl.JsonlError, R> =>
  Effect.suspend(() => {
    const checker = makeChecker()
    const hash = createHash("sha256")
    let size = 0
    const hashed = Stream.tap(bytes, (chunk) =>
      Effect.sync(() => {
        hash.update(chunk)
        size += chunk.byteLength
      }))
    return Stream.runForEach(Jsonl.lines(hashed), (line) => Effect.sync(() => checker.line(line.lineNumber, line.text)))
      .pipe(
        Effect.zipRight(Effect.suspend(checker.verdict)),
        Effect.map((verdict) => ({ ...verdict, size, sha256: hash.digest("hex"), chunks: [] }))
      )
  })
