import { ApiError, Batch, InputValidation } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Schedule, Stream } from "effect"
import { Mock, MoonshotBatch } from "../src/index.js"
import { collect, driven, fileText, makeLayer, requests } from "./utils.js"

const fast = { schedule: Schedule.spaced("1 second") }

const jsonl = (lines: ReadonlyArray<unknown>) =>
  Batch.jsonlBytes(Stream.make(new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join("\n") + "\n")))

const openAiLine = (customId: string, content: string, extra: Record<string, unknown> = {}) => ({
  custom_id: customId,
  method: "POST",
  url: "/v1/chat/completions",
  body: { model: "kimi-k2.6", messages: [{ role: "user", content }], ...extra }
})

describe("MoonshotBatch lifecycle", () => {
  it.effect("submits OpenAI batch lines, awaits, reads both files, and deletes the input once final", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* kimi.submit(
        jsonl([openAiLine("a", "hello"), openAiLine("b", "please [[barge:fail]]"), openAiLine("c", "world")]),
        { completionWindow: "3 days" }
      )
      assert.match(submitted.id, /^moonshot:batch_/)
      const job = emulator.state.moonshot.batches.get(submitted.status.parts[0].jobId)!
      assert.strictEqual(job.completionWindow, "72h")
      const input = job.inputFileId
      const done = yield* driven(kimi.await(submitted.id, fast))
      assert.deepStrictEqual({ ...done.counts }, { total: 3, completed: 2, failed: 1 })
      assert.isFalse(emulator.state.moonshot.files.has(input))
      const results = yield* collect(kimi.results(submitted.id))
      assert.deepStrictEqual(results.map((r) => [r.customId, r._tag]), [
        ["a", "Succeeded"],
        ["c", "Succeeded"],
        ["b", "Failed"]
      ])
      const a = results[0]!
      if (a._tag === "Succeeded") {
        assert.strictEqual(a.response.choices[0]?.message.content, Emulator.expectedContent("a", "hello"))
      }
    }).pipe(Effect.provide(makeLayer())))

  it.effect("cancel: every request exactly once; the input file stays, since Kimi may not list what never ran", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* kimi.submit(requests(8))
      yield* driven(
        Stream.runDrain(kimi.watch(submitted.id, fast).pipe(Stream.takeUntil((p) => p.status.counts.completed >= 2)))
      )
      yield* kimi.cancelBatch(submitted.id)
      const ended = yield* driven(Effect.flip(kimi.await(submitted.id, fast)))
      assert.strictEqual(ended._tag === "BatchFailed" && ended.status.phase, "cancelled")
      const results = yield* collect(kimi.results(submitted.id))
      assert.deepStrictEqual(results.map((r) => r.customId).sort(), requests(8).map((r) => r.customId).sort())
      assert.isTrue(results.every((r) => r._tag === "Succeeded" || r.error.code === "batch_cancelled"))
      const job = emulator.state.moonshot.batches.get(submitted.status.parts[0].jobId)!
      assert.isTrue(emulator.state.moonshot.files.has(job.inputFileId))
      // Were Kimi to write no error file, the requests that never ran still come from the input file.
      emulator.state.moonshot.quirks.batchObject = (batch) => ({ ...batch, error_file_id: null })
      const fromInput = yield* collect(kimi.results(submitted.id))
      assert.deepStrictEqual(fromInput.map((r) => r.customId).sort(), results.map((r) => r.customId).sort())
      assert.deepStrictEqual(
        fromInput.filter((r) => r._tag === "Failed").map((r) => r._tag === "Failed" && r.error.code),
        results.filter((r) => r._tag === "Failed").map(() => "batch_cancelled")
      )
    }).pipe(Effect.provide(makeLayer({ emulator: { processing: { perRequest: "1 second" } } }))))

  it.effect("refuses a window beyond Moonshot's 7 days before anything is sent", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      const error = yield* Effect.flip(kimi.submit(requests(1), { completionWindow: "8d" }))
      assert.instanceOf(error, InputValidation.InputValidationError)
      assert.include(error.message, "168h")
      assert.strictEqual(emulator.state.moonshot.files.size, 0)
    }).pipe(Effect.provide(makeLayer())))

  it.effect("a wrong key is ApiError Authentication with Moonshot's type and a hint about the platform", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const error = yield* Effect.flip(kimi.get("batch_x"))
      assert.isTrue(ApiError.is("Authentication")(error))
      if (error._tag !== "ApiError") return
      assert.strictEqual(error.code, "invalid_authentication_error")
      assert.include(error.message, "MOONSHOT_API_KEY")
      assert.notInclude(error.message, "sk-wrong")
    }).pipe(Effect.provide(makeLayer({ apiKey: "sk-wrong" }))))
})

