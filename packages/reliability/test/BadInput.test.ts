/**
 * Bad input, one table: users' files, configuration and servers. Each row names the case, the input, the error tag
 * expected (or `accepted`) and text the message must contain; every row also asserts the outcome is never a defect.
 *
 * Server rows put a loopback proxy in front of the emulator and bend its real answers (drop or retype a field,
 * swap in an HTML page, an error envelope with 200, an empty body, an unknown status, a job that moves backwards):
 * the faithful emulator never sends these, the client must still cope.
 */
import { ArkBatch } from "@barge/ark"
import { Batch, ChatRequest, InputValidation } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { MoonshotBatch, OpenAiCompatible, Profile } from "@barge/moonshot"
import { QianfanBatch } from "@barge/qianfan"
import type { FileSystem, HttpClient } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted, Schedule, type Scope, Stream } from "effect"
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

// --- users' files ------------------------------------------------------------------------------------------------

const validLine = (provider: Provider, id: string, extra: Record<string, unknown> = {}): string => {
  switch (provider) {
    case "ark":
      return JSON.stringify({ custom_id: id, body: { messages: [{ role: "user", content: `hi ${id}` }], ...extra } })
    case "moonshot":
      return JSON.stringify({
        custom_id: id,
        method: "POST",
        url: "/v1/chat/completions",
        body: { model: "moonshot-v1-8k", messages: [{ role: "user", content: `hi ${id}` }], ...extra }
      })
    case "qianfan":
      return JSON.stringify({ id, query: `hi ${id}`, ...extra })
  }
}

const tmp = Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-bad-input-"))
let files = 0

interface FileOptions {
  readonly completionWindow?: string
  /** Tightened limits, to reach "over the limit" without writing hundreds of megabytes. */
  readonly tight?: boolean
}

/** Submits raw file bytes the way a user's file reaches each provider: a path (Ark), a file stream (Moonshot), the
 * unified `Batch` over JSONL bytes (Qianfan, which takes parsed lines natively). */
const submitBytes = (provider: Provider, bytes: Uint8Array, options: FileOptions = {}) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const target = { urls: emulator.urls, credentials: emulator.credentials }
    let result: unknown
    switch (provider) {
      case "ark": {
        if (options.tight === true) {
          // Limits are tightened through the unified Batch, which splits a submission into jobs that fit.
          const layer = ArkBatch.layerBatch.pipe(
            Batch.withLimits({ maxBytesPerJob: 4096 }),
            Layer.provide(Layer.effect(ArkBatch.ArkBatch, Flows.arkService(target, speed)))
          )
          result = yield* Effect.provide(
            Effect.flatMap(Batch.Batch, (batch) =>
              batch.submit(Batch.jsonlBytes(Stream.make(bytes)), { model: "doubao-pro-32k" })),
            layer
          )
          break
        }
        const path = Path.join(tmp, `input-${++files}.jsonl`)
        Fs.writeFileSync(path, bytes)
        const ark = yield* Flows.arkService(target, speed)
        result = yield* ark.submit(path, {
          name: "bad-input",
          model: { _tag: "Foundation", name: "doubao-pro-32k", version: "240615" },
          ...(options.completionWindow === undefined ? {} : { completionWindow: options.completionWindow })
        })
        break
      }
      case "moonshot": {
        const kimi = yield* OpenAiCompatible.make({
          profile: options.tight === true
            ? { ...Profile.moonshot({ baseUrl: `${target.urls.moonshot}/v1` }), limits: tightMoonshot }
            : Profile.moonshot({ baseUrl: `${target.urls.moonshot}/v1` }),
          apiKey: Redacted.make(target.credentials.moonshot.apiKey),
          retry: speed.retry
        })
        result = yield* kimi.submit(
          OpenAiCompatible.fromStream("input.jsonl", Stream.make(bytes)),
          options.completionWindow === undefined ? {} : { completionWindow: options.completionWindow }
        )
        break
      }
      case "qianfan": {
        if (options.completionWindow !== undefined) {
          // The unified Batch types its window as a Duration; the native service takes Qianfan's own string.
          const qianfan = yield* Flows.qianfanService(target, speed)
          result = yield* qianfan.submit([{ id: "a", query: "hi" }], {
            model: { endpoint: "ernie-4.0-8k" },
            completionWindow: options.completionWindow
          })
          break
        }
        const layer = QianfanBatch.layerBatch.pipe(
          Layer.provide(Layer.effect(
            QianfanBatch.QianfanBatch,
            QianfanBatch.make({
              accessKeyId: Redacted.make(target.credentials.bce.accessKeyId),
              secretAccessKey: Redacted.make(target.credentials.bce.secretAccessKey),
              endpoint: target.urls.qianfan,
              bosEndpoint: target.urls.bos,
              bucket: Flows.bucket,
              retry: speed.retry,
              ...(options.tight === true ? { limits: { maxBytesPerFile: 4096, maxBytesPerTask: 4096 } } : {})
            })
          ))
        )
        result = yield* Effect.provide(
          Effect.flatMap(Batch.Batch, (batch) =>
            batch.submit(Batch.jsonlBytes(Stream.make(bytes)), { model: "ernie-4.0-8k" })),
          layer
        )
        break
      }
    }
    return result
  })

