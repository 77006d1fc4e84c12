/**
 * Seeded fault injection. Off by default; a profile (or a structured spec) lists rules, each matching some
 * services and routes and firing with a probability. Decisions depend only on the seed, the route and how many
 * requests that route has seen, so a run with the same seed and the same request order replays the same faults.
 *
 * The network-level faults reach the raw Node response (`NodeHttpServerRequest.toServerResponse`): the platform's
 * server has no way to cut a connection short, and a failing body stream only ends the response cleanly (which a
 * client cannot tell from a complete one once `Content-Length` is gone).
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Http from "node:http"
import type * as Net from "node:net"
import type { FaultCounts, FaultKind, Faults, ServiceName } from "./Context.js"
import { uniform } from "./Hash.js"
import { splitUrl } from "./Http.js"

export type { FaultCounts, FaultKind } from "./Context.js"

/** Every fault kind, in a stable order. */
export const kinds: ReadonlyArray<FaultKind> = [
  "serverError",
  "throttle",
  "reset",
  "truncate",
  "slowBody",
  "latency",
  "lostResponse"
]

/**
 * One rule. `match` is tested against `"<METHOD> <path>"` plus `"?<query>"` when there is a query (a string is
 * a regular expression source).
 */
export interface FaultRule {
  readonly kind: FaultKind
  /** Probability (0..1) that a matching request gets the fault. */
  readonly rate: number
  readonly services?: ReadonlyArray<ServiceName>
  readonly match?: string | RegExp
  /** Once a rule fires on a route, the next `burst - 1` matching requests on that route get it too. */
  readonly burst?: number
  /** How many times this rule may fire in the whole run. */
  readonly limit?: number
  /** `serverError`: the status (default: 500, 502 or 503, seeded). */
  readonly status?: number
  /** `throttle`: the `Retry-After` seconds (default 1). */
  readonly retryAfterSeconds?: number
  /** `latency`: added delay; `slowBody`: time to spread the body over (real milliseconds, default 200). */
  readonly delayMs?: number
}

/** A structured fault configuration. */
export interface FaultSpec {
  readonly rules: ReadonlyArray<FaultRule>
  /** After this many faulted requests in a row on one route, the next one passes (default 3), so retries win. */
  readonly maxConsecutive?: number
  /** Stop injecting after this many faults in total. */
  readonly maxFaults?: number
}

const Rate = Schema.Number.pipe(Schema.between(0, 1))
const Count = Schema.Number.pipe(Schema.int(), Schema.positive())

/** A rule as JSON (the CLI's `--faults '{"rules":[...]}'`); `match` is a regular expression source. */
export const FaultRuleJson = Schema.Struct({
  kind: Schema.Literal("serverError", "throttle", "reset", "truncate", "slowBody", "latency", "lostResponse"),
  rate: Rate,
  // Names are checked against the emulator's registry when the spec is applied.
  services: Schema.optionalWith(Schema.Array(Schema.String), { exact: true }),
  match: Schema.optionalWith(Schema.String, { exact: true }),
  burst: Schema.optionalWith(Count, { exact: true }),
  limit: Schema.optionalWith(Count, { exact: true }),
  status: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.between(500, 599)), { exact: true }),
  retryAfterSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.nonNegative()), { exact: true }),
  delayMs: Schema.optionalWith(Schema.Number.pipe(Schema.nonNegative()), { exact: true })
})

/** A fault spec as JSON. */
export const FaultSpecJson = Schema.Struct({
  rules: Schema.Array(FaultRuleJson),
  maxConsecutive: Schema.optionalWith(Count, { exact: true }),
  maxFaults: Schema.optionalWith(Schema.Number.pipe(Schema.int(), Schema.nonNegative()), { exact: true })
})

/** Parses a JSON fault spec, or says what is wrong with it. */
export const parseSpec = (json: string): FaultSpec | string => {
  const decoded = Schema.decodeUnknownEither(Schema.parseJson(FaultSpecJson))(json)
  if (Either.isLeft(decoded)) return `Invalid fault spec: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`
  for (const rule of decoded.right.rules) {
    if (rule.match === undefined) continue
    try {
      new RegExp(rule.match)
    } catch {
      return `Invalid fault spec: "${rule.match}" is not a regular expression`
    }
  }
  return decoded.right
}

