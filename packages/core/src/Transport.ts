/**
 * The HTTP edge every provider uses: base URL, a signer applied last, per-attempt timeouts, retries that honour
 * `Retry-After`, typed errors and a span per request.
 *
 * The package never picks an HTTP implementation: `make` requires `HttpClient.HttpClient`, and the user provides
 * `NodeHttpClient.layerUndici`, `FetchHttpClient.layer` or another.
 *
 * @example
 * ```ts
 * import { Signer, Transport } from "@barge/core"
 * import { Effect, Schema } from "effect"
 * import { HttpClientRequest } from "@effect/platform"
 *
 * const program = Effect.gen(function*() {
 *   const transport = yield* Transport.make({ provider: "moonshot", baseUrl: "https://api.moonshot.cn/v1", signer })
 *   return yield* transport.json(HttpClientRequest.get("/batches/b1"), Batch, { action: "RetrieveBatch" })
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Arr from "effect/Array"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Signer from "./Signer.js"
import { RequestFailed, RequestTimeout, ResponseDecodeError, StatusError } from "./TransportError.js"
import type { TransportError } from "./TransportError.js"
import * as TransportError_ from "./TransportError.js"

/**
 * Header names that carry credentials under any scheme. Added to `Headers.currentRedactedNames` while a request runs,
 * with the signer's own (`Signer.Service.redactedHeaders`) and the provider's `redactHeaders`, so logs, spans and
 * inspected requests show `<redacted>`.
 *
 * @since 0.1.0
 * @category redaction
 */
export const redactedHeaderNames: ReadonlyArray<string | RegExp> = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key"
]

/**
 * How failed attempts are retried.
 *
 * `schedule` decides the backoff and when to give up (its input is the failure); the server's `Retry-After` is
 * honoured on top of it (the delay is the larger of the two, with the server's capped at `maxRetryAfter`).
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryOptions {
  /** Backoff between attempts; default {@link defaultRetrySchedule}. */
  readonly schedule?: Schedule.Schedule<unknown, TransportError> | undefined
  /** The longest `Retry-After` that is honoured as such (longer values are shortened to this); default 60 s. */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Names the provider in errors and spans (`"ark"`, `"moonshot"`, …). */
  readonly provider: string
  /** Prepended to every relative request URL. */
  readonly baseUrl: string
  /** Applied to every attempt, after the body is final. */
  readonly signer: Signer.Service
  /** Retry policy, or `false` to never retry. */
  readonly retry?: RetryOptions | false | undefined
  /** Per-attempt time to response headers (a streaming body is not cut by it); default 60 s. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Response header(s) holding the provider's request id, first present wins. */
  readonly requestIdHeader?: string | ReadonlyArray<string> | undefined
  /** Allow plain `http://` to non-loopback hosts (loopback is always allowed). */
  readonly allowInsecureHttp?: boolean | undefined
  /** Header names to redact beyond {@link redactedHeaderNames} and the signer's own. */
  readonly redactHeaders?: ReadonlyArray<string | RegExp> | undefined
  /**
   * Recognises the provider's error envelope. A 2xx JSON body that does not decode as expected but is an envelope
   * (some providers answer errors with 200) fails as a `StatusError` carrying it, so the provider's own error
   * mapping applies instead of a bare decode error.
   */
  readonly isErrorEnvelope?: ((body: unknown) => boolean) | undefined
}

