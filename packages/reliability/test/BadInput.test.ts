/**
 * Bad input, one table: users' files, configuration and servers. Each row names the case, the input, the error tag
 * expected (or `accepted`) and text the message must contain; every row also asserts the outcome is never a defect.
 *
 * Server rows put a loopback proxy in front of the emulator and bend its real answers (drop or retype a field,
 * swap in an HTML page, an error envelope with 200, an empty body, an unknown status, a job that moves backwards):
 * the faithful emulator never sends these, the client must still cope.
 */
import type { ChatRequest } from "@barge/core"
import { Batch } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { MoonshotBatch } from "@barge/moonshot"
import { OpenAiBatch, type Profile } from "@barge/openai-compatible"
import { QianfanV2Batch } from "@barge/qianfan"
import type { FileSystem, HttpClient } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schedule, type Scope, Stream } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Flows from "../src/flows.js"
import {
  type Answer,
  cli,
  json,
  type Mutation,
  outcome,
  proxy,
  type Ran,
  type Seen,
  totalRequests,
  withJson,
  withText
} from "./support.js"

type Provider = Flows.Provider

const speed: Flows.Speed = {
  ...Flows.fast,
  retry: {
    schedule: Schedule.spaced("5 millis").pipe(Schedule.intersect(Schedule.recurs(2))),
    maxRetryAfter: "5 millis"
  },
  // Long: a loaded machine is slow, and no row is about a timeout.
  timeout: "60 seconds"
}

const emulatorOptions: Emulator.Options = {
  timeScale: 1000,
  processing: { queuedFor: "1 second", perRequest: "100 millis", finalizingFor: "1 second" }
}

const modelOf = (provider: Provider): string => Flows.entryOf(provider).model

/** A second model each provider's emulator knows, for a file that mixes models. */
const otherModel: Record<Provider, string> = {
  ark: "doubao-lite-32k",
  moonshot: "moonshot-v1-32k",
  openai: "gpt-4o",
  qianfan: "ernie-4.0-8k",
  "qianfan-v2": "ernie-4.5-turbo-32k"
}

// --- users' files ------------------------------------------------------------------------------------------------

/**
 * How a user's file for each provider is usually written: Ark's `{custom_id, body}`, Qianfan's console
 * `{id, query}`, and an OpenAI batch line naming the platform's own endpoint.
 */
const endpointOf: Record<Provider, string | undefined> = {
  moonshot: MoonshotBatch.profile.endpoint,
  openai: OpenAiBatch.profile.endpoint,
  "qianfan-v2": QianfanV2Batch.profile.endpoint
}

const validLine = (provider: Provider, id: string, extra: Record<string, unknown> = {}): string => {
  switch (provider) {
    case "ark":
      return JSON.stringify({ custom_id: id, body: { messages: [{ role: "user", content: `hi ${id}` }], ...extra } })
    case "qianfan":
      return JSON.stringify({ id, query: `hi ${id}`, ...extra })
    default:
      return JSON.stringify({
        custom_id: id,
        method: "POST",
        url: endpointOf[provider],
        body: { model: modelOf(provider), messages: [{ role: "user", content: `hi ${id}` }], ...extra }
      })
  }
}

/** A line in Barge's own form, which names its model whatever the provider. */
const bargeLine = (id: string, model: string): string =>
  JSON.stringify({ customId: id, model, messages: [{ role: "user", content: `hi ${id}` }] })

const tmp = Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-bad-input-"))
let files = 0

interface FileOptions {
  readonly completionWindow?: string
  /** Tightened limits, to reach "over the limit" without writing hundreds of megabytes. */
  readonly tight?: boolean
}

/** Limits a row submits under: the provider's own, or 4 KB per job and file. */
const limitsOf = (options: FileOptions) => options.tight === true ? { maxBytesPerJob: 4096, maxBytesPerFile: 4096 } : {}

/** Submits raw file bytes as a user's file reaches every provider: a path, read through the unified `Batch`. */
const submitBytes = (provider: Provider, bytes: Uint8Array, options: FileOptions = {}) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const path = Path.join(tmp, `input-${++files}.jsonl`)
    Fs.writeFileSync(path, bytes)
    return yield* Effect.flatMap(Batch.Batch, (batch) =>
      batch.submit(Batch.jsonlFile(path), {
        model: modelOf(provider),
        ...(options.completionWindow === undefined ? {} : { completionWindow: options.completionWindow })
      })).pipe(Effect.provide(Flows.layer(provider, emulator, speed, limitsOf(options))))
  })

const utf8 = (text: string) => new TextEncoder().encode(text)
const lines = (...texts: ReadonlyArray<string>) => utf8(texts.map((t) => `${t}\n`).join(""))
const concat = (...parts: ReadonlyArray<Uint8Array>) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }
  return out
}

const onEmulator = <A, E>(
  effect: Effect.Effect<A, E, Emulator.Emulator | Scope.Scope | HttpClient.HttpClient | FileSystem.FileSystem>
) =>
  effect.pipe(
    Effect.provide(Emulator.layer(emulatorOptions)),
    Effect.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer)),
    Effect.scoped
  )

/** One row of the table. */
interface Row {
  readonly name: string
  /** The bad input, in words. */
  readonly input: string
  /** The failure's `_tag`, or `accepted`. */
  readonly tag: string
  /** Text the message (or `String(error)`) must contain. */
  readonly contains: string
  readonly run: () => Effect.Effect<unknown, unknown, Scope.Scope>
  /** For accepted rows: what is wrong with the value, if anything. */
  readonly check?: ((value: unknown) => string | undefined) | undefined
  /** For refused rows: what is wrong afterwards (a file changed), if anything. */
  readonly afterwards?: (() => string | undefined) | undefined
}

const fileRow = (
  provider: Provider,
  name: string,
  input: string,
  bytes: () => Uint8Array,
  tag: string,
  contains: string,
  options: FileOptions = {}
): Row => ({
  name: `${provider}: ${name}`,
  input,
  tag,
  contains,
  run: () => onEmulator(submitBytes(provider, bytes(), options))
})

