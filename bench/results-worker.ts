/**
 * The processes of the results-streaming benchmark (bench/results.ts starts each one separately, so every measured
 * side has a clean peak RSS):
 *
 * - `serve BYTES`: runs the emulator, writes a Moonshot output file of about BYTES of result lines (chat
 *   completions with usage) straight into its store with a completed batch pointing at it, prints
 *   `{ url, batchId, lines, bytes }` and serves until its stdin closes.
 * - `barge URL BATCH`: Barge's `MoonshotBatch.results` (loopback download + line split + schema decode).
 * - `text URL BATCH`: the usual approach — the whole body as text (`Response.text()`, as openai-node's
 *   `files.content().text()` does), split on "\n", `JSON.parse` each line.
 * - `upload TOS_URL PATH`: the upload benchmark's side — validates the JSONL file at PATH with core
 *   `InputValidation` and Ark's rules, then streams it to TOS with Ark's `Storage.put`; prints one JSON line per phase.
 * - `lines URL`: Barge's download and line split alone (core Transport + Download + Jsonl; no JSON, no schema).
 * - `decoded URL`: the same plus `Jsonl.decodeLines(ResultLine)` without `results`' hand-written fast path (the
 *   schema interpreter on every line) and `toResult`, chunk by chunk: what the fast path saves.
 * - `raw URL`: the loopback transfer alone (`fetch`, bytes counted, nothing split or parsed), for reference.
 * - `parse BYTES`: the floor — a bare `JSON.parse` loop over the same lines, already in memory (not timed: making them).
 *
 * Each measured phase prints one JSON line: `{ lines, seconds, baseRss, peakRss, maxRss, heapGrowth,
 * buffersGrowth, error? }` (the growths are peak minus the value just before the phase).
 */
// Each mode imports what it needs, so the light modes start fast and load no code they do not measure.

/** A small seeded generator (mulberry32): the server and the floor make byte-identical lines. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const words = (
  "the batch of requests finished and each answer carries its usage so a caller can count tokens and cost " +
  "results stream back line by line 结果逐行返回 每一行都是一个完整的聊天补全 模型 回答 用量 统计 " +
  "summarise translate classify extract 翻译 摘要 分类 抽取 with a short explanation of why"
).split(" ")

/** Result lines as a Moonshot/OpenAI batch output file has them: one chat completion with usage per line. */
export function* resultLines(targetBytes: number): Generator<string> {
  const random = prng(42)
  let bytes = 0
  for (let i = 1; bytes < targetBytes; i++) {
    const length = 20 + Math.floor(random() * 160)
    const content: Array<string> = []
    for (let w = 0; w < length; w++) content.push(words[Math.floor(random() * words.length)]!)
    const prompt = 20 + Math.floor(random() * 500)
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
          choices: [{
            index: 0,
            message: { role: "assistant", content: content.join(" ") },
            finish_reason: "stop"
          }],
          usage: { prompt_tokens: prompt, completion_tokens: length * 2, total_tokens: prompt + length * 2 }
        }
      },
      error: null
    }) + "\n"
    bytes += Buffer.byteLength(line)
    yield line
  }
}

/** The emulator serving the generated file, and how to stop it. */
export interface Serving {
  readonly url: string
  readonly tos: string
  readonly batchId: string
  readonly lines: number
  readonly bytes: number
  readonly stop: () => Promise<void>
}

