/**
 * The processes of the results-streaming benchmark (bench/results.ts starts each one separately, so every measured
 * side has a clean peak RSS):
 *
 * - `serve BYTES`: runs the emulator with two generated output files of about BYTES each — OpenAI batch result
 *   lines (Moonshot, Ark) and Qianfan output lines — placed where each provider reads them (bench/providers.ts),
 *   prints `{ urls, files }` and serves until its stdin closes.
 * - `core URLS [warm]`: Barge's core results path — `Transport` → `Download.resumableLines` → `ResultLine.decodeLines` —
 *   on the OpenAI-format file, counting `Succeeded` results.
 * - `provider NAME URLS`: today's `results` path of one provider (bench/providers.ts), counting `Succeeded`.
 * - `tuned URLS FORMAT [warm]`: the hand-tuned baseline — undici body → one streaming `TextDecoder` → `indexOf("\n")` →
 *   `JSON.parse` → count. No Effect, no schema, no resumption: the practical limit on this machine. With `warm`
 *   (either mode), the file is read once unmeasured first, then measured on compiled code.
 * - `lines URLS`: Barge's download and line split alone (core Transport + Download + Jsonl; no JSON, no schema).
 * - `text URLS`: the usual approach — the whole body as text (`Response.text()`, as openai-node's
 *   `files.content().text()` does), split on "\n", `JSON.parse` each line.
 * - `raw URLS`: the loopback transfer alone (undici body, bytes counted, nothing decoded), for reference.
 * - `parse BYTES FORMAT`: the floor — a bare `JSON.parse` loop over the same lines, already in memory (making them
 *   is not timed).
 * - `upload TOS_URL PATH PHASES`: the upload benchmark's side — PHASES (comma-separated) of `validate` (core
 *   `InputValidation` with Ark's rules), `put` (Ark's `Storage.put` to TOS), `usual` (whole file, split, parse, a
 *   Set of ids); prints one JSON line per phase.
 *
 * Each measured phase prints one JSON line: `{ lines, seconds, baseRss, peakRss, maxRss, heapGrowth,
 * buffersGrowth, error? }` (the growths are peak minus the value just before the phase).
 */
// Each mode imports what it needs, so the light modes start fast and load no code they do not measure.
import type { HttpClient } from "@effect/platform/HttpClient"
import type { Effect } from "effect/Effect"
import type { Stream } from "effect/Stream"
import type { Batch } from "../packages/core/src/index.js"
import { phaseProfiler } from "./phase-profile.js"
import type { preparers } from "./providers.js"
import { batchLayer, fileIds, type Format, preparer, seed, type Served, type Urls } from "./providers.js"
import { serveUntilStdinCloses } from "./serving.js"