const missingId = (provider: Provider) => {
  switch (provider) {
    case "ark":
      return JSON.stringify({ body: { messages: [{ role: "user", content: "no id" }] } })
    case "qianfan":
      return JSON.stringify({ query: "no id" })
    default:
      return JSON.stringify({
        method: "POST",
        url: endpointOf[provider],
        body: { model: modelOf(provider), messages: [{ role: "user", content: "no id" }] }
      })
  }
}

/** The jobs a submission was split into, as a check: at least `n`, with these models (when given). */
const splitInto = (n: number, models?: ReadonlyArray<string>) => (value: unknown): string | undefined => {
  const parts = (value as Batch.Submission).status.parts
  if (parts.length < n) return `submitted as ${parts.length} job(s), expected at least ${n}`
  // Not every platform names the model in its batch object (Kimi's does not).
  const named = parts.flatMap((part) => part.model === undefined ? [] : [part.model])
  const seen = [...new Set(named)].sort()
  return models === undefined || named.length === 0 || JSON.stringify(seen) === JSON.stringify([...models].sort())
    ? undefined
    : `jobs for models ${seen.join(", ")}`
}

const fileRows: ReadonlyArray<Row> = Flows.providers.flatMap((p): ReadonlyArray<Row> => {
  const ok = (id: string) => validLine(p, id)
  return [
    fileRow(
      p,
      "malformed JSON",
      "line 2 is `{custom_id: b,}`",
      () => lines(ok("a"), "{custom_id: b,}", ok("c")),
      "InputValidationError",
      "line 2"
    ),
    fileRow(
      p,
      "truncated last line",
      "the last line stops mid-object",
      () => concat(lines(ok("a")), utf8(ok("b").slice(0, 20))),
      "InputValidationError",
      "line 2"
    ),
    fileRow(
      p,
      "CRLF line endings and a BOM",
      "\\uFEFF + lines ending \\r\\n",
      () => utf8(`\uFEFF${ok("a")}\r\n${ok("b")}\r\n`),
      "accepted",
      ""
    ),
    fileRow(
      p,
      "invalid UTF-8",
      "0xFF 0xFE inside line 2",
      () =>
        concat(
          lines(ok("a")),
          utf8(ok("b").slice(0, 12)),
          new Uint8Array([0xff, 0xfe]),
          utf8(`${ok("b").slice(12)}\n`)
        ),
      "InputValidationError",
      "UTF-8"
    ),
    fileRow(
      p,
      "empty lines",
      "blank lines between and after requests",
      () => lines(ok("a"), "", ok("b"), "   ", ""),
      "accepted",
      ""
    ),
    fileRow(
      p,
      "a 10 MB line",
      "one request with a 10 MB message",
      () => lines(ok("big").replace("hi big", "x".repeat(10 * 1024 * 1024))),
      "accepted",
      ""
    ),
    fileRow(
      p,
      "duplicate custom_id",
      "two lines with id `a`",
      () => lines(ok("a"), ok("b"), ok("a")),
      "InputValidationError",
      "line 3"
    ),
    fileRow(
      p,
      "missing fields",
      "no id",
      () => lines(ok("a"), missingId(p)),
      "InputValidationError",
      "line 2"
    ),
    fileRow(p, "an empty file", "zero bytes", () => new Uint8Array(0), "InputValidationError", "no requests"),
    fileRow(p, "only blank lines", "three newlines", () => utf8("\n\n\n"), "InputValidationError", "no requests"),
    fileRow(
      p,
      "a whitespace-only id",
      "the id is two spaces",
      () => lines(ok("a"), ok("  ")),
      "InputValidationError",
      "whitespace"
    ),
    fileRow(
      p,
      "a line that is not an object",
      "`[1,2,3]`",
      () => lines(ok("a"), "[1,2,3]"),
      "InputValidationError",
      "line 2"
    ),
    {
      // A job takes one model: the lifecycle plans a job per model rather than refuse the file.
      ...fileRow(
        p,
        "mixed models",
        "two models in one file",
        () => lines(bargeLine("a", modelOf(p)), bargeLine("b", otherModel[p]!)),
        "accepted",
        ""
      ),
      check: splitInto(2, [modelOf(p), otherModel[p]!])
    },
    {
      // Through the unified Batch an input over one job's limit is split into jobs that fit.
      ...fileRow(
        p,
        "over the size limit",
        "9 KB of lines with a 4 KB limit",
        () =>
          lines(
            ...Array.from({ length: 60 }, (_, i) =>
              p === "qianfan" ? validLine(p, `r${i}`, { query: `question ${i} `.padEnd(100, ".") }) : ok(`r${i}`))
          ),
        "accepted",
        "",
        { tight: true }
      ),
      check: splitInto(2)
    },
    fileRow(
      p,
      "one line over the size limit",
      "a 5 KB line with a 4 KB limit",
      () => lines(ok("big").replace("hi big", "y".repeat(5000))),
      "InputValidationError",
      "more than",
      { tight: true }
    ),
    fileRow(
      p,
      "a bad completion window",
      "`3w`",
      () => lines(ok("a")),
      "InputValidationError",
      "3w",
      { completionWindow: "3w" }
    )
  ]
})

// --- configuration -----------------------------------------------------------------------------------------------

/** A lookup through the provider's registry entry configured from `env` alone (what the CLI builds). */
const configRun = (provider: Provider, env: Record<string, string>) =>
  Effect.flatMap(Batch.Batch, (batch) => batch.get(`${provider}:job-x`)).pipe(
    Effect.provide(Flows.entryOf(provider).layerConfig),
    Effect.provide(NodeHttpClient.layerUndici),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
  )

const configRow = (
  provider: Provider,
  name: string,
  env: Record<string, string>,
  tag: string,
  contains: string
): Row => ({
  name: `${provider} config: ${name}`,
  input: JSON.stringify(env),
  tag,
  contains,
  run: () => configRun(provider, env)
})

