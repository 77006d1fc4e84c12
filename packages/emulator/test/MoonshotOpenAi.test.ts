/**
 * Fidelity: the official `openai` npm client, unmodified, drives each emulated OpenAI-compatible Files + Batches
 * API — Moonshot, OpenAI and Qianfan's `/v2` — with each platform's paths, windows, status words and envelope.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import OpenAI, { toFile } from "openai"
import { Emulator } from "../src/index.js"

interface Platform {
  readonly service: "moonshot" | "openai" | "qianfan-v2"
  readonly prefix: string
  readonly key: (emulator: Emulator.Service) => string
  readonly model: string
  /** A window the platform takes that OpenAI's types do not know. */
  readonly window: string
  readonly words: {
    readonly created: string
    readonly completed: string
    readonly cancelling: string
    readonly cancelled: string
    readonly expired: string
  }
  readonly authType: string
}

const platforms: ReadonlyArray<Platform> = [
  {
    service: "moonshot",
    prefix: "/v1",
    key: (e) => e.credentials.moonshot.apiKey,
    model: "kimi-k2.6",
    window: "1d",
    words: {
      created: "validating",
      completed: "completed",
      cancelling: "cancelling",
      cancelled: "cancelled",
      expired: "expired"
    },
    authType: "invalid_authentication_error"
  },
  {
    service: "openai",
    prefix: "/v1",
    key: (e) => e.credentials.openai.apiKey,
    model: "gpt-4o-mini",
    window: "24h",
    words: {
      created: "validating",
      completed: "completed",
      cancelling: "cancelling",
      cancelled: "cancelled",
      expired: "expired"
    },
    authType: "invalid_request_error"
  },
  {
    service: "qianfan-v2",
    prefix: "/v2",
    key: (e) => e.credentials.qianfan.apiKey,
    model: "ernie-4.5-turbo-128k",
    window: "72h",
    words: { created: "Queuing", completed: "Done", cancelling: "Stopping", cancelled: "Stopped", expired: "Expired" },
    authType: "invalid_request_error"
  }
]

