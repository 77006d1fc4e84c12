/**
 * JSON Lines over byte streams: split into numbered lines, decode each with a Schema, encode values back.
 *
 * Built for multi-gigabyte result files: each chunk is decoded once by a streaming `TextDecoder` and cut at its
 * newlines with `indexOf`, byte offsets come from `Buffer#indexOf(0x0a)` on the same bytes, and work is batched per
 * chunk (no Effect per byte or per line) — within a few percent of a bare decode-and-split loop. `@effect/platform`'s
 * `Ndjson.unpack` is not used: in 0.97 it decodes chunks without `{ stream: true }` and corrupts a multibyte
 * character that straddles two chunks.
 *
 * Line rules:
 * - A line ends at `\n`; a `\r` before it is dropped (CRLF). A leading UTF-8 BOM (only at byte 0) is skipped.
 * - A final line without a trailing `\n` is emitted when the stream ends.
 * - Empty lines (nothing, or only `\r`) are emitted by {@link lines} with `text === ""` and counted in line numbers;
 *   {@link decode} skips them by default (`emptyLines: "skip"`) or fails on them (`"fail"`).
 * - Invalid UTF-8 fails with a {@link JsonlError} naming the line.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Bytes from "./Bytes.js"

/**
 * One line of a JSONL stream. `byteStart` is the offset of its first byte; `byteEnd` is the offset just past its
 * terminator (`\n`), so the next line starts at `byteEnd` — a safe point to resume a download from.
 *
 * @since 0.1.0
 * @category models
 */
export interface Line {
  /** 1-based. */
  readonly lineNumber: number
  /** Without the terminator (`\n` or `\r\n`) and without a leading BOM. */
  readonly text: string
  readonly byteStart: number
  readonly byteEnd: number
}

/**
 * Where a stream starts, for a stream that continues an earlier one (a resumed download).
 *
 * @since 0.1.0
 * @category models
 */
