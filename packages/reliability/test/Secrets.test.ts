/**
 * No credential leaks. Every provider's flows run with distinctive credentials while everything observable is
 * captured — logs at every level, errors (`message`, `String`, `Inspectable`, `Cause.pretty`), span names,
 * attributes, events and exits, the services and their options, the spawned CLI's output — and none of it may
 * contain a secret key, the API key, a signing key derived from them, or a request signature (read off the wire by a
 * proxy). Plain `http://` to a host other than loopback is refused unless the caller opts in.
 */
import { BceAuth, SignatureV4 } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { HttpClientResponse } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import type { Context } from "effect"
import {
  Cause,
  Effect,
  Exit,
  HashMap,
  Inspectable,
  Layer,
  List,
  Logger,
  LogLevel,
  Option,
  Predicate,
  Redacted,
  Stream,
  Tracer
} from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Flows from "../src/flows.js"
import { cli, proxy, type Seen } from "./support.js"

const canary = {
  volcengine: { accessKeyId: "AKLTsecretcanaryAK", secretAccessKey: "SECRET-CANARY-sk-volc-7731" },
  bce: { accessKeyId: "bce-canary-ak", secretAccessKey: "SECRET-CANARY-sk-bce-5519" },
  moonshot: { apiKey: "sk-CANARY-moonshot-4242" },
  openai: { apiKey: "sk-CANARY-openai-6161" },
  qianfan: { apiKey: "bce-v3/ALTAK-canary/SECRETCANARYqianfan8080" }
} as const

const wrong: Emulator.AcceptedCredentials = {
  volcengine: { accessKeyId: canary.volcengine.accessKeyId, secretAccessKey: "SECRET-CANARY-wrong-volc-1188" },
  bce: { accessKeyId: canary.bce.accessKeyId, secretAccessKey: "SECRET-CANARY-wrong-bce-2299" },
  moonshot: { apiKey: "sk-CANARY-wrong-moonshot-3377" },
  openai: { apiKey: "sk-CANARY-wrong-openai-4455" },
  qianfan: { apiKey: "bce-v3/ALTAK-canary/SECRETCANARYwrongqianfan6677" }
}

// --- capture -------------------------------------------------------------------------------------------------------

const captured: Array<string> = []
/** Failures, to print again outside any fiber (as `runPromise(...).catch(console.error)` would). */
const failures: Array<unknown> = []
const text = (u: unknown): string => {
  try {
    return Inspectable.toStringUnknown(u)
  } catch {
    return String(u)
  }
}

const logger = Logger.make(({ annotations, cause, logLevel, message, spans }) => {
  captured.push(
    [
      logLevel.label,
      text(message),
      Cause.isEmpty(cause) ? "" : Cause.pretty(cause),
      text(HashMap.toEntries(annotations)),
      List.toArray(spans).map((span) => span.label).join(",")
    ].join(" | ")
  )
})

class CapturedSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = Math.random().toString(16).slice(2)
  readonly traceId = "canary-trace"
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly events: Array<string> = []
  links: ReadonlyArray<Tracer.SpanLink>
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind
  ) {
    this.links = links
    this.status = { _tag: "Started", startTime }
    spans.push(this)
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
  }
  attribute(key: string, value: unknown) {
    this.attributes.set(key, value)
  }
  event(name: string, _startTime: bigint, attributes?: Record<string, unknown>) {
    this.events.push(`${name} ${text(attributes)}`)
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>) {
    this.links = [...this.links, ...links]
  }
}
const spans: Array<CapturedSpan> = []
const tracer = Tracer.make({
  span: (name, parent, context, links, startTime, kind) =>
    new CapturedSpan(name, parent, context, links, startTime, kind),
  context: (f) => f()
})

/**
 * An `http.client` span's exit holds the response. Printed whole, a response reads its body (`Inspectable` shows a
 * JSON body), and a body already streamed to its end (a JSONL result file served as `application/jsonl`) makes
 * undici 7.30's `consumeStart` throw outside any promise (nodejs/undici#5614), which takes the process down. So a
 * response is printed as what carries the request's credentials — the request, the status and the headers — and
 * not its body, which is the provider's answer.
 */
const exitText = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit) && Predicate.hasProperty(exit.value, HttpClientResponse.TypeId)) {
    const response = exit.value as HttpClientResponse.HttpClientResponse
    return text({ status: response.status, headers: response.headers, request: response.request })
  }
  return text(exit)
}

const spanText = (span: CapturedSpan): string =>
  [
    span.name,
    text(Object.fromEntries(span.attributes)),
    span.events.join(";"),
    span.status._tag === "Ended" && Exit.isFailure(span.status.exit) ? Cause.pretty(span.status.exit.cause) : "",
    span.status._tag === "Ended" ? exitText(span.status.exit) : ""
  ].join(" | ")