/**
 * Per-call options.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecuteOptions {
  /** The provider's name for the call (`"CreateBatchInferenceJob"`), used in errors and spans. */
  readonly action: string
  /**
   * Whether the call may be sent again after a transient failure. Defaults to `true` for GET, HEAD, PUT, DELETE
   * and OPTIONS and `false` otherwise; pass `true` for a POST the caller knows is safe to repeat. A call that is
   * not idempotent is still retried after a 429, which the server sends before processing anything.
   */
  readonly idempotent?: boolean | undefined
  /** Overrides the transport's per-attempt timeout. */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Transport {
  readonly provider: string
  readonly baseUrl: string
  /**
   * Sends the request and returns a 2xx response whose body is still unread. Any other status becomes a
   * `StatusError` after retries.
   */
  readonly execute: (
    request: HttpClientRequest.HttpClientRequest,
    options: ExecuteOptions
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, TransportError>
  /**
   * Sends the request and decodes the JSON body of a 2xx response with `schema`. The whole exchange (headers and
   * body) is retried as one attempt and bounded by the timeout.
   */
  readonly json: <A, I>(
    request: HttpClientRequest.HttpClientRequest,
    schema: Schema.Schema<A, I, never>,
    options: ExecuteOptions
  ) => Effect.Effect<A, TransportError>
  /**
   * Sends the request and returns the 2xx status and headers with the body as a byte stream (for callers that
   * need `Content-Length` / `Content-Range`). Retries cover getting the response; a failure while the body flows
   * ends the stream with `RequestFailed` (see `Download` for resuming).
   */
  readonly open: (
    request: HttpClientRequest.HttpClientRequest,
    options: ExecuteOptions
  ) => Effect.Effect<StreamingResponse, TransportError>
  /**
   * Sends the request and streams the 2xx body. Retries cover getting the response; a failure while the body
   * flows ends the stream with `RequestFailed` (see `Download` for resuming).
   */
  readonly stream: (
    request: HttpClientRequest.HttpClientRequest,
    options: ExecuteOptions
  ) => Stream.Stream<Uint8Array, TransportError>
}

/**
 * A 2xx response whose body is still to be read, as a byte stream with typed failures.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamingResponse {
  readonly status: number
  readonly headers: Headers.Headers
  readonly requestId: string | undefined
  readonly body: Stream.Stream<Uint8Array, TransportError>
}

/**
 * Capped exponential backoff with jitter: 250 ms, 500 ms, 1 s, … capped at `cap` (default 10 s), each delay
 * jittered by ±20 %, at most `times` retries (default 4, so 5 attempts).
 *
 * @since 0.1.0
 * @category retry
 */
export const defaultRetrySchedule = (options?: {
  readonly base?: Duration.DurationInput | undefined
  readonly cap?: Duration.DurationInput | undefined
  readonly times?: number | undefined
}): Schedule.Schedule<unknown, unknown> =>
  Schedule.exponential(options?.base ?? "250 millis").pipe(
    Schedule.union(Schedule.spaced(options?.cap ?? "10 seconds")),
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(options?.times ?? 4))
  )

/**
 * Parses a `Retry-After` value (delay seconds or an HTTP date) into a delay from `nowMillis`.
 *
 * @since 0.1.0
 * @category retry
 */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): Option.Option<Duration.Duration> => {
  if (value === undefined) return Option.none()
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Option.some(Duration.seconds(Number(trimmed)))
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return Option.none()
  return Option.some(Duration.millis(Math.max(0, at - nowMillis)))
}

/**
 * Parses an `X-RateLimit-Reset` value (sent by Moonshot and others instead of `Retry-After`) into a delay from
 * `nowMillis`. Providers disagree on its unit, so a number above 10^9 is read as the reset instant in epoch seconds,
 * a smaller one as seconds to wait.
 *
 * @since 0.1.0
 * @category retry
 */
export const parseRateLimitReset = (
  value: string | undefined,
  nowMillis: number
): Option.Option<Duration.Duration> => {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return Option.none()
  const n = Number(value.trim())
  return Option.some(n > 1e9 ? Duration.millis(Math.max(0, n * 1000 - nowMillis)) : Duration.seconds(n))
}

/**
 * Wraps a backoff policy so the delay before the next attempt is never shorter than the server's `Retry-After`
 * (capped at `maxRetryAfter`). The result is still a plain `Schedule` over the failure.
 *
 * @since 0.1.0
 * @category retry
 */
export const honourRetryAfter = (
  policy: Schedule.Schedule<unknown, TransportError>,
  maxRetryAfter: Duration.DurationInput
): Schedule.Schedule<unknown, TransportError> => {
  const cap = Duration.decode(maxRetryAfter)
  return Schedule.identity<TransportError>().pipe(
    Schedule.intersect(policy),
    Schedule.modifyDelay(([error], delay) =>
      error._tag === "StatusError" && error.retryAfter !== undefined
        ? Duration.max(delay, Duration.min(error.retryAfter, cap))
        : delay
    )
  )
}

/**
 * Whether a URL may be used: `https:` anywhere, `http:` only to loopback unless explicitly allowed.
 *
 * @since 0.1.0
 * @category validation
 */