const ark = {
  VOLC_ACCESSKEY: "AKLTexample",
  VOLC_SECRETKEY: "c2VjcmV0",
  ARK_TOS_BUCKET: "b",
  ARK_ENDPOINT: "http://127.0.0.1:9"
}
const kimi = { MOONSHOT_API_KEY: "sk-example", MOONSHOT_BASE_URL: "http://127.0.0.1:9/v1" }
const openai = { OPENAI_API_KEY: "sk-example", OPENAI_BASE_URL: "http://127.0.0.1:9/v1" }
const qf = {
  QIANFAN_ACCESS_KEY: "ak",
  QIANFAN_SECRET_KEY: "sk",
  QIANFAN_BOS_BUCKET: "b",
  QIANFAN_ENDPOINT: "http://127.0.0.1:9"
}
const qf2 = { QIANFAN_API_KEY: "bce-v3/ALTAK-example/0123", QIANFAN_BASE_URL: "http://127.0.0.1:9/v2" }
const without = <T extends Record<string, string>>(env: T, name: keyof T) => {
  const copy: Record<string, string> = { ...env }
  delete copy[name as string]
  return copy
}

const configRows: ReadonlyArray<Row> = [
  configRow(
    "ark",
    "missing access key",
    without(ark, "VOLC_ACCESSKEY"),
    "ConfigError",
    "Missing data at VOLC_ACCESSKEY"
  ),
  configRow(
    "ark",
    "missing secret key",
    without(ark, "VOLC_SECRETKEY"),
    "ConfigError",
    "Missing data at VOLC_SECRETKEY"
  ),
  configRow("ark", "empty secret key", { ...ark, VOLC_SECRETKEY: "" }, "ConfigError", "at VOLC_SECRETKEY"),
  configRow("ark", "empty access key", { ...ark, VOLC_ACCESSKEY: "" }, "ConfigError", "at VOLC_ACCESSKEY"),
  configRow(
    "ark",
    "malformed endpoint",
    { ...ark, ARK_ENDPOINT: "open volcengineapi com" },
    "ConfigError",
    "Invalid data at ARK_ENDPOINT"
  ),
  configRow(
    "ark",
    "endpoint with another scheme",
    { ...ark, TOS_ENDPOINT: "ftp://tos.example.com" },
    "ConfigError",
    "Invalid data at TOS_ENDPOINT"
  ),
  configRow(
    "ark",
    "plain http to a remote host",
    { ...ark, ARK_ENDPOINT: "http://open.example.com" },
    "RequestFailed",
    "allowInsecureHttp"
  ),
  configRow(
    "moonshot",
    "missing API key",
    without(kimi, "MOONSHOT_API_KEY"),
    "ConfigError",
    "Missing data at MOONSHOT_API_KEY"
  ),
  configRow("moonshot", "empty API key", { ...kimi, MOONSHOT_API_KEY: "" }, "ConfigError", "at MOONSHOT_API_KEY"),
  configRow(
    "moonshot",
    "API key with a trailing newline",
    { ...kimi, MOONSHOT_API_KEY: "sk-example\n" },
    "ConfigError",
    "MOONSHOT_API_KEY ends with a line break (pasted with its newline?); remove it"
  ),
  configRow(
    "moonshot",
    "API key with a space inside",
    { ...kimi, MOONSHOT_API_KEY: "sk-exa mple" },
    "ConfigError",
    "MOONSHOT_API_KEY contains whitespace, which no key does; check that it was copied whole"
  ),
  configRow(
    "ark",
    "blank secret key",
    { ...ark, VOLC_SECRETKEY: "   " },
    "ConfigError",
    "VOLC_SECRETKEY holds only whitespace; set it to the key the provider issued"
  ),
  configRow(
    "ark",
    "access key with a trailing space",
    { ...ark, VOLC_ACCESSKEY: "AKLTexample " },
    "ConfigError",
    "VOLC_ACCESSKEY has leading or trailing whitespace; remove it"
  ),
  configRow(
    "qianfan",
    "secret key with a trailing newline",
    { ...qf, QIANFAN_SECRET_KEY: "sk\n" },
    "ConfigError",
    "QIANFAN_SECRET_KEY ends with a line break (pasted with its newline?); remove it"
  ),
  configRow(
    "moonshot",
    "malformed base URL",
    { ...kimi, MOONSHOT_BASE_URL: "api.moonshot.cn/v1 " },
    "ConfigError",
    "Invalid data at MOONSHOT_BASE_URL"
  ),
  configRow(
    "moonshot",
    "plain http to a remote host",
    { ...kimi, MOONSHOT_BASE_URL: "http://api.example.com/v1" },
    "RequestFailed",
    "allowInsecureHttp"
  ),
  configRow(
    "qianfan",
    "missing access key",
    without(qf, "QIANFAN_ACCESS_KEY"),
    "ConfigError",
    "Missing data at QIANFAN_ACCESS_KEY"
  ),
  configRow("qianfan", "empty secret key", { ...qf, QIANFAN_SECRET_KEY: "" }, "ConfigError", "at QIANFAN_SECRET_KEY"),
  configRow(
    "qianfan",
    "missing bucket",
    without(qf, "QIANFAN_BOS_BUCKET"),
    "ConfigError",
    "Missing data at QIANFAN_BOS_BUCKET"
  ),
  configRow(
    "qianfan",
    "malformed endpoint",
    { ...qf, QIANFAN_ENDPOINT: "https://qianfan baidubce com" },
    "ConfigError",
    "Invalid data at QIANFAN_ENDPOINT"
  ),
  configRow(
    "qianfan",
    "plain http to a remote host",
    { ...qf, QIANFAN_ENDPOINT: "http://qianfan.example.com" },
    "RequestFailed",
    "allowInsecureHttp"
  ),
  configRow("ark", "missing bucket", without(ark, "ARK_TOS_BUCKET"), "ConfigError", "Missing data at ARK_TOS_BUCKET"),
  configRow(
    "openai",
    "missing API key",
    without(openai, "OPENAI_API_KEY"),
    "ConfigError",
    "Missing data at OPENAI_API_KEY"
  ),
  configRow(
    "openai",
    "API key with a trailing newline",
    { ...openai, OPENAI_API_KEY: "sk-example\n" },
    "ConfigError",
    "OPENAI_API_KEY ends with a line break (pasted with its newline?); remove it"
  ),
  configRow(
    "openai",
    "base URL with another scheme",
    { ...openai, OPENAI_BASE_URL: "ftp://api.openai.com/v1" },
    "ConfigError",
    "Invalid data at OPENAI_BASE_URL"
  ),
  configRow(
    "openai",
    "plain http to a remote host",
    { ...openai, OPENAI_BASE_URL: "http://api.example.com/v1" },
    "RequestFailed",
    "allowInsecureHttp"
  ),
  configRow("qianfan-v2", "empty API key", { ...qf2, QIANFAN_API_KEY: "" }, "ConfigError", "at QIANFAN_API_KEY"),
  configRow(
    "qianfan-v2",
    "API key with a space inside",
    { ...qf2, QIANFAN_API_KEY: "bce-v3/ALTAK-exa mple/0123" },
    "ConfigError",
    "QIANFAN_API_KEY contains whitespace, which no key does; check that it was copied whole"
  ),
  configRow(
    "qianfan-v2",
    "malformed base URL",
    { ...qf2, QIANFAN_BASE_URL: "qianfan.baidubce.com/v2 " },
    "ConfigError",
    "Invalid data at QIANFAN_BASE_URL"
  ),
  configRow(
    "qianfan-v2",
    "plain http to a remote host",
    { ...qf2, QIANFAN_BASE_URL: "http://qianfan.example.com/v2" },
    "RequestFailed",
    "allowInsecureHttp"
  )
]

