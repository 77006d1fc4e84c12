import { Jsonl } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, FastCheck as fc, Schema, Stream } from "effect"

const bytes = (text: string) => new TextEncoder().encode(text)

/** Splits `data` into chunks at the given byte positions. */
const chunked = (data: Uint8Array, cuts: ReadonlyArray<number>): Stream.Stream<Uint8Array> => {
  const parts: Array<Uint8Array> = []
  let from = 0
  for (const cut of [...cuts, data.length]) {
    parts.push(data.slice(from, cut))
    from = cut
  }
  return Stream.fromIterable(parts)
}

/** Every single-byte chunking of the data, one byte per chunk. */
const byteByByte = (data: Uint8Array) => chunked(data, Array.from({ length: data.length - 1 }, (_, i) => i + 1))

const collectLines = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  Stream.runCollect(Jsonl.lines(stream)).pipe(Effect.map(Chunk.toReadonlyArray))

const Row = Schema.Struct({ id: Schema.String, n: Schema.Number })

describe("Jsonl.lines", () => {
  it.effect("keeps a CJK character intact when it straddles chunks, at every split point", () =>
    Effect.gen(function*() {
      const data = bytes("{\"t\":\"批量推理\"}\n{\"t\":\"月之暗面\"}\n")
      for (let cut = 1; cut < data.length; cut++) {
        const result = yield* collectLines(chunked(data, [cut]))
        assert.deepStrictEqual(result.map((l) => l.text), ["{\"t\":\"批量推理\"}", "{\"t\":\"月之暗面\"}"])
      }
      const oneByOne = yield* collectLines(byteByByte(data))
      assert.deepStrictEqual(oneByOne.map((l) => l.text), ["{\"t\":\"批量推理\"}", "{\"t\":\"月之暗面\"}"])
    }))

  it.effect("numbers lines from 1 and reports byte ranges that include the terminator", () =>
    Effect.gen(function*() {
      const result = yield* collectLines(chunked(bytes("a\r\nbb\n\nccc"), [2, 5]))
      assert.deepStrictEqual(result, [
        { lineNumber: 1, text: "a", byteStart: 0, byteEnd: 3 },
        { lineNumber: 2, text: "bb", byteStart: 3, byteEnd: 6 },
        { lineNumber: 3, text: "", byteStart: 6, byteEnd: 7 },
        { lineNumber: 4, text: "ccc", byteStart: 7, byteEnd: 10 }
      ])
    }))

  it.effect("skips a leading BOM even when it is split across chunks, but only at byte 0", () =>
    Effect.gen(function*() {
      const data = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes("x\ny\n")])
      const result = yield* collectLines(byteByByte(data))
      assert.deepStrictEqual(result.map((l) => [l.text, l.byteStart, l.byteEnd]), [["x", 3, 5], ["y", 5, 7]])
      const resumed = yield* Stream.runCollect(Jsonl.lines(Stream.make(data), { byteOffset: 10, lineNumber: 4 }))
      assert.strictEqual(Chunk.unsafeHead(resumed).text, "\uFEFFx")
      assert.strictEqual(Chunk.unsafeHead(resumed).lineNumber, 4)
      assert.strictEqual(Chunk.unsafeHead(resumed).byteStart, 10)
    }))

  it.effect("emits a final line without a newline at the end of the stream", () =>
    Effect.gen(function*() {
      const result = yield* collectLines(chunked(bytes("a\nb"), [1]))
      assert.deepStrictEqual(result.map((l) => l.text), ["a", "b"])
      assert.strictEqual(result[1]!.byteEnd, 3)
      const tiny = yield* collectLines(Stream.make(bytes("a\n")))
      assert.deepStrictEqual(tiny.map((l) => l.text), ["a"])
      const empty = yield* collectLines(Stream.empty)
      assert.strictEqual(empty.length, 0)
    }))

  it.effect("keeps a genuine U+FFFD character", () =>
    Effect.gen(function*() {
      const result = yield* collectLines(Stream.make(bytes("a\uFFFDb\nc\n")))
      assert.deepStrictEqual(result.map((l) => l.text), ["a\uFFFDb", "c"])
    }))

  it.effect("fails on invalid UTF-8 naming the line", () =>
    Effect.gen(function*() {
      const data = new Uint8Array([...bytes("ok\n"), 0xff, 0xfe, 0x0a])
      const error = yield* Effect.flip(collectLines(Stream.make(data)))
      assert.strictEqual(error.reason, "InvalidUtf8")
      assert.strictEqual(error.lineNumber, 2)
      assert.include(error.message, "line 2")
    }))
})

