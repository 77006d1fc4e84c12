/**
 * The provider-specific part of the results benchmark, kept in this one file: where each provider's output file
 * sits in the emulator, and today's per-provider `results` path that reads it into `Batch.BatchResult`s.
 *
 * - Moonshot: `MoonshotBatch.results(batchId)` end to end (batch lookup, Files API download, its own decoder).
 * - Ark: the TOS download and result decoding `ArkBatch.results` runs (`internal/results.ts`, then the `Batch`
 *   driver's `resultOf`), on a `results.jsonl` object, without the job lookup.
 * - Qianfan: the BOS download and output-line decoding of `QianfanBatch.results`, on one output object, without
 *   the task lookup.
 *
 * When the provider services move onto the shared provider contract, re-point `read` here; nothing else in
 * bench/ names a provider (the upload bench takes Ark's input rules).
 */
import type { HttpClient } from "@effect/platform/HttpClient"
import type { Effect } from "effect/Effect"
import type { Stream } from "effect/Stream"
import type { Batch } from "../packages/core/src/index.js"
import type { Service as Emulator } from "../packages/emulator/src/Emulator.js"

/** Where the emulator process serves the files (printed by `serve`). */
export interface Urls {
  readonly moonshot: string
  readonly tos: string
  readonly bos: string
}

/** The formats of the generated files. */
export type Format = "openai" | "qianfan"

/** Bucket and keys the files are stored under. */
export const places = {
  bucket: "bench",
  /** The Moonshot batch whose output file is the OpenAI-format file. */
  batchId: "batch-bench",
  /** Files API ids: every file is also served there, for the baselines (same bytes, same emulator process). */
  fileIds: { openai: "file-bench-output", qianfan: "file-bench-qianfan" } satisfies Record<Format, string>,
  tosKey: "jobs/cv-bench/output/results.jsonl",
  bosKey: "output/task-bench/input.jsonl"
} as const

/** Puts the files into the emulator's state: Files API, a completed Moonshot batch, TOS and BOS objects. */
export const seed = (
  emulator: Emulator,
  files: Readonly<Record<Format, { readonly chunks: ReadonlyArray<Uint8Array>; readonly lines: number }>>
): void => {
  const state = emulator.state.moonshot
  for (const format of ["openai", "qianfan"] as const) {
    const { chunks } = files[format]
    const id = places.fileIds[format]
    const bytes = chunks.reduce((n, chunk) => n + chunk.byteLength, 0)
    state.files.set(id, { id, filename: `${format}.jsonl`, purpose: "batch_output", bytes, createdAt: 0, chunks })
  }
  const lines = files.openai.lines
  // A batch that finished long ago, with the file as its output: its counts are read from the plan and
  // `failedBefore`, so those are the only parts that must match the line count.
  state.batches.set(places.batchId, {
    id: places.batchId,
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
    results: { outputFileId: places.fileIds.openai, errorFileId: null }
  })
  emulator.state.objects.tos.createBucket(places.bucket)
  emulator.state.objects.tos.putChunks(places.bucket, places.tosKey, files.openai.chunks, "application/jsonl")
  emulator.state.objects.bos.createBucket(places.bucket)
  emulator.state.objects.bos.putChunks(places.bucket, places.bosKey, files.qianfan.chunks, "application/jsonl")
}

/** One provider's results path, as a stream needing only an `HttpClient`. */
export interface Reader {
  readonly format: Format
  readonly read: (urls: Urls) => Promise<Stream<Batch.BatchResult, unknown, HttpClient>>
}

