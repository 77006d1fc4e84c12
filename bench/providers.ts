/**
 * The provider-specific part of the benchmarks, kept in this one file. Every provider is reached the way a user
 * reaches it: its registry entry's `layerEmulated` (the CLI's `entries`), i.e. its own service built by
 * `Provider.make`, pointed at the emulator.
 *
 * - Results: each provider submits one small batch through its service, the emulator runs it to the end, and its
 *   output file is then swapped for the generated one (`seed`); `results(id)` reads it through the provider's whole
 *   path (the job lookup, Files API or object storage, its decoder).
 * - Watch: 1,000 Moonshot batches are put straight into the emulator's state (`seedJobs`) and watched with the
 *   lifecycle's `watch`.
 * - Upload: Ark and Moonshot `prepare` a 100 MB file (`preparers`).
 *
 * Adding a provider to the registry without saying here where its output lands fails `seed` with its name.
 */
import type { HttpClient } from "@effect/platform/HttpClient"
import type { Effect } from "effect/Effect"
import type { Layer } from "effect/Layer"
import type { Batch, Provider } from "../packages/core/src/index.js"
import type { Service as Emulator, Urls } from "../packages/emulator/src/Emulator.js"

export type { Urls }

/** The formats of the generated output files. */
export type Format = "openai" | "qianfan"

/** Where the files are also served through the Files API, for the baselines (same bytes, same emulator process). */
export const fileIds = { openai: "file-bench-output", qianfan: "file-bench-qianfan" } as const satisfies Record<
  Format,
  string
>

/** What the emulator process serves: its URLs and, per provider, the batch whose output is the generated file. */
export interface Served {
  readonly urls: Urls
  readonly ids: Readonly<Record<string, string>>
}

/** The providers in the order the CLI lists them, with the format of their output files. */
export const formats: Readonly<Record<string, Format>> = {
  ark: "openai",
  moonshot: "openai",
  openai: "openai",
  qianfan: "qianfan",
  "qianfan-v2": "openai"
}

/** The providers of the CLI's registry. */
const entries = async () => (await import("../packages/cli/src/Providers.js")).entries

/** `Registry.Emulated` for the emulator at `urls` (default credentials), so `layerEmulated` can be built anywhere. */
const emulated = async (urls: Urls) => {
  const Layer = await import("effect/Layer")
  const { Registry } = await import("../packages/core/src/index.js")
  const { Emulator } = await import("../packages/emulator/src/index.js")
  return Layer.succeed(Registry.Emulated, Emulator.endpoints({ urls, credentials: Emulator.defaultCredentials }))
}

/** One provider's unified `Batch` service pointed at the emulator at `urls`; needs an `HttpClient`. */
export const batchLayer = async (
  name: string,
  urls: Urls
): Promise<Layer<Batch.Batch, never, HttpClient>> => {
  const Layer = await import("effect/Layer")
  const entry = (await entries()).find((e) => e.name === name)
  if (entry === undefined) throw new Error(`no provider "${name}" in the registry`)
  return Layer.provide(entry.layerEmulated, await emulated(urls))
}

type Files = Readonly<Record<Format, { readonly chunks: ReadonlyArray<Uint8Array>; readonly bytes: number }>>

/**
 * Swaps a finished job's output for the generated file, in the emulator's state (the job ran one request; its own
 * output file is where the provider reads results from).
 */
const swaps: Readonly<Record<string, (emulator: Emulator, jobId: string, file: Files[Format]) => void>> = {
  ark: (emulator, jobId, file) => {
    const store = emulator.state.objects.tos
    const [output, ...more] = store.list("barge", "").filter((o) =>
      o.key.includes(jobId) && o.key.endsWith("results.jsonl")
    )
    if (output === undefined || more.length > 0) throw new Error(`ark: no single results.jsonl for job ${jobId}`)
    store.putChunks(output.bucket, output.key, file.chunks, "application/jsonl")
  },
  qianfan: (emulator, taskId, file) => {
    const task = emulator.state.qianfan.tasks.get(taskId)
    if (task === undefined) throw new Error(`qianfan: no task ${taskId}`)
    const store = emulator.state.objects.bos
    const [output, ...more] = store.list(task.output.bucket, `${task.output.prefix}${task.outputDir}/`)
    if (output === undefined || more.length > 0) throw new Error(`qianfan: no single output object for ${taskId}`)
    store.putChunks(output.bucket, output.key, file.chunks, "application/jsonl")
  },
  ...Object.fromEntries((["moonshot", "openai", "qianfan-v2"] as const).map((name) => [
    name,
    (emulator: Emulator, batchId: string, file: Files[Format]) => {
      const state = emulator.state[name]
      const results = state.batches.get(batchId)?.results
      const output = results?.outputFileId == null ? undefined : state.files.get(results.outputFileId)
      if (output === undefined || results?.errorFileId != null) {
        throw new Error(`${name}: ${batchId} has no lone output`)
      }
      state.files.set(output.id, { ...output, bytes: file.bytes, chunks: file.chunks })
    }
  ]))
}

