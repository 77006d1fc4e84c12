import { Transport, TransportError } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Duration, Effect, Layer, Option, Redacted, Schedule, Stream } from "effect"
import { mkdtempSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Errors as MoonshotErrors, MoonshotBatch, OpenAiCompatible, Profile } from "../src/index.js"
import { drive, line, lines, makeLayer } from "./utils.js"

const text = (bytes: Chunk.Chunk<Uint8Array>) => Buffer.concat(Chunk.toReadonlyArray(bytes)).toString("utf8")

describe("MoonshotBatch calls", () => {
  it.effect("files: upload (streamed), list, retrieve, content from an offset, delete", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const body = `${JSON.stringify(line("a", "hello"))}\n${JSON.stringify(line("b", "你好"))}\n`
      const file = yield* kimi.files.upload(
        OpenAiCompatible.fromStream("two.jsonl", Stream.make(new TextEncoder().encode(body)))
      )
      assert.strictEqual(file.bytes, Buffer.byteLength(body))
      assert.strictEqual(file.purpose, "batch")
      assert.strictEqual(file.filename, "two.jsonl")
      assert.include((yield* kimi.files.list).map((f) => f.id), file.id)
      assert.strictEqual((yield* kimi.files.retrieve(file.id)).bytes, file.bytes)
      assert.strictEqual(text(yield* Stream.runCollect(kimi.files.content(file.id))), body)
      const tail = text(yield* Stream.runCollect(kimi.files.content(file.id, { offset: 10 })))
      assert.strictEqual(tail, Buffer.from(body).subarray(10).toString("utf8"))
      assert.isTrue((yield* kimi.files.delete(file.id)).deleted)
      const gone = yield* Effect.flip(kimi.files.retrieve(file.id))
      assert.strictEqual(gone._tag, "NotFoundError")
      assert.strictEqual(gone._tag === "NotFoundError" ? gone.type : "", "resource_not_found_error")
    }).pipe(Effect.provide(makeLayer())))

  it.effect("submit streams a file from disk (fromPath needs a FileSystem, and says so without one)", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const dir = mkdtempSync(join(tmpdir(), "barge-moonshot-"))
      const path = join(dir, "disk.jsonl")
      writeFileSync(path, [line("d1", "from disk"), line("d2", "again")].map((l) => JSON.stringify(l)).join("\n"))
      const missing = yield* Effect.flip(kimi.submit(OpenAiCompatible.fromPath(path)))
      assert.strictEqual(missing._tag, "SourceError")
      const batch = yield* kimi.submit(OpenAiCompatible.fromPath(path)).pipe(Effect.provide(NodeContext.layer))
      const file = yield* kimi.files.retrieve(batch.input_file_id)
      assert.strictEqual(file.filename, "disk.jsonl")
      assert.strictEqual(file.bytes, statSync(path).size)
      const absent = yield* Effect.flip(
        kimi.submit(OpenAiCompatible.fromPath(join(dir, "nope.jsonl"))).pipe(Effect.provide(NodeContext.layer))
      )
      assert.strictEqual(absent._tag, "SourceError")
    }).pipe(Effect.provide(makeLayer())))

  it.effect("batches.list pages through every batch with after/limit", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) ids.push((yield* kimi.submit(lines(1, `p${i}-`))).id)
      const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(kimi.batches.list({ pageSize: 2 })))
      assert.deepStrictEqual([...listed.map((b) => b.id)].sort(), [...ids].sort())
      assert.strictEqual((yield* kimi.batches.retrieve(ids[0]!)).id, ids[0])
    }).pipe(Effect.provide(makeLayer())))

  it.effect("submit validates every line before uploading anything", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      const source = OpenAiCompatible.fromStream(
        "input.json",
        Stream.make(
          new TextEncoder().encode(
            [
              JSON.stringify(line("a", "ok")),
              "{not json",
              JSON.stringify({
                custom_id: "a",
                method: "GET",
                url: "/v1/chat/completions",
                body: { model: "kimi-k2.5" }
              }),
              JSON.stringify({ custom_id: "c", method: "POST", url: "/v1/chat/completions" })
            ].join("\n")
          )
        )
      )
      const error = yield* Effect.flip(kimi.submit(source, { completionWindow: "8d" }))
      assert.strictEqual(error._tag, "InputValidationError")
      if (error._tag === "InputValidationError") {
        const rules = error.issues.map((i) => `${i.lineNumber}:${i.rule}`)
        assert.includeMembers(rules, [
          "2:InvalidJson",
          "3:DuplicateId",
          "3:InvalidField",
          "3:MixedModels",
          "4:MissingField",
          "0:InvalidParameter"
        ])
        // The file name and the window are both reported.
        assert.strictEqual(error.issues.filter((i) => i.rule === "InvalidParameter").length, 2)
        assert.strictEqual(error.totalIssues, error.issues.length)
      }
      assert.strictEqual(emulator.state.moonshot.files.size, 0)
    }).pipe(Effect.provide(makeLayer())))

  it.effect("a lost create response is re-attached, never duplicated; a restart attaches too", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.set("lost-create")
      const first = yield* kimi.submit(lines(3))
      assert.strictEqual((yield* emulator.faults.counts).lostResponse, 1)
      assert.strictEqual(emulator.state.moonshot.batches.size, 1)
      assert.isTrue(emulator.state.moonshot.batches.has(first.id))
      // A restarted process submits the same content again: it attaches without uploading.
      const filesBefore = emulator.state.moonshot.files.size
      const again = yield* kimi.submit(lines(3))
      assert.strictEqual(again.id, first.id)
      assert.strictEqual(emulator.state.moonshot.files.size, filesBefore)
      // A new idempotency key is a new submission.
      const other = yield* kimi.submit(lines(3), { idempotencyKey: "second-run" })
      assert.notStrictEqual(other.id, first.id)
      assert.strictEqual(emulator.state.moonshot.batches.size, 2)
    }).pipe(Effect.provide(makeLayer())))

  it.effect("results resume a truncated download from the last complete line", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* kimi.submit(lines(60))
      yield* drive(yield* Effect.fork(kimi.await(submitted.id, { schedule: Schedule.spaced("1 second") })), "1 second")
      yield* emulator.faults.set({
        rules: [{ kind: "truncate", rate: 1, match: "^GET /v1/files/[^/]+/content$", limit: 2 }],
        maxConsecutive: 5
      })
      // Reopening waits on the (test) clock between attempts.
      const results = Chunk.toReadonlyArray(
        yield* drive(yield* Effect.fork(Stream.runCollect(kimi.results(submitted.id))), "1 second")
      )
      assert.strictEqual((yield* emulator.faults.counts).truncate, 2)
      assert.deepStrictEqual(
        results.map((r) => r.customId),
        Array.from({ length: 60 }, (_, i) => `r${i + 1}`)
      )
      assert.isTrue(results.every((r) => r._tag === "Succeeded"))
    }).pipe(Effect.provide(makeLayer())))
})