export const isSecureEndpoint = (url: URL, allowInsecureHttp = false): boolean => {
  if (url.protocol === "https:") return true
  if (url.protocol !== "http:") return false
  return allowInsecureHttp || isLoopbackHost(url.hostname)
}

/**
 * Whether `value` can be a base URL: `http(s)://host[:port][/path]`, or with `bareHost` also `host[/path]` (read as
 * https, for providers whose SDKs take a bare host).
 *
 * @since 0.1.0
 * @category validation
 */
export const isEndpoint = (value: string, options?: { readonly bareHost?: boolean | undefined }): boolean => {
  if (value === "" || /\s/.test(value)) return false
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value)
  if (!hasScheme && options?.bareHost !== true) return false
  try {
    const url = new URL(hasScheme ? value : `https://${value}`)
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "" && url.search === "" &&
      url.hash === ""
  } catch {
    return false
  }
}

/**
 * An endpoint read from configuration: a malformed value (spaces, another scheme, a query) is a `ConfigError`
 * naming the variable, rather than an `InvalidUrl` at the first request.
 *
 * @since 0.1.0
 * @category config
 */
export const endpointConfig = (
  name: string,
  options?: { readonly bareHost?: boolean | undefined }
): Config.Config<string> =>
  Config.mapOrFail(Config.string(name), (value) => {
    const trimmed = value.trim()
    return isEndpoint(trimmed, options)
      ? Either.right(trimmed)
      : Either.left(
        ConfigError.InvalidData(
          [],
          `"${value}" is not an endpoint: expected https://host[:port][/path]${
            options?.bareHost === true ? " or a bare host" : ""
          }`
        )
      )
  })

const isLoopbackHost = (hostname: string): boolean => {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase()
  if (host === "localhost" || host.endsWith(".localhost") || host === "::1") return true
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host)
  return v4 !== null && v4.slice(1).every((part) => Number(part) <= 255)
}

const isThrottled = (error: TransportError): boolean => error._tag === "StatusError" && error.status === 429

const errorCode = (cause: unknown): unknown =>
  typeof cause === "object" && cause !== null ? (cause as { readonly code?: unknown }).code : undefined

const isConnectionRefused = (error: TransportError): boolean => {
  if (error._tag !== "RequestFailed" || error.reason !== "Transport") return false
  const cause = error.cause
  const inner = typeof cause === "object" && cause !== null ? (cause as { readonly cause?: unknown }).cause : undefined
  return errorCode(cause) === "ECONNREFUSED" || errorCode(inner) === "ECONNREFUSED"
}

const neverProcessed = (error: TransportError): boolean => isThrottled(error) || isConnectionRefused(error)

const idempotentMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])

const maxErrorBodyBytes = 64 * 1024