/** Today's per-provider results paths. */
export const readers: Readonly<Record<"moonshot" | "ark" | "qianfan", Reader>> = {
  moonshot: {
    format: "openai",
    read: async (urls) => {
      const Effect = await import("effect/Effect")
      const Redacted = await import("effect/Redacted")
      const Stream = await import("effect/Stream")
      const { MoonshotBatch } = await import("../packages/moonshot/src/index.js")
      return Stream.unwrap(
        Effect.map(
          MoonshotBatch.make({ apiKey: Redacted.make("sk-barge-emulator"), baseUrl: `${urls.moonshot}/v1` }),
          (client) => client.results(places.batchId)
        )
      )
    }
  },
  ark: {
    format: "openai",
    read: async (urls) => {
      const Effect = await import("effect/Effect")
      const Redacted = await import("effect/Redacted")
      const Stream = await import("effect/Stream")
      const { Storage } = await import("../packages/ark/src/index.js")
      const Results = await import("../packages/ark/src/internal/results.js")
      const { resultOf } = await import("../packages/ark/src/internal/driver.js")
      const { Emulator } = await import("../packages/emulator/src/index.js")
      const credentials = Emulator.defaultCredentials.volcengine
      return Stream.unwrap(Effect.map(
        Storage.make({
          endpoint: urls.tos,
          region: "cn-beijing",
          bucket: places.bucket,
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: Redacted.make(credentials.secretAccessKey)
        }),
        (storage) => Stream.map(Results.read(storage, places.tosKey), resultOf)
      ))
    }
  },
  qianfan: {
    format: "qianfan",
    read: async (urls) => {
      const Effect = await import("effect/Effect")
      const Redacted = await import("effect/Redacted")
      const Stream = await import("effect/Stream")
      const { Jsonl, Signer } = await import("../packages/core/src/index.js")
      const { QianfanBatch, Storage, Wire } = await import("../packages/qianfan/src/index.js")
      const { Emulator } = await import("../packages/emulator/src/index.js")
      const credentials = Emulator.defaultCredentials.bce
      return Stream.unwrap(Effect.map(
        Storage.make({
          endpoint: urls.bos,
          bucket: places.bucket,
          signer: Signer.bce({
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: Redacted.make(credentials.secretAccessKey)
          })
        }),
        (storage) =>
          storage.lines(places.bosKey).pipe(
            Jsonl.decodeLines(Wire.OutputLine, { fast: Wire.fastOutputLine }),
            Stream.map(QianfanBatch.toResult)
          )
      ))
    }
  }
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

/** Today's way to watch one job until it is terminal, with the provider's default polling; and its status URL. */
export const watcher = {
  /** Builds the client once; the function it gives watches one job (`watch`, drained). */
  watch: async (urls: Urls): Promise<Effect<(id: string) => Effect<void, unknown>, never, HttpClient>> => {
    const Effect = await import("effect/Effect")
    const Redacted = await import("effect/Redacted")
    const Stream = await import("effect/Stream")
    const { MoonshotBatch } = await import("../packages/moonshot/src/index.js")
    return Effect.map(
      MoonshotBatch.make({ apiKey: Redacted.make("sk-barge-emulator"), baseUrl: `${urls.moonshot}/v1` }),
      (moonshot) => (id: string) => Stream.runDrain(moonshot.watch(id))
    )
  },
  /** For the bare baseline: the status URL, its headers, and whether a status body is terminal. */
  statusUrl: (urls: Urls, id: string) => `${urls.moonshot}/v1/batches/${id}`,
  headers: { authorization: "Bearer sk-barge-emulator" },
  isTerminal: (body: unknown): boolean =>
    ["completed", "failed", "expired", "cancelled"].includes((body as { status?: string }).status ?? "")
}

/** The upload benchmark's provider: Ark's input rules and its TOS `put`. */
export const uploads = {
  rules: async () => (await import("../packages/ark/src/internal/input.js")).rules,
  /** Builds the TOS client once (with its `HttpClient`); the function it gives streams a file to `input.jsonl`. */
  put: async (tosUrl: string) => {
    const Effect = await import("effect/Effect")
    const Redacted = await import("effect/Redacted")
    const { Storage } = await import("../packages/ark/src/index.js")
    const { Emulator } = await import("../packages/emulator/src/index.js")
    const credentials = Emulator.defaultCredentials.volcengine
    return (file: Stream<Uint8Array, unknown>, size: number): Effect<unknown, unknown, HttpClient> =>
      Effect.flatMap(
        Storage.make({
          endpoint: tosUrl,
          region: "cn-beijing",
          bucket: places.bucket,
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: Redacted.make(credentials.secretAccessKey),
          retry: false
        }),
        (storage) => storage.put("input.jsonl", file, { contentLength: size, contentType: "application/jsonl" })
      )
  }
}