/** Starts the emulator in this process with a Moonshot output file of about `targetBytes` and a batch naming it. */
export const startEmulator = async (targetBytes: number): Promise<Serving> => {
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
  for (const line of resultLines(targetBytes)) {
    pending.push(line)
    pendingBytes += line.length
    lines++
    if (pendingBytes >= block) flush()
  }
  if (pending.length > 0) flush()

  const Effect = await import("effect/Effect")
  const Exit = await import("effect/Exit")
  const Scope = await import("effect/Scope")
  const { Emulator } = await import("../packages/emulator/src/index.js")
  const scope = await Effect.runPromise(Scope.make())
  return Effect.runPromise(Effect.gen(function*() {
    const emulator = yield* Scope.extend(Emulator.make({}), scope)
    const state = emulator.state.moonshot
    const file = {
      id: "file-bench-output",
      filename: "output.jsonl",
      purpose: "batch_output",
      bytes,
      createdAt: 0,
      chunks
    }
    state.files.set(file.id, file)
    // A batch that finished long ago, with the file as its output: its counts are read from the plan and
    // `failedBefore`, so those are the only parts that must match the line count.
    state.batches.set("batch-bench", {
      id: "batch-bench",
      endpoint: "/v1/chat/completions",
      inputFileId: "file-bench-input",
      completionWindow: "24h",
      metadata: null,
      plan: {
        createdAt: 0,
        expiresAt: Number.MAX_SAFE_INTEGER,
        total: lines,
        invalid: false,
        cancelRequestedAt: undefined
      },
      requests: { length: lines } as never,
      outcomes: [],
      failedBefore: new Int32Array(lines + 1),
      errors: [],
      results: { outputFileId: file.id, errorFileId: null }
    })
    // The upload benchmark puts its input here.
    emulator.state.objects.tos.createBucket("bench")
    return {
      url: emulator.urls.moonshot,
      tos: emulator.urls.tos,
      batchId: "batch-bench",
      lines,
      bytes,
      stop: () => Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }))
}

const serve = async (targetBytes: number) => {
  const { stop, ...served } = await startEmulator(targetBytes)
  process.stdout.write(JSON.stringify(served) + "\n")
  await new Promise<void>((resolve) => {
    process.stdin.on("end", resolve)
    process.stdin.on("close", resolve)
    process.stdin.resume()
  })
  await stop()
  process.exit(0)
}

/** Samples RSS, heap and array buffers every 20 ms (and on demand) to catch their peaks until `stop()`. */
const rssSampler = () => {
  let peak = 0
  let heap = 0
  let buffers = 0
  const sample = () => {
    const usage = process.memoryUsage()
    peak = Math.max(peak, usage.rss)
    heap = Math.max(heap, usage.heapTotal)
    buffers = Math.max(buffers, usage.arrayBuffers)
  }
  const timer = setInterval(sample, 20)
  return {
    sample,
    stop: () => {
      clearInterval(timer)
      sample()
      return { peak, heap, buffers }
    }
  }
}

/** One measured phase. */
export interface Measured {
  readonly lines: number
  readonly seconds: number
  readonly baseRss: number
  readonly peakRss: number
  readonly maxRss: number
  readonly heapGrowth?: number
  readonly buffersGrowth?: number
  readonly error?: string
}

const measure = async (run: (sample: () => void) => Promise<number>): Promise<Measured> => {
  global.gc?.()
  const base = process.memoryUsage()
  const sampler = rssSampler()
  const start = performance.now()
  let lines = 0
  let error: string | undefined
  try {
    lines = await run(sampler.sample)
  } catch (cause) {
    error = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
  }
  const seconds = (performance.now() - start) / 1000
  const peaks = sampler.stop()
  const maxRss = process.resourceUsage().maxRSS * 1024
  return {
    lines,
    seconds,
    baseRss: base.rss,
    peakRss: peaks.peak,
    maxRss,
    heapGrowth: peaks.heap - base.heapTotal,
    buffersGrowth: peaks.buffers - base.arrayBuffers,
    ...(error === undefined ? {} : { error })
  }
}

/** Barge's download and line splitting alone (core Transport + Download + Jsonl, as Moonshot uses them). */
export const lines = async (url: string, decoded = false) => {
  const { NodeHttpClient } = await import("@effect/platform-node")
  const HttpClientRequest = await import("@effect/platform/HttpClientRequest")
  const Effect = await import("effect/Effect")
  const Redacted = await import("effect/Redacted")
  const Stream = await import("effect/Stream")
  const { Download, Jsonl, Signer, Transport } = await import("../packages/core/src/index.js")
  const { OpenAiCompatible, Wire } = await import("../packages/moonshot/src/index.js")
  return measure((sample) =>
    Effect.gen(function*() {
      const transport = yield* Transport.make({
        provider: "moonshot",
        baseUrl: `${url}/v1`,
        signer: Signer.bearer(Redacted.make("sk-barge-emulator")),
        allowInsecureHttp: true
      })
      const request = HttpClientRequest.get("/files/file-bench-output/content")
      const split = Download.resumableLines(Download.rangeOpener(transport, request, { action: "FileContent" }))
      let count = 0
      const counted = (chunk: { readonly length: number }) =>
        Effect.sync(() => {
          count += chunk.length
          sample()
        })
      if (!decoded) yield* Stream.runForEachChunk(split, counted)
      else {
        // The same decoding as `results` (ResultLine, then `toResult`) but without `Wire.fastResultLine`.
        const results = split.pipe(Jsonl.decodeLines(Wire.ResultLine), Stream.map(OpenAiCompatible.toResult))
        yield* Stream.runForEachChunk(results, counted)
      }
      return count
    }).pipe(Effect.provide(NodeHttpClient.layerUndici), Effect.runPromise)
  )
}

export const barge = async (url: string, batchId: string) => {
  const { NodeHttpClient } = await import("@effect/platform-node")
  const Effect = await import("effect/Effect")
  const Redacted = await import("effect/Redacted")
  const Stream = await import("effect/Stream")
  const { MoonshotBatch } = await import("../packages/moonshot/src/index.js")
  return measure((sample) =>
    Effect.gen(function*() {
      const client = yield* MoonshotBatch.make({ apiKey: Redacted.make("sk-barge-emulator"), baseUrl: `${url}/v1` })
      let lines = 0
      yield* Stream.runForEach(client.results(batchId), (result) =>
        Effect.sync(() => {
          if (result._tag === "Succeeded") lines++
          if ((lines & 8191) === 0) sample()
        }))
      return lines
    }).pipe(Effect.provide(NodeHttpClient.layerUndici), Effect.runPromise)
  )
}

export const raw = (url: string) =>
  measure(async (sample) => {
    const response = await fetch(`${url}/v1/files/file-bench-output/content`, {
      headers: { authorization: "Bearer sk-barge-emulator" }
    })
    let bytes = 0
    const reader = response.body!.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      bytes += read.value.byteLength
      sample()
    }
    return bytes
  })