// --- servers -------------------------------------------------------------------------------------------------------

/** The wire each provider speaks: Ark's OpenAPI, Qianfan's console, or the OpenAI Files + Batches API. */
type Wire = "ark" | "qianfan" | "openai"

/** The OpenAI-compatible platforms' profiles (their status words). */
const profileOf: Record<Provider, Profile.Profile | undefined> = {
  moonshot: MoonshotBatch.profile,
  openai: OpenAiBatch.profile,
  "qianfan-v2": QianfanV2Batch.profile
}

const wireOf = (provider: Provider): Wire =>
  provider === "ark" || provider === "qianfan" ? provider : profileOf[provider] !== undefined ? "openai" : assert.fail()

/** The platform's word for a phase (`in_progress`, `Running`, …). */
const wordFor = (provider: Provider, phase: Batch.Phase): string =>
  Object.entries(profileOf[provider]!.statuses).find(([, mapped]) => mapped === phase)![0]

/** Where each wire's job status lives in its answer, and the route that answers it. */
const statusRoute: Record<Wire, RegExp> = {
  ark: /Action=GetBatchInferenceJob(&|$)/,
  openai: /^\/v[12]\/batches\/[^/?]+$/,
  qianfan: /Action=DescribeBatchInferenceTask(&|$)/
}

const jobOf = (wire: Wire, body: any): any => wire === "ark" ? body.Result : wire === "openai" ? body : body.result

const statusField: Record<Wire, string> = { ark: "Phase", openai: "status", qianfan: "runStatus" }

const setStatus = (wire: Wire, body: any, value: unknown) => {
  const job = jobOf(wire, body)
  if (wire === "ark") job.Status.Phase = value
  else job[statusField[wire]] = value
}

const errorEnvelope = (wire: Wire, original: any): unknown => {
  switch (wire) {
    case "ark":
      return {
        ResponseMetadata: {
          ...original.ResponseMetadata,
          Error: { Code: "InternalServiceError", CodeN: 100023, Message: "the service is busy" }
        }
      }
    case "openai":
      return { error: { type: "server_error", code: "server_error", message: "the service is busy" } }
    case "qianfan":
      return { requestId: "r-1", code: "InternalError", message: "the service is busy" }
  }
}

const htmlPage =
  "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"

type Step = "get" | "await" | "results"

/** Submits through a pass-through proxy, then bends the answers with `mutation` while `step` runs. */
const serverRun = (provider: Provider, mutation: Mutation, step: Step) =>
  onEmulator(Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    let current: Mutation = () => undefined
    const proxied = yield* Effect.forEach(
      Emulator.services,
      (service) => Effect.map(proxy(emulator.urls[service], () => current), (p) => [service, p.url] as const)
    )
    const urls = Object.fromEntries(proxied) as unknown as Emulator.Urls
    const flow = yield* Flows.make(provider, { urls, credentials: emulator.credentials }, speed)
    const poll = { schedule: Schedule.spaced("10 millis").pipe(Schedule.upTo("20 seconds")) }
    const { id } = yield* flow.submit(Flows.makeRequests(4, "srv", 100))
    if (step === "results") yield* flow.batch.await(id, poll)
    current = mutation
    return yield* (step === "get"
      ? flow.batch.get(id)
      : step === "await"
      ? flow.batch.await(id, poll)
      : Stream.runCollect(flow.batch.results(id)))
  }))

const onStatus =
  (provider: Provider, bend: (answer: Answer, request: Seen) => Answer | undefined): Mutation => (request, answer) =>
    statusRoute[wireOf(provider)].test(request.url) && answer.status === 200 ? bend(answer, request) : undefined

const serverRow = (
  provider: Provider,
  name: string,
  input: string,
  mutation: Mutation,
  step: Step,
  tag: string,
  contains: string
): Row => ({
  name: `${provider} server: ${name}`,
  input,
  tag,
  contains,
  run: () => serverRun(provider, mutation, step)
})

/** A job seen Running with progress, then Queued with none, then as it really is. */
const backwards = (provider: Provider): Mutation => {
  let polls = 0
  const wire = wireOf(provider)
  return onStatus(provider, (answer) => {
    polls++
    if (polls > 2) return undefined
    const body = json(answer)
    const job = jobOf(wire, body)
    if (wire === "ark") {
      job.Status.Phase = polls === 1 ? "Running" : "Queued"
      job.RequestCounts = { Total: 4, Completed: polls === 1 ? 3 : 0, Failed: 0 }
    } else if (wire === "openai") {
      job.status = wordFor(provider, polls === 1 ? "running" : "pending")
      job.request_counts = { total: 4, completed: polls === 1 ? 3 : 0, failed: 0 }
    } else {
      job.runStatus = polls === 1 ? "Running" : "Queuing"
      job.progress = polls === 1 ? 3 : 0
    }
    return withJson(answer, body)
  })
}

/** Result files: what each wire downloads results from. */
const resultsRoute: Record<Wire, RegExp> = {
  ark: /results\.jsonl$/,
  openai: /^\/v[12]\/files\/[^/]+\/content$/,
  qianfan: /\.jsonl?$/
}

const isResultDownload = (provider: Provider, request: Seen) =>
  request.method === "GET" && resultsRoute[wireOf(provider)].test(request.url.split("?")[0]!)

