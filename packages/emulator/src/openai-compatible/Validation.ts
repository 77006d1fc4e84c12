/**
 * What an OpenAI-compatible platform checks when a batch is created (Moonshot: spec A2 "Limits"). Which checks
 * answer synchronously with a 400/404 and which make the batch end `failed` is UNCONFIRMED; this emulator chooses:
 * - at upload (`POST /files`): empty, over the profile's size, over its count of batch files — the documented
 *   upload messages;
 * - at create (`POST /batches`), synchronously: unknown input file, wrong purpose, endpoint, completion window,
 *   metadata, and a model that does not exist (as the chat endpoint would answer);
 * - asynchronously, `validating` → `failed` with an `errors` list: not `.jsonl`, a malformed line, a missing field,
 *   a line calling another endpoint, a duplicated `custom_id`, more than one model, more requests than a file may
 *   hold, and a parameter the platform fixes for batches (Kimi's sampling parameters; UNCONFIRMED whether Kimi
 *   refuses the batch or each request — either way nothing runs as asked).
 */
import * as Either from "effect/Either"
import { type ApiError, invalidRequest, notFound } from "./Errors.js"
import type { Profile } from "./Profile.js"
import type { BatchErrorItem } from "./Wire.js"

/** A completion window in milliseconds, or the platform's refusal. */
export const parseCompletionWindow = (profile: Profile, window: string): Either.Either<number, ApiError> =>
  Either.mapLeft(profile.window(window), (message) => invalidRequest(message, "completion_window"))

/** Checks `metadata`: at most 16 string pairs, keys ≤ 64 characters, values ≤ 512. */
export const validateMetadata = (metadata: unknown): Either.Either<Record<string, string> | null, ApiError> => {
  if (metadata === undefined || metadata === null) return Either.right(null)
  if (typeof metadata !== "object" || Array.isArray(metadata)) {
    return Either.left(invalidRequest("Invalid metadata: it must be an object of string values"))
  }
  const entries = Object.entries(metadata)
  if (entries.length > 16) {
    return Either.left(
      invalidRequest(`Invalid metadata: at most 16 key-value pairs are allowed, got ${entries.length}`)
    )
  }
  for (const [key, value] of entries) {
    if (typeof value !== "string") {
      return Either.left(invalidRequest(`Invalid metadata: the value of '${key}' must be a string`))
    }
    if (key.length > 64) {
      return Either.left(invalidRequest(`Invalid metadata: key '${key}' is longer than 64 characters`))
    }
    if (value.length > 512) {
      return Either.left(invalidRequest(`Invalid metadata: the value of '${key}' is longer than 512 characters`))
    }
  }
  return Either.right(Object.fromEntries(entries) as Record<string, string>)
}

/** One request of a batch input file that passed validation. */
export interface BatchRequest {
  readonly customId: string
  readonly model: string
  readonly body: unknown
}

/** The outcome of reading a batch input file. */
export interface InputCheck {
  readonly requests: ReadonlyArray<BatchRequest>
  /** The single model the file uses, when one could be determined. */
  readonly model: string | undefined
  /** Reasons the batch will end `failed`; empty when it is valid. */
  readonly errors: ReadonlyArray<BatchErrorItem>
}

const lineError = (code: string, line: number | null, message: string, param: string | null = null) => ({
  code,
  line,
  message,
  param
})

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The lines of a file stored as chunks, decoded one line at a time: a 100 MB file is never joined into one buffer
 * or one string.
 */
export function* linesOf(chunks: ReadonlyArray<Uint8Array>): Generator<string> {
  const decoder = new TextDecoder("utf-8")
  let pending: Array<Uint8Array> = []
  let first = true
  const decode = (parts: Array<Uint8Array>): string => {
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
    let text = decoder.decode(bytes)
    if (first) text = text.replace(/^\uFEFF/, "")
    first = false
    return text.endsWith("\r") ? text.slice(0, -1) : text
  }
  for (const chunk of chunks) {
    let start = 0
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      pending.push(chunk.subarray(start, nl))
      yield decode(pending)
      pending = []
      start = nl + 1
    }
    if (start < chunk.length) pending.push(chunk.subarray(start))
  }
  if (pending.length > 0) yield decode(pending)
}

