import { ApiError, Batch, type ChatRequest, InputValidation, Registry } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted, Schedule, Stream, TestClock } from "effect"
import { OpenAiBatch } from "../src/index.js"
import { collect, driven, makeLayer, requests } from "./utils.js"

const fast = { schedule: Schedule.spaced("1 second") }

const failing = (customId: string): ChatRequest.ChatRequest => ({
  customId,
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "please [[barge:fail]]" }]
})

describe("OpenAiBatch lifecycle", () => {
  it.effect("submit → await → results: every request once, the emulator's answers, the input file deleted after", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* openai.submit([...requests(3), failing("bad")], { metadata: { team: "search" } })
      assert.match(submitted.id, /^openai:batch_/)
      assert.strictEqual(submitted.status.counts.total, 4)
      const job = emulator.state.openai.batches.get(submitted.status.parts[0].jobId)!
      assert.strictEqual(job.completionWindow, "24h")
      assert.strictEqual(job.metadata?.team, "search")
      const input = job.inputFileId
      assert.isTrue(emulator.state.openai.files.has(input))

      const done = yield* driven(openai.await(submitted.id, fast))
      assert.strictEqual(done.phase, "completed")
      assert.deepStrictEqual({ ...done.counts }, { total: 4, completed: 3, failed: 1 })
      assert.isFalse(emulator.state.openai.files.has(input), "the input file is deleted once the batch is final")

      const results = yield* collect(openai.results(submitted.id))
      assert.deepStrictEqual(results.map((r) => r.customId).sort(), ["bad", "r1", "r2", "r3"])
      for (const result of results) {
        if (result.customId === "bad") {
          assert.strictEqual(result._tag, "Failed")
          if (result._tag === "Failed") assert.strictEqual(result.error.statusCode, 400)
        } else {
          assert.strictEqual(result._tag, "Succeeded")
          if (result._tag === "Succeeded") {
            const n = result.customId.slice(1)
            assert.strictEqual(
              result.response.choices[0]?.message.content,
              Emulator.expectedContent(result.customId, `question ${n}`)
            )
          }
        }
      }
    }).pipe(Effect.provide(makeLayer())))

  it.effect("keeps the input file when told to (deleteInputFiles: false)", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* openai.submit(requests(2))
      const input = emulator.state.openai.batches.get(submitted.status.parts[0].jobId)!.inputFileId
      yield* driven(openai.await(submitted.id, fast))
      assert.isTrue(emulator.state.openai.files.has(input))
    }).pipe(Effect.provide(makeLayer({ service: { deleteInputFiles: false } }))))

  it.effect("splits over several batches and a resubmission attaches to them without uploading again", () =>
    Effect.gen(function*() {
      const openai = (yield* OpenAiBatch.OpenAiBatch).withLimits({ maxLinesPerJob: 2 })
      const emulator = yield* Emulator.Emulator
      const submitted = yield* openai.submit(requests(5))
      assert.strictEqual(submitted.status.parts.length, 3)
      assert.strictEqual(emulator.state.openai.batches.size, 3)
      const files = emulator.state.openai.files.size
      const again = yield* openai.submit(requests(5))
      assert.strictEqual(again.id, submitted.id)
      assert.strictEqual(again.attached, 3)
      assert.strictEqual(emulator.state.openai.batches.size, 3)
      assert.strictEqual(emulator.state.openai.files.size, files)
      yield* driven(openai.await(submitted.id, fast))
      const results = yield* collect(openai.results(submitted.id))
      assert.deepStrictEqual(results.map((r) => r.customId).sort(), ["r1", "r2", "r3", "r4", "r5"])
    }).pipe(Effect.provide(makeLayer())))

  it.effect("a lost create answer is found again, never duplicated", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.set("lost-create")
      const submitted = yield* driven(openai.submit(requests(3)), "10 millis")
      assert.strictEqual((yield* emulator.faults.counts).lostResponse, 1)
      assert.strictEqual(emulator.state.openai.batches.size, 1)
      assert.isTrue(emulator.state.openai.batches.has(submitted.status.parts[0].jobId))
    }).pipe(Effect.provide(makeLayer())))

  it.effect("cancel: every request appears exactly once, the unprocessed ones as batch_cancelled", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const submitted = yield* openai.submit(requests(10))
      yield* driven(
        Stream.runDrain(
          openai.watch(submitted.id, fast).pipe(Stream.takeUntil((p) => p.status.counts.completed >= 3))
        )
      )
      const cancelling = yield* openai.cancelBatch(submitted.id)
      assert.strictEqual(cancelling.phase, "cancelling")
      const ended = yield* driven(Effect.flip(openai.await(submitted.id, fast)))
      assert.strictEqual(ended._tag, "BatchFailed")
      if (ended._tag === "BatchFailed") assert.strictEqual(ended.status.phase, "cancelled")
      const results = yield* collect(openai.results(submitted.id))
      const ids = results.map((r) => r.customId)
      assert.strictEqual(ids.length, 10)
      assert.strictEqual(new Set(ids).size, 10)
      const cancelled = results.filter((r) => r._tag === "Failed" && r.error.code === "batch_cancelled")
      const succeeded = results.filter((r) => r._tag === "Succeeded")
      assert.isAtLeast(succeeded.length, 3)
      assert.strictEqual(cancelled.length + succeeded.length, 10)
      assert.isAbove(cancelled.length, 0)
    }).pipe(Effect.provide(makeLayer({ emulator: { processing: { perRequest: "1 second" } } }))))

  it.effect("expiry: finished requests kept, the rest batch_expired, each once", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const submitted = yield* openai.submit(requests(30))
      const ended = yield* driven(
        Effect.flip(openai.await(submitted.id, { schedule: Schedule.spaced("1 hour") })),
        "1 hour"
      )
      assert.strictEqual(ended._tag, "BatchFailed")
      if (ended._tag === "BatchFailed") assert.strictEqual(ended.status.phase, "expired")
      const results = yield* collect(openai.results(submitted.id))
      assert.strictEqual(results.length, 30)
      assert.strictEqual(new Set(results.map((r) => r.customId)).size, 30)
      const expired = results.filter((r) => r._tag === "Failed" && r.error.code === "batch_expired").length
      const succeeded = results.filter((r) => r._tag === "Succeeded").length
      assert.strictEqual(expired + succeeded, 30)
      assert.isAbove(expired, 0)
      assert.isAbove(succeeded, 0)
    }).pipe(Effect.provide(makeLayer({ emulator: { processing: { perRequest: "1 hour" } } }))))
})