const tightMoonshot: Profile.Profile["limits"] = {
  maxFileBytes: 4096,
  maxRequests: undefined,
  metadataPairs: 16,
  metadataKeyLength: 64,
  metadataValueLength: 512
}

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

const missingField = (provider: Provider) => {
  switch (provider) {
    case "ark":
      return JSON.stringify({ body: { messages: [{ role: "user", content: "no id" }] } })
    case "moonshot":
      return JSON.stringify({ custom_id: "m", method: "POST", body: { model: "moonshot-v1-8k", messages: [] } })
    case "qianfan":
      return JSON.stringify({ query: "no id" })
  }
}

const fileRows: ReadonlyArray<Row> = Flows.providers.flatMap((p): ReadonlyArray<Row> => {
  const ok = (id: string) => validLine(p, id)
  const rows: Array<Row> = [
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
      () =>
        lines(
          validLine(p, "big", p === "qianfan" ? { query: "x".repeat(10 * 1024 * 1024) } : {}).replace(
            /hi big/,
            "x".repeat(p === "qianfan" ? 0 : 10 * 1024 * 1024)
          )
        ),
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
      p === "moonshot" ? "no `url`" : "no id",
      () => lines(ok("a"), missingField(p)),
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
    )
  ]
  if (p !== "qianfan") {
    rows.push(
      fileRow(
        p,
        "mixed models",
        "two models in one file",
        () =>
          lines(
            validLine(p, "a", { model: p === "ark" ? "doubao-pro-32k" : "moonshot-v1-8k" }),
            validLine(p, "b", { model: p === "ark" ? "doubao-lite-4k" : "moonshot-v1-32k" })
          ),
        "InputValidationError",
        "model"
      )
    )
  }
  {
    // Through the unified Batch (Ark, Qianfan) an input over one job's limit is split into jobs; Moonshot's own
    // service takes one file and refuses it.
    rows.push({
      ...fileRow(
        p,
        "over the size limit",
        "6 KB of lines with a 4 KB limit",
        () =>
          lines(
            ...Array.from({ length: 60 }, (_, i) =>
              p === "qianfan" ? validLine(p, `r${i}`, { query: `question ${i} `.padEnd(100, ".") }) : ok(`r${i}`))
          ),
        p === "moonshot" ? "InputValidationError" : "accepted",
        p === "moonshot" ? "4096" : "",
        { tight: true }
      ),
      check: (value) => {
        const parts = (value as Batch.BatchStatus).parts.length
        return parts >= 2 ? undefined : `submitted as ${parts} job(s), expected a split`
      }
    })
    rows.push(
      fileRow(
        p,
        "one line over the size limit",
        "a 5 KB line with a 4 KB limit",
        () => lines(validLine(p, "big", p === "qianfan" ? { query: "y".repeat(5000) } : { user: "y".repeat(5000) })),
        "InputValidationError",
        p === "moonshot" ? "4096" : "more than",
        { tight: true }
      )
    )
  }
  rows.push(
    fileRow(
      p,
      "a bad completion window",
      "`3w`",
      () => lines(ok("a")),
      "InputValidationError",
      "3w",
      { completionWindow: "3w" }
    )
  )
  return rows
})

