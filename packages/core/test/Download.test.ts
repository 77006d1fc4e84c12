import type { Signer } from "@barge/core"
import { Download, Jsonl, Transport } from "@barge/core"
import type { HttpServerRequest } from "@effect/platform"
import { HttpClientRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Schedule, Schema, Stream } from "effect"
import { realSleep, resetConnection, scriptedServer } from "./internal/scriptedServer.js"

const unsigned: Signer.Service = { scheme: "none", redactedHeaders: [], sign: Effect.succeed }

const Row = Schema.Struct({ custom_id: Schema.String, text: Schema.String })

const rows = Array.from(
  { length: 40 },
  (_, i) => ({ custom_id: `req-${i}`, text: `第${i}行：批量推理结果 ${"x".repeat(i)}` })
)
const fileText = rows.map((row) => JSON.stringify(row)).join("\n")
const withNewline = new TextEncoder().encode(fileText + "\n")
const withoutNewline = new TextEncoder().encode(fileText)

/** How the server answers request `n`: honour the range, but end the body early in one of several ways. */
type Fault =
  | { readonly _tag: "Ok" }
  | { readonly _tag: "Truncate"; readonly bytes: number } // clean end, short of Content-Range's total
  | { readonly _tag: "Drop"; readonly bytes: number } // connection dies mid-body
  | { readonly _tag: "IgnoreRange" } // 200 with the whole object

const serveFile = (file: Uint8Array, faults: ReadonlyArray<Fault>) =>
  scriptedServer((request: HttpServerRequest.HttpServerRequest, n) => {
    const fault = faults[n - 1] ?? { _tag: "Ok" }
    const match = /^bytes=(\d+)-$/.exec(request.headers["range"] ?? "")
    const start = match === null ? 0 : Number(match[1])
    if (fault._tag === "IgnoreRange" || (match === null && fault._tag === "Ok")) {
      return Effect.succeed(HttpServerResponse.uint8Array(file, { contentType: "application/jsonl" }))
    }
    if (start >= file.length) {
      return Effect.succeed(
        HttpServerResponse.empty({ status: 416, headers: { "content-range": `bytes */${file.length}` } })
      )
    }
    const rest = file.subarray(start)
    // Without a Range header: 200 announcing the whole size in Content-Length, so a short body is a broken one.
    const status = match === null ? 200 : 206
    const headers: Record<string, string> = match === null
      ? {}
      : { "content-range": `bytes ${start}-${file.length - 1}/${file.length}` }
    const contentLength = match === null ? file.length : undefined
    switch (fault._tag) {
      case "Ok":
        return Effect.succeed(HttpServerResponse.uint8Array(rest, { status, headers }))
      case "Truncate":
        return Effect.succeed(
          HttpServerResponse.stream(Stream.make(rest.subarray(0, fault.bytes)), { status, headers, contentLength })
        )
      case "Drop":
        return Effect.succeed(
          HttpServerResponse.stream(
            Stream.concat(
              Stream.make(rest.subarray(0, fault.bytes)),
              // Let the bytes reach the client, then kill the socket: the client sees a broken body.
              Stream.fromEffect(Effect.zipRight(realSleep(20), resetConnection(request))).pipe(
                Stream.drain,
                Stream.concat(Stream.never)
              )
            ),
            { status, headers, contentLength }
          )
        )
    }
  })

const download = (url: string) =>
  Effect.gen(function*() {
    const transport = yield* Transport.make({
      provider: "test",
      baseUrl: url,
      signer: unsigned,
      retry: { schedule: Schedule.recurs(2) }
    })
    const open = Download.rangeOpener(transport, HttpClientRequest.get("/results.jsonl"), { action: "GetObject" })
    const lines = yield* Stream.runCollect(Download.resumableLines(open, { schedule: Schedule.recurs(4) }))
    return Chunk.toReadonlyArray(lines)
  })

const assertEveryLineOnce = (lines: ReadonlyArray<Jsonl.Line>) => {
  assert.deepStrictEqual(lines.map((l) => JSON.parse(l.text)), rows)
  assert.deepStrictEqual(lines.map((l) => l.lineNumber), rows.map((_, i) => i + 1))
  for (let i = 1; i < lines.length; i++) assert.strictEqual(lines[i]!.byteStart, lines[i - 1]!.byteEnd)
}

/** Byte offset in the middle of line `index` (0-based), inside a multibyte character. */
const midLine = (file: Uint8Array, index: number) => {
  let offset = 0
  for (let i = 0; i < index; i++) offset = file.indexOf(0x0a, offset) + 1
  return offset + 20
}

const provide = Effect.provide(NodeHttpClient.layerUndici)

