import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it, layer } from "@effect/vitest"
import { Clock, ConfigProvider, Duration, Effect, Layer, TestClock } from "effect"
import * as Http from "node:http"
import * as Net from "node:net"
import * as Emulator from "../src/Emulator.js"
import * as Ids from "../src/internal/Ids.js"
import * as Servers from "../src/internal/Servers.js"
import * as TestTime from "../src/TestTime.js"

const get = (url: string, init?: RequestInit) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, text: await response.text() }
  })

/** A base port with the next ones free too (checked by binding them), for the consecutive-ports test. */
const freeRun = Effect.promise(async () => {
  const bind = (port: number) =>
    new Promise<Net.Server | undefined>((resolve) => {
      const server = Net.createServer()
      server.once("error", () => resolve(undefined))
      server.listen(port, "127.0.0.1", () => resolve(server))
    })
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await bind(0)
    const base = (first!.address() as Net.AddressInfo).port
    await new Promise((r) => first!.close(r))
    if (base > 65535 - Emulator.services.length) continue
    const held = await Promise.all(Emulator.services.map((_, i) => bind(base + i)))
    await Promise.all(held.map((s) => (s === undefined ? undefined : new Promise((r) => s.close(r)))))
    if (held.every((s) => s !== undefined)) return base
  }
  throw new Error(`no run of ${Emulator.services.length} free ports found`)
})

describe("Emulator.layer", () => {
  it.scoped("serves every registered service on distinct loopback ports", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const urls = Object.values(emulator.urls)
      assert.deepStrictEqual(Object.keys(emulator.urls), [
        "ark",
        "tos",
        "moonshot",
        "qianfan",
        "bos",
        "openai",
        "qianfan-v2"
      ])
      assert.strictEqual(new Set(urls).size, 7)
      for (const url of urls) {
        assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
        const { status } = yield* get(`${url}/`)
        assert.isAtLeast(status, 200)
      }
    }))

  it.scoped("uses consecutive ports from --port", () =>
    Effect.gen(function*() {
      const base = yield* freeRun
      const emulator = yield* Emulator.make({ port: base })
      assert.deepStrictEqual(
        Emulator.services.map((name) => emulator.urls[name]),
        Emulator.services.map((_, i) => `http://127.0.0.1:${base + i}`)
      )
    }))

  it.scoped("stops serving when its scope closes", () =>
    Effect.gen(function*() {
      const url = yield* Effect.scoped(Effect.map(Emulator.make(), (emulator) => emulator.urls.moonshot))
      const outcome = yield* Effect.either(Effect.tryPromise(() => fetch(`${url}/v1/files`)))
      assert.isTrue(outcome._tag === "Left")
    }))

  it.effect("provides the Emulator service with the default credentials", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      assert.deepStrictEqual(emulator.credentials, {
        volcengine: { accessKeyId: "AKLTbargeemulator", secretAccessKey: "barge-emulator-volc-secret" },
        bce: { accessKeyId: "barge-emulator-bce-ak", secretAccessKey: "barge-emulator-bce-sk" },
        moonshot: { apiKey: "sk-barge-emulator" },
        openai: { apiKey: "sk-barge-emulator-openai" },
        qianfan: { apiKey: "bce-v3/ALTAK-bargeemulator/0123456789abcdef0123456789abcdef01234567" }
      })
    }).pipe(Effect.provide(Emulator.layer())))

  it.effect("layerConfig takes credentials from the environment; explicit options win", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      assert.strictEqual(emulator.credentials.volcengine.accessKeyId, "AKLTfromenv")
      assert.strictEqual(emulator.credentials.volcengine.secretAccessKey, "barge-emulator-volc-secret")
      assert.strictEqual(emulator.credentials.bce.accessKeyId, "bce-env-ak")
      assert.strictEqual(emulator.credentials.bce.secretAccessKey, "bce-env-sk")
      assert.strictEqual(emulator.credentials.moonshot.apiKey, "sk-explicit")
    }).pipe(
      Effect.provide(
        Emulator.layerConfig({ credentials: { moonshot: { apiKey: "sk-explicit" } } }).pipe(
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
            new Map([
              ["BARGE_EMULATOR_VOLC_ACCESS_KEY", "AKLTfromenv"],
              ["BARGE_EMULATOR_BCE_ACCESS_KEY", "bce-env-ak"],
              ["BARGE_EMULATOR_BCE_SECRET_KEY", "bce-env-sk"],
              ["BARGE_EMULATOR_MOONSHOT_API_KEY", "sk-env"]
            ])
          )))
        )
      )
    ))

  it.scoped("hands models and processing overrides to the surfaces, keeping the other defaults", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        models: { moonshot: ["kimi-test"] },
        processing: { perRequest: "1 second" }
      })
      const { models, processing } = emulator.context
      assert.deepStrictEqual(models.moonshot, ["kimi-test"])
      assert.isTrue(models.ark.some((m) => m.name === "doubao-pro-32k" && m.versions.includes("240615")))
      assert.includeMembers([...models.qianfan], ["ernie-4.0-8k", "ernie-x1-turbo-32k"])
      assert.strictEqual(Duration.toMillis(processing.perRequest), 1_000)
      assert.strictEqual(Duration.toMillis(processing.queuedFor), 2_000)
    }))

  it.scoped("rejects unworkable options with InvalidOptions", () =>
    Effect.gen(function*() {
      const profile = yield* Effect.flip(Emulator.make({ faults: "typo" }))
      assert.strictEqual(profile._tag, "InvalidOptions")
      assert.include(profile.message, "known profiles: none, flaky")
      const scale = yield* Effect.flip(Emulator.make({ timeScale: 0 }))
      assert.include(scale.message, "time scale must be a positive number")
    }))

  it.scoped("counts the faults it injects", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ faults: { rules: [{ kind: "throttle", rate: 1 }] } })
      const { status } = yield* get(`${emulator.urls.moonshot}/v1/files`)
      assert.strictEqual(status, 429)
      const counts = yield* emulator.faults.counts
      assert.strictEqual(counts.throttle, 1)
      assert.strictEqual(counts.total, 1)
      yield* emulator.faults.set("none")
      assert.notStrictEqual((yield* get(`${emulator.urls.moonshot}/v1/files`)).status, 429)
    }))
})