/**
 * Builds a transport on the ambient `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Transport, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (client) => unsafeMake(client, options))

const unsafeMake = (client: HttpClient.HttpClient, options: Options): Transport => {
  const provider = options.provider
  const defaultTimeout = Duration.decode(options.timeout ?? "60 seconds")
  const requestIdHeaders = options.requestIdHeader === undefined
    ? ["x-request-id", "x-tt-logid", "x-bce-request-id", "x-tos-request-id", "request-id"]
    : typeof options.requestIdHeader === "string"
    ? [options.requestIdHeader.toLowerCase()]
    : options.requestIdHeader.map((name) => name.toLowerCase())
  const redacted = [...redactedHeaderNames, ...options.signer.redactedHeaders, ...(options.redactHeaders ?? [])]
  const retrySchedule = options.retry === false ? undefined : honourRetryAfter(
    options.retry?.schedule ?? defaultRetrySchedule(),
    options.retry?.maxRetryAfter ?? "60 seconds"
  )

  const requestIdOf = (response: HttpClientResponse.HttpClientResponse): string | undefined => {
    for (const name of requestIdHeaders) {
      const value = response.headers[name]
      if (value !== undefined && value !== "") return value
    }
    return undefined
  }

  interface Call {
    readonly action: string
    readonly method: string
    url: string
    attempts: number
  }

  const resolve = (
    request: HttpClientRequest.HttpClientRequest,
    call: Call
  ): Effect.Effect<HttpClientRequest.HttpClientRequest, RequestFailed> => {
    const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(request.url)
    const resolved = absolute ? request : HttpClientRequest.prependUrl(request, options.baseUrl)
    let url: URL
    try {
      url = new URL(resolved.url)
    } catch (cause) {
      return Effect.fail(
        new RequestFailed({
          provider,
          ...callFields(call),
          reason: "InvalidUrl",
          description: `"${resolved.url}" is not a valid URL; check the configured base URL`,
          cause
        })
      )
    }
    call.url = url.origin + url.pathname
    if (!isSecureEndpoint(url, options.allowInsecureHttp)) {
      return Effect.fail(
        new RequestFailed({
          provider,
          ...callFields(call),
          reason: "InsecureEndpoint",
          description:
            `refusing ${url.protocol}// to non-loopback host ${url.hostname}: credentials would travel unencrypted; use https or set allowInsecureHttp`
        })
      )
    }
    return Effect.succeed(resolved)
  }

  const fromClientError = (error: HttpClientError.HttpClientError, call: Call): RequestFailed => {
    const reason = error._tag === "RequestError" ? error.reason : "Transport"
    // Keep the underlying cause (a Node/undici error), never the platform error: it holds the signed request.
    const cause = error.cause
    return new RequestFailed({
      provider,
      ...callFields(call),
      reason,
      description: describeCause(cause) ?? error.description ?? reason,
      cause
    })
  }

  const withTimeout = <A, E>(
    effect: Effect.Effect<A, E>,
    timeout: Duration.Duration,
    call: Call
  ): Effect.Effect<A, E | RequestTimeout> =>
    Effect.timeoutFail(effect, {
      duration: timeout,
      onTimeout: () => new RequestTimeout({ provider, ...callFields(call), timeout })
    })

  const statusError = (
    response: HttpClientResponse.HttpClientResponse,
    call: Call
  ): Effect.Effect<never, StatusError> =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const body = yield* readErrorBody(response)
      const retryAfter = Option.orElse(
        parseRetryAfter(response.headers["retry-after"], now),
        () => parseRateLimitReset(response.headers["x-ratelimit-reset"], now)
      )
      return yield* new StatusError({
        provider,
        ...callFields(call),
        status: response.status,
        requestId: requestIdOf(response),
        body,
        retryAfter: Option.getOrUndefined(retryAfter)
      })
    })

  /**
   * One logical call: sign and send (retried), then `consume` the 2xx response. `consumeInAttempt` decides whether
   * consuming is part of each attempt (small JSON bodies) or happens once after (streamed bodies).
   */
  const run = <A>(
    request: HttpClientRequest.HttpClientRequest,
    callOptions: ExecuteOptions,
    consume: (response: HttpClientResponse.HttpClientResponse, call: Call) => Effect.Effect<A, TransportError>
  ): Effect.Effect<A, TransportError> =>
    Effect.suspend(() => {
      const call: Call = { action: callOptions.action, method: request.method, url: request.url, attempts: 0 }
      const timeout = callOptions.timeout === undefined ? defaultTimeout : Duration.decode(callOptions.timeout)
      const idempotent = callOptions.idempotent ?? idempotentMethods.has(request.method)

      const attempt = (resolved: HttpClientRequest.HttpClientRequest): Effect.Effect<A, TransportError> =>
        Effect.suspend(() => {
          call.attempts++
          const send = options.signer.sign(resolved).pipe(
            Effect.mapError((error) =>
              new RequestFailed({ provider, ...callFields(call), reason: "Signing", description: error.message })
            ),
            Effect.flatMap((signed) => Effect.mapError(client.execute(signed), (error) => fromClientError(error, call)))
          )
          return withTimeout(send, timeout, call).pipe(
            Effect.flatMap((response) =>
              response.status >= 200 && response.status < 300
                ? consume(response, call)
                : withTimeout(statusError(response, call), timeout, call)
            )
          )
        })

      return resolve(request, call).pipe(
        Effect.flatMap((resolved) => {
          const once = attempt(resolved)
          if (retrySchedule === undefined) return once
          // A 429 means the server turned the call away before processing it, and a refused connection never
          // reached it, so even a call that must not run twice (a create) is safe to send again; other failures of
          // such a call are left to the caller.
          return Effect.retry(once, {
            schedule: retrySchedule,
            while: idempotent ? TransportError_.isTransient : neverProcessed
          })
        }),
        Effect.tap(() => Effect.annotateCurrentSpan("barge.attempts", call.attempts)),
        Effect.tapError((error) =>
          Effect.annotateCurrentSpan({
            "barge.attempts": call.attempts,
            "barge.error": error._tag,
            ...(error._tag === "StatusError" ? { "http.response.status_code": error.status } : {})
          })
        ),
        Effect.withSpan(`${provider}.${callOptions.action}`, {
          kind: "client",
          attributes: { "barge.provider": provider, "barge.action": callOptions.action, "http.method": request.method }
        }),
        Effect.locallyWith(Headers.currentRedactedNames, (names) => Arr.appendAll(names, redacted))
      )
    })

  const execute: Transport["execute"] = (request, callOptions) =>
    run(request, callOptions, (response) =>
      Effect.as(
        Effect.annotateCurrentSpan("http.response.status_code", response.status),
        response
      ))

  const json: Transport["json"] = (request, schema, callOptions) =>
    run(HttpClientRequest.acceptJson(request), callOptions, (response, call) => {
      const timeout = callOptions.timeout === undefined ? defaultTimeout : Duration.decode(callOptions.timeout)
      const decodeFailure = (description: string) =>
        new ResponseDecodeError({
          provider,
          ...callFields(call),
          status: response.status,
          requestId: requestIdOf(response),
          description
        })
      const read = response.text.pipe(
        Effect.mapError((error) => fromClientError(error, call)),
        Effect.flatMap((text) => {
          let parsed: unknown
          try {
            parsed = text === "" ? undefined : JSON.parse(text)
          } catch {
            return Effect.fail(decodeFailure(`not JSON: ${truncate(text, 200)}`))
          }
          return ParseResult.decodeUnknown(schema)(parsed).pipe(
            Effect.mapError((error): TransportError =>
              options.isErrorEnvelope?.(parsed) === true
                ? new StatusError({
                  provider,
                  ...callFields(call),
                  status: response.status,
                  requestId: requestIdOf(response),
                  body: parsed
                })
                : decodeFailure(ParseResult.TreeFormatter.formatIssueSync(error))
            )
          )
        })
      )
      return Effect.zipLeft(
        withTimeout(read, timeout, call),
        Effect.annotateCurrentSpan("http.response.status_code", response.status)
      )
    })

  const open: Transport["open"] = (request, callOptions) =>
    run(request, callOptions, (response, call) =>
      Effect.succeed({
        status: response.status,
        headers: response.headers,
        requestId: requestIdOf(response),
        body: Stream.mapError(response.stream, (error) => fromClientError(error, call))
      }))

  const stream: Transport["stream"] = (request, callOptions) =>
    Stream.unwrap(Effect.map(open(request, callOptions), (response) => response.body))

  return { provider, baseUrl: options.baseUrl, execute, json, open, stream }
}