export interface Position {
  /** Byte offset of the stream's first byte in the whole file; default 0. A BOM is only skipped at offset 0. */
  readonly byteOffset?: number | undefined
  /** Line number of the stream's first line; default 1. */
  readonly lineNumber?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export const JsonlErrorReason = Schema.Literal("InvalidUtf8", "InvalidJson", "SchemaMismatch", "EmptyLine", "Encode")

/**
 * A JSONL line that could not be read or written. `lineNumber` is 1-based.
 *
 * @since 0.1.0
 * @category errors
 */
export class JsonlError extends Schema.TaggedError<JsonlError>("@barge/core/Jsonl/JsonlError")("JsonlError", {
  reason: JsonlErrorReason,
  lineNumber: Schema.Number,
  byteStart: Schema.optional(Schema.Number),
  description: Schema.String
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `line ${this.lineNumber}: ${reasonText[this.reason]}: ${this.description}`
  }
}

const reasonText: Record<typeof JsonlErrorReason.Type, string> = {
  InvalidUtf8: "not valid UTF-8",
  InvalidJson: "not valid JSON",
  SchemaMismatch: "unexpected shape",
  EmptyLine: "empty line",
  Encode: "cannot be encoded"
}

const LF = 0x0a
const CR = 0x0d

/**
 * Splits a byte stream into lines (see the module notes for the exact rules).
 *
 * @since 0.1.0
 * @category splitting
 */
export const lines = <E, R>(
  self: Stream.Stream<Uint8Array, E, R>,
  position?: Position
): Stream.Stream<Line, E | JsonlError, R> => Stream.pipeThroughChannel(self, linesChannel(position))

const linesChannel = <E>(
  position?: Position
): Channel.Channel<Chunk.Chunk<Line>, Chunk.Chunk<Uint8Array>, E | JsonlError, E, unknown, unknown> =>
  Channel.suspend(() => {
    const splitter = new Splitter(position)
    const emitThen = (
      out: Array<Line>,
      error: JsonlError | undefined,
      next: Channel.Channel<Chunk.Chunk<Line>, Chunk.Chunk<Uint8Array>, E | JsonlError, E, unknown, unknown>
    ) => {
      const emit = out.length > 0 ? Channel.write(Chunk.unsafeFromArray(out)) : Channel.void
      return Channel.zipRight(emit, error === undefined ? next : Channel.fail(error))
    }
    const loop: Channel.Channel<Chunk.Chunk<Line>, Chunk.Chunk<Uint8Array>, E | JsonlError, E, unknown, unknown> =
      Channel.readWithCause({
        onInput: (input: Chunk.Chunk<Uint8Array>) => {
          const out: Array<Line> = []
          return emitThen(out, splitter.push(input, out), loop)
        },
        onFailure: (cause: Cause.Cause<E>) => Channel.failCause(cause),
        onDone: () => {
          const out: Array<Line> = []
          return emitThen(out, splitter.end(out), Channel.void)
        }
      })
    return loop
  })

const STREAM = { stream: true } as const

/** Bytes decoded at once: the string (up to two bytes per byte) stays under V8's 128 KiB large-object threshold. */
const pieceSize = 32 * 1024

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

const withoutCr = (text: string): string =>
  text.length > 0 && text.charCodeAt(text.length - 1) === CR ? text.slice(0, -1) : text

/**
 * The line splitter behind {@link lines}, one per stream. A class rather than closures over `let`s: its state sits
 * in one object with a fixed shape, which V8 keeps fast on the hot path.
 *
 * Hot path, per chunk: ONE call of a streaming, fatal `TextDecoder` (a multibyte character cut by a chunk boundary
 * is completed by the next call; invalid UTF-8 throws), then the string is cut at each `"\n"` with `indexOf` while
 * the byte offsets come from `Buffer#indexOf(0x0a)` on the same chunk — `\n` is never part of a multibyte
 * sequence, so the n-th newline of the text is the n-th 0x0a of the bytes. Only a chunk that fails to decode is
 * re-read line by line, to name the line.
 */
class Splitter {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
  /** Byte offset of the next input byte. */
  private offset: number
  /** Byte offset where the line in progress starts. */
  private lineStart: number
  private lineNumber: number
  /** At byte 0 the first three bytes are held back until it is known whether they are a BOM. */
  private atFileStart: boolean
  private head: Array<Uint8Array> = []
  private headSize = 0
  /** The decoded text of the line in progress (before the current chunk). */
  private tail = ""
  /** Its bytes (copies: a producer may reuse its buffers), read again only to name a line with invalid UTF-8. */
  private tailBytes: Array<Uint8Array> = []

  constructor(position: Position | undefined) {
    this.offset = position?.byteOffset ?? 0
    this.lineStart = this.offset
    this.lineNumber = position?.lineNumber ?? 1
    this.atFileStart = this.offset === 0
  }

  push(input: Chunk.Chunk<Uint8Array>, out: Array<Line>): JsonlError | undefined {
    for (const chunk of input) {
      if (chunk.length === 0) continue
      if (this.atFileStart) {
        this.head.push(chunk)
        this.headSize += chunk.length
        if (this.headSize < 3) continue
        const error = this.startFile(out)
        if (error !== undefined) return error
        continue
      }
      const error = this.scan(chunk, out)
      if (error !== undefined) return error
    }
    return undefined
  }

  end(out: Array<Line>): JsonlError | undefined {
    if (this.atFileStart && this.headSize > 0) {
      const error = this.startFile(out)
      if (error !== undefined) return error
    }
    let rest: string
    try {
      rest = this.decoder.decode()
    } catch {
      return this.invalid(this.offset)
    }
    if (this.offset > this.lineStart) this.emit(this.tail + rest, this.offset, out)
    return undefined
  }

  private startFile(out: Array<Line>): JsonlError | undefined {
    this.atFileStart = false
    let bytes = Bytes.concat(this.head, this.headSize)
    this.head = []
    this.headSize = 0
    if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      bytes = bytes.subarray(3)
      this.offset += 3
      this.lineStart += 3
    }
    return bytes.length === 0 ? undefined : this.scan(bytes, out)
  }

  private emit(text: string, end: number, out: Array<Line>): void {
    out.push({ lineNumber: this.lineNumber, text: withoutCr(text), byteStart: this.lineStart, byteEnd: end })
    this.lineNumber++
    this.lineStart = end
  }

