/**
 * What differs between the emulated OpenAI-compatible platforms: paths, status words, windows, limits, fixed
 * parameters, file caps and how errors read. The surface (`./Surface.ts`) is written once over a profile; the
 * emulator serves three — Moonshot (`/v1`), OpenAI (`/v1`) and Qianfan's OpenAI-style API (`/v2`).
 */
import * as Either from "effect/Either"
import type { EmulatorContext } from "../internal/Context.js"
import type { Status } from "./Lifecycle.js"

/** The kinds of refusal a surface answers; the profile says with which status, type and code. */
export type ErrorKind = "invalid" | "notFound" | "auth" | "server"

/** How one kind of refusal reads on a platform. */
export interface ErrorShape {
  readonly status: number
  readonly type: string
  readonly code?: string | undefined
}

/** One emulated OpenAI-compatible platform. */
export interface Profile {
  /** The emulator's service name (its URL key, fault scope and state key). */
  readonly service: string
  /** The version path every route sits under. */
  readonly prefix: "/v1" | "/v2"
  /** The endpoints a batch may be created for (its lines must call the same one). */
  readonly endpoints: ReadonlyArray<string>
  /** Whether a create may leave `endpoint` out (Moonshot's own curl sample does): the first endpoint then. */
  readonly endpointOptional: boolean
  readonly apiKey: (ctx: EmulatorContext) => string
  readonly models: (ctx: EmulatorContext) => ReadonlyArray<string>
  /** The platform's word for each status. */
  readonly statuses: Readonly<Record<Status, string>>
  /** A completion window in milliseconds, or why it is refused. */
  readonly window: (window: string) => Either.Either<number, string>
  readonly limits: {
    readonly maxFileBytes: number
    /** Requests one input file may hold; a larger file fails validation. */
    readonly maxRequestsPerFile: number | undefined
    /** `purpose=batch` files an account may keep; the next upload is refused. */
    readonly maxBatchFiles: number | undefined
  }
  readonly purposes: ReadonlyArray<string>
  /** Body parameters a batch line may not carry (the batch fails validation naming the lines). */
  readonly fixedParameters: ReadonlyArray<string>
  readonly idPrefixes: { readonly file: string; readonly batch: string }
  /** The `status` of a stored file. */
  readonly fileStatus: string
  /** Whether batch objects carry OpenAI's `expired_at` and `model` (Moonshot's schema has neither). */
  readonly openAiFields: boolean
  /** Whether `GET /files` pages with `after`/`limit` (Moonshot documents no paging). */
  readonly filePaging: boolean
  readonly errors: Readonly<Record<ErrorKind, ErrorShape>>
  readonly messages: {
    readonly fileTooLarge: string
    readonly fileEmpty: string
    readonly fileCap: (max: number) => string
    readonly unknownRoute: (method: string, url: string) => string
  }
}

const hourMillis = 3_600_000

const hoursOrDays = (window: string): number | undefined => {
  const match = /^(\d{1,4})([hd])$/.exec(window)
  return match === null ? undefined : Number(match[1]) * (match[2] === "d" ? 24 : 1) * hourMillis
}

/** OpenAI's status words (Moonshot uses the same). */
const openAiStatuses: Readonly<Record<Status, string>> = {
  validating: "validating",
  in_progress: "in_progress",
  finalizing: "finalizing",
  completed: "completed",
  failed: "failed",
  expired: "expired",
  cancelling: "cancelling",
  cancelled: "cancelled"
}

/**
 * Moonshot (spec A1–A4): semantic windows 12h–7d (grammar UNCONFIRMED), 100 MB files, 1000 batch files per
 * organization, the sampling parameters fixed for batches (2026-11-30 section).
 */
export const moonshot: Profile = {
  service: "moonshot",
  prefix: "/v1",
  endpoints: ["/v1/chat/completions"],
  endpointOptional: true,
  apiKey: (ctx) => ctx.credentials.moonshot.apiKey,
  models: (ctx) => ctx.models.moonshot,
  statuses: openAiStatuses,
  window: (window) => {
    const millis = hoursOrDays(window)
    if (millis === undefined) {
      return Either.left(
        `Invalid completion_window '${window}': use a duration such as 12h, 24h, 1d or 3d (minimum 12h, maximum 7d)`
      )
    }
    return millis < 12 * hourMillis || millis > 7 * 24 * hourMillis
      ? Either.left(`Invalid completion_window '${window}': it must be between 12h and 7d`)
      : Either.right(millis)
  },
  limits: { maxFileBytes: 100 * 1024 * 1024, maxRequestsPerFile: undefined, maxBatchFiles: 1000 },
  purposes: ["batch", "file-extract", "image", "video"],
  fixedParameters: ["temperature", "top_p", "n", "presence_penalty", "frequency_penalty"],
  idPrefixes: { file: "file-", batch: "batch_" },
  fileStatus: "ready",
  openAiFields: false,
  filePaging: false,
  errors: {
    invalid: { status: 400, type: "invalid_request_error" },
    notFound: { status: 404, type: "resource_not_found_error" },
    auth: { status: 401, type: "invalid_authentication_error" },
    server: { status: 500, type: "server_error" }
  },
  messages: {
    fileTooLarge: "File size is too large, max file size is 100MB, please confirm and re-upload the file",
    fileEmpty: "File size is zero, please confirm and re-upload the file",
    fileCap: (max) =>
      `The number of files you have uploaded exceeded the max file count ${max}, please delete previous uploaded files`,
    unknownRoute: (method, url) => `Unknown route: ${method} ${url}`
  }
}

