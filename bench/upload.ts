/**
 * Upload: a 100 MB batch input (OpenAI batch lines) validated with core `InputValidation` (Ark's rules) and
 * streamed to the emulator's TOS with Ark's `Storage.put`, in a child process; beside it the usual approach —
 * read the whole file, split, `JSON.parse` every line, check ids with a Set.
 */
import { createWriteStream, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fmt, type Goal, mib, type Report } from "./report.js"
import { growth, type Measured, profile, runMode, serve } from "./results.js"

/**
 * V8 flags that keep the collector from growing the heap far past what is live. Roomier than the results bench's:
 * validation keeps every `custom_id` to find duplicates (by design, O(lines)), about 25 MB for this input.
 */
const cappedHeap: ReadonlyArray<string> = ["--max-old-space-size=96", "--max-semi-space-size=1"]

const system = "You are a careful assistant. Answer briefly, cite the passage you rely on, and say when unsure."

/** Writes about `bytes` of batch input lines to `path`. */
const writeInput = async (path: string, bytes: number): Promise<number> => {
  const out = createWriteStream(path)
  let written = 0
  let lines = 0
  const block: Array<string> = []
  while (written < bytes) {
    lines++
    const line = JSON.stringify({
      custom_id: `request-${lines}`,
      method: "POST",
      url: "/v1/chat/completions",
      body: {
        model: "doubao-1-5-pro-32k",
        messages: [
          { role: "system", content: system },
          { role: "user", content: `Question ${lines}: summarise the document ${"并说明理由 ".repeat(lines % 40)}` }
        ],
        max_tokens: 512
      }
    }) + "\n"
    written += Buffer.byteLength(line)
    block.push(line)
    if (block.length === 2000) {
      if (!out.write(block.join(""))) await new Promise<void>((resolve) => out.once("drain", () => resolve()))
      block.length = 0
    }
  }
  out.write(block.join(""))
  await new Promise<void>((resolve) => out.end(() => resolve()))
  return written
}

/**
 * Runs the benchmark; `smoke` uses a 2 MB input.
 */
export const run = async (options: { readonly smoke: boolean }): Promise<Report> => {
  const size = options.smoke ? 2e6 : 1e8
  const dir = mkdtempSync(join(tmpdir(), "barge-upload-"))
  const path = join(dir, "input.jsonl")
  try {
    const bytes = await writeInput(path, size)
    const served = await serve(1, options.smoke)
    let phases: ReadonlyArray<Measured>
    let cappedPhases: ReadonlyArray<Measured> = []
    let profileNotes: Array<string> = []
    try {
      phases = await runMode(options.smoke, ["upload", served.urls.tos, path])
      // Again with V8's heap held small: completing proves nothing grows with the input (see results.ts).
      if (!options.smoke) cappedPhases = await runMode(false, ["upload", served.urls.tos, path, "no-usual"], cappedHeap)
      const validated = phases[0]
      if (!options.smoke && validated !== undefined && validated.seconds > 0 && bytes / validated.seconds < 100e6) {
        profileNotes = await profile(
          ["upload", served.urls.tos, path, "no-usual"],
          "the upload worker (validate + put)"
        )
      }
      if (!options.smoke && cappedPhases.length < 2) {
        cappedPhases = [...cappedPhases, ...Array.from({ length: 2 - cappedPhases.length }, () => cappedPhases.at(-1)!)]
      }
    } finally {
      await served.stop()
    }
    const [validation, put, usual] = phases
    const rate = (m: Measured | undefined) =>
      m === undefined || m.error !== undefined || m.seconds === 0 ? 0 : bytes / 2 ** 20 / m.seconds
    const row = (what: string, m: Measured | undefined) => [
      what,
      m?.error === undefined && m !== undefined ? fmt(m.seconds, 2) : "—",
      `${fmt(rate(m), 0)} MiB/s`,
      m === undefined ? "—" : mib(growth(m)),
      m?.error ?? "ok"
    ]
    const goals: Array<Goal> = [
      {
        name: `upload ${fmt(bytes / 1e6, 0)} MB: validation throughput`,
        target: "≥ 100 MB/s",
        actual: `${fmt((rate(validation) * 2 ** 20) / 1e6, 0)} MB/s`,
        met: (rate(validation) * 2 ** 20) / 1e6 >= 100
      },
      ...(cappedPhases.length < 2 ? [] : [{
        name: `upload ${fmt(bytes / 1e6, 0)} MB: memory with the heap capped (${cappedHeap.join(" ")})`,
        target: "RSS growth ≤ 64 MiB (completes: nothing held per line)",
        actual: `validate ${mib(growth(cappedPhases[0]!))}${cappedPhases[0]!.error ?? ""}, put ${
          mib(growth(cappedPhases[1]!))
        }${cappedPhases[1]!.error ?? ""}`,
        met: cappedPhases.slice(0, 2).every((m) => m.error === undefined && growth(m) <= 64 * 2 ** 20)
      }]),
      {
        name: `upload ${fmt(bytes / 1e6, 0)} MB: constant memory (validate + put)`,
        target: "RSS growth ≤ 64 MiB, independent of size",
        actual: `validate ${mib(validation ? growth(validation) : 0)}, put ${mib(put ? growth(put) : 0)} (usual: ${
          mib(usual ? growth(usual) : 0)
        })`,
        met: validation !== undefined && put !== undefined && validation.error === undefined &&
          put.error === undefined && Math.max(growth(validation), growth(put)) <= 64 * 2 ** 20
      }
    ]
    return {
      tables: [{
        title: `Upload: ${fmt(bytes / 1e6, 1)} MB batch input, from disk, in a child process`,
        columns: ["phase", "seconds", "throughput", "peak RSS growth", "outcome"],
        rows: [
          row("Barge: InputValidation.validate (Ark rules), streamed", validation),
          row("Barge: Storage.put to emulated TOS (streamed, signed)", put),
          row("usual: readFile + split + JSON.parse + Set of ids", usual),
          ...(cappedPhases.length < 2 ? [] : [
            row(`Barge: validate, heap capped (${cappedHeap.join(" ")})`, cappedPhases[0]),
            row(`Barge: put, heap capped`, cappedPhases[1])
          ])
        ]
      }],
      goals,
      notes: [
        "The emulator runs in its own process; `put` streams the file in 1 MiB chunks with " +
        "`Content-Length` (TOS signs it `UNSIGNED-PAYLOAD`). Peak RSS growth is measured from just before each phase.",
        ...profileNotes
      ]
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