describe("OpenAiBatch rules and errors", () => {
  it.effect("refuses a window OpenAI does not take, naming what it takes, before uploading anything", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const emulator = yield* Emulator.Emulator
      const error = yield* Effect.flip(openai.submit(requests(2), { completionWindow: "48h" }))
      assert.instanceOf(error, InputValidation.InputValidationError)
      if (!(error instanceof InputValidation.InputValidationError)) return
      assert.deepStrictEqual(error.issues.map((i) => [i.lineNumber, i.rule]), [[0, "InvalidParameter"]])
      assert.include(error.issues[0]!.message, "\"48h\" cannot be used on openai")
      assert.include(error.issues[0]!.message, "24h")
      // A shorter window maps onto the 24h OpenAI takes.
      const submitted = yield* openai.submit(requests(1, "short"), { completionWindow: "2 hours" })
      assert.strictEqual(emulator.state.openai.batches.get(submitted.status.parts[0].jobId)!.completionWindow, "24h")
      assert.strictEqual(emulator.state.openai.files.size, 1)
    }).pipe(Effect.provide(makeLayer())))

  it.effect("refuses metadata beyond what OpenAI keeps, before uploading anything", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const emulator = yield* Emulator.Emulator
      const metadata = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, "v"]))
      const error = yield* Effect.flip(openai.submit(requests(1), { metadata }))
      assert.instanceOf(error, InputValidation.InputValidationError)
      assert.include(error.message, "at most 14")
      const reserved = yield* Effect.flip(openai.submit(requests(1), { metadata: { barge_idempotency_key: "x" } }))
      assert.include(reserved.message, "Barge's own")
      assert.strictEqual(emulator.state.openai.files.size, 0)
    }).pipe(Effect.provide(makeLayer())))

  it.effect("a wrong key is ApiError Authentication with OpenAI's code, and the key is not in the message", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const error = yield* Effect.flip(openai.get("batch_x"))
      assert.instanceOf(error, ApiError.ApiError)
      if (error._tag !== "ApiError") return
      assert.strictEqual(error.reason, "Authentication")
      assert.strictEqual(error.status, 401)
      assert.strictEqual(error.code, "invalid_api_key")
      assert.notInclude(error.message, "sk-wrong-key")
    }).pipe(Effect.provide(makeLayer({ apiKey: "sk-wrong-key" }))))

  it.effect("an unknown batch or file is NotFound; a raw create over a missing file too", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const missing = yield* Effect.flip(openai.get("batch_missing"))
      assert.isTrue(ApiError.is("NotFound")(missing))
      const file = yield* Effect.flip(openai.files.retrieve("file-missing"))
      assert.isTrue(ApiError.is("NotFound")(file))
      const create = yield* Effect.flip(openai.create({ inputFileId: "file-missing" }))
      assert.isTrue(ApiError.is("NotFound")(create))
      const window = yield* Effect.flip(openai.create({ inputFileId: "file-missing", completionWindow: "3d" }))
      assert.isTrue(ApiError.is("InvalidRequest")(window))
      assert.include(window.message, "cannot be used on openai")
    }).pipe(Effect.provide(makeLayer())))
})