describe("MoonshotBatch errors", () => {
  it.effect("a wrong key is an AuthenticationError with Moonshot's type", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const error = yield* Effect.flip(kimi.batches.retrieve("batch_x"))
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag === "AuthenticationError") {
        assert.strictEqual(error.status, 401)
        assert.strictEqual(error.type, "invalid_authentication_error")
        assert.notInclude(error.message, "sk-wrong")
      }
    }).pipe(Effect.provide(makeLayer({ apiKey: "sk-wrong" }))))

  it.effect("an unknown batch is NotFound; a bad window, an unknown model are InvalidRequest / NotFound", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      assert.strictEqual((yield* Effect.flip(kimi.batches.retrieve("batch_missing")))._tag, "NotFoundError")
      const file = yield* kimi.files.upload(OpenAiCompatible.fromLines("m.jsonl", [line("a", "x", "kimi-k9")]))
      const window = yield* Effect.flip(kimi.batches.create({ inputFileId: file.id, completionWindow: "2h" }))
      assert.strictEqual(window._tag, "InvalidRequestError")
      assert.include(window.message, "completion_window")
      const model = yield* Effect.flip(kimi.batches.create({ inputFileId: file.id }))
      assert.strictEqual(model._tag, "NotFoundError")
      assert.include(model.message, "kimi-k9")
    }).pipe(Effect.provide(makeLayer())))

  it.effect("an empty upload is rejected with the documented message", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const error = yield* Effect.flip(kimi.files.upload(OpenAiCompatible.fromStream("e.jsonl", Stream.empty)))
      assert.strictEqual(error._tag, "InvalidRequestError")
      assert.include(error.message, "File size is zero")
    }).pipe(Effect.provide(makeLayer())))

  it.effect("429 engine_overloaded carries the Retry-After hint", () =>
    Effect.gen(function*() {
      const kimi = yield* MoonshotBatch.MoonshotBatch
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.set({ rules: [{ kind: "throttle", rate: 1, retryAfterSeconds: 7, limit: 1 }] })
      const error = yield* Effect.flip(kimi.batches.retrieve("batch_x"))
      assert.strictEqual(error._tag, "EngineOverloadedError")
      if (error._tag === "EngineOverloadedError") {
        assert.deepStrictEqual(error.retryAfter, Duration.seconds(7))
      }
    }).pipe(Effect.provide(makeLayer({ retry: false }))))

  it("maps each documented type, keeps unknown ones whole, and never retries quota errors", () => {
    const status = (status: number, body: unknown, retryAfter?: Duration.Duration) =>
      new TransportError.StatusError({
        provider: "moonshot",
        action: "CreateBatch",
        method: "POST",
        url: "https://api.moonshot.cn/v1/batches",
        status,
        body,
        ...(retryAfter === undefined ? {} : { retryAfter }),
        attempts: 1
      })
    const map = (s: number, type: string | undefined, retryAfter?: Duration.Duration) =>
      MoonshotErrors.fromStatusError(
        status(s, type === undefined ? "oops" : { error: { type, message: `msg ${type}` } }, retryAfter)
      )
    assert.strictEqual(map(400, "content_filter")._tag, "ContentFilterError")
    assert.strictEqual(map(400, "invalid_request_error")._tag, "InvalidRequestError")
    assert.strictEqual(map(403, "permission_denied_error")._tag, "PermissionDeniedError")
    assert.strictEqual(map(429, "exceeded_current_quota_error")._tag, "QuotaExceededError")
    assert.strictEqual(map(403, "exceeded_current_quota_error")._tag, "QuotaExceededError")
    const limited = map(429, "rate_limit_reached_error", Duration.seconds(3))
    assert.strictEqual(limited._tag, "RateLimitedError")
    assert.deepStrictEqual(limited._tag === "RateLimitedError" ? limited.retryAfter : undefined, Duration.seconds(3))
    assert.strictEqual(map(500, "server_error")._tag, "ServerError")
    assert.strictEqual(map(502, undefined)._tag, "ServerError")
    const unknown = map(418, "teapot_error")
    assert.strictEqual(unknown._tag, "UnknownApiError")
    assert.deepStrictEqual(unknown._tag === "UnknownApiError" ? unknown.body : undefined, {
      error: { type: "teapot_error", message: "msg teapot_error" }
    })
    // Moonshot's X-RateLimit-Reset becomes the same hint when Retry-After is absent (read by core's Transport).
    assert.deepStrictEqual(Transport.parseRateLimitReset("3", 0), Option.some(Duration.seconds(3)))
    assert.deepStrictEqual(
      Transport.parseRateLimitReset("2000000000", 1_999_999_990_000),
      Option.some(Duration.seconds(10))
    )
    assert.isTrue(MoonshotErrors.isNeverRetried(status(429, { error: { type: "exceeded_current_quota_error" } })))
    assert.isFalse(MoonshotErrors.isNeverRetried(status(429, { error: { type: "rate_limit_reached_error" } })))
  })
})