  /**
   * A large chunk (a file read of 1 MiB, or several socket reads joined) is cut into pieces of at most
   * {@link pieceSize} bytes: a decoded piece stays under V8's large-object size, so it is allocated young and freed
   * by the cheap collector once its lines are read, instead of in the old generation, which keeps every such
   * string until a full collection (the heap grew by 100 MiB validating a 100 MB file).
   */
  private scan(chunk: Uint8Array, out: Array<Line>): JsonlError | undefined {
    if (chunk.length <= pieceSize) return this.scanPiece(chunk, out)
    for (let from = 0; from < chunk.length; from += pieceSize) {
      const error = this.scanPiece(chunk.subarray(from, Math.min(chunk.length, from + pieceSize)), out)
      if (error !== undefined) return error
    }
    return undefined
  }

  private scanPiece(chunk: Uint8Array, out: Array<Line>): JsonlError | undefined {
    let text: string
    try {
      text = this.decoder.decode(chunk, STREAM)
    } catch {
      return this.scanStrictly(chunk, out)
    }
    const bytes = asBuffer(chunk)
    const start = this.offset
    this.offset += chunk.length
    let newline = bytes.indexOf(LF)
    if (newline === -1) {
      this.tail += text
      this.tailBytes.push(chunk.slice())
      return undefined
    }
    let textNewline = text.indexOf("\n")
    this.emit(
      this.tail === "" ? text.slice(0, textNewline) : this.tail + text.slice(0, textNewline),
      start + newline + 1,
      out
    )
    let last = newline
    let from = textNewline + 1
    newline = bytes.indexOf(LF, last + 1)
    while (newline !== -1) {
      textNewline = text.indexOf("\n", from)
      this.emit(text.slice(from, textNewline), start + newline + 1, out)
      last = newline
      from = textNewline + 1
      newline = bytes.indexOf(LF, last + 1)
    }
    this.tail = from === text.length ? "" : text.slice(from)
    this.tailBytes = last + 1 === chunk.length ? [] : [chunk.slice(last + 1)]
    return undefined
  }

  /** `chunk` is not valid UTF-8 somewhere: emit the lines before the bad one, then name it. */
  private scanStrictly(chunk: Uint8Array, out: Array<Line>): JsonlError {
    // The line in progress starts at a character boundary, so each line can be decoded on its own.
    const region = asBuffer(Bytes.concat([...this.tailBytes, chunk]))
    const regionStart = this.lineStart
    const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
    let from = 0
    let newline = region.indexOf(LF)
    while (newline !== -1) {
      let text: string
      try {
        text = strict.decode(region.subarray(from, newline))
      } catch {
        return this.invalid(regionStart + newline + 1)
      }
      this.emit(text, regionStart + newline + 1, out)
      from = newline + 1
      newline = region.indexOf(LF, from)
    }
    return this.invalid(regionStart + region.length)
  }

  private invalid(end: number): JsonlError {
    return new JsonlError({
      reason: "InvalidUtf8",
      lineNumber: this.lineNumber,
      byteStart: this.lineStart,
      description: `bytes ${this.lineStart}–${end} are not valid UTF-8`
    })
  }
}

/**
 * Options for {@link decode}.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecodeOptions<A = unknown> extends Position {
  /** What an empty line means: skip it (default) or fail with `EmptyLine`. */
  readonly emptyLines?: "skip" | "fail" | undefined
  /**
   * A hand-written check for the common, well-formed line that builds the decoded value directly, several times
   * cheaper than the schema interpreter on multi-gigabyte files. It must accept only what the schema accepts and
   * return what the schema would; anything it declines (`undefined`) goes through the schema, whose failure names
   * the line. See {@link FastDecode}.
   */
  readonly fast?: FastDecode<A> | undefined
}

/**
 * A fast path for decoding one parsed JSON value: the typed value, or `undefined` to let the schema decide.
 *
 * @since 0.1.0
 * @category models
 */
export type FastDecode<A> = (json: unknown) => A | undefined