/** Result files: the second line replaced by garbage. */
const badResultLine = (provider: Provider): Mutation => (request, answer) => {
  if (!isResultDownload(provider, request) || answer.status >= 300) return undefined
  const text = answer.body.toString("utf8").split("\n")
  if (text.length < 3) return undefined
  text[1] = "{\"custom_id\": \"srv-2\", \"response\": {oops"
  return { ...answer, body: Buffer.from(text.join("\n")) }
}

/** The first result download is cut halfway; the resumed one is answered from 5 bytes past the requested offset. */
const resumedTooFar = (provider: Provider): Mutation => {
  let cut = false
  let shifted = false
  return (request, answer) => {
    if (!isResultDownload(provider, request)) return undefined
    const range = request.headers.range
    if (!cut && range === undefined && answer.status === 200 && answer.body.byteLength > 20) {
      cut = true
      return { ...answer, cutAt: Math.floor(answer.body.byteLength / 2) }
    }
    if (shifted || typeof range !== "string" || answer.status !== 206) return undefined
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(answer.headers["content-range"] ?? "")
    if (match === null || answer.body.byteLength <= 5) return undefined
    shifted = true
    return {
      ...answer,
      headers: { ...answer.headers, "content-range": `bytes ${Number(match[1]) + 5}-${match[2]}/${match[3]}` },
      body: answer.body.subarray(5)
    }
  }
}

const everyIdOnce = (value: unknown): string | undefined => {
  const ids = Array.from(value as Iterable<{ readonly customId: string }>, (r) => r.customId).sort()
  const expected = Flows.makeRequests(4, "srv", 100).map((r) => r.customId).sort()
  return JSON.stringify(ids) === JSON.stringify(expected) ? undefined : `results ${JSON.stringify(ids)}`
}

/** An accepted `get`: the status the client made of what it was shown. */
const statusIs = (expected: Partial<Record<"phase" | "providerStatus", string>>) => (value: unknown) => {
  const status = value as Batch.BatchStatus
  const part = status.parts[0]!
  const wrong = Object.entries(expected).filter(([key, want]) => part[key as "phase" | "providerStatus"] !== want)
  return wrong.length === 0 ? undefined : `status ${part.phase} (${part.providerStatus})`
}

const serverRows: ReadonlyArray<Row> = Flows.providers.flatMap((p): ReadonlyArray<Row> => {
  const wire = wireOf(p)
  return [
    {
      name: `${p} server: a resumed download that starts past the requested byte`,
      input: "the first download is cut; the Range answer skips 5 bytes",
      tag: "accepted",
      contains: "",
      run: () => serverRun(p, resumedTooFar(p), "results"),
      check: everyIdOnce
    },
    {
      // Only the id identifies a job: without a status word it is in phase `unknown`, not terminal.
      ...serverRow(
        p,
        "a missing field",
        `the job without \`${statusField[wire]}\``,
        onStatus(p, (a) => {
          const body = json(a)
          if (wire === "ark") delete jobOf(wire, body).Status
          else delete jobOf(wire, body)[statusField[wire]]
          return withJson(a, body)
        }),
        "get",
        "accepted",
        ""
      ),
      check: statusIs({ phase: "unknown" })
    },
    {
      // Counts Barge cannot read are left out; the status word still says where the job is. Ark reads its
      // `RequestCounts` strictly: the whole answer is unreadable.
      ...serverRow(
        p,
        "a wrongly typed field",
        "a count as a string",
        onStatus(p, (a) => {
          const body = json(a)
          const job = jobOf(wire, body)
          if (wire === "ark") job.RequestCounts = { Total: "four" }
          else if (wire === "openai") job.request_counts = { total: "four", completed: 0, failed: 0 }
          else job.progress = { n: 1 }
          return withJson(a, body)
        }),
        "get",
        wire === "ark" ? "ResponseDecodeError" : "accepted",
        wire === "ark" ? "GetBatchInferenceJob" : ""
      ),
      check: statusIs({ phase: "completed" })
    },
    serverRow(
      p,
      "an HTML error page",
      "502 with text/html",
      onStatus(p, (a) => withText(a, htmlPage, 502, "text/html")),
      "get",
      "ApiError",
      "502"
    ),
    serverRow(
      p,
      "an HTML page with 200",
      "200 with text/html",
      onStatus(p, (a) => withText(a, htmlPage, 200, "text/html")),
      "get",
      "ResponseDecodeError",
      "not JSON"
    ),
    serverRow(
      p,
      "a 200 carrying an error envelope",
      "HTTP 200 + the provider's error body",
      onStatus(p, (a) => withJson(a, errorEnvelope(wire, json(a)))),
      "get",
      "ApiError",
      "busy"
    ),
    serverRow(
      p,
      "an empty body",
      "200 with no bytes",
      onStatus(p, (a) => withText(a, "", 200, "application/json")),
      "get",
      "ResponseDecodeError",
      "undefined"
    ),
    {
      ...serverRow(
        p,
        "an unknown status value",
        `\`${statusField[wire]}\` = "Hibernating"`,
        onStatus(p, (a) => {
          const body = json(a)
          setStatus(wire, body, "Hibernating")
          return withJson(a, body)
        }),
        "get",
        "accepted",
        ""
      ),
      // Not terminal, so polling goes on; the word is kept for the user to see.
      check: statusIs({ phase: "unknown", providerStatus: "Hibernating" })
    },
    serverRow(
      p,
      "a job that moves backwards",
      "Running 3/4, then Queued 0/4, then the real job",
      backwards(p),
      "await",
      "accepted",
      ""
    ),
    serverRow(
      p,
      "a malformed result line",
      "line 2 of the output is cut",
      badResultLine(p),
      "results",
      "JsonlError",
      "line 2"
    )
  ]
})

// --- requests, through the unified Batch ---------------------------------------------------------------------------

/**
 * Submits through the unified `Batch` and fails the row if anything reached the emulator: every row here must be
 * refused before any network call.
 */
const submitUnified = (provider: Provider, input: Batch.Input<never, never>, options: Batch.SubmitOptions = {}) =>
  onEmulator(
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      return yield* Effect.flatMap(
        Batch.Batch,
        (batch) => batch.submit(input, { model: modelOf(provider), ...options })
      )
        .pipe(Effect.provide(Flows.layer(provider, emulator, speed, {})))
    }).pipe(beforeAnyRequest)
  )

