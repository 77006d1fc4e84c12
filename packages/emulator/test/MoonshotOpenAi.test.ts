/**
 * Fidelity: the official `openai` npm client, unmodified, drives the emulated Moonshot Files + Batches API.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import OpenAI, { toFile } from "openai"
import { Emulator } from "../src/index.js"

const line = (customId: string, text: string) =>
  JSON.stringify({
    custom_id: customId,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model: "kimi-k2.6", messages: [{ role: "user", content: text }] }
  })

const client = (url: string, apiKey: string) => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0 })

describe("Moonshot surface with the openai client", () => {
  layer(Emulator.layer())((it) => {
    it.effect("uploads, creates, polls and downloads a batch end to end", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const openai = client(emulator.urls.moonshot, emulator.credentials.moonshot.apiKey)
        const input = [line("a", "hello"), line("b", "please [[barge:fail]]"), line("c", "world")].join("\n")

        const file = yield* Effect.promise(async () =>
          openai.files.create({ file: await toFile(Buffer.from(input), "input.jsonl"), purpose: "batch" })
        )
        assert.strictEqual(file.purpose, "batch")
        assert.strictEqual(file.bytes, Buffer.byteLength(input))

        const created = yield* Effect.promise(() =>
          openai.batches.create({
            input_file_id: file.id,
            endpoint: "/v1/chat/completions",
            // Moonshot's windows are semantic ("1d"); the OpenAI types only know "24h".
            completion_window: "1d" as "24h",
            metadata: { run: "fidelity" }
          })
        )
        assert.strictEqual(created.status, "validating")
        assert.deepStrictEqual(created.metadata, { run: "fidelity" })

        yield* emulator.advance("1 hour")
        const done = yield* Effect.promise(() => openai.batches.retrieve(created.id))
        assert.strictEqual(done.status, "completed")
        assert.deepStrictEqual(done.request_counts, { total: 3, completed: 2, failed: 1 })
        assert.isString(done.output_file_id)
        assert.isString(done.error_file_id)

        const output = yield* Effect.promise(async () => (await openai.files.content(done.output_file_id!)).text())
        const lines = output.trim().split("\n").map((l) => JSON.parse(l))
        assert.deepStrictEqual(lines.map((l) => l.custom_id), ["a", "c"])
        assert.strictEqual(lines[0].response.status_code, 200)
        assert.strictEqual(
          lines[0].response.body.choices[0].message.content,
          Emulator.expectedContent("a", "hello")
        )
        const errors = yield* Effect.promise(async () => (await openai.files.content(done.error_file_id!)).text())
        const errorLine = JSON.parse(errors.trim())
        assert.strictEqual(errorLine.custom_id, "b")
        assert.strictEqual(errorLine.response.status_code, 400)

        const page = yield* Effect.promise(() => openai.batches.list({ limit: 10 }))
        assert.include(page.data.map((b) => b.id), created.id)
        const files = yield* Effect.promise(() => openai.files.list())
        assert.include(files.data.map((f) => f.id), done.output_file_id)
      }))

    it.effect("cancels a batch and deletes a file", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const openai = client(emulator.urls.moonshot, emulator.credentials.moonshot.apiKey)
        const file = yield* Effect.promise(async () =>
          openai.files.create({ file: await toFile(Buffer.from(line("x", "hi")), "one.jsonl"), purpose: "batch" })
        )
        const created = yield* Effect.promise(() =>
          openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" })
        )
        const cancelling = yield* Effect.promise(() => openai.batches.cancel(created.id))
        assert.strictEqual(cancelling.status, "cancelling")
        yield* emulator.advance("1 minute")
        const cancelled = yield* Effect.promise(() => openai.batches.retrieve(created.id))
        assert.strictEqual(cancelled.status, "cancelled")
        const deleted = yield* Effect.promise(() => openai.files.delete(file.id))
        assert.isTrue(deleted.deleted)
        const missing = yield* Effect.promise(() => openai.files.retrieve(file.id).then(() => undefined, (e) => e))
        assert.instanceOf(missing, OpenAI.NotFoundError)
      }))

    it.effect("rejects a wrong key with 401 and Moonshot's envelope", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const openai = client(emulator.urls.moonshot, "sk-wrong")
        const error = yield* Effect.promise(() => openai.batches.list().then(() => undefined, (e) => e))
        assert.instanceOf(error, OpenAI.AuthenticationError)
        assert.strictEqual((error as InstanceType<typeof OpenAI.AuthenticationError>).status, 401)
        assert.strictEqual(
          (error as { error?: { type?: string } }).error?.type,
          "invalid_authentication_error"
        )
      }))
  })
})
