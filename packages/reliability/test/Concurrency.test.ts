/**
 * Never twice, even concurrently (issue 14 §3): the same input submitted at once — ten times in one process, and by
 * five separate `barge submit` processes started together — becomes one surviving provider job on every provider,
 * and every request's result appears exactly once.
 */
import { Providers } from "@barge/cli"
import type { ChatRequest, Registry } from "@barge/core"
import { Batch } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "barge-concurrency-"))

const input = (entry: Registry.Entry, n: number): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: n }, (_, i) => ({
    customId: `${entry.name}-${i + 1}`,
    model: entry.model,
    messages: [{ role: "user", content: `question ${i + 1}` }]
  }))

const worker = path.resolve(import.meta.dirname, "support/submitWhenTold.ts")

/**
 * Five processes that each build their service, say `ready`, and submit the file when all of them are ready —
 * so the submits race for real, however long each process took to start.
 */
const racingProcesses = (entry: Registry.Entry, file: string, urls: string, count: number) =>
  Effect.promise(() => {
    const children = Array.from({ length: count }, () =>
      spawn("node", ["--import", "tsx", worker, entry.name, urls, file], { stdio: ["pipe", "pipe", "pipe"] }))
    const outputs = children.map((child) =>
      new Promise<{ readonly code: number; readonly lines: Array<string>; readonly stderr: string }>(
        (resolve, reject) => {
          const lines: Array<string> = []
          let buffered = ""
          let stderr = ""
          child.stdout!.on("data", (chunk) => {
            buffered += chunk
            const parts = buffered.split("\n")
            buffered = parts.pop()!
            lines.push(...parts)
            if (parts.includes("ready")) {
              ready()
            }
          })
          child.stderr!.on("data", (chunk) => (stderr += chunk))
          child.on("error", reject)
          child.on("close", (code) =>
            resolve({ code: code ?? -1, lines, stderr }))
        }
      )
    )
    let readyCount = 0
    const ready = () => {
      readyCount++
      if (readyCount === count) { for (const child of children) child.stdin!.end("go\n") }
    }
    return Promise.all(outputs)
  })

/** The provider's jobs in this emulator that are not cancelled: the survivors. */
const survivors = Effect.flatMap(Batch.Batch, (batch) =>
  batch.list.pipe(
    Stream.filter((status) => status.phase !== "cancelled" && status.phase !== "cancelling"),
    Stream.runCollect,
    Effect.map(Chunk.toReadonlyArray)
  ))

/** Lets every job finish, then reads the batch's results by id. */
const finishAndRead = (id: string) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    yield* emulator.advance("2 hours")
    const batch = yield* Batch.Batch
    const done = yield* batch.get(id)
    assert.strictEqual(done.phase, "completed")
    return Chunk.toReadonlyArray(yield* Stream.runCollect(batch.results(id))).map((r) => r.customId)
  })

const onEmulator = (entry: Registry.Entry) =>
  Layer.unwrapEffect(
    Effect.map(
      Emulator.Emulator,
      (emulator) => Providers.layer(entry, { _tag: "Emulator", endpoints: Emulator.endpoints(emulator) })
    )
  )

describe("the same input submitted concurrently", () => {
  for (const entry of Providers.entries) {
    it.scopedLive(`${entry.name}: ten submits in one process share one job`, () =>
      Effect.gen(function*() {
        const requests = input(entry, 12)
        const batch = yield* Batch.Batch
        const submitted = yield* Effect.all(Array.from({ length: 10 }, () => batch.submit(requests)), {
          concurrency: "unbounded"
        })
        assert.strictEqual(new Set(submitted.map((s) => s.id)).size, 1)
        assert.strictEqual(submitted.filter((s) => s.attached === 0).length, 1)
        const live = yield* survivors
        assert.deepStrictEqual(live.map((s) => s.id), [submitted[0]!.id])
        const ids = yield* finishAndRead(submitted[0]!.id)
        assert.deepStrictEqual([...ids].sort(), requests.map((r) => r.customId).sort())
      }).pipe(
        Effect.provide(onEmulator(entry)),
        Effect.provide(Layer.mergeAll(Emulator.layer(), NodeHttpClient.layerUndici, NodeContext.layer))
      ), { timeout: 60_000 })

    it.scopedLive(
      `${entry.name}: five processes submitting at the same instant converge on one job`,
      () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const requests = input(entry, 12)
          const file = path.join(tmp, `${entry.name}.jsonl`)
          fs.writeFileSync(file, requests.map((r) => JSON.stringify(r)).join("\n") + "\n")
          const runs = yield* racingProcesses(entry, file, JSON.stringify(emulator.urls), 5)
          for (const run of runs) assert.strictEqual(run.code, 0, run.stderr)
          const ids = runs.map((run) => (JSON.parse(run.lines.at(-1)!) as { readonly id: string }).id)
          assert.strictEqual(new Set(ids).size, 1, `every process reports the survivor: ${ids.join(", ")}`)
          const live = yield* survivors
          assert.deepStrictEqual(live.map((s) => s.id), [ids[0]])
          const results = yield* finishAndRead(ids[0]!)
          assert.deepStrictEqual([...results].sort(), requests.map((r) => r.customId).sort())
        }).pipe(
          Effect.provide(onEmulator(entry)),
          // Real time: creation times move on as they do at a provider, which is what convergence relies on.
          Effect.provide(Layer.mergeAll(Emulator.layer(), NodeHttpClient.layerUndici, NodeContext.layer))
        ),
      { timeout: 120_000 }
    )
  }
})