/** However `effect` ends, it ends as `RequestsMade` if it let any request reach the emulator. */
const beforeAnyRequest = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const exit = yield* Effect.exit(effect)
    const counts = yield* emulator.requests
    if (totalRequests(counts) > 0) {
      return yield* Effect.fail({
        _tag: "RequestsMade",
        message: `requests reached the emulator: ${JSON.stringify(counts)}`
      })
    }
    return yield* exit
  })

/** An OpenAI batch line; `raw` replaces `"RAW"` in it with text JSON.stringify cannot write (1e400, deep nesting). */
const openAiLine = (fields: Record<string, unknown>, body: Record<string, unknown>, raw?: string): string => {
  const text = JSON.stringify({
    custom_id: "a",
    method: "POST",
    url: "/v1/chat/completions",
    ...fields,
    body: { messages: [{ role: "user", content: "hi" }], ...body }
  })
  return raw === undefined ? text : text.replace("\"RAW\"", raw)
}

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`

const lineRow = (provider: Provider, name: string, input: string, line: string, contains: string): Row => ({
  name: `${provider} request: ${name}`,
  input,
  tag: "InputValidationError",
  contains,
  run: () => submitUnified(provider, Batch.jsonlBytes(Stream.make(lines(line))))
})

/**
 * A window longer than each provider's longest: Ark 28 days, Kimi 7, OpenAI and Qianfan's console 24 hours, Qianfan's
 * /v2 672 hours.
 */
const longestPlusOne: Record<Provider, string> = {
  ark: "29d",
  moonshot: "8d",
  openai: "7d",
  qianfan: "7d",
  "qianfan-v2": "29d"
}

const requestRows: ReadonlyArray<Row> = Flows.providers.flatMap((p): ReadonlyArray<Row> => [
  lineRow(
    p,
    "nested 100,000 levels deep",
    "`metadata` is 100,000 nested arrays",
    openAiLine({}, { metadata: "RAW" }, nested(100_000)),
    "line 1: `body.metadata.0.0.0.….0.0` nests more than 100 levels deep; no chat request needs that, flatten it"
  ),
  lineRow(
    p,
    "temperature 1e400",
    "`temperature: 1e400` (JSON reads Infinity)",
    openAiLine({}, { temperature: "RAW" }, "1e400"),
    "line 1: `body.temperature` must be a number from 0 to 2, not Infinity (a number beyond JSON's range, such as " +
      "1e400)"
  ),
  lineRow(
    p,
    "max_tokens -5",
    "`max_tokens: -5`",
    openAiLine({}, { max_tokens: -5 }),
    "line 1: `body.max_tokens` must be a whole number of at least 1, not -5"
  ),
  lineRow(
    p,
    "temperature \"hot\"",
    "`temperature: \"hot\"`",
    openAiLine({}, { temperature: "hot" }),
    "line 1: `body.temperature` must be a number from 0 to 2, not the string \"hot\""
  ),
  lineRow(
    p,
    "method GET",
    "an OpenAI line with `method: \"GET\"`",
    openAiLine({ method: "GET" }, {}),
    "line 1: `method` is the string \"GET\"; a batch line is sent as \"POST\""
  ),
  lineRow(
    p,
    "url /v1/embeddings",
    "an OpenAI line with `url: \"/v1/embeddings\"`",
    openAiLine({ url: "/v1/embeddings" }, {}),
    "line 1: `url` is the string \"/v1/embeddings\": a Barge batch runs chat completions (\"/v1/chat/completions\"); " +
      "send other endpoints in a batch of their own"
  ),
  lineRow(
    p,
    "a whitespace-only custom_id",
    "`custom_id: \"  \"`",
    openAiLine({ custom_id: "  " }, {}),
    "line 1: `custom_id` must be a non-empty string with more than whitespace, not the string \"  \""
  ),
  lineRow(
    p,
    "a role outside the chat roles",
    "`role: \"bot\"`",
    openAiLine({}, { messages: [{ role: "bot", content: "hi" }] }),
    "line 1: `body.messages.0.role` is the string \"bot\"; use one of system, user, assistant, tool, developer, function"
  ),
  lineRow(
    p,
    "content null",
    "a user message with `content: null`",
    openAiLine({}, { messages: [{ role: "user", content: null }] }),
    "line 1: `body.messages.0.content` is null: give the message its text (only an assistant message with " +
      "`tool_calls` may go without)"
  ),
  lineRow(
    p,
    "messages []",
    "`messages: []`",
    openAiLine({}, { messages: [] }),
    "line 1: `body.messages` is empty: a request needs at least one message, such as " +
      "[{\"role\": \"user\", \"content\": \"Hello\"}]"
  ),
  lineRow(
    p,
    "messages \"hello\"",
    "`messages: \"hello\"`",
    openAiLine({}, { messages: "hello" }),
    "line 1: `body.messages` must be a list of messages such as [{\"role\": \"user\", \"content\": \"Hello\"}], " +
      "not the string \"hello\""
  ),
  {
    name: `${p} request: a completion window it does not take`,
    input: `\`completionWindow: "${longestPlusOne[p]}"\``,
    tag: "InputValidationError",
    contains: `completion window "${longestPlusOne[p]}"`,
    run: () => submitUnified(p, [inCode(modelOf(p))], { completionWindow: longestPlusOne[p]! })
  }
])

/** Refusals one provider makes: its fixed parameters, a line for another endpoint than its batches run. */
const providerRows: ReadonlyArray<Row> = [
  lineRow(
    "moonshot",
    "Kimi's fixed sampling parameters",
    "`temperature: 0.3` on a Kimi batch",
    openAiLine({}, { temperature: 0.3, top_p: 0.9 }),
    "line 1: \"temperature\", \"top_p\" cannot be set in a moonshot batch (the provider fixes them for batch " +
      "requests): remove them, or submit with fixedParameters: \"drop\""
  ),
  lineRow(
    "qianfan-v2",
    "a line for another endpoint",
    "`url: \"/v1/chat/completions\"` on Qianfan's /v2 batches",
    openAiLine({ url: "/v1/chat/completions" }, {}),
    "line 1: `url` is \"/v1/chat/completions\" but this batch runs \"/v2/chat/completions\"; change the line's `url` or " +
      "leave it out"
  ),
  lineRow(
    "openai",
    "a line for another endpoint",
    "`url: \"/v2/chat/completions\"` on OpenAI's batches",
    openAiLine({ url: "/v2/chat/completions" }, {}),
    "line 1: `url` is \"/v2/chat/completions\" but this batch runs \"/v1/chat/completions\""
  )
]