const callFields = (call: {
  readonly action: string
  readonly method: string
  readonly url: string
  readonly attempts: number
}) => ({ action: call.action, method: call.method, url: call.url, attempts: Math.max(1, call.attempts) })

/** Reads at most {@link maxErrorBodyBytes} of an error body, as JSON when it parses, else as text. */
const readErrorBody = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<unknown> =>
  response.stream.pipe(
    Stream.runFoldWhile(
      { parts: [] as Array<Uint8Array>, size: 0 },
      (acc) => acc.size < maxErrorBodyBytes,
      (acc, chunk) => {
        acc.parts.push(chunk)
        acc.size += chunk.length
        return acc
      }
    ),
    Effect.map(({ parts, size }) => {
      const bytes = new Uint8Array(Math.min(size, maxErrorBodyBytes))
      let offset = 0
      for (const part of parts) {
        const take = Math.min(part.length, bytes.length - offset)
        bytes.set(part.subarray(0, take), offset)
        offset += take
        if (offset === bytes.length) break
      }
      const text = new TextDecoder().decode(bytes)
      try {
        return text === "" ? undefined : JSON.parse(text) as unknown
      } catch {
        return size > maxErrorBodyBytes ? `${text}…` : text
      }
    }),
    Effect.orElseSucceed(() => undefined)
  )

const describeCause = (cause: unknown): string | undefined => {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    const inner = (cause as { cause?: unknown }).cause
    const innerText = inner instanceof Error ? ` (${inner.message})` : ""
    return `${typeof code === "string" ? `${code}: ` : ""}${cause.message}${innerText}`
  }
  return undefined
}

const truncate = (text: string, max: number): string => text.length > max ? `${text.slice(0, max)}…` : text