/** Routes that create a batch job: losing their response is the case idempotent clients must survive. */
export const createCalls = String.raw`^POST (/v[12]/batches$|.*[?&]Action=CreateBatchInference(Job|Task)(&|$))`

/** TOS and BOS object GETs (a bucket and a key; BOS may prefix `/v1`). */
export const objectGets = String.raw`^GET /[^/?]+/[^?]+`

/** File content on the OpenAI-compatible platforms. */
export const fileContent = String.raw`^GET /v[12]/files/[^/]+/content$`

/** The same fault on every route that downloads result bytes: object GETs and file content. */
export const onDownloads = (rule: Omit<FaultRule, "services" | "match">): ReadonlyArray<FaultRule> => [
  { ...rule, services: ["tos", "bos"], match: objectGets },
  { ...rule, services: ["moonshot", "openai", "qianfan-v2"], match: fileContent }
]

/** The named profiles. */
export const profiles: Readonly<Record<string, FaultSpec>> = {
  none: { rules: [] },
  flaky: {
    rules: [
      { kind: "serverError", rate: 0.05, burst: 2 },
      { kind: "throttle", rate: 0.05, retryAfterSeconds: 1 },
      { kind: "latency", rate: 0.1, delayMs: 100 }
    ]
  },
  chaos: {
    rules: [
      { kind: "lostResponse", rate: 0.5, match: createCalls, limit: 2 },
      ...onDownloads({ kind: "truncate", rate: 0.1 }),
      { kind: "reset", rate: 0.05 },
      { kind: "serverError", rate: 0.08, burst: 3 },
      { kind: "throttle", rate: 0.05, retryAfterSeconds: 1 },
      { kind: "slowBody", rate: 0.05, delayMs: 200 },
      { kind: "latency", rate: 0.1, delayMs: 100 }
    ]
  },
  downloads: {
    rules: [
      ...onDownloads({ kind: "truncate", rate: 0.3 }),
      ...onDownloads({ kind: "reset", rate: 0.15 }),
      ...onDownloads({ kind: "slowBody", rate: 0.1, delayMs: 200 })
    ]
  },
  "lost-create": { rules: [{ kind: "lostResponse", rate: 1, match: createCalls, limit: 1 }] },
  "server-errors": { rules: [{ kind: "serverError", rate: 0.2, burst: 2 }] },
  throttle: { rules: [{ kind: "throttle", rate: 0.2, retryAfterSeconds: 1 }] },
  resets: { rules: [{ kind: "reset", rate: 0.1 }] },
  slow: { rules: [{ kind: "slowBody", rate: 0.3, delayMs: 300 }, { kind: "latency", rate: 0.3, delayMs: 150 }] }
}

/** Thrown (as a defect) by `resolve` for an unknown profile name. */
export class UnknownProfile extends Error {
  constructor(readonly profile: string) {
    super(`Unknown fault profile "${profile}"; known profiles: ${Object.keys(profiles).join(", ")}`)
  }
}

/** A profile name or a spec, to a spec. */
export const resolve = (faults: string | FaultSpec | undefined): FaultSpec => {
  if (faults === undefined) return profiles.none!
  if (typeof faults !== "string") return faults
  const spec = profiles[faults]
  if (spec === undefined) throw new UnknownProfile(faults)
  return spec
}

interface Decision {
  readonly rule: FaultRule
  /** Counts the fault; called only once it is really applied (a body fault on an empty body is not). */
  readonly record: () => void
  /** A second seeded number for the fault's details (status pick, cut point). */
  readonly detail: number
}

const bodyKinds: ReadonlySet<FaultKind> = new Set(["truncate", "reset", "slowBody"])

const compile = (match: string | RegExp | undefined): RegExp | undefined =>
  match === undefined ? undefined : typeof match === "string" ? new RegExp(match) : match

