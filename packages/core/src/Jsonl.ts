/**
 * JSON Lines over byte streams: split into numbered lines, decode each with a Schema, encode values back.
 *
 * Built for multi-gigabyte result files: bytes are scanned with `indexOf(0x0a)` on whole chunks, each complete line
 * is decoded once with one `TextDecoder` call, and work is batched per chunk (no Effect per byte or per line).
 * `@effect/platform`'s `Ndjson.unpack` is not used: in 0.97 it decodes chunks without `{ stream: true }` and
 * corrupts a multibyte character that straddles two chunks.
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
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
    // Node's non-fatal UTF-8 decoder is several times faster than the fatal one; a U+FFFD in its output (a
    // replacement, or a genuine U+FFFD) sends the region to the fatal decoder to tell the two apart.
    const fastDecoder = new TextDecoder("utf-8", { ignoreBOM: true })
    // Bytes of the line in progress that arrived in earlier chunks; joined only when the line completes.
    let pending: Array<Uint8Array> = []
    let pendingSize = 0
    let offset = position?.byteOffset ?? 0
    let lineNumber = position?.lineNumber ?? 1
    let lineStart = offset
    let atFileStart = offset === 0

    const makeLine = (bytes: Uint8Array, end: number): Line | JsonlError => {
      let view = bytes
      if (view.length > 0 && view[view.length - 1] === CR) view = view.subarray(0, view.length - 1)
      let text: string
      try {
        text = view.length === 0 ? "" : decoder.decode(view)
      } catch {
        return new JsonlError({
          reason: "InvalidUtf8",
          lineNumber,
          byteStart: lineStart,
          description: `bytes ${lineStart}–${end} are not valid UTF-8`
        })
      }
      const line: Line = { lineNumber, text, byteStart: lineStart, byteEnd: end }
      lineNumber++
      lineStart = end
      return line
    }

    const take = Bytes.concat

    const skipBom = (chunk: Uint8Array): Uint8Array => {
      atFileStart = false
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        offset += 3
        lineStart += 3
        return chunk.subarray(3)
      }
      return chunk
    }

    /** Emits every line `chunk` completes into `out`; keeps the unfinished tail in `pending`. */
    /** Splits `region` (which ends with `\n`) line by line, decoding each line on its own. */
    const scanLineByLine = (region: Uint8Array, regionStart: number, out: Array<Line>): JsonlError | undefined => {
      let from = 0
      let newline = region.indexOf(LF, from)
      while (newline !== -1) {
        const line = makeLine(region.subarray(from, newline), regionStart + newline + 1)
        if (line instanceof JsonlError) return line
        out.push(line)
        from = newline + 1
        newline = region.indexOf(LF, from)
      }
      return undefined
    }

    /**
     * Emits every line `chunk` completes into `out`; keeps the unfinished tail in `pending`.
     *
     * Hot path: the completed region is decoded with ONE `TextDecoder` call and split as a string (`\n` is never
     * part of a multibyte UTF-8 sequence, so byte and string line boundaries agree); byte offsets come from native
     * `indexOf` on the bytes. Only if the region is not valid UTF-8 is it re-scanned line by line to name the line.
     */
    const scan = (chunk: Uint8Array, out: Array<Line>): JsonlError | undefined => {
      const last = chunk.lastIndexOf(LF)
      if (last === -1) {
        // Copy: the producer may reuse its buffer once the chunk is consumed.
        pending.push(chunk.slice())
        pendingSize += chunk.length
        offset += chunk.length
        return undefined
      }
      const head = chunk.subarray(0, last + 1)
      const region = pendingSize === 0 ? head : take([...pending, head], pendingSize + head.length)
      const regionStart = offset - pendingSize
      pending = []
      pendingSize = 0
      if (last + 1 < chunk.length) {
        pending.push(chunk.slice(last + 1))
        pendingSize = chunk.length - last - 1
      }
      offset += chunk.length
      let text = fastDecoder.decode(region)
      if (text.includes("\uFFFD")) {
        try {
          text = decoder.decode(region)
        } catch {
          return scanLineByLine(region, regionStart, out)
        }
      }
      let from = 0
      let textFrom = 0
      while (from < region.length) {
        const newline = region.indexOf(LF, from)
        const textNewline = text.indexOf("\n", textFrom)
        const textEnd = textNewline > textFrom && text.charCodeAt(textNewline - 1) === CR
          ? textNewline - 1
          : textNewline
        const end = regionStart + newline + 1
        out.push({ lineNumber, text: text.slice(textFrom, textEnd), byteStart: lineStart, byteEnd: end })
        lineNumber++
        lineStart = end
        from = newline + 1
        textFrom = textNewline + 1
      }
      return undefined
    }

    /** At byte 0 the BOM may straddle chunks: hold bytes back until three (or the end) are available. */
    const startFile = (out: Array<Line>): JsonlError | undefined => {
      const head = skipBom(take(pending, pendingSize))
      pending = []
      pendingSize = 0
      return scan(head, out)
    }

    const process = (input: Chunk.Chunk<Uint8Array>, out: Array<Line>): JsonlError | undefined => {
      for (const chunk of input) {
        if (chunk.length === 0) continue
        if (atFileStart) {
          pending.push(chunk)
          pendingSize += chunk.length
          if (pendingSize < 3) continue
          const error = startFile(out)
          if (error !== undefined) return error
          continue
        }
        const error = scan(chunk, out)
        if (error !== undefined) return error
      }
      return undefined
    }

    const flush = (out: Array<Line>): JsonlError | undefined => {
      if (atFileStart && pendingSize > 0) {
        const error = startFile(out)
        if (error !== undefined) return error
      }
      if (pendingSize === 0) return undefined
      const bytes = take(pending, pendingSize)
      pending = []
      pendingSize = 0
      const line = makeLine(bytes, lineStart + bytes.length)
      if (line instanceof JsonlError) return line
      out.push(line)
      return undefined
    }

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
          return emitThen(out, process(input, out), loop)
        },
        onFailure: (cause: Cause.Cause<E>) => Channel.failCause(cause),
        onDone: () => {
          const out: Array<Line> = []
          return emitThen(out, flush(out), Channel.void)
        }
      })
    return loop
  })

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
  Stream.pipeThroughChannel(lines(self, options), decodeLinesChannel<A, I, E | JsonlError>(schema, options))

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
  Stream.pipeThroughChannel(lines(self, options), decodeLinesChannel<A, I, E | JsonlError>(schema, options, true))

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
  Stream.pipeThroughChannel(self, decodeLinesChannel<A, I, E | JsonlError>(schema, options))

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