describe("Emulator under faults", () => {
  it.scoped("lost-create: the batch is created although its response never arrives", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ faults: "lost-create" })
      const base = emulator.urls.moonshot
      const auth = { authorization: `Bearer ${emulator.credentials.moonshot.apiKey}` }
      const form = new FormData()
      form.append("purpose", "batch")
      const line = {
        custom_id: "r1",
        method: "POST",
        url: "/v1/chat/completions",
        body: { model: "kimi-k2.6", messages: [{ role: "user", content: "hi" }] }
      }
      form.append("file", new File([JSON.stringify(line) + "\n"], "input.jsonl"))
      const upload = yield* get(`${base}/v1/files`, { method: "POST", headers: auth, body: form })
      const create = yield* Effect.either(Effect.tryPromise(() =>
        fetch(`${base}/v1/batches`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({
            input_file_id: JSON.parse(upload.text).id,
            endpoint: "/v1/chat/completions",
            completion_window: "24h"
          })
        })
      ))
      assert.strictEqual(create._tag, "Left")
      const listed = JSON.parse((yield* get(`${base}/v1/batches`, { headers: auth })).text)
      assert.strictEqual(listed.data.length, 1)
      assert.strictEqual((yield* emulator.faults.counts).lostResponse, 1)
      assert.strictEqual((yield* emulator.requests).moonshot, 3)
    }))
})

describe("Emulator connections", () => {
  it.scoped("counts open client sockets, back to zero once the client closes them", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      assert.strictEqual(yield* emulator.openConnections, 0)
      const agent = new Http.Agent({ keepAlive: true })
      yield* Effect.async<void>((resume) => {
        Http.get(`${emulator.urls.tos}/`, { agent }, (response) => {
          response.resume()
          response.on("end", () => resume(Effect.void))
        })
      })
      assert.strictEqual(yield* emulator.openConnections, 1)
      agent.destroy()
      yield* TestTime.waitUntil(Effect.map(emulator.openConnections, (open) => open === 0))
      assert.strictEqual(yield* emulator.openConnections, 0)
    }))
})

describe("Emulated time", () => {
  it.scoped("follows the TestClock of the fiber that builds it, scaled", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ timeScale: 60 })
      const start = yield* emulator.now
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* emulator.now) - start, 60 * 60_000)
      yield* emulator.advance("30 minutes")
      assert.strictEqual((yield* emulator.now) - start, 90 * 60_000)
    }))

  it.scoped("request handlers run on the builder's TestClock", () =>
    Effect.gen(function*() {
      const { url } = yield* Servers.listen(
        Effect.map(Clock.currentTimeMillis, (now) => HttpServerResponse.text(String(now))),
        { host: "127.0.0.1", port: 0 }
      )
      yield* TestClock.adjust("5 hours")
      assert.strictEqual((yield* get(url)).text, String(5 * 3_600_000))
    }))

  it.scoped("drives a Moonshot batch through its lifecycle with TestClock alone", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ timeScale: 1 })
      const base = emulator.urls.moonshot
      const auth = { authorization: `Bearer ${emulator.credentials.moonshot.apiKey}` }
      const lines = [0, 1, 2].map((i) =>
        JSON.stringify({
          custom_id: `r${i}`,
          method: "POST",
          url: "/v1/chat/completions",
          body: { model: "kimi-k2.6", messages: [{ role: "user", content: `question ${i}` }] }
        })
      ).join("\n") + "\n"
      const form = new FormData()
      form.append("purpose", "batch")
      form.append("file", new File([lines], "input.jsonl"))
      const upload = yield* get(`${base}/v1/files`, { method: "POST", headers: auth, body: form })
      assert.strictEqual(upload.status, 200, upload.text)
      const fileId = JSON.parse(upload.text).id as string
      const created = yield* get(`${base}/v1/batches`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ input_file_id: fileId, endpoint: "/v1/chat/completions", completion_window: "24h" })
      })
      assert.strictEqual(created.status, 200, created.text)
      const batchId = JSON.parse(created.text).id as string
      const status = Effect.map(
        get(`${base}/v1/batches/${batchId}`, { headers: auth }),
        (r) => JSON.parse(r.text).status as string
      )
      assert.notStrictEqual(yield* status, "completed")
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(yield* status, "completed")
    }))
})

layer(Emulator.layer({ timeScale: 10 }))("Emulator.layer shared by a describe block", (it) => {
  it.effect("the block's TestClock drives the shared emulator", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const start = yield* emulator.now
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* emulator.now) - start, 10 * 60_000)
    }))
})

describe("Seeded ids", () => {
  it("repeat for a seed, differ across seeds, and never collide within a run", () => {
    const a = Ids.make(5)
    const b = Ids.make(5)
    const c = Ids.make(6)
    const fromA = Array.from({ length: 1000 }, () => a("bi-"))
    assert.deepStrictEqual(Array.from({ length: 1000 }, () => b("bi-")), fromA)
    assert.notStrictEqual(c("bi-"), fromA[0])
    assert.strictEqual(new Set(fromA).size, 1000)
    for (const id of fromA) assert.match(id, /^bi-[0-9a-z]{20}$/)
  })
})