/** The route a request belongs to: method, path and (for action-style APIs) the `Action` parameter. */
const routeOf = (method: string, path: string, query: string): string => {
  const action = /(?:^|&)Action=([^&]*)/.exec(query)
  return action === null ? `${method} ${path}` : `${method} ${path}?Action=${action[1]}`
}

/** Fault counts with every kind at zero (a fresh copy each call, since the injector counts into it). */
export const emptyCounts = (): { -readonly [K in keyof FaultCounts]: number } => ({
  serverError: 0,
  throttle: 0,
  reset: 0,
  truncate: 0,
  slowBody: 0,
  latency: 0,
  lostResponse: 0,
  total: 0
})

/** The fault injector with its counters; `set` swaps the spec at run time (e.g. to calm things down for a check). */
export interface Injector extends Faults {
  readonly set: (faults: string | FaultSpec) => void
  readonly spec: () => FaultSpec
}

/** Creates the injector. */
export const make = (
  options: { readonly faults?: string | FaultSpec | undefined; readonly seed: number }
): Injector => {
  let spec = resolve(options.faults)
  let matchers = spec.rules.map((rule) => compile(rule.match))
  const counts = emptyCounts()
  const seen = new Map<string, number>()
  const consecutive = new Map<string, number>()
  const bursts = new Map<string, number>()
  const fired = new Map<number, number>()

  const decide = (service: ServiceName, method: string, path: string, query: string): Decision | undefined => {
    if (spec.rules.length === 0) return undefined
    if (spec.maxFaults !== undefined && counts.total >= spec.maxFaults) return undefined
    const route = `${service} ${routeOf(method, path, query)}`
    const n = seen.get(route) ?? 0
    seen.set(route, n + 1)
    const inARow = consecutive.get(route) ?? 0
    if (inARow >= (spec.maxConsecutive ?? 3)) {
      consecutive.set(route, 0)
      return undefined
    }
    const target = query === "" ? `${method} ${path}` : `${method} ${path}?${query}`
    for (let i = 0; i < spec.rules.length; i++) {
      const rule = spec.rules[i]!
      // HEAD answers carry no body to cut or slow down.
      if (method === "HEAD" && bodyKinds.has(rule.kind)) continue
      const record = () => {
        counts[rule.kind]++
        counts.total++
      }
      if (rule.services !== undefined && !rule.services.includes(service)) continue
      const matcher = matchers[i]
      if (matcher !== undefined && !matcher.test(target)) continue
      if (rule.limit !== undefined && (fired.get(i) ?? 0) >= rule.limit) continue
      const burstKey = `${i} ${route}`
      const burstLeft = bursts.get(burstKey) ?? 0
      const roll = uniform(`${options.seed}|${i}|${route}|${n}`)
      if (burstLeft > 0 || roll < rule.rate) {
        bursts.set(burstKey, burstLeft > 0 ? burstLeft - 1 : Math.max(0, (rule.burst ?? 1) - 1))
        fired.set(i, (fired.get(i) ?? 0) + 1)
        consecutive.set(route, inARow + 1)
        return { rule, record, detail: uniform(`${options.seed}|detail|${route}|${n}`) }
      }
    }
    consecutive.set(route, 0)
    return undefined
  }

  return {
    counts: () => ({ ...counts }),
    spec: () => spec,
    set: (faults) => {
      spec = resolve(faults)
      matchers = spec.rules.map((rule) => compile(rule.match))
    },
    wrap: (service, app) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        const { path, query } = splitUrl(request.url)
        const decision = decide(service, request.method, path, query)
        return decision === undefined ? app : inject(service, decision, request, app)
      })
  }
}

/** Sleeps in real time: injected latency is a property of the network, not of emulated time. */
const realSleep = (ms: number): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), ms)
    return Effect.sync(() => clearTimeout(timer))
  })

const requestId = (detail: number): string => `barge-fault-${Math.floor(detail * 0xffffffff).toString(16)}`