// --- configuration -----------------------------------------------------------------------------------------------

const configRun = (provider: Provider, env: Record<string, string>) =>
  Effect.gen(function*() {
    const call: Effect.Effect<unknown, unknown, HttpClient.HttpClient> = (() => {
      switch (provider) {
        case "ark":
          return Effect.flatMap(ArkBatch.ArkBatch, (ark) => ark.get("bi-20250101000000-abcde")).pipe(
            Effect.provide(ArkBatch.layerConfig())
          )
        case "moonshot":
          return Effect.flatMap(MoonshotBatch.MoonshotBatch, (kimi) => kimi.batches.retrieve("batch_x")).pipe(
            Effect.provide(MoonshotBatch.layerConfig({ retry: false }))
          )
        case "qianfan":
          return Effect.flatMap(QianfanBatch.QianfanBatch, (q) => q.describeTask("task-x")).pipe(
            Effect.provide(QianfanBatch.layerConfig({ retry: false }))
          )
      }
    })()
    return yield* call.pipe(
      Effect.provide(NodeHttpClient.layerUndici),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
    )
  })

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

const ark = { VOLC_ACCESSKEY: "AKLTexample", VOLC_SECRETKEY: "c2VjcmV0", ARK_ENDPOINT: "http://127.0.0.1:9" }
const kimi = { MOONSHOT_API_KEY: "sk-example", MOONSHOT_BASE_URL: "http://127.0.0.1:9/v1" }
const qf = {
  QIANFAN_ACCESS_KEY: "ak",
  QIANFAN_SECRET_KEY: "sk",
  QIANFAN_BOS_BUCKET: "b",
  QIANFAN_ENDPOINT: "http://127.0.0.1:9"
}
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
  )
]

// --- servers -------------------------------------------------------------------------------------------------------

/** Where each provider's job status lives in its answer, and the route that answers it. */
const statusRoute: Record<Provider, RegExp> = {
  ark: /Action=GetBatchInferenceJob(&|$)/,
  moonshot: /^\/v1\/batches\/[^/?]+$/,
  qianfan: /Action=DescribeBatchInferenceTask(&|$)/
}

const jobOf = (provider: Provider, body: any): any =>
  provider === "ark" ? body.Result : provider === "moonshot" ? body : body.result

const statusField: Record<Provider, string> = { ark: "Phase", moonshot: "status", qianfan: "runStatus" }

const setStatus = (provider: Provider, body: any, value: unknown) => {
  const job = jobOf(provider, body)
  if (provider === "ark") job.Status.Phase = value
  else job[statusField[provider]] = value
}

const errorEnvelope = (provider: Provider, original: any): unknown => {
  switch (provider) {
    case "ark":
      return {
        ResponseMetadata: {
          ...original.ResponseMetadata,
          Error: { Code: "InternalServiceError", CodeN: 100023, Message: "the service is busy" }
        }
      }
    case "moonshot":
      return { error: { type: "server_error", message: "the service is busy" } }
    case "qianfan":
      return { requestId: "r-1", code: "InternalError", message: "the service is busy" }
  }
}

const htmlPage =
  "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"

interface Subject {
  readonly submit: Effect.Effect<string, unknown>
  readonly get: (id: string) => Effect.Effect<unknown, unknown>
  readonly await: (id: string) => Effect.Effect<unknown, unknown>
  readonly results: (id: string) => Effect.Effect<unknown, unknown>
}

