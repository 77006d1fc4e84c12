import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import * as Http from "node:http"
import type { ServiceName } from "../src/internal/Context.js"
import * as Faults from "../src/internal/Faults.js"
import * as Servers from "../src/internal/Servers.js"
import * as TestTime from "../src/TestTime.js"

/** What a raw node client saw: status, headers, the bytes, whether the body completed, and any socket error. */
interface Seen {
  readonly status: number | undefined
  readonly headers: Http.IncomingHttpHeaders
  readonly bytes: number
  readonly body: string
  readonly complete: boolean
  readonly error: string | undefined
}

const fetchRaw = (url: string, method = "GET") =>
  Effect.async<Seen>((resume) => {
    let settled = false
    const done = (seen: Seen) => {
      if (!settled) {
        settled = true
        resume(Effect.succeed(seen))
      }
    }
    const request = Http.request(url, { method, agent: false }, (response) => {
      const chunks: Array<Buffer> = []
      let error: string | undefined
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("error", (e) => (error = e.message))
      response.on("close", () => {
        const body = Buffer.concat(chunks)
        done({
          status: response.statusCode,
          headers: response.headers,
          bytes: body.byteLength,
          body: body.toString("utf8"),
          complete: response.complete,
          error
        })
      })
    })
    request.on("error", (e) =>
      done({ status: undefined, headers: {}, bytes: 0, body: "", complete: false, error: e.message }))
    request.end()
  })

const payload = "0123456789abcdef".repeat(8192) // 128 KiB

const payloadBytes = new TextEncoder().encode(payload)

/** Serves a counting app behind the injector; returns its URL and how many requests the app handled. */
const serve = (injector: Faults.Injector, service: ServiceName = "tos") =>
  Effect.gen(function*() {
    const handled = { count: 0, finished: 0 }
    const app = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
      handled.count++
      // `/stream` answers with a chunked stream of unknown length, everything else with a plain byte body.
      if (request.url === "/empty") return HttpServerResponse.empty({ status: 204 })
      return request.url.startsWith("/stream")
        ? HttpServerResponse.stream(
          Stream.fromIterable([payloadBytes.subarray(0, 65536), payloadBytes.subarray(65536)])
        )
        : HttpServerResponse.uint8Array(payloadBytes, { contentType: "text/plain" })
    })
    const watched = Effect.ensuring(injector.wrap(service, app), Effect.sync(() => handled.finished++))
    const { url } = yield* Servers.listen(watched, { host: "127.0.0.1", port: 0 })
    return { url, handled }
  })

/** Waits in real time until `n` handler fibers have finished; returns how many did. */
const finished = (handled: { readonly finished: number }, n: number) =>
  Effect.as(TestTime.waitUntil(Effect.sync(() => handled.finished >= n)), handled.finished)

const always = (rule: Omit<Faults.FaultRule, "rate">): Faults.FaultSpec => ({
  rules: [{ rate: 1, ...rule }],
  maxConsecutive: 1000
})

describe("Faults", () => {
  it.scoped("injects nothing by default", () =>
    Effect.gen(function*() {
      const injector = Faults.make({ seed: 1 })
      const { handled, url } = yield* serve(injector)
      const seen = yield* fetchRaw(`${url}/bucket/key`)
      assert.strictEqual(seen.status, 200)
      assert.strictEqual(seen.body, payload)
      assert.strictEqual(handled.count, 1)
      assert.strictEqual(injector.counts().total, 0)
    }))
})