/** A provider-shaped error body, so clients parse an injected failure the way they parse a real one. */
export const errorResponse = (
  service: ServiceName,
  status: number,
  detail: number,
  query: string
): HttpServerResponse.HttpServerResponse => {
  const throttled = status === 429
  const message = throttled
    ? "Too many requests (injected by the Barge emulator's fault profile)"
    : "Internal error (injected by the Barge emulator's fault profile)"
  const id = requestId(detail)
  switch (service) {
    case "ark": {
      const action = /(?:^|&)Action=([^&]*)/.exec(query)?.[1] ?? ""
      return HttpServerResponse.unsafeJson({
        ResponseMetadata: {
          RequestId: id,
          Action: action,
          Version: "2024-01-01",
          Service: "ark",
          Region: "cn-beijing",
          Error: throttled
            ? { Code: "FlowLimitExceeded", Message: message }
            : { Code: "InternalError", CodeN: 100014, Message: message }
        }
      }, { status })
    }
    case "tos":
      // TOS's native API answers errors in JSON (what @volcengine/tos-sdk parses), not S3's XML.
      return HttpServerResponse.unsafeJson(
        {
          Code: throttled ? "ExceedAccountQPSLimit" : "InternalError",
          Message: message,
          RequestId: id,
          HostId: "barge-emulator-tos"
        },
        { status, headers: { "x-tos-request-id": id } }
      )
    case "moonshot":
      return HttpServerResponse.unsafeJson({
        error: throttled
          ? { type: "engine_overloaded_error", message }
          : { type: "server_error", message }
      }, { status, headers: { "x-request-id": id } })
    case "qianfan":
    case "bos":
      return HttpServerResponse.unsafeJson(
        { requestId: id, code: throttled ? "RequestLimitExceeded" : "InternalError", message },
        { status, headers: { "x-bce-request-id": id } }
      )
    default:
      // The other OpenAI-compatible platforms (OpenAI, Qianfan's `/v2`): OpenAI's envelope.
      return HttpServerResponse.unsafeJson({
        error: throttled
          ? { type: "rate_limit_error", code: "rate_limit_exceeded", message }
          : { type: "server_error", code: "internal_error", message }
      }, { status, headers: { "x-request-id": id } })
  }
}

const inject = (
  service: ServiceName,
  decision: Decision,
  request: HttpServerRequest.HttpServerRequest,
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> => {
  const { detail, record, rule } = decision
  const { query } = splitUrl(request.url)
  switch (rule.kind) {
    case "serverError": {
      record()
      const status = rule.status ?? [500, 502, 503][Math.floor(detail * 3)]!
      return Effect.succeed(errorResponse(service, status, detail, query))
    }
    case "throttle":
      record()
      return Effect.succeed(
        HttpServerResponse.setHeader(
          errorResponse(service, 429, detail, query),
          "retry-after",
          String(rule.retryAfterSeconds ?? 1)
        )
      )
    case "latency":
      record()
      return Effect.zipRight(realSleep(rule.delayMs ?? 200), app)
    case "lostResponse":
      // The request is processed in full; only its answer is lost.
      return Effect.flatMap(app, () => {
        record()
        const node = NodeHttpServerRequest.toServerResponse(request)
        // Once the socket is gone the platform's attempt to answer writes nothing, and the handler fiber ends.
        return Effect.as(
          closeSocket(node.socket, (socket) => socket.destroy()),
          HttpServerResponse.empty({ status: 499 })
        )
      })
    case "slowBody":
      return Effect.map(app, (response) => slowBody(response, rule.delayMs ?? 200, record))
    case "reset":
    case "truncate": {
      const kind = rule.kind
      return Effect.map(
        app,
        (response) => cutBody(response, NodeHttpServerRequest.toServerResponse(request), kind, detail, record)
      )
    }
  }
}

/** Cuts a socket with `how`, completing once it has closed (at once when there is no socket left). */
const closeSocket = (socket: Net.Socket | null, how: (socket: Net.Socket) => void): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (socket === null || socket.closed) return resume(Effect.void)
    socket.once("close", () => resume(Effect.void))
    how(socket)
  })