describe("profiles and configuration", () => {
  it.effect("the OpenAI profile runs the same lifecycle against the emulator (base URL override)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* OpenAiCompatible.make({
        profile: Profile.openai({ baseUrl: `${emulator.urls.moonshot}/v1` }),
        apiKey: Redacted.make(emulator.credentials.moonshot.apiKey),
        timeout: "3650 days"
      })
      const refused = yield* Effect.flip(client.submit(lines(2), { completionWindow: "1d" }))
      assert.strictEqual(refused._tag, "InputValidationError")
      const submitted = yield* client.submit(lines(2))
      assert.strictEqual(submitted.completion_window, "24h")
      const done = yield* drive(
        yield* Effect.fork(client.await(submitted.id, { schedule: Schedule.spaced("1 second") })),
        "1 second"
      )
      assert.strictEqual(done.status, "completed")
      assert.strictEqual(Chunk.size(yield* Stream.runCollect(client.results(submitted.id))), 2)
    }).pipe(Effect.provide(Emulator.layer()), Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("layerConfig needs MOONSHOT_API_KEY and honours MOONSHOT_BASE_URL", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(
        Effect.provide(
          MoonshotBatch.MoonshotBatch,
          MoonshotBatch.layerConfig().pipe(
            Layer.provide(NodeHttpClient.layerUndici),
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
          )
        )
      )
      assert.include(String(missing), "MOONSHOT_API_KEY")
      const emulator = yield* Emulator.Emulator
      const used = yield* Effect.provide(
        Effect.flatMap(MoonshotBatch.MoonshotBatch, (kimi) =>
          Effect.map(kimi.batches.list().pipe(Stream.runCollect), (batches) => ({ kimi, batches }))),
        MoonshotBatch.layerConfig().pipe(
          Layer.provide(NodeHttpClient.layerUndici),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
            new Map([
              ["MOONSHOT_API_KEY", emulator.credentials.moonshot.apiKey],
              ["MOONSHOT_BASE_URL", `${emulator.urls.moonshot}/v1`]
            ])
          )))
        )
      )
      assert.strictEqual(used.kimi.profile.baseUrl, `${emulator.urls.moonshot}/v1`)
      // The call reached the emulator and authenticated with the configured key.
      assert.strictEqual(Chunk.size(used.batches), 0)
    }).pipe(Effect.provide(Emulator.layer())))
})