/**
 * Parses and decodes every line with `schema`. The stream fails with a {@link JsonlError} naming the first bad
 * line, after emitting every value before it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = <A, I>(
  schema: Schema.Schema<A, I, never>,
  options?: DecodeOptions<A>
) =>
<E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<A, E | JsonlError, R> =>
  Stream.pipeThroughChannel(
    lines(self, options),
    decodeLinesChannel<A, A, E | JsonlError>(decodeLine(schema, options?.fast), options, value)
  )

/**
 * Like {@link decode}, but keeps each value with its line (number and byte range).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeWithLines = <A, I>(
  schema: Schema.Schema<A, I, never>,
  options?: DecodeOptions<A>
) =>
<E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<readonly [A, Line], E | JsonlError, R> =>
  Stream.pipeThroughChannel(
    lines(self, options),
    decodeLinesChannel<A, readonly [A, Line], E | JsonlError>(decodeLine(schema, options?.fast), options, withLine)
  )

/**
 * Parses and decodes a stream of lines (from {@link lines} or `Download.resumableLines`), like {@link decode}.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeLines = <A, I>(
  schema: Schema.Schema<A, I, never>,
  options?: Pick<DecodeOptions<A>, "emptyLines" | "fast">
) =>
<E, R>(self: Stream.Stream<Line, E, R>): Stream.Stream<A, E | JsonlError, R> =>
  Stream.pipeThroughChannel(self, decodeLinesChannel(decodeLine(schema, options?.fast), options, value))

/**
 * Parses and decodes one line, for callers that already hold lines.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeLine = <A, I>(schema: Schema.Schema<A, I, never>, fast?: FastDecode<A>) => {
  // Compiled once per decoder, not per line.
  const decodeValue = ParseResult.decodeUnknownEither(schema, { errors: "first" })
  return (line: Line): Either.Either<A, JsonlError> => {
    let json: unknown
    try {
      json = JSON.parse(line.text)
    } catch (error) {
      return Either.left(
        new JsonlError({
          reason: "InvalidJson",
          lineNumber: line.lineNumber,
          byteStart: line.byteStart,
          description: error instanceof Error ? error.message : String(error)
        })
      )
    }
    if (fast !== undefined) {
      const value = fast(json)
      if (value !== undefined) return Either.right(value)
    }
    const result = decodeValue(json)
    if (Either.isRight(result)) return Either.right(result.right)
    return Either.left(
      new JsonlError({
        reason: "SchemaMismatch",
        lineNumber: line.lineNumber,
        byteStart: line.byteStart,
        description: ParseResult.TreeFormatter.formatIssueSync(result.left)
      })
    )
  }
}

/**
 * Decodes a stream of lines with a per-line decoder, chunk by chunk (no Effect per line): the building block of
 * {@link decodeLines} for decoders that are not one schema (a result line read into a domain value, say). Empty
 * lines are skipped or fail as `options.emptyLines` says; the stream fails with the decoder's first error, after
 * emitting every value before it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeLinesWith = <A>(
  decodeOne: (line: Line) => Either.Either<A, JsonlError>,
  options?: Pick<DecodeOptions, "emptyLines">
) =>
<E, R>(self: Stream.Stream<Line, E, R>): Stream.Stream<A, E | JsonlError, R> =>
  Stream.pipeThroughChannel(self, decodeLinesChannel<A, A, E>(decodeOne, options, (value) => value))

function decodeLinesChannel<A, B, E>(
  decodeOne: (line: Line) => Either.Either<A, JsonlError>,
  options: Pick<DecodeOptions, "emptyLines"> | undefined,
  output: (value: A, line: Line) => B
): Channel.Channel<Chunk.Chunk<B>, Chunk.Chunk<Line>, E | JsonlError, E, unknown, unknown> {
  const failOnEmpty = options?.emptyLines === "fail"
  const loop: Channel.Channel<Chunk.Chunk<B>, Chunk.Chunk<Line>, E | JsonlError, E, unknown, unknown> = Channel
    .readWithCause({
      onInput: (input: Chunk.Chunk<Line>) => {
        const out: Array<B> = []
        let failure: JsonlError | undefined
        for (const line of input) {
          if (line.text === "" || isBlank(line.text)) {
            if (!failOnEmpty) continue
            failure = new JsonlError({
              reason: "EmptyLine",
              lineNumber: line.lineNumber,
              byteStart: line.byteStart,
              description: "remove the empty line"
            })
            break
          }
          const result = decodeOne(line)
          if (Either.isLeft(result)) {
            failure = result.left
            break
          }
          out.push(output(result.right, line))
        }
        const emit = out.length > 0 ? Channel.write(Chunk.unsafeFromArray(out)) : Channel.void
        return failure === undefined ? Channel.zipRight(emit, loop) : Channel.zipRight(emit, Channel.fail(failure))
      },
      onFailure: (cause: Cause.Cause<E>) => Channel.failCause(cause),
      onDone: () => Channel.void
    })
  return loop
}

const value = <A>(value: A): A => value
const withLine = <A>(value: A, line: Line): readonly [A, Line] => [value, line]

const isBlank = (text: string): boolean => {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false
  }
  return true
}

/**
 * Encodes values as JSONL bytes: one `JSON.stringify` per value, a `\n` after each, one byte buffer per chunk.
 * With a `schema`, values are encoded with it first and a failure names the 1-based position of the value.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode: {
  <A, I>(
    schema: Schema.Schema<A, I, never>
  ): <E, R>(self: Stream.Stream<A, E, R>) => Stream.Stream<Uint8Array, E | JsonlError, R>
  (): <A, E, R>(self: Stream.Stream<A, E, R>) => Stream.Stream<Uint8Array, E | JsonlError, R>
} = <A, I>(schema?: Schema.Schema<A, I, never>) => <E, R>(self: Stream.Stream<A, E, R>) =>
  Stream.pipeThroughChannel(self, encodeChannel<A, I, E>(schema))

const encodeChannel = <A, I, E>(
  schema: Schema.Schema<A, I, never> | undefined
): Channel.Channel<Chunk.Chunk<Uint8Array>, Chunk.Chunk<A>, E | JsonlError, E, unknown, unknown> =>
  Channel.suspend(() => {
    const encoder = new TextEncoder()
    const encodeValue = schema === undefined ? undefined : ParseResult.encodeUnknownEither(schema)
    let index = 0
    const encodeChunk = (chunk: Chunk.Chunk<A>): { readonly text: string; readonly error?: JsonlError } => {
      let text = ""
      for (const value of chunk) {
        index++
        let encoded: unknown = value
        if (encodeValue !== undefined) {
          const result = encodeValue(value)
          if (Either.isLeft(result)) {
            const description = ParseResult.TreeFormatter.formatIssueSync(result.left)
            return { text, error: new JsonlError({ reason: "Encode", lineNumber: index, description }) }
          }
          encoded = result.right
        }
        const json = stringify(encoded)
        if (json === undefined) {
          const description = "the value has no JSON representation"
          return { text, error: new JsonlError({ reason: "Encode", lineNumber: index, description }) }
        }
        text += json + "\n"
      }
      return { text }
    }
    const loop: Channel.Channel<Chunk.Chunk<Uint8Array>, Chunk.Chunk<A>, E | JsonlError, E, unknown, unknown> = Channel
      .readWithCause({
        onInput: (chunk: Chunk.Chunk<A>) => {
          const { error, text } = encodeChunk(chunk)
          const emit = text === "" ? Channel.void : Channel.write(Chunk.of(encoder.encode(text)))
          return Channel.zipRight(emit, error === undefined ? loop : Channel.fail(error))
        },
        onFailure: (cause: Cause.Cause<E>) => Channel.failCause(cause),
        onDone: () => Channel.void
      })
    return loop
  })

const stringify = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value) as string | undefined
  } catch {
    return undefined
  }
}

/**
 * A schema for one JSONL line holding JSON text, for callers composing their own pipelines.
 *
 * @since 0.1.0
 * @category schemas
 */
export const lineSchema = <A, I, R>(schema: Schema.Schema<A, I, R>): Schema.Schema<A, string, R> =>
  Schema.parseJson(schema)
