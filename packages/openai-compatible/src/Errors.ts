/**
 * How an OpenAI-compatible platform's refusals become core `ApiError`s: the profile's table (codes, statuses and
 * message rules, with hints) plus two hints no code carries — a 404 from a base URL that lacks the platform's
 * version path, and a file quota that `cleanup` frees.
 *
 * @since 0.1.0
 */
import * as ApiError from "@barge/core/ApiError"
import type * as TransportError from "@barge/core/TransportError"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Profile from "./Profile.js"

/**
 * OpenAI's specific error codes and types. The generic `invalid_request_error` is left out on purpose: OpenAI sends
 * it with 400, 401 and 404 alike, so the HTTP status says more.
 *
 * @since 0.1.0
 * @category tables
 */
export const openAiCodes: Readonly<Record<string, ApiError.Rule>> = {
  invalid_api_key: { reason: "Authentication", hint: "check the API key" },
  authentication_error: { reason: "Authentication", hint: "check the API key" },
  permission_error: { reason: "PermissionDenied" },
  not_found_error: { reason: "NotFound" },
  model_not_found: { reason: "NotFound", hint: "check the model name and that the account may use it" },
  rate_limit_exceeded: { reason: "RateLimited", hint: "slow down and retry later" },
  insufficient_quota: { reason: "QuotaExceeded", hint: "add credit to the account; retrying will not help" },
  server_error: { reason: "Server", hint: "a provider-side failure; retry later" }
}

/**
 * The hint of a refusal that a file quota caused.
 *
 * @since 0.1.0
 * @category tables
 */
export const cleanupHint =
  "delete batch files you no longer need: `barge cleanup --older-than 7d` (or the service's cleanup) lists them " +
  "and, without --dry-run, deletes them"

/**
 * Reads the OpenAI envelope `{ error: { type?, code?, message } }` keyed on `code` first (Qianfan's `/v2` puts the
 * specific word there and a generic one in `type`).
 *
 * @since 0.1.0
 * @category tables
 */
export const readCodeFirst = (body: unknown): Option.Option<ApiError.Envelope> =>
  Option.map(ApiError.readOpenAiEnvelope(body), (envelope) => {
    const error = Predicate.isRecord(body) && Predicate.isRecord(body.error) ? body.error : {}
    return typeof error.code === "string" && error.code.length > 0 ? { ...envelope, code: error.code } : envelope
  })

/**
 * The profile's errors as a core table.
 *
 * @since 0.1.0
 * @category tables
 */
export const table = (profile: Profile.Profile): ApiError.Table => ({
  provider: profile.name,
  read: profile.errors.read,
  codes: profile.errors.codes,
  prefixes: profile.errors.prefixes,
  statusHints: profile.errors.statusHints
})

/**
 * Maps a transport error for a profile reached at `baseUrl`: a `StatusError` through the profile's table (then its
 * message rules); a 404 while `baseUrl` does not end with the profile's version path says so, since every call
 * then misses; the other failures pass unchanged.
 *
 * @since 0.1.0
 * @category mapping
 */
export const mapper = (profile: Profile.Profile, baseUrl: string) => {
  const fromTransport = ApiError.fromTransport(table(profile))
  const version = Profile.versionPath(profile)
  const path = new URL(baseUrl).pathname.replace(/\/+$/, "")
  const wrongBase = version !== "" && !path.endsWith(version)
  return (error: TransportError.TransportError): ApiError.ApiError | TransportError.TransportFailure => {
    const mapped = fromTransport(error)
    if (mapped._tag !== "ApiError") return mapped
    if (wrongBase && mapped.status === 404) {
      return amend(mapped, {
        reason: mapped.reason,
        hint: `the base URL ${baseUrl} looks wrong: ${profile.title}'s API lives under ${version} ` +
          `(for example ${profile.baseUrl}); add ${version} to the base URL`
      })
    }
    const rule = profile.errors.messages?.find(([pattern]) => pattern.test(mapped.description))?.[1]
    return rule === undefined ? mapped : amend(mapped, rule)
  }
}

const amend = (error: ApiError.ApiError, rule: ApiError.Rule): ApiError.ApiError =>
  new ApiError.ApiError({
    provider: error.provider,
    action: error.action,
    reason: rule.reason,
    status: error.status,
    code: error.code,
    description: error.description,
    requestId: error.requestId,
    hint: rule.hint ?? error.hint,
    retryAfter: error.retryAfter
  })

/**
 * Whether a refusal must not be retried whatever its status (a quota: waiting does not refill it).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isNeverRetried = (profile: Profile.Profile) => (error: TransportError.TransportError): boolean => {
  if (error._tag !== "StatusError") return false
  const envelope = Option.getOrUndefined((profile.errors.read)(error.body))
  const rule = ApiError.ruleOf(table(profile), envelope?.code)
  return rule?.reason === "QuotaExceeded"
}

/**
 * A refusal Barge makes before sending anything, because the platform would refuse it (a window it does not
 * accept, too much metadata): an `InvalidRequest` without a status.
 *
 * @since 0.1.0
 * @category constructors
 */
export const refusal = (profile: Profile.Profile, action: string, description: string): ApiError.ApiError =>
  new ApiError.ApiError({ provider: profile.name, action, reason: "InvalidRequest", description })