/** A request built in code for `model` (the provider's documented one). */
const inCode = (model: string, extra: Record<string, unknown> = {}) =>
  ({ customId: "a", model, messages: [{ role: "user", content: "hi" }], ...extra }) as ChatRequest.ChatRequest

const circular = (model: string): ChatRequest.ChatRequest => {
  const request: Record<string, unknown> = { ...inCode(model) }
  request.metadata = { request }
  return request as ChatRequest.ChatRequest
}

const deepInCode = (model: string): ChatRequest.ChatRequest => {
  let metadata: Record<string, unknown> = {}
  for (let i = 0; i < 100_000; i++) metadata = { inner: metadata }
  return inCode(model, { metadata })
}

const inCodeRow = (
  provider: Provider,
  name: string,
  input: string,
  requests: (model: string) => Iterable<ChatRequest.ChatRequest>,
  contains: string
): Row => ({
  name: `${provider} submit: ${name}`,
  input,
  tag: "InputValidationError",
  contains,
  run: () => submitUnified(provider, requests(modelOf(provider)))
})

/** An iterable whose iterator throws after the first request. */
const throwingIterable = (model: string): Iterable<ChatRequest.ChatRequest> => ({
  *[Symbol.iterator]() {
    yield inCode(model)
    throw new Error("the database went away")
  }
})

const inCodeRows: ReadonlyArray<Row> = [
  ...Flows.providers.flatMap((p): ReadonlyArray<Row> => [
    inCodeRow(
      p,
      "a request nested 100,000 levels deep",
      "`metadata` is 100,000 nested objects",
      (model) => [deepInCode(model)],
      "line 1: `metadata.inner.inner.inner.….inner.inner` nests more than 100 levels deep"
    ),
    inCodeRow(
      p,
      "a circular object",
      "`request.metadata.request === request`",
      (model) => [circular(model)],
      "line 1: `metadata.request` refers back to an object that contains it (a circular structure), which JSON " +
        "cannot carry"
    ),
    inCodeRow(
      p,
      "a BigInt",
      "`seed: 7n`, `metadata: { at: 1n }`",
      (model) => [inCode(model, { seed: 7n }), inCode(model, { customId: "b", metadata: { at: 1n } })],
      "line 1: `seed` must be a whole number, not a BigInt (7n); line 2: `metadata.at` is a BigInt (1n), which JSON " +
        "cannot carry; use a number or a string"
    ),
    inCodeRow(
      p,
      "a throwing iterator",
      "an Iterable whose iterator throws at the second request",
      throwingIterable,
      "line 2: reading request 2 from the input threw: the database went away; nothing was submitted, fix the " +
        "code that produces the requests"
    )
  ])
]

const table: ReadonlyArray<Row> = [
  ...fileRows,
  ...requestRows,
  ...providerRows,
  ...inCodeRows,
  ...configRows,
  ...serverRows
]

// --- the CLI, as a spawned process --------------------------------------------------------------------------------

/** How a spawned `barge` ended, as a row sees it: exit 0 is accepted (with what it wrote), any other code a failure
 * tagged `exit N` whose message is what it wrote to stderr. */
const exited = (ran: Ran): Effect.Effect<Ran, { readonly _tag: string; readonly message: string }> =>
  ran.code === 0
    ? Effect.succeed(ran)
    : Effect.fail({
      _tag: `exit ${ran.code}`,
      message: `${ran.stderr}${ran.stdout === "" ? "" : `\nstdout: ${ran.stdout}`}`
    })

const tmpFile = (name: string, text: string) => {
  const path = Path.join(tmp, `${++files}-${name}`)
  Fs.writeFileSync(path, text)
  return path
}

const goodFile = () => tmpFile("input.jsonl", lines(validLine("moonshot", "a")).toString())

/**
 * A CLI row against a running emulator (`BARGE_EMULATOR_URLS`): `args` are given its URLs; the row fails with
 * `RequestsMade` when the command reached the emulator, unless `requests` allows it.
 */
const cliRow = (
  name: string,
  input: string,
  args: (urls: string) => ReadonlyArray<string> | { readonly script: string },
  tag: string,
  contains: string,
  options: {
    readonly env?: (urls: Emulator.Urls) => Record<string, string | undefined>
    readonly check?: (ran: Ran) => string | undefined
    readonly afterwards?: () => string | undefined
    readonly before?: Effect.Effect<string, unknown, Emulator.Emulator | HttpClient.HttpClient>
  } = {}
): Row => ({
  name: `cli: ${name}`,
  input,
  tag,
  contains,
  check: options.check === undefined ? undefined : (value) => options.check!(value as Ran),
  afterwards: options.afterwards,
  run: () =>
    onEmulator(Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const urls = JSON.stringify(emulator.urls)
      const prepared = options.before === undefined ? "" : yield* options.before
      const env = { BARGE_EMULATOR_URLS: urls, ...options.env?.(emulator.urls) }
      const run = cli(args(prepared), env).pipe(Effect.flatMap(exited))
      return yield* (options.before === undefined ? beforeAnyRequest(run) : run)
    }))
})

/** A completed Moonshot batch of `n` requests (1,500 answers are ~400 KB, far more than a pipe holds). */
const completedBatch = (n: number) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const requests = Array.from({ length: n }, (_, i) => inCode(modelOf("moonshot"), { customId: `r-${i}` }))
    return yield* Effect.flatMap(Batch.Batch, (batch) =>
      Effect.flatMap(
        batch.submit(requests),
        (submitted) =>
          Effect.as(
            batch.await(submitted.id, { schedule: Schedule.spaced("20 millis") }),
            submitted.id
          )
      )).pipe(Effect.provide(Flows.layer("moonshot", emulator, speed)))
  })