describe("Faults over real HTTP", () => {
  it.scoped("serverError answers 5xx with the provider's envelope without running the app", () =>
    Effect.gen(function*() {
      const injector = Faults.make({ seed: 1, faults: always({ kind: "serverError", status: 503 }) })
      const { handled, url } = yield* serve(injector, "ark")
      const seen = yield* fetchRaw(`${url}/?Action=GetBatchInferenceJob&Version=2024-01-01`, "POST")
      assert.strictEqual(seen.status, 503)
      const body = JSON.parse(seen.body)
      assert.strictEqual(body.ResponseMetadata.Error.Code, "InternalError")
      assert.strictEqual(body.ResponseMetadata.Action, "GetBatchInferenceJob")
      assert.strictEqual(handled.count, 0)
      assert.strictEqual(injector.counts().serverError, 1)
    }))

  it.scoped("throttle answers 429 with Retry-After", () =>
    Effect.gen(function*() {
      const injector = Faults.make({ seed: 1, faults: always({ kind: "throttle", retryAfterSeconds: 7 }) })
      const { handled, url } = yield* serve(injector, "moonshot")
      const seen = yield* fetchRaw(`${url}/v1/batches`)
      assert.strictEqual(seen.status, 429)
      assert.strictEqual(seen.headers["retry-after"], "7")
      assert.strictEqual(JSON.parse(seen.body).error.type, "engine_overloaded_error")
      assert.strictEqual(handled.count, 0)
      assert.strictEqual(injector.counts().throttle, 1)
    }))

  it.scoped("BOS and TOS errors use their own envelopes", () =>
    Effect.gen(function*() {
      const bos = yield* serve(Faults.make({ seed: 1, faults: always({ kind: "serverError", status: 500 }) }), "bos")
      const bosSeen = yield* fetchRaw(`${bos.url}/bucket/key`)
      assert.strictEqual(JSON.parse(bosSeen.body).code, "InternalError")
      const tos = yield* serve(Faults.make({ seed: 1, faults: always({ kind: "serverError", status: 500 }) }), "tos")
      const tosSeen = yield* fetchRaw(`${tos.url}/bucket/key`)
      assert.strictEqual(JSON.parse(tosSeen.body).Code, "InternalError")
      assert.strictEqual(tosSeen.headers["content-type"], "application/json")
    }))

  it.scoped("truncate announces the full Content-Length, then closes early", () =>
    Effect.gen(function*() {
      const injector = Faults.make({ seed: 1, faults: always({ kind: "truncate" }) })
      const { handled, url } = yield* serve(injector)
      const seen = yield* fetchRaw(`${url}/bucket/key`)
      assert.strictEqual(seen.status, 200)
      assert.strictEqual(seen.headers["content-length"], String(payloadBytes.byteLength))
      assert.isFalse(seen.complete)
      assert.isBelow(seen.bytes, payloadBytes.byteLength)
      assert.isAbove(seen.bytes, 0)
      assert.strictEqual(seen.body, payload.slice(0, seen.bytes))
      assert.strictEqual(handled.count, 1)
      assert.strictEqual(yield* finished(handled, 1), 1)
      assert.strictEqual(injector.counts().truncate, 1)
    }))

  it.scoped("truncate also cuts a streamed body of unknown length", () =>
    Effect.gen(function*() {
      const injector = Faults.make({ seed: 2, faults: always({ kind: "truncate" }) })
      const { url } = yield* serve(injector)
      const seen = yield* fetchRaw(`${url}/stream`)
      assert.strictEqual(seen.status, 200)
      assert.isFalse(seen.complete)
      assert.isBelow(seen.bytes, payloadBytes.byteLength)
    }))

  it.scoped("reset drops the connection mid-response", () =>
    Effect.gen(function*() {
      const injector = Faults.make({ seed: 1, faults: always({ kind: "reset" }) })
      const { handled, url } = yield* serve(injector)
      const seen = yield* fetchRaw(`${url}/bucket/key`)
      assert.isFalse(seen.complete)
      assert.isBelow(seen.bytes, payloadBytes.byteLength)
      assert.isDefined(seen.error)
      assert.strictEqual(handled.count, 1)
      assert.strictEqual(yield* finished(handled, 1), 1)
      assert.strictEqual(injector.counts().reset, 1)
    }))

  it.scoped("lostResponse processes the request, then drops the connection without an answer", () =>
    Effect.gen(function*() {
      const injector = Faults.make({ seed: 1, faults: "lost-create" })
      const { handled, url } = yield* serve(injector, "moonshot")
      const lost = yield* fetchRaw(`${url}/v1/batches`, "POST")
      assert.strictEqual(lost.status, undefined)
      assert.isDefined(lost.error)
      assert.strictEqual(handled.count, 1)
      // The handler fiber that dropped the connection does not linger.
      assert.strictEqual(yield* finished(handled, 1), 1)
      // The profile loses one create response only: the retry gets its answer.
      const retried = yield* fetchRaw(`${url}/v1/batches`, "POST")
      assert.strictEqual(retried.status, 200)
      assert.strictEqual(handled.count, 2)
      // Other routes are untouched.
      const other = yield* fetchRaw(`${url}/v1/files`, "POST")
      assert.strictEqual(other.status, 200)
      assert.deepStrictEqual(injector.counts().lostResponse, 1)
    }))

  it.scoped("lost-create matches Ark's and Qianfan's create actions", () =>
    Effect.gen(function*() {
      const ark = yield* serve(Faults.make({ seed: 1, faults: "lost-create" }), "ark")
      const get = yield* fetchRaw(`${ark.url}/?Action=GetBatchInferenceJob&Version=2024-01-01`, "POST")
      assert.strictEqual(get.status, 200)
      const create = yield* fetchRaw(`${ark.url}/?Action=CreateBatchInferenceJob&Version=2024-01-01`, "POST")
      assert.strictEqual(create.status, undefined)
      assert.strictEqual(ark.handled.count, 2)
      const qianfan = yield* serve(Faults.make({ seed: 1, faults: "lost-create" }), "qianfan")
      const createTask = yield* fetchRaw(`${qianfan.url}/v2/batchinference?Action=CreateBatchInferenceTask`, "POST")
      assert.strictEqual(createTask.status, undefined)
      assert.strictEqual(qianfan.handled.count, 1)
    }))

  it.scoped("body faults leave empty bodies and HEAD requests alone, and do not count them", () =>
    Effect.gen(function*() {
      const injector = Faults.make({ seed: 1, faults: always({ kind: "truncate" }) })
      const { handled, url } = yield* serve(injector)
      const empty = yield* fetchRaw(`${url}/empty`, "DELETE")
      assert.strictEqual(empty.status, 204)
      assert.isTrue(empty.complete)
      const head = yield* fetchRaw(`${url}/bucket/key`, "HEAD")
      assert.strictEqual(head.status, 200)
      assert.isTrue(head.complete)
      assert.strictEqual(handled.count, 2)
      assert.strictEqual(injector.counts().total, 0)
    }))

  it.scoped("download rules hit object GETs and file content, not listings or batch reads", () =>
    Effect.gen(function*() {
      const spec: Faults.FaultSpec = { rules: Faults.onDownloads({ kind: "truncate", rate: 1 }), maxConsecutive: 100 }
      const moonshot = yield* serve(Faults.make({ seed: 1, faults: spec }), "moonshot")
      assert.isTrue((yield* fetchRaw(`${moonshot.url}/v1/batches/b1`)).complete)
      assert.isFalse((yield* fetchRaw(`${moonshot.url}/v1/files/f1/content`)).complete)
      const tos = yield* serve(Faults.make({ seed: 1, faults: spec }), "tos")
      assert.isTrue((yield* fetchRaw(`${tos.url}/bucket?prefix=a/`)).complete)
      assert.isFalse((yield* fetchRaw(`${tos.url}/bucket/a/b.jsonl`)).complete)
      const ark = yield* serve(Faults.make({ seed: 1, faults: spec }), "ark")
      assert.isTrue((yield* fetchRaw(`${ark.url}/bucket/key`)).complete)
    }))

  it.scoped("slowBody and latency still deliver the whole body", () =>
    Effect.gen(function*() {
      const slow = yield* serve(Faults.make({ seed: 1, faults: always({ kind: "slowBody", delayMs: 40 }) }))
      const slowSeen = yield* fetchRaw(`${slow.url}/bucket/key`)
      assert.isTrue(slowSeen.complete)
      assert.strictEqual(slowSeen.body, payload)
      const late = yield* serve(Faults.make({ seed: 1, faults: always({ kind: "latency", delayMs: 20 }) }))
      const lateSeen = yield* fetchRaw(`${late.url}/bucket/key`)
      assert.isTrue(lateSeen.complete)
      assert.strictEqual(lateSeen.body, payload)
    }))
})

