/**
 * What differs between OpenAI-compatible batch platforms — base URL, completion windows, limits, error types — and
 * the built-in profiles: Moonshot (`api.moonshot.cn`, or `api.moonshot.ai`) and OpenAI.
 *
 * @since 0.1.0
 */
import * as Errors from "./Errors.js"

/**
 * What differs between OpenAI-compatible batch platforms.
 *
 * @since 0.1.0
 * @category profiles
 */
export interface Profile {
  /** Names the platform in errors and spans. */
  readonly name: string
  /** Including the version prefix, e.g. `https://api.moonshot.cn/v1`. */
  readonly baseUrl: string
  /** The one endpoint batch lines may call. */
  readonly endpoint: string
  readonly completionWindow: {
    /** Used when `submit` is given none. */
    readonly default: string
    /** `undefined` when the window is accepted, else why not. */
    readonly check: (window: string) => string | undefined
  }
  readonly limits: {
    readonly maxFileBytes: number
    readonly maxRequests: number | undefined
    readonly metadataPairs: number
    readonly metadataKeyLength: number
    readonly metadataValueLength: number
  }
  /** `error.type` → kind of error. */
  readonly errorTypes: Readonly<Record<string, Errors.Kind>>
}

/**
 * Moonshot's hosts: mainland China (`api.moonshot.cn`, the default) and global (`api.moonshot.ai`). Keys from one
 * do not work on the other.
 *
 * @since 0.1.0
 * @category profiles
 */
export const moonshotBaseUrls = {
  cn: "https://api.moonshot.cn/v1",
  global: "https://api.moonshot.ai/v1"
} as const

const hour = 3_600_000

/**
 * Moonshot's semantic windows: `<n>h` or `<n>d`, from 12h to 7d. The exact grammar is UNCONFIRMED.
 *
 * @since 0.1.0
 * @category profiles
 */
export const checkMoonshotWindow = (window: string): string | undefined => {
  const match = /^(\d{1,4})([hd])$/.exec(window)
  if (match === null) return `"${window}" is not a window such as 12h, 24h, 1d, 3d or 7d`
  const millis = Number(match[1]) * (match[2] === "d" ? 24 : 1) * hour
  return millis < 12 * hour || millis > 7 * 24 * hour ? `"${window}" is outside 12h..7d` : undefined
}

/**
 * The Moonshot (Kimi) profile.
 *
 * @since 0.1.0
 * @category profiles
 */
export const moonshot = (
  options?: { readonly region?: keyof typeof moonshotBaseUrls; readonly baseUrl?: string }
): Profile => ({
  name: "moonshot",
  baseUrl: options?.baseUrl ?? moonshotBaseUrls[options?.region ?? "cn"],
  endpoint: "/v1/chat/completions",
  completionWindow: { default: "24h", check: checkMoonshotWindow },
  limits: {
    maxFileBytes: 100 * 1024 * 1024,
    // Moonshot documents no per-file request cap.
    maxRequests: undefined,
    metadataPairs: 16,
    metadataKeyLength: 64,
    metadataValueLength: 512
  },
  errorTypes: Errors.moonshotTypes
})

/**
 * The OpenAI profile: only the `24h` window, 200 MB and 50,000 requests per file.
 *
 * @since 0.1.0
 * @category profiles
 */
export const openai = (options?: { readonly baseUrl?: string }): Profile => ({
  name: "openai",
  baseUrl: options?.baseUrl ?? "https://api.openai.com/v1",
  endpoint: "/v1/chat/completions",
  completionWindow: {
    default: "24h",
    check: (window) => window === "24h" ? undefined : `"${window}" is not supported; OpenAI accepts only 24h`
  },
  limits: {
    maxFileBytes: 200 * 1024 * 1024,
    maxRequests: 50_000,
    metadataPairs: 16,
    metadataKeyLength: 64,
    metadataValueLength: 512
  },
  errorTypes: Errors.moonshotTypes
})