describe("Kimi's fixed sampling parameters (issue 13.2)", () => {
  it.effect("are refused during validation, naming each line, and nothing is uploaded", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      const [first, second, third] = requests(3)
      const error = yield* Effect.flip(
        kimi.submit([first!, { ...second!, temperature: 0.3 }, { ...third!, top_p: 0.9, n: 2 }])
      )
      assert.instanceOf(error, InputValidation.InputValidationError)
      if (!(error instanceof InputValidation.InputValidationError)) return
      assert.deepStrictEqual(error.issues.map((i) => [i.lineNumber, i.rule]), [[2, "FixedParameter"], [
        3,
        "FixedParameter"
      ]])
      assert.include(error.issues[0]!.message, "\"temperature\"")
      assert.include(error.issues[1]!.message, "\"top_p\", \"n\"")
      assert.strictEqual(emulator.state.moonshot.files.size, 0)
    }).pipe(Effect.provide(makeLayer())))

  it.effect("are dropped and reported when asked, and the batch Kimi receives carries none", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* kimi.submit(
        jsonl([openAiLine("a", "x", { temperature: 0.3 }), openAiLine("b", "y", { max_tokens: 10 })]),
        { fixedParameters: "drop" }
      )
      assert.deepStrictEqual(submitted.dropped.map((d) => [d.lineNumber, d.customId, d.parameter, d.value]), [
        [1, "a", "temperature", 0.3]
      ])
      const job = emulator.state.moonshot.batches.get(submitted.status.parts[0].jobId)!
      const sent = fileText(emulator.state.moonshot.files.get(job.inputFileId)!.chunks)
      assert.notInclude(sent, "temperature")
      assert.include(sent, "\"max_tokens\":10")
      const done = yield* driven(kimi.await(submitted.id, fast))
      assert.strictEqual(done.counts.completed, 2)
    }).pipe(Effect.provide(makeLayer())))

  it.effect("the emulated Kimi fails a batch whose lines carry them, as Kimi would", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const body = new TextEncoder().encode(
        [openAiLine("a", "x"), openAiLine("b", "y", { top_p: 0.5 })].map((l) => JSON.stringify(l)).join("\n")
      )
      const file = yield* kimi.files.upload({ filename: "raw.jsonl", content: Stream.make(body), size: body.length })
      const created = yield* kimi.create({ inputFileId: file.id })
      const ended = yield* driven(Effect.flip(kimi.await(created.id, fast)))
      assert.strictEqual(ended._tag, "BatchFailed")
      if (ended._tag === "BatchFailed") {
        assert.strictEqual(ended.status.phase, "failed")
        assert.include(ended.message, "line 2")
        assert.include(ended.message, "top_p")
      }
    }).pipe(Effect.provide(makeLayer())))
})

describe("File lifecycle (issue 13.3)", () => {
  it.effect("the 1000-file quota is QuotaExceeded with a hint to run cleanup; cleanup frees it", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      const bytes = new TextEncoder().encode("{}\n")
      for (let i = 0; i < 1000; i++) {
        emulator.state.moonshot.files.set(`file-old-${i}`, {
          id: `file-old-${i}`,
          filename: `old-${i}.jsonl`,
          purpose: "batch",
          bytes: bytes.length,
          createdAt: 0,
          chunks: [bytes]
        })
      }
      const error = yield* Effect.flip(kimi.submit(requests(2)))
      assert.isTrue(ApiError.is("QuotaExceeded")(error))
      assert.include(error.message, "barge cleanup")
      yield* driven(Effect.void, "2 hours")
      const report = yield* kimi.cleanup({ olderThan: "1 hour", dryRun: false })
      assert.strictEqual(report.deleted, 1000)
      assert.strictEqual(emulator.state.moonshot.files.size, 0)
      const submitted = yield* kimi.submit(requests(2))
      assert.strictEqual(submitted.status.parts.length, 1)
    }).pipe(Effect.provide(makeLayer())))
})