describe("OpenAiBatch files and cleanup", () => {
  it.effect("files: upload, list, retrieve, content from an offset, delete", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const body = new TextEncoder().encode("{\"a\":1}\n{\"b\":\"你好\"}\n")
      const file = yield* openai.files.upload({ filename: "two.jsonl", content: Stream.make(body), size: body.length })
      assert.strictEqual(file.bytes, body.length)
      assert.strictEqual(file.purpose, "batch")
      assert.include((yield* collect(openai.files.list)).map((f) => f.id), file.id)
      assert.strictEqual((yield* openai.files.retrieve(file.id)).filename, "two.jsonl")
      const tail = yield* collect(openai.files.content(file.id, { offset: 8 }))
      assert.strictEqual(Buffer.concat(tail).toString("utf8"), Buffer.from(body).subarray(8).toString("utf8"))
      assert.isTrue((yield* openai.files.delete(file.id)).deleted)
      assert.isTrue(ApiError.is("NotFound")(yield* Effect.flip(openai.files.retrieve(file.id))))
    }).pipe(Effect.provide(makeLayer())))

  it.effect("cleanup lists old batch files on a dry run, deletes them otherwise, and spares unfinished batches' inputs", () =>
    Effect.gen(function*() {
      const openai = yield* OpenAiBatch.OpenAiBatch
      const emulator = yield* Emulator.Emulator
      const body = new TextEncoder().encode("{}\n")
      const upload = (name: string) =>
        openai.files.upload({ filename: name, content: Stream.make(body), size: body.length })
      const old = yield* upload("old.jsonl")
      const other = yield* openai.files.upload({
        filename: "notes.jsonl",
        content: Stream.make(body),
        size: body.length,
        purpose: "user_data"
      })
      // A batch still running two hours later reads its input.
      const running = yield* openai.submit(requests(10, "run"))
      const runningInput = emulator.state.openai.batches.get(running.status.parts[0].jobId)!.inputFileId
      yield* TestClock.adjust("2 hours")
      const fresh = yield* upload("fresh.jsonl")

      const dry = yield* openai.cleanup({ olderThan: "1 hour" })
      assert.isTrue(dry.dryRun)
      assert.deepStrictEqual(dry.files.map((f) => f.id), [old.id])
      assert.strictEqual(dry.inUse, 1)
      assert.strictEqual(dry.deleted, 0)
      assert.isTrue(emulator.state.openai.files.has(old.id))
      assert.include(dry.lines.join("\n"), `would delete ${old.id}`)

      const done = yield* openai.cleanup({ olderThan: "1 hour", dryRun: false })
      assert.strictEqual(done.deleted, 1)
      assert.isFalse(emulator.state.openai.files.has(old.id))
      for (const kept of [other.id, fresh.id, runningInput]) assert.isTrue(emulator.state.openai.files.has(kept))
    }).pipe(Effect.provide(makeLayer({ emulator: { processing: { perRequest: "1 hour" } } }))))
})

