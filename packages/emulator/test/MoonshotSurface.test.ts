/**
 * The emulated Moonshot API over loopback HTTP: auth, limits, validation, paging, ranges and the lifecycle.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { Emulator } from "../src/index.js"
import * as Lifecycle from "../src/openai-compatible/Lifecycle.js"
import * as Validation from "../src/openai-compatible/Validation.js"

const inputLine = (customId: string, model = "kimi-k2.6") =>
  JSON.stringify({
    custom_id: customId,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model, messages: [{ role: "user", content: `hi ${customId}` }] }
  })

const api = (emulator: Emulator.Service, key = emulator.credentials.moonshot.apiKey) => {
  const base = `${emulator.urls.moonshot}/v1`
  const send = (path: string, init: RequestInit = {}) =>
    Effect.promise(async () => {
      const response = await fetch(`${base}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string> | undefined) }
      })
      const text = await response.text()
      let json: any
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { status: response.status, headers: response.headers, text, json }
    })
  const upload = (content: string | Uint8Array, filename = "input.jsonl", purpose = "batch") => {
    const form = new FormData()
    form.append("purpose", purpose)
    form.append("file", new Blob([content as BlobPart]), filename)
    return send("/files", { method: "POST", body: form })
  }
  const createBatch = (body: unknown) =>
    send("/batches", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } })
  return { send, upload, createBatch }
}

describe("Moonshot surface", () => {
  layer(Emulator.layer())((it) => {
    it.effect("authenticates every route with the Bearer key", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const missing = yield* Effect.promise(() =>
          fetch(`${emulator.urls.moonshot}/v1/files`).then(async (r) => ({ status: r.status, json: await r.json() }))
        )
        assert.strictEqual(missing.status, 401)
        assert.strictEqual(missing.json.error.type, "invalid_authentication_error")
        const wrong = yield* api(emulator, "sk-nope").send("/batches")
        assert.strictEqual(wrong.status, 401)
        assert.isString(wrong.json.error.message)
      }))

    it.effect("answers unknown routes and bad JSON with the envelope, never a crash", () =>
      Effect.gen(function*() {
        const { createBatch, send } = api(yield* Emulator.Emulator)
        const route = yield* send("/nothing")
        assert.strictEqual(route.status, 404)
        assert.strictEqual(route.json.error.type, "resource_not_found_error")
        const bad = yield* send("/batches", { method: "POST", body: "{oops" })
        assert.strictEqual(bad.status, 400)
        assert.strictEqual(bad.json.error.type, "invalid_request_error")
        const missing = yield* createBatch({ completion_window: "24h" })
        assert.strictEqual(missing.status, 400)
        assert.include(missing.json.error.message, "input_file_id")
      }))

    it.effect("upload limits: empty, purpose, and the documented messages", () =>
      Effect.gen(function*() {
        const { upload } = api(yield* Emulator.Emulator)
        const empty = yield* upload("")
        assert.strictEqual(empty.status, 400)
        assert.strictEqual(empty.json.error.message, "File size is zero, please confirm and re-upload the file")
        const purpose = yield* upload(inputLine("a"), "a.jsonl", "fine-tune")
        assert.strictEqual(purpose.status, 400)
        assert.include(purpose.json.error.message, "purpose")
      }))

    it.effect("create validates window, endpoint, metadata, file purpose and model", () =>
      Effect.gen(function*() {
        const { createBatch, upload } = api(yield* Emulator.Emulator)
        const file = (yield* upload(inputLine("a"))).json
        const ok = { input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }
        for (const window of ["2h", "8d", "1w", "24"]) {
          const r = yield* createBatch({ ...ok, completion_window: window })
          assert.strictEqual(r.status, 400, window)
        }
        for (const window of ["12h", "36h", "1d", "3d", "7d"]) {
          const r = yield* createBatch({ ...ok, completion_window: window })
          assert.strictEqual(r.status, 200, window)
          assert.strictEqual(r.json.expires_at - r.json.created_at, windowSeconds(window))
        }
        assert.strictEqual((yield* createBatch({ ...ok, endpoint: "/v1/embeddings" })).status, 400)
        const pairs = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]))
        assert.strictEqual((yield* createBatch({ ...ok, metadata: pairs })).status, 400)
        assert.strictEqual((yield* createBatch({ ...ok, metadata: { k: "x".repeat(513) } })).status, 400)
        const extract = (yield* upload(inputLine("a"), "a.jsonl", "file-extract")).json
        assert.strictEqual((yield* createBatch({ ...ok, input_file_id: extract.id })).status, 400)
        assert.strictEqual((yield* createBatch({ ...ok, input_file_id: "file-missing" })).status, 404)
        const unknownModel = (yield* upload(inputLine("a", "kimi-k0"))).json
        const model = yield* createBatch({ ...ok, input_file_id: unknownModel.id })
        assert.strictEqual(model.status, 404)
        assert.strictEqual(model.json.error.type, "resource_not_found_error")
      }))

    it.effect("invalid input files fail validation asynchronously with an errors list", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { createBatch, send, upload } = api(emulator)
        const content = [inputLine("a"), inputLine("a"), inputLine("b", "kimi-k2.5"), "{bad"].join("\n")
        const file = (yield* upload(content, "input.txt")).json
        const created = (yield* createBatch({ input_file_id: file.id, completion_window: "24h" })).json
        assert.strictEqual(created.status, "validating")
        yield* emulator.advance("1 minute")
        const failed = (yield* send(`/batches/${created.id}`)).json
        assert.strictEqual(failed.status, "failed")
        assert.isNumber(failed.failed_at)
        const codes = failed.errors.data.map((e: { code: string }) => e.code).sort()
        assert.deepStrictEqual(codes, [
          "duplicate_custom_id",
          "invalid_file_format",
          "invalid_json_line",
          "mismatched_model"
        ])
        assert.isNull(failed.output_file_id)
      }))

    it.effect("file content honours Range (206, 416) and lists page with has_more", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { createBatch, send, upload } = api(emulator)
        const file = (yield* upload("0123456789\n", "r.jsonl", "file-extract")).json
        const part = yield* send(`/files/${file.id}/content`, { headers: { range: "bytes=2-5" } })
        assert.strictEqual(part.status, 206)
        assert.strictEqual(part.text, "2345")
        assert.strictEqual(part.headers.get("content-range"), "bytes 2-5/11")
        const rest = yield* send(`/files/${file.id}/content`, { headers: { range: "bytes=8-" } })
        assert.strictEqual(rest.text, "89\n")
        const beyond = yield* send(`/files/${file.id}/content`, { headers: { range: "bytes=11-" } })
        assert.strictEqual(beyond.status, 416)

        const input = (yield* upload(inputLine("p"))).json
        const ids: Array<string> = []
        for (let i = 0; i < 5; i++) {
          ids.push((yield* createBatch({ input_file_id: input.id, completion_window: "24h" })).json.id)
        }
        const first = (yield* send("/batches?limit=3")).json
        assert.strictEqual(first.data.length, 3)
        assert.isTrue(first.has_more)
        const second = (yield* send(`/batches?limit=3&after=${first.data[2].id}`)).json
        const seen = [...first.data, ...second.data].map((b: { id: string }) => b.id)
        for (const id of ids) assert.include(seen, id)
        assert.strictEqual((yield* send("/batches?limit=0")).status, 400)
        assert.strictEqual((yield* send("/batches?after=batch_nope")).status, 400)
      }))

    it.effect("concurrent uploads are all kept", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { upload } = api(emulator)
        const before = emulator.state.moonshot.files.size
        const results = yield* Effect.all(
          Array.from({ length: 40 }, (_, i) => upload(inputLine(`c${i}`), `c${i}.jsonl`, "file-extract")),
          { concurrency: "unbounded" }
        )
        assert.isTrue(results.every((r) => r.status === 200))
        assert.strictEqual(new Set(results.map((r) => r.json.id)).size, 40)
        assert.strictEqual(emulator.state.moonshot.files.size, before + 40)
      }))
  })

  it.effect("caps batch files at 1000 per organization and rejects files over 100 MB", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { upload } = api(emulator)
      // 999 batch files already stored (put straight into the state: a thousand uploads would only test speed).
      for (let i = 0; i < 999; i++) {
        const id = `file-seeded${i}`
        emulator.state.moonshot.files.set(id, {
          id,
          filename: `f${i}.jsonl`,
          purpose: "batch",
          bytes: 2,
          createdAt: 0,
          chunks: [new Uint8Array([0x7b, 0x7d])]
        })
      }
      assert.strictEqual((yield* upload(inputLine("last"))).status, 200)
      const over = yield* upload(inputLine("x"))
      assert.strictEqual(over.status, 400)
      assert.include(over.json.error.message, "exceeded the max file count 1000")
      // Other purposes are not capped by the batch-file quota.
      assert.strictEqual((yield* upload(inputLine("x"), "x.jsonl", "file-extract")).status, 200)

      const big = new Uint8Array(100 * 1024 * 1024 + 1).fill(0x61)
      const tooLarge = yield* upload(big, "big.jsonl", "file-extract")
      assert.strictEqual(tooLarge.status, 400)
      assert.strictEqual(
        tooLarge.json.error.message,
        "File size is too large, max file size is 100MB, please confirm and re-upload the file"
      )
    }).pipe(Effect.provide(Emulator.layer())), { timeout: 60_000 })
})

const windowSeconds = (window: string) => Number(window.slice(0, -1)) * (window.endsWith("d") ? 86_400 : 3_600)

describe("Moonshot lifecycle (pure)", () => {
  const model = { queuedFor: Duration.seconds(2), perRequest: Duration.seconds(1), finalizingFor: Duration.seconds(1) }
  const plan = (overrides: Partial<Lifecycle.BatchPlan> = {}): Lifecycle.BatchPlan => ({
    createdAt: 0,
    expiresAt: 1_000_000,
    total: 10,
    invalid: false,
    cancelRequestedAt: undefined,
    ...overrides
  })

  it("walks validating → in_progress → finalizing → completed", () => {
    assert.strictEqual(Lifecycle.phaseAt(plan(), model, 1_000).status, "validating")
    const running = Lifecycle.phaseAt(plan(), model, 5_500)
    assert.strictEqual(running.status, "in_progress")
    assert.strictEqual(running.processed, 3)
    assert.strictEqual(Lifecycle.phaseAt(plan(), model, 12_500).status, "finalizing")
    const done = Lifecycle.phaseAt(plan(), model, 13_000)
    assert.strictEqual(done.status, "completed")
    assert.strictEqual(done.completedAt, 13_000)
  })

  it("expires with what finished, even while validating", () => {
    const expired = Lifecycle.phaseAt(plan({ expiresAt: 6_000 }), model, 50_000)
    assert.strictEqual(expired.status, "expired")
    assert.strictEqual(expired.processed, 4)
    const early = Lifecycle.phaseAt(plan({ expiresAt: 1_000 }), model, 50_000)
    assert.strictEqual(early.status, "expired")
    assert.strictEqual(early.processed, 0)
    assert.isUndefined(early.inProgressAt)
  })

  it("cancels through cancelling, keeping the requests finished before the cancel", () => {
    const p = plan({ cancelRequestedAt: 4_000 })
    const cancelling = Lifecycle.phaseAt(p, model, 4_500)
    assert.strictEqual(cancelling.status, "cancelling")
    const cancelled = Lifecycle.phaseAt(p, model, 60_000)
    assert.strictEqual(cancelled.status, "cancelled")
    assert.strictEqual(cancelled.processed, 2)
    assert.isFalse(Lifecycle.isCancellable("completed"))
    assert.isTrue(Lifecycle.isCancellable("finalizing"))
  })

  it("fails an invalid batch when validation ends", () => {
    assert.strictEqual(Lifecycle.phaseAt(plan({ invalid: true }), model, 1_000).status, "validating")
    const failed = Lifecycle.phaseAt(plan({ invalid: true }), model, 3_000)
    assert.strictEqual(failed.status, "failed")
    assert.strictEqual(failed.failedAt, 2_000)
  })
})

describe("Moonshot input lines (pure)", () => {
  it("splits chunked bytes into lines without joining the file: BOM, CRLF, a character split across chunks", () => {
    const bytes = new TextEncoder().encode("\uFEFFa\r\n你好\nlast")
    const chunks = [bytes.subarray(0, 5), bytes.subarray(5, 8), bytes.subarray(8)]
    assert.deepStrictEqual([...Validation.linesOf(chunks)], ["a", "你好", "last"])
  })
})