/**
 * Puts the generated files into the emulator: both on the Files API (for the baselines and the core path), and as
 * the output of one finished batch per provider, run through that provider's own service. Resolves with each
 * provider's batch id.
 */
export const seed = async (emulator: Emulator, files: Files): Promise<Readonly<Record<string, string>>> => {
  const Effect = await import("effect/Effect")
  const { NodeHttpClient } = await import("@effect/platform-node")
  const { Batch } = await import("../packages/core/src/index.js")
  const moonshot = emulator.state.moonshot
  for (const format of ["openai", "qianfan"] as const) {
    const id = fileIds[format]
    const { bytes, chunks } = files[format]
    moonshot.files.set(id, { id, filename: `${format}.jsonl`, purpose: "batch_output", bytes, createdAt: 0, chunks })
  }
  const ids: Record<string, string> = {}
  for (const entry of await entries()) {
    const format = formats[entry.name]
    const swap = swaps[entry.name]
    if (format === undefined || swap === undefined) {
      throw new Error(`bench/providers.ts does not say where ${entry.name}'s output file lands`)
    }
    const program = Effect.gen(function*() {
      const batch = yield* Batch.Batch
      const submitted = yield* batch.submit([
        { customId: "bench-1", model: entry.model, messages: [{ role: "user", content: "Summarise the document." }] }
      ])
      for (let step = 0; step < 100; step++) {
        yield* emulator.advance("10 minutes")
        const status = yield* batch.get(submitted.id)
        if (Batch.isTerminal(status.phase)) {
          if (status.phase !== "completed") return yield* Effect.dieMessage(`${entry.name}: ${status.phase}`)
          return [submitted.id, status.parts[0].jobId] as const
        }
      }
      return yield* Effect.dieMessage(`${entry.name}: the seed batch did not finish`)
    })
    const [id, jobId] = await Effect.runPromise(
      program.pipe(
        Effect.provide(await batchLayer(entry.name, emulator.urls)),
        Effect.provide(NodeHttpClient.layerUndici)
      )
    )
    swap(emulator, jobId, files[format])
    ids[entry.name] = id
  }
  return ids
}

/** The id of watched job `index` (0-based). */
export const jobId = (index: number): string => `batch-watch-${index}`

/**
 * Puts `count` running Moonshot batches into the emulator, created at `now` (emulated), each with `totals[i]`
 * requests: they queue, run at the emulator's pace and complete on their own (no output files are written).
 */
export const seedJobs = (emulator: Emulator, now: number, totals: ReadonlyArray<number>): void => {
  const state = emulator.state.moonshot
  totals.forEach((total, index) => {
    const id = jobId(index)
    state.batches.set(id, {
      id,
      endpoint: "/v1/chat/completions",
      inputFileId: "file-watch-input",
      completionWindow: "24h",
      metadata: null,
      plan: { createdAt: now, expiresAt: now + 24 * 3600_000, total, invalid: false, cancelRequestedAt: undefined },
      requests: { length: total } as never,
      outcomes: [],
      failedBefore: new Int32Array(total + 1),
      errors: [],
      results: { outputFileId: null, errorFileId: null }
    })
  })
}

/** Watching one job until it is terminal with the lifecycle's `watch` (default polling); and the bare baseline's. */
export const watcher = {
  /** The provider whose batches are watched. */
  provider: "moonshot",
  /** Watches one job with the unified service's `watch`, drained. */
  watch: async (): Promise<(id: string) => Effect<void, unknown, Batch.Batch>> => {
    const Effect = await import("effect/Effect")
    const Stream = await import("effect/Stream")
    const { Batch } = await import("../packages/core/src/index.js")
    return (id) => Effect.flatMap(Batch.Batch, (batch) => Stream.runDrain(batch.watch(id)))
  },
  /** For the bare baseline: the status URL, its headers, and whether a status body is terminal. */
  statusUrl: (urls: Urls, id: string) => `${urls.moonshot}/v1/batches/${id}`,
  headers: { authorization: "Bearer sk-barge-emulator" },
  isTerminal: (body: unknown): boolean =>
    ["completed", "failed", "expired", "cancelled"].includes((body as { status?: string }).status ?? "")
}

/** The providers whose `prepare` the upload benchmark measures. */
export const preparers = ["ark", "moonshot"] as const

/**
 * One of {@link preparers}' own services (its tag's, which exposes the contract pass one runs on), pointed at the
 * emulator at `urls`.
 */
export const preparer = async (
  name: (typeof preparers)[number],
  urls: Urls
): Promise<Effect<Provider.Service<any, any, any, any, any>, never, HttpClient>> => {
  const Effect = await import("effect/Effect")
  const endpoints = await emulated(urls)
  if (name === "ark") {
    const { ArkBatch } = await import("../packages/ark/src/index.js")
    return ArkBatch.ArkBatch.pipe(Effect.provide(ArkBatch.layerEmulated), Effect.provide(endpoints))
  }
  const { MoonshotBatch } = await import("../packages/moonshot/src/index.js")
  return MoonshotBatch.MoonshotBatch.pipe(Effect.provide(MoonshotBatch.layerEmulated), Effect.provide(endpoints))
}