/** Every way a program might print an error. */
const errorTexts = (error: unknown): ReadonlyArray<string> => {
  const out = [String(error), text(error), Cause.pretty(Cause.fail(error))]
  if (typeof error === "object" && error !== null && "message" in error) out.push(String(error.message))
  try {
    out.push(JSON.stringify(error))
  } catch {
    // Not every error is JSON-serialisable (a Node cause may be circular); the other forms cover it.
  }
  return out
}

const capturing = Layer.mergeAll(
  Logger.replace(Logger.defaultLogger, logger),
  Logger.minimumLogLevel(LogLevel.All),
  Layer.setTracer(tracer)
)

/** Runs `effect`, keeps its failure's every printed form, and logs the failure at Debug as a program might. */
const observe = <A, E, R>(label: string, effect: Effect.Effect<A, E, R>) =>
  Effect.exit(effect).pipe(
    Effect.tap((exit) =>
      Exit.isFailure(exit)
        ? Effect.zipRight(
          Effect.sync(() => {
            const failure = Cause.failureOption(exit.cause)
            if (Option.isSome(failure)) {
              captured.push(...errorTexts(failure.value))
              failures.push(failure.value)
            }
            captured.push(Cause.pretty(exit.cause))
          }),
          Effect.logDebug(`${label} failed`, exit.cause)
        )
        : Effect.logTrace(`${label} succeeded`, exit.value)
    )
  )

// --- the secrets -----------------------------------------------------------------------------------------------------

const base64 = (hex: string) => Buffer.from(hex, "hex").toString("base64")

/** Everything that must never appear: the secrets, and what the wire shows was derived from them. */
const forbidden = (wire: ReadonlyArray<Seen>): ReadonlyArray<string> => {
  const out = new Set<string>([
    canary.volcengine.secretAccessKey,
    canary.bce.secretAccessKey,
    canary.moonshot.apiKey,
    canary.openai.apiKey,
    canary.qianfan.apiKey,
    wrong.volcengine.secretAccessKey,
    wrong.bce.secretAccessKey,
    wrong.moonshot.apiKey,
    wrong.openai.apiKey,
    wrong.qianfan.apiKey,
    // A fragment each, to catch a partial leak (e.g. a truncated or split secret).
    "sk-volc-7731",
    "sk-bce-5519",
    "moonshot-4242",
    "openai-6161",
    "SECRETCANARYqianfan8080",
    // As a program might encode them.
    Buffer.from(canary.volcengine.secretAccessKey).toString("base64"),
    Buffer.from(canary.moonshot.apiKey).toString("base64"),
    Buffer.from(canary.openai.apiKey).toString("base64"),
    Buffer.from(canary.qianfan.apiKey).toString("base64")
  ])
  for (const request of wire) {
    const authorization = request.headers.authorization
    if (typeof authorization !== "string") continue
    out.add(authorization)
    if (authorization.startsWith("Bearer ")) continue
    if (authorization.startsWith("bce-auth-v1/")) {
      const parts = authorization.split("/")
      out.add(parts[5]!)
      for (const secret of [canary.bce.secretAccessKey, wrong.bce.secretAccessKey]) {
        const key = BceAuth.signingKey(secret, parts.slice(0, 4).join("/"))
        out.add(key)
        out.add(base64(key))
      }
      continue
    }
    const parsed = SignatureV4.parseAuthorization(authorization)
    if (parsed === undefined) continue
    out.add(parsed.signature)
    const scheme = parsed.algorithm.startsWith("TOS4")
      ? SignatureV4.tosScheme({ region: parsed.region })
      : SignatureV4.volcengineScheme({ region: parsed.region, service: parsed.service })
    for (const secret of [canary.volcengine.secretAccessKey, wrong.volcengine.secretAccessKey]) {
      const key = SignatureV4.signingKey(scheme, secret, parsed.shortDate)
      out.add(key.toString("hex"))
      out.add(key.toString("base64"))
    }
  }
  return [...out].filter((s) => s.length >= 8)
}

const leaks = (haystack: ReadonlyArray<string>, needles: ReadonlyArray<string>) =>
  needles.flatMap((needle) => {
    const where = haystack.filter((h) => h.includes(needle))
    const at = where[0]?.indexOf(needle) ?? 0
    return where.length === 0
      ? []
      : [
        `${needle.slice(0, 12)}… in: ${where[0]!.slice(0, 80)} … ${where[0]!.slice(Math.max(0, at - 300), at + 40)}`
          .replace(/\s+/g, " ")
      ]
  })

// --- the flows -------------------------------------------------------------------------------------------------------