const subject = (provider: Provider, target: Flows.Target) =>
  Effect.gen(function*() {
    const requests = Flows.makeRequests(4, "srv", 100)
    const poll = { schedule: Schedule.spaced("10 millis").pipe(Schedule.upTo("20 seconds")) }
    switch (provider) {
      case "ark": {
        const ark = yield* Flows.arkService(target, speed)
        return {
          submit: Effect.map(
            ark.submit(
              requests.map((r) => ({ customId: r.customId, body: { messages: [{ role: "user", content: r.text }] } })),
              { name: "srv", model: { _tag: "Foundation", name: "doubao-pro-32k", version: "240615" } }
            ),
            (s) => s.job.id
          ),
          get: ark.get,
          await: (id: string) => ark.await(id, poll),
          results: (id: string) => Stream.runCollect(ark.results(id))
        } satisfies Subject
      }
      case "moonshot": {
        const kimi = yield* Flows.moonshotService(target, speed)
        const flow = yield* Flows.make("moonshot", target, speed)
        return {
          submit: Effect.map(flow.submit(requests), (s) => s.jobIds[0]!),
          get: kimi.batches.retrieve,
          await: (id: string) => kimi.await(id, poll),
          results: (id: string) => Stream.runCollect(kimi.results(id))
        } satisfies Subject
      }
      case "qianfan": {
        const qianfan = yield* Flows.qianfanService(target, speed)
        const flow = yield* Flows.make("qianfan", target, speed)
        return {
          submit: Effect.map(flow.submit(requests), (s) => s.jobIds[0]!),
          get: qianfan.describeTask,
          await: (id: string) => qianfan.await(id, poll),
          results: (id: string) => Stream.runCollect(qianfan.results(id))
        } satisfies Subject
      }
    }
  })

type Step = "get" | "await" | "results"

/** Submits through a pass-through proxy, then bends the answers with `mutation` while `step` runs. */
const serverRun = (provider: Provider, mutation: Mutation, step: Step) =>
  onEmulator(Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    let current: Mutation = () => undefined
    const proxied = yield* Effect.forEach(
      ["ark", "tos", "moonshot", "qianfan", "bos"] as const,
      (service) => Effect.map(proxy(emulator.urls[service], () => current), (p) => [service, p.url] as const)
    )
    const urls = Object.fromEntries(proxied) as unknown as Emulator.Urls
    const s = yield* subject(provider, { urls, credentials: emulator.credentials })
    const id = yield* s.submit
    if (step === "results") yield* s.await(id)
    current = mutation
    return yield* (step === "get" ? s.get(id) : step === "await" ? s.await(id) : s.results(id))
  }))

const onStatus =
  (provider: Provider, bend: (answer: Answer, request: Seen) => Answer | undefined): Mutation => (request, answer) =>
    statusRoute[provider].test(request.url) && answer.status === 200 ? bend(answer, request) : undefined

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
  return onStatus(provider, (answer) => {
    polls++
    if (polls > 2) return undefined
    const body = json(answer)
    const job = jobOf(provider, body)
    if (provider === "ark") {
      job.Status.Phase = polls === 1 ? "Running" : "Queued"
      job.RequestCounts = { Total: 4, Completed: polls === 1 ? 3 : 0, Failed: 0 }
    } else if (provider === "moonshot") {
      job.status = polls === 1 ? "in_progress" : "validating"
      job.request_counts = { total: 4, completed: polls === 1 ? 3 : 0, failed: 0 }
    } else {
      job.runStatus = polls === 1 ? "Running" : "Queuing"
      job.progress = polls === 1 ? 3 : 0
    }
    return withJson(answer, body)
  })
}

/** Result files: the second line replaced by garbage. */
const resultsRoute: Record<Provider, RegExp> = {
  ark: /results\.jsonl$/,
  moonshot: /^\/v1\/files\/[^/]+\/content$/,
  qianfan: /\.jsonl?$/
}