describe("OpenAiBatch layers", () => {
  it.effect("layerConfig needs OPENAI_API_KEY, honours OPENAI_BASE_URL, and values given win", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const provide = (env: ReadonlyArray<readonly [string, string]>, overrides?: Partial<OpenAiBatch.Options>) =>
        OpenAiBatch.layerConfig(overrides).pipe(
          Layer.provide(NodeHttpClient.layerUndici),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(env))))
        )
      const missing = yield* Effect.flip(Effect.provide(OpenAiBatch.OpenAiBatch, provide([])))
      assert.include(String(missing), "OPENAI_API_KEY")
      const base = `${emulator.urls.openai}/v1`
      const fromEnv = yield* Effect.provide(
        Effect.flatMap(
          OpenAiBatch.OpenAiBatch,
          (openai) => Effect.map(collect(openai.list()), (listed) => ({ baseUrl: openai.profile.baseUrl, listed }))
        ),
        provide([["OPENAI_API_KEY", emulator.credentials.openai.apiKey], ["OPENAI_BASE_URL", base]])
      )
      assert.strictEqual(fromEnv.baseUrl, base)
      // The call reached the emulator and authenticated with the configured key.
      assert.strictEqual(fromEnv.listed.length, 0)
      const given = yield* Effect.provide(
        Effect.map(OpenAiBatch.OpenAiBatch, (openai) => openai.profile.baseUrl),
        provide([["OPENAI_BASE_URL", "https://example.invalid/v1"]], {
          apiKey: Redacted.make(emulator.credentials.openai.apiKey),
          baseUrl: base
        })
      )
      assert.strictEqual(given, base)
    }).pipe(Effect.provide(Emulator.layer())))

  it.effect("the registry entry runs a provider-agnostic program on the emulator", () =>
    Effect.gen(function*() {
      assert.strictEqual(OpenAiBatch.registry.name, "openai")
      assert.deepStrictEqual(OpenAiBatch.registry.credentials, ["OPENAI_API_KEY"])
      const program = Effect.gen(function*() {
        const batch = yield* Batch.Batch
        const submitted = yield* driven(batch.submit(requests(2)), "100 millis")
        const done = yield* driven(batch.await(submitted.id, fast))
        return { done, results: yield* collect(batch.results(submitted.id)) }
      })
      const { done, results } = yield* program.pipe(
        Effect.provide(OpenAiBatch.registry.layerEmulated),
        Effect.provide(NodeHttpClient.layerUndici)
      )
      assert.strictEqual(done.provider, "openai")
      assert.strictEqual(done.phase, "completed")
      assert.strictEqual(results.length, 2)
    }).pipe(Effect.provide(Emulator.layer())))

  it.effect("Registry.Emulated reads the OpenAI key and URL from the emulator", () =>
    Effect.gen(function*() {
      const endpoints = yield* Registry.Emulated
      const emulator = yield* Emulator.Emulator
      assert.strictEqual(Redacted.value(endpoints.credential("openai.apiKey")), emulator.credentials.openai.apiKey)
      assert.strictEqual(endpoints.url("openai"), emulator.urls.openai)
    }).pipe(Effect.provide(Emulator.layer())))
})
