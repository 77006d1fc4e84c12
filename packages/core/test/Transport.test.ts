import type { Signer } from "@barge/core"
import { Transport } from "@barge/core"
import { HttpClientRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpClient, NodeHttpServerRequest } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import {
  Clock,
  Effect,
  Either,
  Fiber,
  Inspectable,
  Logger,
  Redacted,
  Schedule,
  Schema,
  Stream,
  TestClock
} from "effect"
import {
  clockWaits,
  eventually,
  isWaiting,
  realSleep,
  resetConnection,
  scriptedServer
} from "./internal/scriptedServer.js"

const secret = Redacted.make("sk-very-secret-token-4242")

/** Stamps each signing with a counter, so tests can see every attempt was signed afresh. */
const testSigner = (seen: Array<string> = []): Signer.Service => {
  let signed = 0
  return {
    scheme: "test",
    // The signer names the headers it puts secrets in; the transport redacts them.
    redactedHeaders: ["x-tos-security-token"],
    sign: (request) =>
      Effect.suspend(() => {
        signed++
        const result = request.pipe(
          HttpClientRequest.bearerToken(secret),
          HttpClientRequest.setHeader("x-tos-security-token", Redacted.value(secret)),
          HttpClientRequest.setHeader("x-signed", String(signed))
        )
        // Logged inside the transport's fiber: the captured line shows what any log of the request would show.
        return Effect.as(
          Effect.log(result).pipe(
            Effect.provide(Logger.replace(
              Logger.defaultLogger,
              Logger.make(({ message }) => {
                seen.push(Inspectable.format(message))
              })
            ))
          ),
          result
        )
      })
  }
}

const fastRetry = { schedule: Schedule.recurs(3), maxRetryAfter: "60 seconds" } as const

const Ok = Schema.Struct({ ok: Schema.Boolean })

const provide = Effect.provide(NodeHttpClient.layerUndici)