const badResultLine = (provider: Provider): Mutation => (request, answer) => {
  if (request.method !== "GET" || !resultsRoute[provider].test(request.url.split("?")[0]!) || answer.status >= 300) {
    return undefined
  }
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
    if (request.method !== "GET" || !resultsRoute[provider].test(request.url.split("?")[0]!)) return undefined
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

const serverRows: ReadonlyArray<Row> = Flows.providers.flatMap((p): ReadonlyArray<Row> => [
  {
    name: `${p} server: a resumed download that starts past the requested byte`,
    input: "the first download is cut; the Range answer skips 5 bytes",
    tag: "accepted",
    contains: "",
    run: () => serverRun(p, resumedTooFar(p), "results"),
    check: everyIdOnce
  },
  serverRow(
    p,
    "a missing field",
    `the job without \`${statusField[p]}\``,
    onStatus(p, (a) => {
      const body = json(a)
      if (p === "ark") delete jobOf(p, body).Status
      else delete jobOf(p, body)[statusField[p]]
      return withJson(a, body)
    }),
    "get",
    "ResponseDecodeError",
    p === "ark" ? "Status" : statusField[p]
  ),
  serverRow(
    p,
    "a wrongly typed field",
    "a count as a string",
    onStatus(p, (a) => {
      const body = json(a)
      const job = jobOf(p, body)
      if (p === "ark") job.RequestCounts = { Total: "four" }
      else if (p === "moonshot") job.request_counts = { total: "four", completed: 0, failed: 0 }
      else job.progress = { n: 1 }
      return withJson(a, body)
    }),
    "get",
    "ResponseDecodeError",
    p === "ark" ? "Total" : p === "moonshot" ? "total" : "progress"
  ),
  serverRow(
    p,
    "an HTML error page",
    "502 with text/html",
    onStatus(p, (a) => withText(a, htmlPage, 502, "text/html")),
    "get",
    p === "ark" || p === "moonshot" ? "ServerError" : "ServerError",
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
    onStatus(p, (a) => withJson(a, errorEnvelope(p, json(a)))),
    "get",
    "ServerError",
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
  serverRow(
    p,
    "an unknown status value",
    `\`${statusField[p]}\` = "Hibernating"`,
    onStatus(p, (a) => {
      const body = json(a)
      setStatus(p, body, "Hibernating")
      return withJson(a, body)
    }),
    "get",
    p === "ark" ? "accepted" : "ResponseDecodeError",
    p === "ark" ? "" : "Hibernating"
  ),
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
    p === "ark" ? "TosError" : "JsonlError",
    "line 2"
  )
])

// --- requests, through the unified Batch ---------------------------------------------------------------------------

/** The unified `Batch` over `provider`'s service, wired to the emulator. */
const unifiedLayer = (provider: Provider, target: Flows.Target) => {
  switch (provider) {
    case "ark":
      return ArkBatch.layerBatch.pipe(Layer.provide(Layer.effect(ArkBatch.ArkBatch, Flows.arkService(target, speed))))
    case "moonshot":
      return MoonshotBatch.layerBatch.pipe(
        Layer.provide(Layer.effect(MoonshotBatch.MoonshotBatch, Flows.moonshotService(target, speed)))
      )
    case "qianfan":
      return QianfanBatch.layerBatch.pipe(
        Layer.provide(Layer.effect(QianfanBatch.QianfanBatch, Flows.qianfanService(target, speed)))
      )
  }
}

const models: Record<Provider, string> = { ark: "doubao-pro-32k", moonshot: "moonshot-v1-8k", qianfan: "ernie-4.0-8k" }

/**
 * Submits through the unified `Batch` and fails the row if anything reached the emulator: every row here must be
 * refused before any network call.
 */
const submitUnified = (provider: Provider, input: Batch.Input<never, never>) =>
  onEmulator(
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const target = { urls: emulator.urls, credentials: emulator.credentials }
      const result = yield* Effect.flatMap(Batch.Batch, (batch) => batch.submit(input, { model: models[provider] }))
        .pipe(
          Effect.provide(unifiedLayer(provider, target))
        )
      return result
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
  )
])

const inCode = (extra: Record<string, unknown>) =>
  ({ customId: "a", model: "m", messages: [{ role: "user", content: "hi" }], ...extra }) as ChatRequest.ChatRequest