/** The response's body as a byte stream with its length, or undefined for bodies that cannot be streamed here. */
const bodyStream = (
  response: HttpServerResponse.HttpServerResponse
): { readonly stream: Stream.Stream<Uint8Array, unknown>; readonly length: number | undefined } | undefined => {
  const body = response.body
  switch (body._tag) {
    case "Empty":
      return { stream: Stream.empty, length: 0 }
    case "Uint8Array":
      return { stream: Stream.make(body.body), length: body.body.byteLength }
    case "Stream":
      return { stream: body.stream, length: body.contentLength }
    default:
      return undefined
  }
}

/** Keeps the first `limit` bytes of a stream. */
const takeBytes = <E>(stream: Stream.Stream<Uint8Array, E>, limit: number): Stream.Stream<Uint8Array, E> =>
  Stream.suspend(() => {
    let left = limit
    return stream.pipe(
      Stream.takeWhile(() => left > 0),
      Stream.map((chunk) => {
        const piece = chunk.byteLength <= left ? chunk : chunk.subarray(0, left)
        left -= piece.byteLength
        return piece
      })
    )
  })

/**
 * Sends the status, the headers (with the full `Content-Length`) and part of the body, then cuts the connection:
 * `truncate` closes it cleanly once the bytes are flushed, `reset` sends a TCP RST.
 */
const cutBody = (
  response: HttpServerResponse.HttpServerResponse,
  node: Http.ServerResponse,
  kind: "reset" | "truncate",
  detail: number,
  record: () => void
): HttpServerResponse.HttpServerResponse => {
  const body = bodyStream(response)
  if (body === undefined || body.length === 0) return response
  record()
  const length = body.length
  // Cut somewhere in the middle: 10%–90% of the body (the whole of an unknown-length body is streamed up to 64 KiB).
  const cutAt = length === undefined
    ? Math.floor(65536 * (0.1 + detail * 0.8))
    : Math.floor(length * (0.1 + detail * 0.8))
  // After the cut the stream ends normally; the platform's final `end()` finds the socket destroyed and writes
  // nothing, so the handler fiber finishes instead of waiting for an interruption.
  const cut = closeSocket(node.socket, (socket) => {
    if (kind === "truncate") {
      // `end` flushes what was written and sends FIN: the client sees fewer bytes than announced.
      socket.end(() => socket.destroy())
    } else {
      // An empty write calls back once earlier writes reached the kernel, so the headers and a part of the body
      // are on the wire before the reset.
      socket.write(new Uint8Array(0), () => socket.resetAndDestroy())
    }
  })
  const stream = Stream.concat(takeBytes(body.stream, cutAt), Stream.drain(Stream.fromEffect(cut)))
  const headers = length === undefined ? response.headers : { ...response.headers, "content-length": String(length) }
  return HttpServerResponse.stream(stream, {
    status: response.status,
    headers,
    ...(response.body.contentType !== undefined ? { contentType: response.body.contentType } : {}),
    ...(length !== undefined ? { contentLength: length } : {})
  })
}

/** Streams the body in pieces spread over `totalMs` of real time. */
const slowBody = (
  response: HttpServerResponse.HttpServerResponse,
  totalMs: number,
  record: () => void
): HttpServerResponse.HttpServerResponse => {
  const body = bodyStream(response)
  if (body === undefined || body.length === 0) return response
  record()
  const pieces = 8
  const pieceSize = Math.max(1, Math.ceil((body.length ?? 65536) / pieces))
  const pause = Math.max(1, Math.floor(totalMs / pieces))
  const stream = body.stream.pipe(
    Stream.rechunk(1),
    Stream.mapConcat((chunk) => {
      const out: Array<Uint8Array> = []
      for (let at = 0; at < chunk.byteLength; at += pieceSize) out.push(chunk.subarray(at, at + pieceSize))
      return out
    }),
    Stream.tap(() => realSleep(pause))
  )
  return HttpServerResponse.stream(stream, {
    status: response.status,
    headers: response.headers,
    ...(response.body.contentType !== undefined ? { contentType: response.body.contentType } : {}),
    ...(body.length !== undefined ? { contentLength: body.length } : {})
  })
}