describe("Fault decisions", () => {
  const decisions = (seed: number, spec: string | Faults.FaultSpec, n: number) =>
    Effect.gen(function*() {
      const injector = Faults.make({ seed, faults: spec })
      const { url } = yield* serve(injector, "moonshot")
      const statuses: Array<number | undefined> = []
      for (let i = 0; i < n; i++) statuses.push((yield* fetchRaw(`${url}/v1/batches/b1`)).status)
      return { statuses, counts: injector.counts() }
    })

  it.scoped("are deterministic per seed and differ across seeds", () =>
    Effect.gen(function*() {
      const spec: Faults.FaultSpec = { rules: [{ kind: "serverError", rate: 0.4, status: 500 }] }
      const a = yield* decisions(7, spec, 30)
      const b = yield* decisions(7, spec, 30)
      const c = yield* decisions(8, spec, 30)
      assert.deepStrictEqual(a.statuses, b.statuses)
      assert.notDeepEqual(a.statuses, c.statuses)
      assert.isAbove(a.counts.serverError, 0)
      assert.strictEqual(a.counts.total, a.statuses.filter((s) => s === 500).length)
    }))

  it.scoped("never fault more than maxConsecutive requests in a row on one route", () =>
    Effect.gen(function*() {
      const { statuses } = yield* decisions(3, {
        rules: [{ kind: "serverError", rate: 1, status: 500 }],
        maxConsecutive: 2
      }, 9)
      assert.deepStrictEqual(statuses, [500, 500, 200, 500, 500, 200, 500, 500, 200])
    }))

  it.scoped("bursts repeat a fault on the route that triggered it", () =>
    Effect.gen(function*() {
      const spec: Faults.FaultSpec = { rules: [{ kind: "throttle", rate: 0.2, burst: 3 }], maxConsecutive: 100 }
      const { statuses } = yield* decisions(11, spec, 40)
      const first = statuses.indexOf(429)
      assert.isAtLeast(first, 0)
      assert.deepStrictEqual(statuses.slice(first, first + 3), [429, 429, 429])
    }))

  it("rejects an unknown profile with the list of known ones", () => {
    assert.throws(() => Faults.make({ seed: 1, faults: "nope" }), /known profiles: none, flaky/)
  })

  it.scoped("maxFaults caps the total and set() swaps the spec at run time", () =>
    Effect.gen(function*() {
      const injector = Faults.make({ seed: 1, faults: { rules: [{ kind: "serverError", rate: 1 }], maxFaults: 2 } })
      const { url } = yield* serve(injector, "bos")
      const statuses: Array<number | undefined> = []
      for (let i = 0; i < 4; i++) statuses.push((yield* fetchRaw(`${url}/b/k`)).status)
      assert.strictEqual(statuses.filter((s) => s !== 200).length, 2)
      injector.set({ rules: [{ kind: "throttle", rate: 1 }] })
      assert.strictEqual((yield* fetchRaw(`${url}/b/k`)).status, 429)
      injector.set("none")
      assert.strictEqual((yield* fetchRaw(`${url}/b/k`)).status, 200)
    }))
})