function decodeLinesChannel<A, I, E>(
  schema: Schema.Schema<A, I, never>,
  options: DecodeOptions<A> | undefined,
  withLines: true
): Channel.Channel<Chunk.Chunk<readonly [A, Line]>, Chunk.Chunk<Line>, E | JsonlError, E, unknown, unknown>
function decodeLinesChannel<A, I, E>(
  schema: Schema.Schema<A, I, never>,
  options?: DecodeOptions<A>
): Channel.Channel<Chunk.Chunk<A>, Chunk.Chunk<Line>, E | JsonlError, E, unknown, unknown>
function decodeLinesChannel<A, I, E>(
  schema: Schema.Schema<A, I, never>,
  options?: DecodeOptions<A>,
  withLines = false
): Channel.Channel<Chunk.Chunk<unknown>, Chunk.Chunk<Line>, E | JsonlError, E, unknown, unknown> {
  const decodeOne = decodeLine(schema, options?.fast)
  const failOnEmpty = options?.emptyLines === "fail"
  const loop: Channel.Channel<Chunk.Chunk<unknown>, Chunk.Chunk<Line>, E | JsonlError, E, unknown, unknown> = Channel
    .readWithCause({
      onInput: (input: Chunk.Chunk<Line>) => {
        const out: Array<unknown> = []
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
          out.push(withLines ? [result.right, line] as const : result.right)
        }
        const emit = out.length > 0 ? Channel.write(Chunk.unsafeFromArray(out)) : Channel.void
        return failure === undefined ? Channel.zipRight(emit, loop) : Channel.zipRight(emit, Channel.fail(failure))
      },
      onFailure: (cause: Cause.Cause<E>) => Channel.failCause(cause),
      onDone: () => Channel.void
    })
  return loop
}

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