describe("Lenient decoding (issue 13.4)", () => {
  it.effect("an unknown status word is phase unknown with the word kept; polling goes on past it", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* kimi.submit(requests(2))
      emulator.state.moonshot.quirks.batchObject = (batch) =>
        batch.status === "completed" ? batch : { ...batch, status: "paused_for_review", created_at: "soon" }
      const status = yield* kimi.batchStatus(submitted.id)
      assert.strictEqual(status.parts[0].phase, "unknown")
      assert.strictEqual(status.providerStatus, "paused_for_review")
      const done = yield* driven(kimi.await(submitted.id, fast))
      assert.strictEqual(done.phase, "completed")
    }).pipe(Effect.provide(makeLayer())))

  it.effect("a list page with one odd item still yields the others", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      const ids: Array<string> = []
      for (const prefix of ["a", "b", "c"]) ids.push((yield* kimi.submit(requests(1, prefix))).status.parts[0].jobId)
      emulator.state.moonshot.quirks.batchObject = (batch) =>
        batch.id === ids[1] ? { ...batch, id: undefined } : { ...batch, status: "somewhere_new" }
      const listed = yield* collect(kimi.list())
      assert.deepStrictEqual(listed.map((b) => b.id).sort(), [ids[0], ids[2]].sort())
      assert.deepStrictEqual(listed.map((b) => kimi.jobStatus(b).phase), ["unknown", "unknown"])
    }).pipe(Effect.provide(makeLayer())))
})

describe("Wrong-looking misses (issue 13.8)", () => {
  it.effect("a base URL without /v1 is a 404 that says the base URL looks wrong", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const error = yield* Effect.flip(kimi.get("batch_x"))
      assert.isTrue(ApiError.is("NotFound")(error))
      assert.include(error.message, "looks wrong")
      assert.include(error.message, "/v1")
      assert.notInclude(error.message, "check the id")
      const submit = yield* Effect.flip(kimi.submit(requests(1)))
      assert.include(submit.message, "looks wrong")
    }).pipe(Effect.provide(makeLayer({ path: "" }))))

  it.effect("with /v1, an unknown batch still says to check the id", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const error = yield* Effect.flip(kimi.get("batch_x"))
      assert.isTrue(ApiError.is("NotFound")(error))
      assert.include(error.message, "check the id")
    }).pipe(Effect.provide(makeLayer())))
})

describe("MoonshotBatch layers", () => {
  it.effect("layerBatch runs a provider-agnostic program; limits split it over several batches", () =>
    Effect.gen(function*() {
      const batch = yield* Batch.Batch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* batch.submit(requests(3))
      assert.strictEqual(submitted.status.parts.length, 3)
      assert.strictEqual(emulator.state.moonshot.batches.size, 3)
      const done = yield* driven(batch.await(submitted.id, fast))
      assert.strictEqual(done.counts.completed, 3)
      const again = yield* batch.submit(requests(3))
      assert.strictEqual(again.id, submitted.id)
      assert.strictEqual(emulator.state.moonshot.batches.size, 3)
    }).pipe(Effect.provide(
      MoonshotBatch.layerBatch.pipe(Batch.withLimits({ maxLinesPerJob: 1 }), Layer.provideMerge(makeLayer()))
    )))

  it.effect("layerConfig needs MOONSHOT_API_KEY; the region picks the host; MOONSHOT_BASE_URL wins", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const baseUrlOf = (env: ReadonlyArray<readonly [string, string]>, overrides?: Partial<MoonshotBatch.Options>) =>
        Effect.provide(
          Effect.map(MoonshotBatch.MoonshotBatch, (kimi) => kimi.profile.baseUrl),
          MoonshotBatch.layerConfig(overrides).pipe(
            Layer.provide(NodeHttpClient.layerUndici),
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(env))))
          )
        )
      assert.include(String(yield* Effect.flip(baseUrlOf([]))), "MOONSHOT_API_KEY")
      const key = ["MOONSHOT_API_KEY", emulator.credentials.moonshot.apiKey] as const
      assert.strictEqual(yield* baseUrlOf([key]), MoonshotBatch.baseUrls.cn)
      assert.strictEqual(yield* baseUrlOf([key], { region: "global" }), MoonshotBatch.baseUrls.global)
      const url = `${emulator.urls.moonshot}/v1`
      assert.strictEqual(yield* baseUrlOf([key, ["MOONSHOT_BASE_URL", url]], { region: "global" }), url)
    }).pipe(Effect.provide(Emulator.layer())))

  it.effect("Mock runs the lifecycle with Moonshot's rules", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const refused = yield* Effect.flip(kimi.submit([{ ...requests(1)[0]!, temperature: 1 }]))
      assert.instanceOf(refused, InputValidation.InputValidationError)
      const submitted = yield* kimi.submit(requests(2))
      const done = yield* driven(kimi.await(submitted.id, fast))
      assert.strictEqual(done.providerStatus, "completed")
      assert.strictEqual((yield* collect(kimi.results(submitted.id))).length, 2)
    }).pipe(Effect.provide(Mock.layer())))
})