/**
 * OpenAI: only the `24h` window, 200 MB and 50,000 requests per file, errors typed `invalid_request_error` with a
 * specific `code`, unknown routes answered `Invalid URL`.
 */
export const openai: Profile = {
  service: "openai",
  prefix: "/v1",
  endpoints: ["/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/completions"],
  endpointOptional: false,
  apiKey: (ctx) => ctx.credentials.openai.apiKey,
  models: (ctx) => ctx.models.openai,
  statuses: openAiStatuses,
  window: (window) =>
    window === "24h"
      ? Either.right(24 * hourMillis)
      : Either.left(`Invalid value for 'completion_window': '${window}'. Supported values are: '24h'.`),
  limits: { maxFileBytes: 200 * 1024 * 1024, maxRequestsPerFile: 50_000, maxBatchFiles: undefined },
  purposes: ["batch", "assistants", "fine-tune", "vision", "user_data", "evals"],
  fixedParameters: [],
  idPrefixes: { file: "file-", batch: "batch_" },
  fileStatus: "processed",
  openAiFields: true,
  filePaging: true,
  errors: {
    invalid: { status: 400, type: "invalid_request_error" },
    notFound: { status: 404, type: "invalid_request_error" },
    auth: { status: 401, type: "invalid_request_error", code: "invalid_api_key" },
    server: { status: 500, type: "server_error" }
  },
  messages: {
    fileTooLarge: "File is too large: the maximum size of a batch input file is 200 MB.",
    fileEmpty: "The file is empty.",
    fileCap: (max) => `You have reached the maximum of ${max} files.`,
    unknownRoute: (method, url) => `Invalid URL (${method} ${url})`
  }
}

/**
 * Qianfan's OpenAI-style API (spec qianfan §4 "Newer OpenAI-compatible alternative", §8): `/v2`, whole hours
 * 1h–672h, at most 1 GB and 5000 requests per file, capitalised statuses, `{error:{code,message,type}}` with the
 * specific word in `code`. The `/v2/files` paths, the `Stopping` word and the error codes below are UNCONFIRMED.
 */
export const qianfanV2: Profile = {
  service: "qianfan-v2",
  prefix: "/v2",
  endpoints: ["/v2/chat/completions", "/v2/images/generations", "/v2/images/edits"],
  endpointOptional: false,
  apiKey: (ctx) => ctx.credentials.qianfan.apiKey,
  models: (ctx) => ctx.models.qianfan,
  statuses: {
    validating: "Queuing",
    in_progress: "Running",
    finalizing: "Running",
    completed: "Done",
    failed: "Failed",
    expired: "Expired",
    cancelling: "Stopping",
    cancelled: "Stopped"
  },
  window: (window) => {
    const match = /^(\d{1,3})h$/.exec(window)
    const hours = match === null ? 0 : Number(match[1])
    return hours >= 1 && hours <= 672
      ? Either.right(hours * hourMillis)
      : Either.left(`completion_window '${window}' is invalid: it must be whole hours from 1h to 672h`)
  },
  limits: { maxFileBytes: 1024 * 1024 * 1024, maxRequestsPerFile: 5000, maxBatchFiles: undefined },
  purposes: ["batch"],
  fixedParameters: [],
  idPrefixes: { file: "file-", batch: "infer-" },
  fileStatus: "processed",
  openAiFields: true,
  filePaging: true,
  errors: {
    invalid: { status: 400, type: "invalid_request_error", code: "invalid_argument" },
    notFound: { status: 404, type: "invalid_request_error", code: "resource_not_found" },
    auth: { status: 401, type: "invalid_request_error", code: "invalid_iam_token" },
    server: { status: 500, type: "internal_error", code: "internal_error" }
  },
  messages: {
    fileTooLarge: "file size exceeds the limit of 1GB",
    fileEmpty: "file is empty",
    fileCap: (max) => `file count exceeds the limit of ${max}`,
    unknownRoute: (method, url) => `no route for ${method} ${url}`
  }
}