/** Reads every line of an input file, collecting all problems rather than stopping at the first. */
export const checkInput = (
  profile: Profile,
  endpoint: string,
  filename: string,
  content: ReadonlyArray<Uint8Array>
): InputCheck => {
  const errors: Array<BatchErrorItem> = []
  if (!filename.toLowerCase().endsWith(".jsonl")) {
    errors.push(lineError("invalid_file_format", null, `The input file '${filename}' must have the .jsonl extension`))
  }
  const requests: Array<BatchRequest> = []
  const seen = new Set<string>()
  const models = new Set<string>()
  let lineNumber = 0
  for (const raw of linesOf(content)) {
    lineNumber++
    checkLine(raw, lineNumber)
  }
  function checkLine(raw: string, lineNumber: number): void {
    if (raw.trim() === "") return
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch {
      errors.push(lineError("invalid_json_line", lineNumber, `Line ${lineNumber} is not valid JSON`))
      return
    }
    if (!isRecord(parsed)) {
      errors.push(lineError("invalid_json_line", lineNumber, `Line ${lineNumber} is not a JSON object`))
      return
    }
    const { body, custom_id, method, url } = parsed
    if (typeof custom_id !== "string" || custom_id === "") {
      errors.push(
        lineError("missing_required_parameter", lineNumber, `Line ${lineNumber} has no custom_id`, "custom_id")
      )
      return
    }
    if (method !== "POST") {
      errors.push(lineError("invalid_method", lineNumber, `Line ${lineNumber}: method must be POST`, "method"))
    }
    if (url !== endpoint) {
      errors.push(lineError("invalid_url", lineNumber, `Line ${lineNumber}: url must be ${endpoint}`, "url"))
    }
    if (!isRecord(body) || typeof body.model !== "string") {
      errors.push(
        lineError("missing_required_parameter", lineNumber, `Line ${lineNumber}: body.model is missing`, "body.model")
      )
      return
    }
    if (seen.has(custom_id)) {
      errors.push(
        lineError(
          "duplicate_custom_id",
          lineNumber,
          `Line ${lineNumber}: custom_id '${custom_id}' is used more than once; it must be unique within the file`,
          "custom_id"
        )
      )
      return
    }
    const fixed = profile.fixedParameters.filter((name) => name in body)
    if (fixed.length > 0) {
      errors.push(
        lineError(
          "invalid_parameter",
          lineNumber,
          `Line ${lineNumber}: ${fixed.join(", ")} cannot be modified in batch mode; remove ${
            fixed.length === 1 ? "it" : "them"
          } from the request body`,
          `body.${fixed[0]}`
        )
      )
    }
    seen.add(custom_id)
    models.add(body.model)
    requests.push({ customId: custom_id, model: body.model, body })
  }
  if (models.size > 1) {
    errors.push(
      lineError(
        "mismatched_model",
        null,
        `All requests in a batch must use the same model; found ${[...models].sort().join(", ")}`,
        "body.model"
      )
    )
  }
  const maxRequests = profile.limits.maxRequestsPerFile
  if (maxRequests !== undefined && requests.length > maxRequests) {
    errors.push(
      lineError(
        "too_many_requests",
        null,
        `The input file has ${requests.length} requests; a batch takes at most ${maxRequests}`
      )
    )
  }
  if (requests.length === 0 && errors.length === 0) {
    errors.push(lineError("empty_file", null, "The input file contains no requests"))
  }
  return { requests, model: models.size === 1 ? [...models][0] : undefined, errors }
}

/** The synchronous model check at create: an unknown model answers like the chat endpoint would. */
export const checkModel = (model: string | undefined, known: ReadonlyArray<string>): Either.Either<void, ApiError> =>
  model === undefined || known.includes(model)
    ? Either.void
    : Either.left(notFound(`Not found the model ${model} or Permission denied`))