for (const platform of platforms) {
  const url = `${platform.prefix}/chat/completions`
  const line = (customId: string, text: string) =>
    JSON.stringify({
      custom_id: customId,
      method: "POST",
      url,
      body: { model: platform.model, messages: [{ role: "user", content: text }] }
    })
  const client = (emulator: Emulator.Service, apiKey = platform.key(emulator)) =>
    new OpenAI({ apiKey, baseURL: `${emulator.urls[platform.service]}${platform.prefix}`, maxRetries: 0 })
  const create = (openai: OpenAI, fileId: string) =>
    Effect.promise(() =>
      openai.batches.create({
        input_file_id: fileId,
        endpoint: url as "/v1/chat/completions",
        // Windows beyond "24h" are the platform's; the OpenAI types only know "24h".
        completion_window: platform.window as "24h",
        metadata: { run: "fidelity" }
      })
    )
  const upload = (openai: OpenAI, content: string, name = "input.jsonl") =>
    Effect.promise(async () =>
      openai.files.create({ file: await toFile(Buffer.from(content), name), purpose: "batch" })
    )

  describe(`${platform.service} surface with the openai client`, () => {
    layer(Emulator.layer())((it) => {
      it.effect("uploads, creates, polls and downloads a batch end to end", () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const openai = client(emulator)
          const input = [line("a", "hello"), line("b", "please [[barge:fail]]"), line("c", "world")].join("\n")
          const file = yield* upload(openai, input)
          assert.strictEqual(file.purpose, "batch")
          assert.strictEqual(file.bytes, Buffer.byteLength(input))

          const created = yield* create(openai, file.id)
          assert.strictEqual(created.status, platform.words.created)
          assert.deepStrictEqual(created.metadata, { run: "fidelity" })

          yield* emulator.advance("1 hour")
          const done = yield* Effect.promise(() => openai.batches.retrieve(created.id))
          assert.strictEqual(done.status, platform.words.completed)
          assert.deepStrictEqual(done.request_counts, { total: 3, completed: 2, failed: 1 })

          const output = yield* Effect.promise(async () => (await openai.files.content(done.output_file_id!)).text())
          const lines = output.trim().split("\n").map((l) => JSON.parse(l))
          assert.deepStrictEqual(lines.map((l) => l.custom_id), ["a", "c"])
          assert.strictEqual(lines[0].response.status_code, 200)
          assert.strictEqual(lines[0].response.body.choices[0].message.content, Emulator.expectedContent("a", "hello"))
          const errors = yield* Effect.promise(async () => (await openai.files.content(done.error_file_id!)).text())
          const errorLine = JSON.parse(errors.trim())
          assert.strictEqual(errorLine.custom_id, "b")
          assert.strictEqual(errorLine.response.status_code, 400)

          // Page by page (`after` = the last id), as the client's auto-pagination does.
          const listed = yield* Effect.promise(async () => {
            const ids: Array<string> = []
            for await (const batch of openai.batches.list({ limit: 1 })) ids.push(batch.id)
            return ids
          })
          assert.include(listed, created.id)
          const files = yield* Effect.promise(() => openai.files.list())
          assert.include(files.data.map((f) => f.id), done.output_file_id)
        }))

      it.effect("cancels a batch: the requests it never ran are in its error file as batch_cancelled", () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const openai = client(emulator)
          const file = yield* upload(openai, [line("x", "hi"), line("y", "there")].join("\n"), "two.jsonl")
          const created = yield* create(openai, file.id)
          const cancelling = yield* Effect.promise(() => openai.batches.cancel(created.id))
          assert.strictEqual(cancelling.status, platform.words.cancelling)
          yield* emulator.advance("1 minute")
          const cancelled = yield* Effect.promise(() => openai.batches.retrieve(created.id))
          assert.strictEqual(cancelled.status, platform.words.cancelled)
          const errors = yield* Effect.promise(async () =>
            (await openai.files.content(cancelled.error_file_id!)).text()
          )
          const codes = errors.trim().split("\n").map((l) => [JSON.parse(l).custom_id, JSON.parse(l).error.code])
          assert.deepStrictEqual(codes, [["x", "batch_cancelled"], ["y", "batch_cancelled"]])
          const deleted = yield* Effect.promise(() => openai.files.delete(file.id))
          assert.isTrue(deleted.deleted)
          const missing = yield* Effect.promise(() => openai.files.retrieve(file.id).then(() => undefined, (e) => e))
          assert.instanceOf(missing, OpenAI.NotFoundError)
        }))

      it.effect("rejects a wrong key with 401 and the platform's envelope", () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const error = yield* Effect.promise(() =>
            client(emulator, "sk-wrong").batches.list().then(() => undefined, (e) => e)
          )
          assert.instanceOf(error, OpenAI.AuthenticationError)
          assert.strictEqual((error as { error?: { type?: string } }).error?.type, platform.authType)
        }))
    })

    layer(Emulator.layer({ processing: { perRequest: "30 days" } }))((it) => {
      it.effect("an expired batch lists the requests it never ran in its error file as batch_expired", () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const openai = client(emulator)
          const file = yield* upload(openai, [line("e1", "slow"), line("e2", "slow")].join("\n"))
          const created = yield* create(openai, file.id)
          // Past the window asked for: nothing ran (each request takes 30 emulated days).
          yield* emulator.advance("29 days")
          const ended = yield* Effect.promise(() => openai.batches.retrieve(created.id))
          assert.strictEqual(ended.status, platform.words.expired)
          assert.isNull(ended.output_file_id)
          const errors = yield* Effect.promise(async () => (await openai.files.content(ended.error_file_id!)).text())
          const codes = errors.trim().split("\n").map((l) => [JSON.parse(l).custom_id, JSON.parse(l).error.code])
          assert.deepStrictEqual(codes, [["e1", "batch_expired"], ["e2", "batch_expired"]])
        }))
    })
  })
}