describe("Download.resumableLines", () => {
  it.scoped("resumes a body that ends short of its Content-Range from the last complete line", () =>
    Effect.gen(function*() {
      const cut = midLine(withNewline, 7)
      const server = yield* serveFile(withNewline, [
        { _tag: "Drop", bytes: 100 },
        { _tag: "Truncate", bytes: cut - 61 },
        {
          _tag: "Truncate",
          bytes: 500
        }
      ])
      const lines = yield* download(server.url)
      assertEveryLineOnce(lines)
      assert.strictEqual(server.received.length, 4)
      assert.strictEqual(server.received[0]!.headers["range"], undefined)
      assert.strictEqual(server.received[1]!.headers["range"], `bytes=${lines[0]!.byteEnd}-`)
      assert.strictEqual(server.received[2]!.headers["range"], `bytes=${lines[6]!.byteEnd}-`)
    }).pipe(provide))

  it.scoped("resumes after the connection drops mid-body, at every kind of cut", () =>
    Effect.gen(function*() {
      // Mid-line, inside a CJK character, and exactly at a line boundary.
      const boundary = midLine(withNewline, 12) - 20
      const server = yield* serveFile(withNewline, [
        { _tag: "Drop", bytes: midLine(withNewline, 3) + 1 },
        { _tag: "Drop", bytes: 301 },
        { _tag: "Drop", bytes: boundary - midLine(withNewline, 3) },
        { _tag: "Drop", bytes: 0 }
      ])
      const lines = yield* download(server.url)
      assertEveryLineOnce(lines)
      assert.isAtLeast(server.received.length, 5)
    }).pipe(provide))

  it.scoped("skips already-read bytes when the server ignores Range", () =>
    Effect.gen(function*() {
      const server = yield* serveFile(withNewline, [
        { _tag: "Drop", bytes: midLine(withNewline, 20) },
        { _tag: "IgnoreRange" }
      ])
      const lines = yield* download(server.url)
      assertEveryLineOnce(lines)
      assert.strictEqual(server.received.length, 2)
    }).pipe(provide))

  it.scoped("emits a final line without newline only at the true end of the object", () =>
    Effect.gen(function*() {
      const lastLineMiddle = midLine(withoutNewline, 39)
      const server = yield* serveFile(withoutNewline, [{ _tag: "Drop", bytes: 100 }, {
        _tag: "Truncate",
        bytes: lastLineMiddle - midLine(withoutNewline, 1) + 20
      }])
      const lines = yield* download(server.url)
      assertEveryLineOnce(lines)
      assert.strictEqual(lines[39]!.byteEnd, withoutNewline.length)
    }).pipe(provide))

  it.scoped("treats 416 at the exact end as the end of the object", () =>
    Effect.gen(function*() {
      const server = yield* serveFile(withNewline, [{ _tag: "Drop", bytes: withNewline.length }])
      const lines = yield* download(server.url)
      assertEveryLineOnce(lines)
    }).pipe(provide))

  it.scoped("gives up with DownloadTruncated when every attempt ends short", () =>
    Effect.gen(function*() {
      const server = yield* serveFile(
        withNewline,
        [{ _tag: "Drop", bytes: 100 }, ...Array.from({ length: 10 }, () => ({ _tag: "Truncate", bytes: 5 }) as const)]
      )
      const error = yield* Effect.flip(download(server.url))
      assert.strictEqual(error._tag, "DownloadTruncated")
      // The first body delivered a line (resetting the schedule); then recurs(4) allows 4 reopens, none delivering.
      assert.strictEqual(server.received.length, 5)
    }).pipe(provide))

  it.scoped("decodes resumed lines with Jsonl.decodeLines", () =>
    Effect.gen(function*() {
      const server = yield* serveFile(withNewline, [{ _tag: "Drop", bytes: 777 }])
      const transport = yield* Transport.make({ provider: "test", baseUrl: server.url, signer: unsigned })
      const open = Download.rangeOpener(transport, HttpClientRequest.get("/r"), { action: "GetObject" })
      const decoded = yield* Download.resumableLines(open, { schedule: Schedule.recurs(2) }).pipe(
        Jsonl.decodeLines(Row),
        Stream.runCollect
      )
      assert.deepStrictEqual(Chunk.toReadonlyArray(decoded), rows)
    }).pipe(provide))

  it.effect("parses Content-Range", () =>
    Effect.sync(() => {
      assert.deepStrictEqual(Download.parseContentRange("bytes 100-999/1000"), { start: 100, total: 1000 })
      assert.deepStrictEqual(Download.parseContentRange("bytes */1000"), { start: undefined, total: 1000 })
      assert.deepStrictEqual(Download.parseContentRange("bytes 0-9/*"), { start: 0, total: undefined })
      assert.strictEqual(Download.parseContentRange("items 1-2/3"), undefined)
    }))
})