const emulatorOptions: Emulator.Options = {
  timeScale: 1000,
  credentials: canary,
  processing: { queuedFor: "1 second", perRequest: "100 millis", finalizingFor: "1 second" }
}

/** The emulator behind recording proxies (so the test knows every signature that went over the wire). */
const proxied = (withFaults: boolean) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make({
      ...emulatorOptions,
      // A few faults, so retries (and their logs and span attributes) happen too.
      ...(withFaults
        ? {
          faults: {
            rules: [{ kind: "serverError", rate: 0.15 }, { kind: "throttle", rate: 0.1, retryAfterSeconds: 0 }]
          }
        }
        : {})
    })
    const seen: Array<Seen> = []
    const urls = Object.fromEntries(
      yield* Effect.forEach(
        Emulator.services,
        (service) =>
          Effect.map(proxy(emulator.urls[service], () => () => undefined), (p) => {
            // Share one log of requests across the five proxies.
            const push = p.seen.push.bind(p.seen)
            p.seen.push = (...items: Array<Seen>) => {
              seen.push(...items)
              return push(...items)
            }
            return [service, p.url] as const
          })
      )
    ) as unknown as Emulator.Urls
    return { emulator, urls, seen }
  })

/** A job id the provider does not know, in its own form: one of its real ids with the end changed. */
const unknownJob = (id: string) => `${id.slice(0, -4)}zzzz`

const flowsOf = (provider: Flows.Provider, target: Flows.Target, badTarget: Flows.Target) =>
  Effect.gen(function*() {
    const flow = yield* Flows.make(provider, target)
    const bad = yield* Flows.make(provider, badTarget)
    const requests = Flows.makeRequests(8, `sec-${provider}`, 4)
    const submitted = yield* observe("submit", flow.submit(requests))
    assert.isTrue(Exit.isSuccess(submitted), `${provider}: the submission went through`)
    if (Exit.isSuccess(submitted)) {
      yield* observe("await", flow.await(submitted.value))
      yield* observe("results", Stream.runCollect(flow.results(submitted.value)))
      // Failures: an unknown job.
      const job = unknownJob(submitted.value.jobIds[0]!)
      yield* observe("unknown job", flow.await({ id: `${provider}:${job}`, jobIds: [job] }))
      yield* observe("unknown job (own service)", flow.service.get(job))
    }
    // Failures: wrong secret, bad input.
    yield* observe("wrong secret", bad.submit(requests))
    yield* observe(
      "bad input",
      flow.submit([{ customId: "dup", text: "a", fails: false }, { customId: "dup", text: "b", fails: false }])
    )
    // The services and what they were built from, as a REPL or a debug log would print them.
    captured.push(text(flow.service), text(flow.batch), text(flow), text(Redacted.make(canary.moonshot.apiKey)))
    yield* Effect.logInfo("service", flow.service)
  })