export const text = (url: string, batchId: string) =>
  measure(async (sample) => {
    const headers = { authorization: "Bearer sk-barge-emulator" }
    const batch = await (await fetch(`${url}/v1/batches/${batchId}`, { headers })).json() as { output_file_id: string }
    const response = await fetch(`${url}/v1/files/${batch.output_file_id}/content`, { headers })
    const body = await response.text()
    sample()
    let lines = 0
    for (const line of body.split("\n")) {
      if (line === "") continue
      const value = JSON.parse(line) as { response: { status_code: number } }
      if (value.response.status_code === 200) lines++
      if ((lines & 8191) === 0) sample()
    }
    return lines
  })

export const parse = async (targetBytes: number) => {
  const lines = Array.from(resultLines(targetBytes), (line) => line.slice(0, -1))
  return measure(async (sample) => {
    let count = 0
    for (const line of lines) {
      const value = JSON.parse(line) as { response: { status_code: number } }
      if (value.response.status_code === 200) count++
      if ((count & 8191) === 0) sample()
    }
    return count
  })
}

export const upload = async (tosUrl: string, path: string, withUsual = true) => {
  const { NodeHttpClient } = await import("@effect/platform-node")
  const Effect = await import("effect/Effect")
  const Redacted = await import("effect/Redacted")
  const Stream = await import("effect/Stream")
  const { createReadStream, statSync } = await import("node:fs")
  const { InputValidation } = await import("../packages/core/src/index.js")
  const { rules } = await import("../packages/ark/src/internal/input.js")
  const { Storage } = await import("../packages/ark/src/index.js")
  const { Emulator } = await import("../packages/emulator/src/index.js")
  const size = statSync(path).size
  const file = () =>
    Stream.fromAsyncIterable(createReadStream(path, { highWaterMark: 1 << 20 }), (e) => e as Error).pipe(
      Stream.map((chunk) => chunk as Uint8Array)
    )
  const credentials = Emulator.defaultCredentials.volcengine
  const validation = await measure(() =>
    Effect.runPromise(Effect.map(InputValidation.validate(rules)(file()), (summary) => summary.lines))
  )
  const put = await measure(() =>
    Effect.gen(function*() {
      const storage = yield* Storage.make({
        endpoint: tosUrl,
        region: "cn-beijing",
        bucket: "bench",
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: Redacted.make(credentials.secretAccessKey),
        retry: false
      })
      yield* storage.put("input.jsonl", file(), { contentLength: size, contentType: "application/jsonl" })
      return size
    }).pipe(Effect.provide(NodeHttpClient.layerUndici), Effect.runPromise)
  )
  if (!withUsual) return [validation, put]
  const { readFile } = await import("node:fs/promises")
  const usual = await measure(async () => {
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
  return [validation, put, usual]
}

const print = (measured: Measured | ReadonlyArray<Measured>) => {
  for (const m of Array.isArray(measured) ? measured : [measured]) process.stdout.write(JSON.stringify(m) + "\n")
}

const [mode, a, b] = process.argv.slice(2)
// Only as a process of its own: importing this module (smoke mode, `resultLines`) must not start a mode.
if (process.argv[1]?.endsWith("results-worker.ts")) {
  switch (mode) {
    case "serve":
      await serve(Number(a))
      break
    case "barge":
      print(await barge(a!, b!))
      break
    case "upload":
      print(await upload(a!, b!, process.argv[5] !== "no-usual"))
      break
    case "lines":
      print(await lines(a!))
      break
    case "decoded":
      print(await lines(a!, true))
      break
    case "raw":
      print(await raw(a!))
      break
    case "text":
      print(await text(a!, b!))
      break
    case "parse":
      print(await parse(Number(a)))
      break
    default:
      console.error(`unknown mode ${mode}`)
      process.exit(2)
  }
}