const circular = (): ChatRequest.ChatRequest => {
  const request: Record<string, unknown> = { ...inCode({}) }
  request.metadata = { request }
  return request as ChatRequest.ChatRequest
}

const deepInCode = (): ChatRequest.ChatRequest => {
  let metadata: Record<string, unknown> = {}
  for (let i = 0; i < 100_000; i++) metadata = { inner: metadata }
  return inCode({ metadata })
}

const inCodeRow = (
  provider: Provider,
  name: string,
  input: string,
  requests: () => Iterable<ChatRequest.ChatRequest>,
  contains: string
): Row => ({
  name: `${provider} submit: ${name}`,
  input,
  tag: "InputValidationError",
  contains,
  run: () => submitUnified(provider, requests())
})

/** An iterable whose iterator throws after the first request. */
const throwingIterable = (): Iterable<ChatRequest.ChatRequest> => ({
  *[Symbol.iterator]() {
    yield inCode({})
    throw new Error("the database went away")
  }
})

/**
 * What `submit` checks an in-code input with (`ChatRequest.numbered`, then `collect`), failing as `submit` does.
 * The unified `Batch` reads an `Iterable` with it once the provider rewrite wires it in; until then this row checks
 * the function it will call.
 */
const checkInCode = (requests: Iterable<ChatRequest.ChatRequest>) =>
  Effect.flatMap(Stream.runCollect(ChatRequest.numbered(requests)), (numbered) => {
    const { issues } = ChatRequest.collect(numbered)
    return issues.length === 0 ? Effect.void : Effect.fail(
      new InputValidation.InputValidationError({
        issues: issues.map((issue) => new InputValidation.Issue(issue)),
        totalIssues: issues.length,
        lines: numbered.length,
        bytes: 0
      })
    )
  })

const inCodeRows: ReadonlyArray<Row> = [
  ...Flows.providers.flatMap((p): ReadonlyArray<Row> => [
    inCodeRow(
      p,
      "a request nested 100,000 levels deep",
      "`metadata` is 100,000 nested objects",
      () => [deepInCode()],
      "line 1: `metadata.inner.inner.inner.….inner.inner` nests more than 100 levels deep"
    ),
    inCodeRow(
      p,
      "a circular object",
      "`request.metadata.request === request`",
      () => [circular()],
      "line 1: `metadata.request` refers back to an object that contains it (a circular structure), which JSON " +
        "cannot carry"
    ),
    inCodeRow(
      p,
      "a BigInt",
      "`seed: 7n`, `metadata: { at: 1n }`",
      () => [inCode({ seed: 7n }), inCode({ customId: "b", metadata: { at: 1n } })],
      "line 1: `seed` must be a whole number, not a BigInt (7n); line 2: `metadata.at` is a BigInt (1n), which JSON " +
        "cannot carry; use a number or a string"
    )
  ]),
  {
    name: "submit: a throwing iterator",
    input: "an Iterable whose iterator throws at the second request",
    tag: "InputValidationError",
    contains:
      "line 2: reading request 2 from the input threw: the database went away; nothing was submitted, fix the " +
      "code that produces the requests",
    run: () => checkInCode(throwingIterable())
  }
]

const table: ReadonlyArray<Row> = [...fileRows, ...requestRows, ...inCodeRows, ...configRows, ...serverRows]

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
    const target = { urls: emulator.urls, credentials: emulator.credentials }
    const requests = Array.from({ length: n }, (_, i) => inCode({ customId: `r-${i}`, model: models.moonshot }))
    return yield* Effect.flatMap(Batch.Batch, (batch) =>
      Effect.flatMap(
        batch.submit(requests),
        (submitted) =>
          Effect.as(
            batch.await(submitted.id, { schedule: Schedule.spaced("20 millis") }),
            submitted.id
          )
      )).pipe(Effect.provide(unifiedLayer("moonshot", target)))
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
      tmpFile("deep.jsonl", `${openAiLine({}, { model: models.moonshot, metadata: "RAW" }, nested(100_000))}\n`)
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
    "moonshot has no batch job batch_nope",
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