describe("secrets", () => {
  it.live(
    "no credential in logs, errors, Inspectable output or spans, for every provider's flows",
    () =>
      Effect.scoped(
        Effect.gen(function*() {
          const { emulator, seen, urls } = yield* proxied(true)
          for (const provider of Flows.providers) {
            yield* flowsOf(provider, { urls, credentials: emulator.credentials }, { urls, credentials: wrong }).pipe(
              Effect.provide(NodeHttpClient.layerUndici),
              Effect.withSpan(`secrets.${provider}`)
            )
          }
          // Spans are printed the way Effect prints (a logger, an exporter running in a fiber): with the fiber's refs as
          // the redaction context, so header names on `Headers.currentRedactedNames` are redacted. A span's exit may hold
          // the HTTP response and with it the signed request — the platform's design — so this matters.
          const spanTexts = yield* Effect.withFiberRuntime<ReadonlyArray<string>>((fiber) =>
            Effect.sync(() => Inspectable.withRedactableContext(fiber.getFiberRefs(), () => spans.map(spanText)))
          )
          const haystack = [...captured, ...spanTexts, ...failures.flatMap(errorTexts)]
          // The capture really saw the flows: requests went out signed, spans and logs were recorded, errors printed.
          assert.isAbove(seen.filter((r) => r.headers.authorization !== undefined).length, 30)
          assert.isAbove(spans.filter((s) => s.attributes.has("barge.action")).length, 20)
          assert.isTrue(
            captured.some((line) =>
              /Signature|Authentication|Unauthori[sz]ed|AccessDenied|InvalidAccessKey|SignatureDoesNotMatch|401|403/
                .test(line)
            ),
            "an auth failure was printed"
          )
          assert.isTrue((yield* emulator.faults.counts).total > 0, "retries happened")
          const needles = forbidden(seen)
          assert.isAbove(needles.length, 20)
          assert.deepStrictEqual(leaks(haystack, needles), [])
        }).pipe(Effect.provide(capturing))
      ),
    { timeout: 60_000 }
  )

  it.live("plain http to a non-loopback host is refused unless the caller opts in", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const emulator = yield* Emulator.make(emulatorOptions)
        // 0.0.0.0 reaches this machine but is not a loopback name, so it stands in for a remote host.
        const remote = Object.fromEntries(
          Emulator.services.map((s) => [s, emulator.urls[s].replace("127.0.0.1", "0.0.0.0")])
        ) as unknown as Emulator.Urls
        for (const provider of Flows.providers) {
          const target = { urls: remote, credentials: emulator.credentials }
          const requests = Flows.makeRequests(3, `http-${provider}`, 100)
          const refused: unknown = yield* Effect.flip(
            Effect.flatMap(Flows.make(provider, target), (f) => f.submit(requests))
          )
          assert.strictEqual((refused as { _tag: string })._tag, "RequestFailed", String(refused))
          assert.strictEqual((refused as { reason: string }).reason, "InsecureEndpoint", String(refused))
          assert.include(String(refused), "allowInsecureHttp")
          const optedIn = yield* Effect.flatMap(
            Flows.make(provider, target, { ...Flows.fast, allowInsecureHttp: true }),
            (f) => f.submit(requests)
          )
          assert.isAtLeast(optedIn.jobIds.length, 1)
        }
      }).pipe(Effect.provide(NodeHttpClient.layerUndici))
    ))

  it.live("the CLI's output, success and failure, carries no credential", () =>
    Effect.scoped(
      Effect.gen(function*() {
        const { emulator, seen, urls } = yield* proxied(false)
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-secrets-"))
        // Each provider's real configuration (what a user sets), pointed at the proxies.
        const env: Record<
          Flows.Provider,
          (credentials: Emulator.AcceptedCredentials) => Record<string, string>
        > = {
          ark: (credentials) => ({
            VOLC_ACCESSKEY: credentials.volcengine.accessKeyId,
            VOLC_SECRETKEY: credentials.volcengine.secretAccessKey,
            ARK_ENDPOINT: urls.ark,
            TOS_ENDPOINT: urls.tos,
            ARK_TOS_BUCKET: Flows.bucket
          }),
          moonshot: (credentials) => ({
            MOONSHOT_API_KEY: credentials.moonshot.apiKey,
            MOONSHOT_BASE_URL: `${urls.moonshot}/v1`
          }),
          openai: (credentials) => ({
            OPENAI_API_KEY: credentials.openai.apiKey,
            OPENAI_BASE_URL: `${urls.openai}/v1`
          }),
          qianfan: (credentials) => ({
            QIANFAN_ACCESS_KEY: credentials.bce.accessKeyId,
            QIANFAN_SECRET_KEY: credentials.bce.secretAccessKey,
            QIANFAN_BOS_BUCKET: Flows.bucket,
            QIANFAN_ENDPOINT: urls.qianfan,
            QIANFAN_BOS_ENDPOINT: urls.bos
          }),
          "qianfan-v2": (credentials) => ({
            QIANFAN_API_KEY: credentials.qianfan.apiKey,
            QIANFAN_BASE_URL: `${urls["qianfan-v2"]}/v2`
          })
        }
        const runs = Flows.providers.flatMap((provider) => {
          const input = Path.join(dir, `${provider}.jsonl`)
          Fs.writeFileSync(
            input,
            Flows.makeRequests(4, `cli-${provider}`, 3).map((r) =>
              JSON.stringify({ custom_id: r.customId, body: { messages: [{ role: "user", content: r.text }] } })
            ).join("\n") + "\n"
          )
          const submit = [
            "submit",
            "--provider",
            provider,
            input,
            "--model",
            Flows.entryOf(provider).model,
            "--watch",
            "--poll",
            "20ms",
            "-o",
            Path.join(dir, `${provider}.out.jsonl`)
          ]
          return [
            cli(submit, env[provider]!(emulator.credentials)),
            cli(submit, env[provider]!(wrong))
          ]
        })
        // Four at a time: each process loads TypeScript first, and two cores are shared.
        const outputs = yield* Effect.all(runs, { concurrency: 4 })
        const haystack = outputs.map((o) => `${o.stdout}\n${o.stderr}`)
        // Each provider's good run succeeded and its bad one failed.
        assert.deepStrictEqual(
          outputs.map((o) => o.code === 0),
          Flows.providers.flatMap(() => [true, false]),
          haystack.join("\n----\n")
        )
        assert.deepStrictEqual(leaks(haystack, forbidden(seen)), [])
      }).pipe(Effect.provide(NodeContext.layer))
    ), { timeout: 180_000 })
})