const symlinkLoop = () => {
  const path = Path.join(tmp, `${++files}-loop.jsonl`)
  Fs.symlinkSync(path, path)
  return path
}

const cliRows: ReadonlyArray<Row> = [
  cliRow(
    "a request nested 100,000 levels deep",
    "`barge submit` of a line whose `metadata` is 100,000 nested arrays",
    () => [
      "submit",
      "-p",
      "moonshot",
      tmpFile("deep.jsonl", `${openAiLine({}, { model: modelOf("moonshot"), metadata: "RAW" }, nested(100_000))}\n`)
    ],
    "exit 3",
    "line 1 [InvalidBody]: `body.metadata.0.0.0.….0.0` nests more than 100 levels deep"
  ),
  cliRow(
    "a symlink loop as the input file",
    "FILE.jsonl is a symbolic link to itself",
    () => ["submit", "-p", "moonshot", symlinkLoop()],
    "exit 2",
    "is a loop of symbolic links; point it at the real file"
  ),
  cliRow(
    "a directory as the input file",
    "FILE.jsonl is a directory",
    () => ["submit", "-p", "moonshot", tmp],
    "exit 2",
    "is a directory; name the JSONL file in it"
  ),
  cliRow(
    "--poll=soon",
    "`barge submit --poll=soon FILE`",
    () => ["submit", "-p", "moonshot", "--watch", "--poll=soon", goodFile()],
    "exit 2",
    "--poll: cannot read \"soon\" as a duration; use e.g. 24h, 3d, 90m, 30s or 500ms"
  ),
  cliRow(
    "--window soon",
    "`barge submit --window soon FILE`",
    () => ["submit", "-p", "moonshot", "--window", "soon", goodFile()],
    "exit 2",
    "--window: cannot read \"soon\" as a duration"
  ),
  cliRow(
    "-o in a directory that does not exist",
    "`barge submit -o /nowhere/out.jsonl FILE`",
    () => ["submit", "-p", "moonshot", "-o", Path.join(tmp, "missing-dir", "out.jsonl"), goodFile()],
    "exit 2",
    "missing-dir\" does not exist"
  ),
  (() => {
    const input = goodFile()
    const before = Fs.readFileSync(input, "utf8")
    return cliRow(
      "-o naming the input file",
      "`barge submit -o FILE FILE` (the file through another path)",
      () => ["submit", "-p", "moonshot", "-o", `${Path.dirname(input)}/./${Path.basename(input)}`, input],
      "exit 2",
      "is the input file",
      { afterwards: () => Fs.readFileSync(input, "utf8") === before ? undefined : "the input file changed" }
    )
  })(),
  cliRow("--limit 0", "`barge list --limit 0`", () => ["list", "-p", "moonshot", "--limit", "0"], "exit 2", "--limit"),
  cliRow(
    "an API key with a trailing newline",
    "MOONSHOT_API_KEY=$'sk-…\\n', a real provider's configuration pointed at the emulator",
    () => ["list", "-p", "moonshot"],
    "exit 6",
    "MOONSHOT_API_KEY ends with a line break (pasted with its newline?); remove it",
    {
      env: (urls) => ({
        BARGE_EMULATOR_URLS: undefined,
        MOONSHOT_BASE_URL: `${urls.moonshot}/v1`,
        MOONSHOT_API_KEY: `${Emulator.defaultCredentials.moonshot.apiKey}\n`
      })
    }
  ),
  cliRow(
    "an id that is well formed but unknown",
    "`barge status moonshot:batch_nope`",
    () => ["status", "moonshot:batch_nope"],
    "exit 7",
    "moonshot has no batch moonshot:batch_nope",
    { before: Effect.succeed("") }
  ),
  cliRow(
    "a closed pipe",
    "`barge results ID | head -1` on 1,500 results",
    (id) => ({ script: `$BARGE results ${id} | head -1; exit \${PIPESTATUS[0]}` }),
    "accepted",
    "",
    {
      before: completedBatch(1500),
      check: (ran) =>
        ran.stderr !== ""
          ? `wrote to stderr: ${ran.stderr}`
          : ran.stdout.trim().split("\n").length !== 1
          ? `stdout: ${ran.stdout}`
          : undefined
    }
  ),
  cliRow(
    "an error thrown outside the program",
    "a callback that throws while `barge list` runs",
    () => ({
      script: `node --import tsx --import ${
        Path.resolve(import.meta.dirname, "fixtures/throwOutsideEffect.mjs")
      } src/bin.ts list -p moonshot`
    }),
    "exit 1",
    "This is a bug in barge, not in your input or setup: please report it with the command you ran and the text " +
      "below.\nError: a callback blew up outside the program",
    { before: Effect.succeed("") }
  )
]

const rowTest = (row: Row) =>
  it.live(
    `${row.name} (${row.input.length > 60 ? `${row.input.slice(0, 60)}…` : row.input}) → ${row.tag}`,
    () =>
      Effect.gen(function*() {
        const result = yield* outcome(Effect.scoped(row.run()))
        if (result._tag === "Defect") assert.fail(`a defect: ${result.pretty}`)
        if (row.tag === "accepted") {
          assert.strictEqual(result._tag, "Accepted", result._tag === "Failed" ? result.text : "")
          if (result._tag === "Accepted") assert.isUndefined(row.check?.(result.value))
          return
        }
        assert.strictEqual(result._tag, "Failed", "expected a failure")
        if (result._tag !== "Failed") return
        assert.strictEqual(result.tag, row.tag, result.text)
        assert.include(`${result.message}\n${result.text}`, row.contains, result.text)
        assert.isUndefined(row.afterwards?.())
      }),
    // A spawned CLI loads TypeScript first: slow on a loaded machine.
    { timeout: 120_000 }
  )

describe("bad input", () => {
  it("the table has at least 50 cases", () => {
    const all = [...table, ...cliRows]
    assert.isAtLeast(all.length, 50)
    assert.strictEqual(new Set(all.map((row) => row.name)).size, all.length, "case names are unique")
  })

  for (const row of table) rowTest(row)

  // Each spawned process mostly waits on its own start-up: side by side.
  describe.concurrent("the barge command", () => {
    for (const row of cliRows) rowTest(row)
  })
})