describe("Transport", () => {
  it.scoped("retries a 503 and returns the 200 that follows, signing each attempt afresh", () =>
    Effect.gen(function*() {
      const server = yield* scriptedServer((_, n) =>
        n === 1
          ? HttpServerResponse.json({ error: "busy" }, { status: 503 })
          : HttpServerResponse.json({ ok: true })
      )
      const transport = yield* Transport.make({
        provider: "test",
        baseUrl: server.url,
        signer: testSigner(),
        retry: fastRetry
      })
      const result = yield* transport.json(HttpClientRequest.get("/thing"), Ok, { action: "GetThing" })
      assert.deepStrictEqual(result, { ok: true })
      assert.deepStrictEqual(server.received.map((r) => r.headers["x-signed"]), ["1", "2"])
      assert.strictEqual(server.received[0]!.url, "/thing")
    }).pipe(provide))

  it.scoped("does not retry a non-idempotent POST unless the caller marks it safe", () =>
    Effect.gen(function*() {
      const server = yield* scriptedServer((_, n) =>
        n <= 1 || n === 2 ? HttpServerResponse.text("busy", { status: 503 }) : HttpServerResponse.json({ ok: true })
      )
      const transport = yield* Transport.make({
        provider: "test",
        baseUrl: server.url,
        signer: testSigner(),
        retry: fastRetry
      })
      const error = yield* Effect.flip(
        transport.json(HttpClientRequest.post("/create"), Ok, { action: "Create" })
      )
      assert.strictEqual(error._tag, "StatusError")
      assert.strictEqual(server.received.length, 1)
      const ok = yield* transport.json(HttpClientRequest.post("/create"), Ok, { action: "Create", idempotent: true })
      assert.deepStrictEqual(ok, { ok: true })
      assert.strictEqual(server.received.length, 3)
    }).pipe(provide))

  it.scoped("honours Retry-After in seconds", () =>
    Effect.gen(function*() {
      const server = yield* scriptedServer((_, n) =>
        n === 1
          ? HttpServerResponse.text("slow down", { status: 429, headers: { "retry-after": "30" } })
          : HttpServerResponse.json({ ok: true })
      )
      const transport = yield* Transport.make({
        provider: "test",
        baseUrl: server.url,
        signer: testSigner(),
        retry: fastRetry
      })
      const fiber = yield* Effect.fork(transport.json(HttpClientRequest.get("/x"), Ok, { action: "Get" }))
      // The 429 came back and the client waits its 30 seconds on the clock.
      yield* clockWaits((delay) => delay === 30_000)
      yield* TestClock.adjust("29 seconds")
      assert.isTrue(yield* isWaiting((delay) => delay === 1000), "still waiting after 29 s")
      assert.strictEqual(server.received.length, 1, "retried before Retry-After elapsed")
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(fiber)
      assert.deepStrictEqual(result, { ok: true })
      assert.strictEqual(server.received.length, 2)
    }).pipe(provide))

  it.scoped("honours Retry-After as an HTTP date", () =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const at = new Date(now + 20_000).toUTCString()
      const server = yield* scriptedServer((_, n) =>
        n === 1
          ? HttpServerResponse.text("unavailable", { status: 503, headers: { "retry-after": at } })
          : HttpServerResponse.json({ ok: true })
      )
      const transport = yield* Transport.make({
        provider: "test",
        baseUrl: server.url,
        signer: testSigner(),
        retry: fastRetry
      })
      const fiber = yield* Effect.fork(transport.json(HttpClientRequest.get("/x"), Ok, { action: "Get" }))
      // The date has whole seconds: the wait is over 19 s and at most 20 s.
      yield* clockWaits((delay) => delay > 19_000 && delay <= 20_000)
      yield* TestClock.adjust("19 seconds")
      assert.isTrue(yield* isWaiting((delay) => delay <= 1000), "still waiting after 19 s")
      assert.strictEqual(server.received.length, 1, "retried before the Retry-After date")
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Fiber.join(fiber), { ok: true })
    }).pipe(provide))

  it.scoped("fails with StatusError carrying status, request id, decoded body and retry-after", () =>
    Effect.gen(function*() {
      const server = yield* scriptedServer(() =>
        HttpServerResponse.json(
          { error: { code: "InvalidParameter", message: "bad model" } },
          { status: 400, headers: { "x-request-id": "req-123", "retry-after": "5" } }
        )
      )
      const transport = yield* Transport.make({
        provider: "test",
        baseUrl: server.url,
        signer: testSigner(),
        retry: fastRetry
      })
      const error = yield* Effect.flip(transport.execute(HttpClientRequest.get("/x"), { action: "Get" }))
      assert(error._tag === "StatusError")
      assert.strictEqual(error.status, 400)
      assert.strictEqual(error.requestId, "req-123")
      assert.deepStrictEqual(error.body, { error: { code: "InvalidParameter", message: "bad model" } })
      assert.strictEqual(error.retryAfter?.pipe((d) => Number(d.value._tag === "Millis" ? d.value.millis : -1)), 5000)
      assert.strictEqual(server.received.length, 1, "a 400 is not transient")
      assert.include(error.message, "HTTP 400")
      assert.include(error.message, "req-123")
      assert.include(error.message, "bad model")
    }).pipe(provide))

  it.scoped("keeps credentials out of errors and of request inspection", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const server = yield* scriptedServer(() => HttpServerResponse.text("<html>oops</html>", { status: 500 }))
      const transport = yield* Transport.make({
        provider: "test",
        baseUrl: server.url,
        signer: testSigner(seen),
        retry: false
      })
      const error = yield* Effect.flip(transport.execute(HttpClientRequest.get("/x?a=1"), { action: "Get" }))
      assert.strictEqual(server.received[0]!.headers["authorization"], `Bearer ${Redacted.value(secret)}`)
      const outputs = [String(error), error.message, JSON.stringify(error), Inspectable.format(error), ...seen]
      for (const output of outputs) {
        assert.notInclude(output, Redacted.value(secret))
      }
      assert.include(seen[0]!, "<redacted>")
      assert(error._tag === "StatusError")
      assert.strictEqual(error.body, "<html>oops</html>")
      assert.notInclude(error.url, "a=1")
    }).pipe(provide))

  it.scoped("times out waiting for headers, and retries the timeout", () =>
    Effect.gen(function*() {
      const server = yield* scriptedServer((_, n) => n === 1 ? Effect.never : HttpServerResponse.json({ ok: true }))
      const strict = yield* Transport.make({
        provider: "test",
        baseUrl: server.url,
        signer: testSigner(),
        retry: false,
        timeout: "5 seconds"
      })
      const fiber = yield* Effect.fork(strict.execute(HttpClientRequest.get("/slow"), { action: "Slow" }))
      yield* eventually(() => server.received.length === 1)
      yield* clockWaits((delay) => delay === 5000)
      yield* TestClock.adjust("6 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "RequestTimeout")
      assert.include(error.message, "5s")

      const retrying = yield* Transport.make({
        provider: "test",
        baseUrl: server.url,
        signer: testSigner(),
        retry: fastRetry,
        timeout: "5 seconds"
      })
      const ok = yield* retrying.json(HttpClientRequest.get("/slow"), Ok, { action: "Slow" })
      assert.deepStrictEqual(ok, { ok: true })
    }).pipe(provide))

  it.scoped("does not cut a long streaming body with the header timeout", () =>
    Effect.gen(function*() {
      // The server runs in this test's runtime, so its pauses between chunks follow the TestClock too.
      const server = yield* scriptedServer(() =>
        Effect.succeed(HttpServerResponse.stream(
          Stream.make("a\n", "b\n", "c\n").pipe(
            Stream.tap((line) => line === "a\n" ? Effect.void : Effect.sleep("5 seconds")),
            Stream.encodeText
          )
        ))
      )
      const transport = yield* Transport.make({
        provider: "test",
        baseUrl: server.url,
        signer: testSigner(),
        timeout: "1 second"
      })
      const received: Array<string> = []
      const fiber = yield* transport.stream(HttpClientRequest.get("/body"), { action: "Download" }).pipe(
        Stream.runForEach((chunk) => Effect.sync(() => received.push(new TextDecoder().decode(chunk)))),
        Effect.fork
      )
      // Each pause of the server moves on only once the server is in it.
      for (const expected of ["a\nb\n", "a\nb\nc\n"]) {
        yield* clockWaits((delay) => delay === 5000)
        yield* TestClock.adjust("5 seconds")
        yield* eventually(() => received.join("") === expected)
      }
      yield* Fiber.join(fiber)
      assert.strictEqual(received.join(""), "a\nb\nc\n")
      assert.strictEqual(server.received.length, 1)
    }).pipe(provide))

  it.scoped("interrupting a body stream closes the connection", () =>
    Effect.gen(function*() {
      let closed = false
      const server = yield* scriptedServer((request) =>
        Effect.sync(() => {
          NodeHttpServerRequest.toIncomingMessage(request).socket.on("close", () => {
            closed = true
          })
          return HttpServerResponse.stream(
            Stream.repeatEffect(Effect.as(realSleep(5), new TextEncoder().encode("{\"x\":1}\n")))
          )
        })
      )
      const transport = yield* Transport.make({ provider: "test", baseUrl: server.url, signer: testSigner() })
      let chunks = 0
      const fiber = yield* transport.stream(HttpClientRequest.get("/endless"), { action: "Download" }).pipe(
        Stream.runForEach(() => Effect.sync(() => chunks++)),
        Effect.fork
      )
      yield* eventually(() => chunks >= 3)
      yield* Fiber.interrupt(fiber)
      yield* eventually(() => closed)
      assert.isTrue(closed)
    }).pipe(provide))

  it.scoped("retries a dropped connection, then reports a typed transport failure", () =>
    Effect.gen(function*() {
      const server = yield* scriptedServer((request, n) =>
        n === 1
          ? Effect.as(resetConnection(request), HttpServerResponse.empty())
          : n === 2
          ? HttpServerResponse.json({ ok: true })
          : Effect.as(resetConnection(request), HttpServerResponse.empty())
      )
      const transport = yield* Transport.make({
        provider: "test",
        baseUrl: server.url,
        signer: testSigner(),
        retry: fastRetry
      })
      assert.deepStrictEqual(yield* transport.json(HttpClientRequest.get("/a"), Ok, { action: "Get" }), { ok: true })
      const failed = yield* Effect.either(
        transport.json(HttpClientRequest.post("/b"), Ok, { action: "Post" })
      )
      assert(Either.isLeft(failed))
      assert(failed.left._tag === "RequestFailed")
      assert.strictEqual(failed.left.reason, "Transport")
      assert.strictEqual(server.received.length, 3)
    }).pipe(provide))

  it.scoped("retries a refused connection even for a POST, since nothing was sent", () =>
    Effect.gen(function*() {
      const transport = yield* Transport.make({
        provider: "test",
        baseUrl: "http://127.0.0.1:1",
        signer: testSigner(),
        retry: { schedule: Schedule.recurs(2) }
      })
      const error = yield* Effect.flip(transport.execute(HttpClientRequest.post("/create"), { action: "Create" }))
      assert(error._tag === "RequestFailed")
      assert.strictEqual(error.reason, "Transport")
      assert.strictEqual(error.attempts, 3)
      assert.include(error.message, "ECONNREFUSED")
    }).pipe(provide))

  it.scoped("decodes the body and reports a mismatch as ResponseDecodeError naming the action", () =>
    Effect.gen(function*() {
      const server = yield* scriptedServer(() => HttpServerResponse.json({ ok: "yes" }))
      const transport = yield* Transport.make({ provider: "test", baseUrl: server.url, signer: testSigner() })
      const error = yield* Effect.flip(transport.json(HttpClientRequest.get("/x"), Ok, { action: "GetThing" }))
      assert.strictEqual(error._tag, "ResponseDecodeError")
      assert.include(error.message, "GetThing")
      assert.include(error.message, "ok")
    }).pipe(provide))

  it.effect("refuses plain http to a non-loopback host, allows loopback and the explicit opt-in", () =>
    Effect.gen(function*() {
      const transport = yield* Transport.make({
        provider: "test",
        baseUrl: "http://api.example.com",
        signer: testSigner()
      })
      const error = yield* Effect.flip(transport.execute(HttpClientRequest.get("/x"), { action: "Get" }))
      assert(error._tag === "RequestFailed")
      assert.strictEqual(error.reason, "InsecureEndpoint")
      assert.include(error.message, "https")
      const secure = (url: string, allow?: boolean) => Transport.isSecureEndpoint(new URL(url), allow)
      assert.isTrue(secure("http://127.0.0.1:8080"))
      assert.isTrue(secure("http://127.3.2.1"))
      assert.isTrue(secure("http://[::1]:9000"))
      assert.isTrue(secure("http://localhost:3000"))
      assert.isTrue(secure("https://api.example.com"))
      assert.isFalse(secure("http://128.0.0.1"))
      assert.isFalse(secure("http://127.0.0.1.example.com"))
      assert.isTrue(secure("http://api.example.com", true))
    }).pipe(provide))

  it.effect("parses Retry-After seconds and dates", () =>
    Effect.sync(() => {
      const now = Date.parse("2026-01-01T00:00:00Z")
      const millis = (value: string) =>
        Transport.parseRetryAfter(value, now).pipe((o) => o._tag === "Some" ? o.value.value : undefined)
      assert.deepStrictEqual(millis("7"), { _tag: "Millis", millis: 7000 })
      assert.deepStrictEqual(millis("Thu, 01 Jan 2026 00:00:10 GMT"), { _tag: "Millis", millis: 10000 })
      assert.deepStrictEqual(millis("Wed, 31 Dec 2025 00:00:10 GMT"), { _tag: "Millis", millis: 0 })
      assert.strictEqual(millis("soon"), undefined)
    }))
})
