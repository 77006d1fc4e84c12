/**
 * Checks a batch input file before anything is uploaded, in one streaming pass: every line against the
 * OpenAI-compatible batch rules, the file against the profile's limits, and a SHA-256 of the bytes (the default
 * idempotency key). Memory grows only with the set of `custom_id`s, which uniqueness needs.
 */
import * as Jsonl from "@barge/core/Jsonl"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { createHash } from "node:crypto"

/** One problem with the input: the 1-based line (0 for the whole file), the rule and what to fix. */
export interface Issue {
  readonly lineNumber: number
  readonly rule: string
  readonly message: string
}

/** What the check found. */
export interface Checked {
  readonly bytes: number
  readonly requests: number
  readonly model: string | undefined
  readonly sha256: string
  readonly issues: ReadonlyArray<Issue>
}

/** The limits a profile enforces on an input file. */
export interface InputLimits {
  readonly endpoint: string
  readonly maxFileBytes: number
  readonly maxRequests: number | undefined
}

const maxIssues = 1000

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Runs the check over the file's bytes. */
export const check = <E, R>(
  filename: string,
  bytes: Stream.Stream<Uint8Array, E, R>,
  limits: InputLimits
): Effect.Effect<Checked, E | Jsonl.JsonlError, R> =>
  Effect.suspend(() => {
    const hash = createHash("sha256")
    const issues: Array<Issue> = []
    const ids = new Map<string, number>()
    const models = new Map<string, number>()
    let size = 0
    let requests = 0
    const report = (lineNumber: number, rule: string, message: string) => {
      if (issues.length < maxIssues) issues.push({ lineNumber, rule, message })
    }
    const checkLine = (line: Jsonl.Line) => {
      if (line.text.trim() === "") return
      requests++
      const n = line.lineNumber
      let json: unknown
      try {
        json = JSON.parse(line.text)
      } catch (error) {
        return report(n, "json", `not valid JSON (${(error as Error).message})`)
      }
      if (!isRecord(json)) return report(n, "shape", "the line must be a JSON object")
      const { body, custom_id, method, url } = json
      if (typeof custom_id !== "string" || custom_id === "") {
        report(n, "custom_id", "`custom_id` is missing or not a non-empty string")
      } else {
        const earlier = ids.get(custom_id)
        if (earlier !== undefined) {
          report(n, "duplicate-custom-id", `custom_id "${custom_id}" is already used on line ${earlier}`)
        } else ids.set(custom_id, n)
      }
      if (method !== "POST") report(n, "method", "`method` must be \"POST\"")
      if (url !== limits.endpoint) report(n, "url", `\`url\` must be "${limits.endpoint}"`)
      if (!isRecord(body)) return report(n, "body", "`body` must be the chat completions request object")
      if (typeof body.model !== "string" || body.model === "") {
        return report(n, "model", "`body.model` is missing")
      }
      if (!models.has(body.model)) models.set(body.model, n)
    }
    const counted = Stream.mapChunks(bytes, (chunk) => {
      for (const piece of chunk) {
        hash.update(piece)
        size += piece.length
      }
      return chunk
    })
    return Jsonl.lines(counted).pipe(
      Stream.runForEachChunk((lines) =>
        Effect.sync(() => {
          for (const line of lines) checkLine(line)
        })
      ),
      Effect.map((): Checked => {
        if (!filename.toLowerCase().endsWith(".jsonl")) {
          report(0, "extension", `the file name "${filename}" must end in .jsonl`)
        }
        if (size === 0 || requests === 0) report(0, "empty", "the file has no requests")
        if (size > limits.maxFileBytes) {
          report(0, "too-large", `the file is ${size} bytes; the limit is ${limits.maxFileBytes} bytes — split it`)
        }
        if (limits.maxRequests !== undefined && requests > limits.maxRequests) {
          report(0, "too-many-requests", `the file has ${requests} requests; the limit is ${limits.maxRequests}`)
        }
        if (models.size > 1) {
          const found = [...models.entries()].map(([model, line]) => `${model} (first on line ${line})`).join(", ")
          report(0, "one-model", `all requests in a batch must use the same model; found ${found}`)
        }
        return {
          bytes: size,
          requests,
          model: models.size === 1 ? [...models.keys()][0] : undefined,
          sha256: hash.digest("hex"),
          issues
        }
      })
    )
  })
