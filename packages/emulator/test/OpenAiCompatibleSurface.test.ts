/**
 * What the three OpenAI-compatible profiles change on the one surface: paths, windows, status words, envelopes,
 * fixed parameters, per-file request caps, paging; and the test hook that makes a platform look changed.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Emulator } from "../src/index.js"

type Service = "moonshot" | "openai" | "qianfan-v2"

const keys: Record<Service, (e: Emulator.Service) => string> = {
  moonshot: (e) => e.credentials.moonshot.apiKey,
  openai: (e) => e.credentials.openai.apiKey,
  "qianfan-v2": (e) => e.credentials.qianfan.apiKey
}

const api = (emulator: Emulator.Service, service: Service) => {
  const prefix = service === "qianfan-v2" ? "/v2" : "/v1"
  const base = `${emulator.urls[service]}${prefix}`
  const send = (path: string, init: RequestInit = {}) =>
    Effect.promise(async () => {
      const response = await fetch(`${base}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${keys[service](emulator)}`,
          ...(init.headers as Record<string, string> | undefined)
        }
      })
      const text = await response.text()
      let json: any
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { status: response.status, json }
    })
  const line = (customId: string, model: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      custom_id: customId,
      method: "POST",
      url: `${prefix}/chat/completions`,
      body: { model, messages: [{ role: "user", content: `hi ${customId}` }], ...extra }
    })
  const upload = (content: string, filename = "input.jsonl") => {
    const form = new FormData()
    form.append("purpose", "batch")
    form.append("file", new Blob([content]), filename)
    return Effect.map(send("/files", { method: "POST", body: form }), (r) => r.json)
  }
  const createBatch = (body: Record<string, unknown>) =>
    send("/batches", {
      method: "POST",
      body: JSON.stringify({ endpoint: `${prefix}/chat/completions`, ...body }),
      headers: { "content-type": "application/json" }
    })
  return { send, line, upload, createBatch }
}

describe("OpenAI-compatible profiles", () => {
  layer(Emulator.layer())((it) => {
    it.effect("OpenAI: only the 24h window, its own envelope, unknown routes are 'Invalid URL', files page", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { createBatch, line, send, upload } = api(emulator, "openai")
        const file = yield* upload(line("a", "gpt-4o-mini", { temperature: 0.2 }))
        assert.strictEqual(file.status, "processed")
        const refused = yield* createBatch({ input_file_id: file.id, completion_window: "48h" })
        assert.strictEqual(refused.status, 400)
        assert.strictEqual(refused.json.error.param, "completion_window")
        assert.include(refused.json.error.message, "'24h'")
        const created = yield* createBatch({ input_file_id: file.id, completion_window: "24h" })
        assert.strictEqual(created.status, 200)
        assert.match(created.json.id, /^batch_/)
        assert.strictEqual(created.json.model, "gpt-4o-mini")
        assert.isNull(created.json.expired_at)
        yield* emulator.advance("1 hour")
        // OpenAI fixes no sampling parameter: the temperature is fine.
        assert.strictEqual((yield* send(`/batches/${created.json.id}`)).json.status, "completed")
        const route = yield* send("/nothing")
        assert.strictEqual(route.status, 404)
        assert.strictEqual(route.json.error.type, "invalid_request_error")
        assert.include(route.json.error.message, "Invalid URL")
        yield* upload(line("b", "gpt-4o-mini"))
        const first = (yield* send("/files?limit=1")).json
        assert.strictEqual(first.data.length, 1)
        assert.isTrue(first.has_more)
        assert.isString(first.last_id)
      }))

    it.effect("Moonshot: a line that sets a fixed sampling parameter fails the batch, naming the line", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { createBatch, line, send, upload } = api(emulator, "moonshot")
        const file = yield* upload(
          [line("a", "kimi-k2.6"), line("b", "kimi-k2.6", { temperature: 0.3, top_p: 0.9 })].join("\n")
        )
        const created = (yield* createBatch({ input_file_id: file.id, completion_window: "24h" })).json
        yield* emulator.advance("1 minute")
        const failed = (yield* send(`/batches/${created.id}`)).json
        assert.strictEqual(failed.status, "failed")
        const [error] = failed.errors.data
        assert.strictEqual(error.code, "invalid_parameter")
        assert.strictEqual(error.line, 2)
        assert.include(error.message, "temperature, top_p")
      }))

    it.effect("Qianfan /v2: whole hours 1h–672h, capitalised words, infer- ids, at most 5000 requests a file", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { createBatch, line, send, upload } = api(emulator, "qianfan-v2")
        const file = yield* upload(line("a", "ernie-4.5-turbo-128k"))
        for (const window of ["0h", "673h", "1d", "24"]) {
          const refused = yield* createBatch({ input_file_id: file.id, completion_window: window })
          assert.strictEqual(refused.status, 400, window)
          assert.strictEqual(refused.json.error.code, "invalid_argument")
        }
        const wrongEndpoint = yield* createBatch({
          input_file_id: file.id,
          completion_window: "1h",
          endpoint: "/v1/chat/completions"
        })
        assert.strictEqual(wrongEndpoint.status, 400)
        const created = (yield* createBatch({ input_file_id: file.id, completion_window: "672h" })).json
        assert.match(created.id, /^infer-/)
        assert.strictEqual(created.status, "Queuing")
        assert.strictEqual(created.expires_at - created.created_at, 672 * 3600)
        yield* emulator.advance("1 hour")
        assert.strictEqual((yield* send(`/batches/${created.id}`)).json.status, "Done")

        const many = Array.from({ length: 5001 }, (_, i) => line(`m${i}`, "ernie-4.5-turbo-128k")).join("\n")
        const big = yield* upload(many)
        const tooMany = (yield* createBatch({ input_file_id: big.id, completion_window: "1h" })).json
        yield* emulator.advance("1 minute")
        const failed = (yield* send(`/batches/${tooMany.id}`)).json
        assert.strictEqual(failed.status, "Failed")
        assert.deepStrictEqual(failed.errors.data.map((e: { code: string }) => e.code), ["too_many_requests"])
      }))

    it.effect("quirks: a test makes a platform report a status word it never had", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { createBatch, line, send, upload } = api(emulator, "openai")
        const file = yield* upload(line("q", "gpt-4o-mini"))
        const created = (yield* createBatch({ input_file_id: file.id, completion_window: "24h" })).json
        emulator.state.openai.quirks.batchObject = (batch) => ({ ...batch, status: "paused_for_review" })
        assert.strictEqual((yield* send(`/batches/${created.id}`)).json.status, "paused_for_review")
        emulator.state.openai.quirks.batchObject = undefined
        assert.strictEqual((yield* send(`/batches/${created.id}`)).json.status, "validating")
      }))
  })

  it.effect("a fault spec naming a service the emulator lacks is refused, naming the ones it has", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const error = yield* Effect.flip(
        emulator.faults.set({ rules: [{ kind: "serverError", rate: 1, services: ["moonshoot"] }] })
      )
      assert.include(error.message, "moonshoot")
      assert.include(error.message, "qianfan-v2")
      yield* emulator.faults.set({ rules: [{ kind: "serverError", rate: 1, services: ["openai"], limit: 1 }] })
      const { send } = api(emulator, "openai")
      assert.strictEqual((yield* send("/batches")).status >= 500, true)
      assert.strictEqual((yield* send("/batches")).status, 200)
    }).pipe(Effect.provide(Emulator.layer())))
})