describe("Jsonl.lines on generated input", () => {
  /** The reference: split the whole text at once, byte offsets from the encoded length of each piece. */
  const reference = (pieces: ReadonlyArray<string>, endsWithNewline: boolean) => {
    const encoder = new TextEncoder()
    let offset = 0
    return pieces.map((piece, i) => {
      const isLast = i === pieces.length - 1
      const byteStart = offset
      offset += encoder.encode(piece).length + (isLast && !endsWithNewline ? 0 : 1)
      return { lineNumber: i + 1, text: piece.endsWith("\r") ? piece.slice(0, -1) : piece, byteStart, byteEnd: offset }
    })
  }
  const piece = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.constantFrom("", "\r", "批量推理\r", "{\"t\":\"月之暗面 😀\"}", "\uFFFD")
  ).map((text) => text.replaceAll("\n", " "))

  it("splits any text at any chunk boundaries like splitting it whole, byte offsets included", () => {
    fc.assert(
      fc.asyncProperty(
        fc.array(piece, { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (pieces, endsWithNewline, cutSeeds) => {
          const data = bytes(pieces.join("\n") + (endsWithNewline ? "\n" : ""))
          const cuts = [...new Set(cutSeeds.map((seed) => seed % Math.max(1, data.length)))].sort((a, b) => a - b)
          const lines = await Effect.runPromise(collectLines(chunked(data, cuts)))
          // Without a trailing newline, an empty last piece is no line: the text ends with the newline before it.
          const expected = reference(pieces, endsWithNewline).filter((line, i) =>
            !(i === pieces.length - 1 && !endsWithNewline && pieces[i] === "")
          )
          assert.deepStrictEqual(lines, expected)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("splits chunks larger than one decode piece (32 KiB) like the whole text, CJK cut at every piece edge", () =>
    Effect.gen(function*() {
      // Lines of 3-byte characters and odd lengths, so piece edges fall inside characters and inside lines.
      const pieces = Array.from({ length: 400 }, (_, i) => `{"i":${i},"t":"${"批量推理".repeat(i % 97)}"}`)
      const data = bytes(pieces.join("\n") + "\n")
      const expected = reference(pieces, true)
      assert.deepStrictEqual(yield* collectLines(Stream.make(data)), expected)
      assert.deepStrictEqual(yield* collectLines(chunked(data, [40_000, 40_001, 150_000])), expected)
    }))

  it("names the line with invalid UTF-8 wherever it sits, after emitting the lines before it", () =>
    Effect.gen(function*() {
      const good = bytes("{\"a\":\"批量\"}\n{\"b\":1}\n")
      for (const bad of [[0xff], [0xe6, 0x89], [0xc3, 0x28]]) {
        const data = new Uint8Array([...good, ...bytes("{\"c\":\""), ...bad, ...bytes("\"}\n{\"d\":2}\n")])
        for (let cut = 1; cut < data.length; cut++) {
          const seen: Array<number> = []
          const error = yield* Effect.flip(
            Stream.runForEach(
              Jsonl.lines(chunked(data, [cut])),
              (line) => Effect.sync(() => seen.push(line.lineNumber))
            )
          )
          assert.strictEqual(error.reason, "InvalidUtf8")
          assert.strictEqual(error.lineNumber, 3, `cut at ${cut}`)
          assert.strictEqual(error.byteStart, good.length)
          assert.deepStrictEqual(seen, [1, 2], `cut at ${cut}`)
        }
      }
      // A multibyte character cut off by the end of the stream.
      const cutOff = yield* Effect.flip(collectLines(Stream.make(bytes("ok\n"), new Uint8Array([0xe6, 0x89]))))
      assert.strictEqual(cutOff.lineNumber, 2)
    }))
})

describe("Jsonl.decode", () => {
  it.effect("decodes rows and skips empty lines by default", () =>
    Effect.gen(function*() {
      const data = bytes("{\"id\":\"a\",\"n\":1}\r\n\r\n{\"id\":\"b\",\"n\":2}")
      const rows = yield* Stream.runCollect(Jsonl.decode(Row)(chunked(data, [5, 20])))
      assert.deepStrictEqual(Chunk.toReadonlyArray(rows), [{ id: "a", n: 1 }, { id: "b", n: 2 }])
    }))

  it.effect("fails on an empty line when asked to", () =>
    Effect.gen(function*() {
      const data = bytes("{\"id\":\"a\",\"n\":1}\n\n")
      const error = yield* Effect.flip(Stream.runDrain(Jsonl.decode(Row, { emptyLines: "fail" })(Stream.make(data))))
      assert.strictEqual(error.reason, "EmptyLine")
      assert.strictEqual(error.lineNumber, 2)
    }))

  it.effect("emits every good row before failing on invalid JSON with its line number", () =>
    Effect.gen(function*() {
      const data = bytes("{\"id\":\"a\",\"n\":1}\n{\"id\":\"b\",\"n\":2}\n{nope}\n{\"id\":\"c\",\"n\":3}\n")
      const seen: Array<string> = []
      const result = yield* Jsonl.decode(Row)(Stream.make(data)).pipe(
        Stream.runForEach((row) => Effect.sync(() => seen.push(row.id))),
        Effect.either
      )
      assert.deepStrictEqual(seen, ["a", "b"])
      assert(Either.isLeft(result))
      assert.strictEqual(result.left.reason, "InvalidJson")
      assert.strictEqual(result.left.lineNumber, 3)
    }))

  it.effect("reports a schema mismatch with the line number and the path", () =>
    Effect.gen(function*() {
      const data = bytes("{\"id\":\"a\",\"n\":1}\n{\"id\":\"b\",\"n\":\"two\"}\n")
      const error = yield* Effect.flip(Stream.runDrain(Jsonl.decode(Row)(Stream.make(data))))
      assert.strictEqual(error.reason, "SchemaMismatch")
      assert.strictEqual(error.lineNumber, 2)
      assert.include(error.message, "line 2")
      assert.include(error.message, "n")
    }))

  it.effect("keeps the line with each value", () =>
    Effect.gen(function*() {
      const data = bytes("{\"id\":\"a\",\"n\":1}\n{\"id\":\"b\",\"n\":2}\n")
      const rows = yield* Stream.runCollect(Jsonl.decodeWithLines(Row)(Stream.make(data)))
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(rows).map(([row, line]) => [row.id, line.lineNumber, line.byteEnd]),
        [
          ["a", 1, 17],
          ["b", 2, 34]
        ]
      )
    }))
})

describe("Jsonl.encode", () => {
  it.effect("round-trips values through encode and decode", () =>
    Effect.gen(function*() {
      const values = Array.from({ length: 50 }, (_, i) => ({ id: `请求-${i}`, n: i }))
      const encoded = Jsonl.encode(Row)(Stream.fromIterable(values).pipe(Stream.rechunk(7)))
      const text = new TextDecoder().decode(
        Chunk.toReadonlyArray(yield* Stream.runCollect(encoded)).reduce((a, b) => {
          const joined = new Uint8Array(a.length + b.length)
          joined.set(a)
          joined.set(b, a.length)
          return joined
        }, new Uint8Array())
      )
      assert.strictEqual(text.split("\n").length, 51)
      assert.isTrue(text.endsWith("\n"))
      const decoded = yield* Stream.runCollect(Jsonl.decode(Row)(Jsonl.encode()(Stream.fromIterable(values))))
      assert.deepStrictEqual(Chunk.toReadonlyArray(decoded), values)
    }))

  it.effect("names the position of a value the schema cannot encode", () =>
    Effect.gen(function*() {
      const Positive = Schema.Struct({ n: Schema.Positive })
      const error = yield* Effect.flip(
        Stream.runDrain(Jsonl.encode(Positive)(Stream.make({ n: 1 }, { n: 2 }, { n: -3 })))
      )
      assert.strictEqual(error.reason, "Encode")
      assert.strictEqual(error.lineNumber, 3)
    }))
})

describe("Jsonl.decodeLines with a fast path", () => {
  const Row = Schema.Struct({ id: Schema.String, n: Schema.Number })
  const fast: Jsonl.FastDecode<typeof Row.Type> = (json) => {
    const row = json as { id?: unknown; n?: unknown }
    return typeof row.id === "string" && typeof row.n === "number" ? { id: row.id, n: row.n + 1000 } : undefined
  }

  it.effect("takes the fast value when it is given and the schema's verdict when it declines", () =>
    Effect.gen(function*() {
      const text = `{"id":"a","n":1}\n\n{"id":"b","n":2}\n{"id":"c","n":"3"}\n{"id":"d","n":4}\n`
      const lines = Jsonl.lines(Stream.make(bytes(text)))
      const values: Array<typeof Row.Type> = []
      const error = yield* Effect.flip(
        Stream.runForEach(Jsonl.decodeLines(Row, { fast })(lines), (value) => Effect.sync(() => values.push(value)))
      )
      // The marker (+1000) shows the fast path built these; the declined line fails through the schema.
      assert.deepStrictEqual(values, [{ id: "a", n: 1001 }, { id: "b", n: 1002 }])
      assert.strictEqual(error.reason, "SchemaMismatch")
      assert.strictEqual(error.lineNumber, 4)
      assert.include(error.description, "n")
    }))

  it.effect("a declined line the schema accepts is decoded by the schema", () =>
    Effect.gen(function*() {
      const Loose = Schema.Struct({ id: Schema.String, n: Schema.NumberFromString })
      const decoded = yield* Stream.runCollect(
        Jsonl.decodeLines(Loose, { fast: () => undefined })(Jsonl.lines(Stream.make(bytes(`{"id":"a","n":"7"}\n`))))
      )
      assert.deepStrictEqual(Chunk.toReadonlyArray(decoded), [{ id: "a", n: 7 }])
    }))
})