/** A small seeded generator (mulberry32): the server and the floor make byte-identical lines. */
const prng = (state: number) => () => {
  state = (state + 0x6d2b79f5) | 0
  let t = Math.imul(state ^ (state >>> 15), 1 | state)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const words = (
  "the batch of requests finished and each answer carries its usage so a caller can count tokens and cost " +
  "results stream back line by line 结果逐行返回 每一行都是一个完整的聊天补全 模型 回答 用量 统计 " +
  "summarise translate classify extract 翻译 摘要 分类 抽取 with a short explanation of why"
).split(" ")

/** A generated answer: 20–180 words of mixed English and Chinese, and its usage. */
const answer = (random: () => number) => {
  const length = 20 + Math.floor(random() * 160)
  const content: Array<string> = []
  for (let w = 0; w < length; w++) content.push(words[Math.floor(random() * words.length)]!)
  const prompt = 20 + Math.floor(random() * 500)
  return {
    content: content.join(" "),
    usage: { prompt_tokens: prompt, completion_tokens: length * 2, total_tokens: prompt + length * 2 }
  }
}

/** Result lines as a Moonshot/OpenAI (and Ark) batch output file has them: one chat completion per line. */
function* openAiLines(targetBytes: number): Generator<string> {
  const random = prng(42)
  let bytes = 0
  for (let i = 1; bytes < targetBytes; i++) {
    const { content, usage } = answer(random)
    const line = JSON.stringify({
      id: `batch_req_${i}`,
      custom_id: `request-${i}`,
      response: {
        status_code: 200,
        request_id: `req-${i.toString(36)}`,
        body: {
          id: `chatcmpl-${i.toString(36)}`,
          object: "chat.completion",
          created: 1764000000 + i,
          model: "moonshot-v1-8k",
          choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
          usage
        }
      },
      error: null
    }) + "\n"
    bytes += Buffer.byteLength(line)
    yield line
  }
}

/** Output lines as Qianfan writes them: the input record echoed with `output`, the v1 ERNIE response. */
function* qianfanLines(targetBytes: number): Generator<string> {
  const random = prng(43)
  let bytes = 0
  for (let i = 1; bytes < targetBytes; i++) {
    const { content, usage } = answer(random)
    const line = JSON.stringify({
      id: `request-${i}`,
      query: `问题 ${i}: summarise the document`,
      output: {
        id: `as-${i.toString(36)}`,
        object: "chat.completion",
        created: 1764000000 + i,
        result: content,
        is_truncated: false,
        need_clear_history: false,
        finish_reason: "normal",
        usage
      }
    }) + "\n"
    bytes += Buffer.byteLength(line)
    yield line
  }
}

/** The generated lines of a format, each ending in "\n". */
export const resultLines = (format: Format, targetBytes: number): Generator<string> =>
  format === "openai" ? openAiLines(targetBytes) : qianfanLines(targetBytes)

/** A generated file in 1 MiB chunks, as the emulator stores it. */
const generate = (format: Format, targetBytes: number) => {
  const block = 1 << 20
  const chunks: Array<Uint8Array> = []
  let pending: Array<string> = []
  let pendingBytes = 0
  let lines = 0
  let bytes = 0
  const flush = () => {
    const chunk = Buffer.from(pending.join(""))
    chunks.push(chunk)
    bytes += chunk.byteLength
    pending = []
    pendingBytes = 0
  }
  for (const line of resultLines(format, targetBytes)) {
    pending.push(line)
    pendingBytes += line.length
    lines++
    if (pendingBytes >= block) flush()
  }
  if (pending.length > 0) flush()
  return { chunks, lines, bytes }
}

/** What `serve` prints: where the files are served, each provider's batch over them, and their sizes. */
export interface Serving extends Served {
  readonly files: Readonly<Record<Format, { readonly lines: number; readonly bytes: number }>>
}

/**
 * Starts the emulator in this process with both files of about `targetBytes`, each provider's finished batch over
 * its format's file, and how to stop it.
 */
export const startEmulator = async (targetBytes: number): Promise<Serving & { readonly stop: () => Promise<void> }> => {
  const files = { openai: generate("openai", targetBytes), qianfan: generate("qianfan", targetBytes) }
  const Effect = await import("effect/Effect")
  const Exit = await import("effect/Exit")
  const Scope = await import("effect/Scope")
  const { Emulator } = await import("../packages/emulator/src/index.js")
  const scope = await Effect.runPromise(Scope.make())
  const emulator = await Effect.runPromise(Scope.extend(Emulator.make({}), scope))
  const ids = await seed(emulator, files)
  return {
    urls: emulator.urls,
    ids,
    files: {
      openai: { lines: files.openai.lines, bytes: files.openai.bytes },
      qianfan: { lines: files.qianfan.lines, bytes: files.qianfan.bytes }
    },
    stop: () => Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

const serve = async (targetBytes: number) => {
  const { stop, ...served } = await startEmulator(targetBytes)
  return serveUntilStdinCloses({ stop }, served)
}

/**
 * Samples RSS, heap and array buffers every 20 ms and when a side asks (`sample`, called from hot loops, reads at
 * most once per 5 ms: `process.memoryUsage()` costs tens of microseconds) to catch their peaks until `stop()`.
 */
const rssSampler = () => {
  let peak = 0
  let heap = 0
  let buffers = 0
  let last = 0
  const read = () => {
    last = performance.now()
    const usage = process.memoryUsage()
    peak = Math.max(peak, usage.rss)
    heap = Math.max(heap, usage.heapTotal)
    buffers = Math.max(buffers, usage.arrayBuffers)
  }
  const sample = () => {
    if (performance.now() - last >= 5) read()
  }
  const timer = setInterval(read, 20)
  return {
    sample,
    stop: () => {
      clearInterval(timer)
      read()
      return { peak, heap, buffers }
    }
  }
}

/** One measured phase. */
export interface Measured {
  readonly lines: number
  readonly seconds: number
  /** CPU time of the whole process (all its threads) during the phase: less sensitive to other load than wall time. */
  readonly cpuSeconds?: number
  readonly baseRss: number
  readonly peakRss: number
  readonly maxRss: number
  readonly heapGrowth?: number
  readonly buffersGrowth?: number
  readonly error?: string
}

const measure = async (run: (sample: () => void) => Promise<number>): Promise<Measured> => {
  global.gc?.()
  const stopProfile = await phaseProfiler()
  const base = process.memoryUsage()
  const sampler = rssSampler()
  const cpu = process.cpuUsage()
  const start = performance.now()
  let lines = 0
  let error: string | undefined
  try {
    lines = await run(sampler.sample)
  } catch (cause) {
    error = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
  }
  const seconds = (performance.now() - start) / 1000
  const used = process.cpuUsage(cpu)
  const peaks = sampler.stop()
  await stopProfile?.()
  const maxRss = process.resourceUsage().maxRSS * 1024
  return {
    lines,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    baseRss: base.rss,
    peakRss: peaks.peak,
    maxRss,
    heapGrowth: peaks.heap - base.heapTotal,
    buffersGrowth: peaks.buffers - base.arrayBuffers,
    ...(error === undefined ? {} : { error })
  }
}

const fileUrl = (urls: Urls, format: Format) => `${urls.moonshot}/v1/files/${fileIds[format]}/content`
const bearer = { authorization: "Bearer sk-barge-emulator" }

/**
 * A runtime with undici as the `HttpClient`, built before the measured phase: a program builds its layers once, and
 * the first use loads modules that are not the path being measured.
 */
const undiciRuntime = async () => {
  const ManagedRuntime = await import("effect/ManagedRuntime")
  const { NodeHttpClient } = await import("@effect/platform-node")
  const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
  await runtime.runtime()
  return <A>(program: Effect<A, unknown, HttpClient>): Promise<A> => runtime.runPromise(program)
}

/** Counts `Succeeded` results the way the README's program does (`Stream.runFold`: no Effect per element). */
const countSucceeded = async <E, R>(results: Stream<Batch.BatchResult, E, R>) => {
  const { runFold } = await import("effect/Stream")
  return (sample: () => void) =>
    runFold(results, 0, (count, result) => {
      if ((count & 8191) === 0) sample()
      return result._tag === "Succeeded" ? count + 1 : count
    })
}

/** The OpenAI-format file as lines, through core Transport + Download + Jsonl (what every provider uses). */
const coreLines = async (urls: Urls) => {
  const HttpClientRequest = await import("@effect/platform/HttpClientRequest")
  const Effect = await import("effect/Effect")
  const Redacted = await import("effect/Redacted")
  const Stream = await import("effect/Stream")
  const { Download, Signer, Transport } = await import("../packages/core/src/index.js")
  return Stream.unwrap(Effect.map(
    Transport.make({
      provider: "moonshot",
      baseUrl: `${urls.moonshot}/v1`,
      signer: Signer.bearer(Redacted.make("sk-barge-emulator")),
      allowInsecureHttp: true
    }),
    (transport) =>
      Download.resumableLines(
        Download.rangeOpener(
          transport,
          HttpClientRequest.get(`/files/${fileIds.openai}/content`),
          { action: "FileContent" }
        )
      )
  ))
}

/** Barge's download and line split alone. */
export const lines = async (urls: Urls) => {
  const Stream = await import("effect/Stream")
  const split = await coreLines(urls)
  const run = await undiciRuntime()
  return measure((sample) =>
    run(Stream.runFold(split, 0, (count) => {
      if ((count & 8191) === 0) sample()
      return count + 1
    }))
  )
}

/**
 * Barge's core results path: download, split, `ResultLine.decodeLines`. `warm`: read the whole file once unmeasured
 * first, so the measured pass runs on compiled code (what a long-lived process sees from its second file on).
 */
export const core = async (urls: Urls, warm = false) => {
  const { ResultLine } = await import("../packages/core/src/index.js")
  const count = await countSucceeded(ResultLine.decodeLines(await coreLines(urls)))
  const run = await undiciRuntime()
  if (warm) await run(count(() => {}))
  return measure((sample) => run(count(sample)))
}

/**
 * One provider's `results(id)` on the batch whose output is the generated file, through its service pointed at the
 * emulator (built before the measured phase, as a program builds its layers once).
 */
export const provider = async (name: string, served: Served) => {
  const Layer = await import("effect/Layer")
  const ManagedRuntime = await import("effect/ManagedRuntime")
  const { NodeHttpClient } = await import("@effect/platform-node")
  const { Batch } = await import("../packages/core/src/index.js")
  const runtime = ManagedRuntime.make(
    Layer.provideMerge(await batchLayer(name, served.urls), NodeHttpClient.layerUndici)
  )
  const batch = await runtime.runPromise(Batch.Batch)
  const count = await countSucceeded(batch.results(served.ids[name]!))
  return measure((sample) => runtime.runPromise(count(sample)))
}

/** A parsed line that counts: a 200 response (OpenAI format) or an output without an error code (Qianfan). */
const succeeded = (format: Format) =>
  format === "openai"
    ? (value: { response?: { status_code?: number } }) => value.response?.status_code === 200
    : (value: { output?: { error_code?: unknown } }) =>
      typeof value.output === "object" && value.output !== null && value.output.error_code === undefined

/**
 * The hand-tuned baseline: undici body → one streaming `TextDecoder` → `indexOf("\n")` → `JSON.parse` → count.
 * Nothing else: no Effect, no schema, no byte offsets, no resumption, no line numbers.
 */
export const tuned = async (urls: Urls, format: Format, warm = false) => {
  const { request } = await import("@effect/platform-node/Undici")
  const ok = succeeded(format) as (value: unknown) => boolean
  const pass = async (sample: () => void) => {
    const { body } = await request(fileUrl(urls, format), { headers: bearer })
    const decoder = new TextDecoder()
    let rest = ""
    let count = 0
    for await (const chunk of body) {
      const text = rest + decoder.decode(chunk as Uint8Array, { stream: true })
      let from = 0
      let newline = text.indexOf("\n")
      while (newline !== -1) {
        if (newline > from && ok(JSON.parse(text.slice(from, newline)))) count++
        from = newline + 1
        newline = text.indexOf("\n", from)
      }
      rest = text.slice(from)
      sample()
    }
    if (rest !== "" && ok(JSON.parse(rest))) count++
    return count
  }
  if (warm) await pass(() => {})
  return measure(pass)
}

/** The loopback transfer alone: the undici body, bytes counted. */
export const raw = async (urls: Urls) => {
  const { request } = await import("@effect/platform-node/Undici")
  return measure(async (sample) => {
    const { body } = await request(fileUrl(urls, "openai"), { headers: bearer })
    let bytes = 0
    for await (const chunk of body) {
      bytes += (chunk as Uint8Array).byteLength
      sample()
    }
    return bytes
  })
}

/** The usual approach: the whole body as one string, split, parsed. */
export const text = (urls: Urls) =>
  measure(async (sample) => {
    const response = await fetch(fileUrl(urls, "openai"), { headers: bearer })
    const body = await response.text()
    sample()
    const ok = succeeded("openai")
    let count = 0
    for (const line of body.split("\n")) {
      if (line === "") continue
      if (ok(JSON.parse(line))) count++
      if ((count & 8191) === 0) sample()
    }
    return count
  })

/** The floor: `JSON.parse` of the same lines, made in memory beforehand. */
export const parse = async (targetBytes: number, format: Format) => {
  const lines = Array.from(resultLines(format, targetBytes), (line) => line.slice(0, -1))
  const ok = succeeded(format) as (value: unknown) => boolean
  return measure(async (sample) => {
    let count = 0
    for (const line of lines) {
      if (ok(JSON.parse(line))) count++
      if ((count & 8191) === 0) sample()
    }
    return count
  })
}

/**
 * The upload benchmark's phases, each measured on its own (bench/upload.ts runs one phase per process):
 * `plan:<provider>` is the lifecycle's pass one alone (`internal/plan.ts`: read, check, encode, size, place, hash);
 * `prepare:<provider>` the whole `prepare` (pass one, then per input file pass two — the input read again — streamed
 * to the provider's storage); `usual` what a client usually does.
 */
export type UploadPhase = `${"plan" | "prepare"}:${(typeof preparers)[number]}` | "usual"

/** The upload benchmark's side: one provider's pass one or `prepare` of the JSONL file at `path`, as users run it. */
export const upload = async (urls: Urls, path: string, phases: ReadonlyArray<UploadPhase>) => {
  const Effect = await import("effect/Effect")
  const Layer = await import("effect/Layer")
  const ManagedRuntime = await import("effect/ManagedRuntime")
  const { NodeFileSystem, NodeHttpClient } = await import("@effect/platform-node")
  const { Batch } = await import("../packages/core/src/index.js")
  const Plan = await import("../packages/core/src/internal/plan.js")
  const runtime = ManagedRuntime.make(Layer.merge(NodeHttpClient.layerUndici, NodeFileSystem.layer))
  await runtime.runtime()
  const measured: Array<Measured> = []
  for (const phase of phases) {
    if (phase === "usual") {
      measured.push(await usualValidation(path))
      continue
    }
    const [verb, name] = phase.split(":") as ["plan" | "prepare", (typeof preparers)[number]]
    const service = await runtime.runPromise(await preparer(name, urls))
    const input = Batch.jsonlFile(path)
    measured.push(
      await measure(() =>
        runtime.runPromise(
          verb === "plan"
            ? Effect.map(
              Plan.plan(input, { provider: service.contract, limits: service.contract.limits, submit: {} }),
              (plan) => plan.lines
            )
            // A key of its own per run, so nothing uploaded by an earlier run is found and skipped.
            : Effect.map(
              service.prepare(input, { metadata: { bench: `${process.pid}-${Date.now()}` } }),
              (p) => p.lines
            )
        )
      )
    )
  }
  await runtime.dispose()
  return measured
}

/** What a client usually does: the whole file as one string, split, `JSON.parse`, a Set of ids. */
const usualValidation = async (path: string) => {
  const { readFile } = await import("node:fs/promises")
  return measure(async () => {
    const text = await readFile(path, "utf8")
    const ids = new Set<string>()
    let lines = 0
    for (const line of text.split("\n")) {
      if (line === "") continue
      const value = JSON.parse(line) as { custom_id?: unknown; body?: unknown }
      if (typeof value.custom_id !== "string" || ids.has(value.custom_id) || typeof value.body !== "object") {
        throw new Error(`line ${lines + 1} is invalid`)
      }
      ids.add(value.custom_id)
      lines++
    }
    return lines
  })
}

const print = (measured: Measured | ReadonlyArray<Measured>) => {
  for (const m of Array.isArray(measured) ? measured : [measured]) process.stdout.write(JSON.stringify(m) + "\n")
}

const [mode, a, b] = process.argv.slice(2)
const urlsArg = (json: string | undefined): Urls => JSON.parse(json!) as Urls
// Only as a process of its own: importing this module (smoke mode, `resultLines`) must not start a mode.
if (process.argv[1]?.endsWith("results-worker.ts")) {
  switch (mode) {
    case "serve":
      await serve(Number(a))
      break
    case "core":
      print(await core(urlsArg(a), b === "warm"))
      break
    case "provider":
      print(await provider(a!, JSON.parse(b!) as Served))
      break
    case "tuned":
      print(await tuned(urlsArg(a), b as Format, process.argv[5] === "warm"))
      break
    case "lines":
      print(await lines(urlsArg(a)))
      break
    case "raw":
      print(await raw(urlsArg(a)))
      break
    case "text":
      print(await text(urlsArg(a)))
      break
    case "parse":
      print(await parse(Number(a), b as Format))
      break
    case "upload":
      print(await upload(urlsArg(a), b!, process.argv[5]!.split(",") as Array<UploadPhase>))
      break
    default:
      console.error(`unknown mode ${mode}`)
      process.exit(2)
  }
}
