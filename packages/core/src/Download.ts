/**
 * Resumable line downloads: a JSONL object read as lines, reopened with `Range` from the end of the last complete
 * line whenever the connection drops or the body ends short — never re-emitting or skipping a line, in constant
 * memory.
 *
 * @example
 * ```ts
 * import { Download, Jsonl } from "@barge/core"
 * import { HttpClientRequest } from "@effect/platform"
 *
 * const results = Download.resumableLines(
 *   Download.rangeOpener(transport, HttpClientRequest.get("/bucket/results.jsonl"), { action: "GetObject" })
 * ).pipe(Jsonl.decodeLines(Result))
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Jsonl from "./Jsonl.js"
import type * as Transport from "./Transport.js"
import * as TransportError from "./TransportError.js"

/**
 * What `open(offset)` returns: the body from `offset` on, and what the server announced about its size.
 *
 * @since 0.1.0
 * @category models
 */
export interface Opened<E, R = never> {
  /** The bytes from the requested offset on. */
  readonly body: Stream.Stream<Uint8Array, E, R>
  /** The byte offset the body really starts at (the requested one, unless the server ignored `Range`). */
  readonly start: number
  /** The whole object's size, when known (`Content-Range: bytes a-b/total`, or `Content-Length` of a full body). */
  readonly totalSize?: number | undefined
}

/**
 * The body ended before the size the server announced. Raised (after the retries run out) so a truncated object is
 * never mistaken for a complete one.
 *
 * @since 0.1.0
 * @category errors
 */
export class DownloadTruncated extends Schema.TaggedError<DownloadTruncated>("@barge/core/Download/DownloadTruncated")(
  "DownloadTruncated",
  {
    expected: Schema.Number,
    received: Schema.Number,
    resumeFrom: Schema.Number
  }
) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `the download ended at byte ${this.received} of ${this.expected}; it can be resumed from byte ${this.resumeFrom}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<E, R> {
  /**
   * Delays between reopen attempts; its input is the failure. It restarts once a reopened body delivers a line, so
   * it bounds consecutive failures. Default: exponential from 500 ms, capped at 10 s, jittered, 5 retries.
   */
  readonly schedule?: Schedule.Schedule<unknown, E | DownloadTruncated, R> | undefined
  /** Which failures of `open` or the body are worth reopening for; default: transient `TransportError`s. */
  readonly isRetryable?: ((error: E) => boolean) | undefined
}

const defaultSchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("500 millis").pipe(
  Schedule.union(Schedule.spaced("10 seconds")),
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(5))
)

const defaultIsRetryable = (error: unknown): boolean =>
  TransportError.isTransportError(error) && TransportError.isTransient(error)

/**
 * Reads an object as JSONL lines (see `Jsonl.lines` for the line rules), reopening it from the end of the last
 * complete line when the body fails or ends short of the announced size. A final line without a trailing newline is
 * emitted only at a true end of the object.
 *
 * @since 0.1.0
 * @category streams
 */
export const resumableLines = <E, R, R2 = never>(
  open: (offset: number) => Effect.Effect<Opened<E, R>, E, R>,
  options?: Options<E, R2>
): Stream.Stream<Jsonl.Line, E | DownloadTruncated | Jsonl.JsonlError, R | R2> =>
  Stream.suspend(() => {
    // The resume point: just past the last complete line handed downstream.
    let committed = 0
    let nextLine = 1
    // Whether a line was delivered since the last failure: the reopen schedule then starts over.
    let progressed = false
    const isRetryable = options?.isRetryable ?? defaultIsRetryable
    const policy = options?.schedule ?? defaultSchedule

    const attempt = Stream.unwrap(Effect.suspend(() => {
      const start = committed
      return Effect.map(open(start), (opened) => {
        if (opened.start > start) {
          // The server skipped bytes we asked for: a misbehaving server, not a bug here. Reopened like a truncated
          // body, and reported as one (still resumable from `start`) if it keeps doing it.
          return Stream.fail(
            new DownloadTruncated({ expected: opened.totalSize ?? opened.start, received: start, resumeFrom: start })
          )
        }
        // A server that ignored `Range` sends the object from an earlier byte: skip what was already read.
        const body = opened.start < start ? dropBytes(opened.body, start - opened.start) : opened.body
        let received = start
        const counted = Stream.mapChunks(body, (chunk) => {
          for (const bytes of chunk) received += bytes.length
          return chunk
        })
        // Fails before `lines` flushes, so a cut-off tail is never emitted as a final line.
        const checked = Stream.concat(
          counted,
          Stream.suspend(() =>
            opened.totalSize !== undefined && received < opened.totalSize
              ? Stream.fail(new DownloadTruncated({ expected: opened.totalSize, received, resumeFrom: committed }))
              : Stream.empty
          )
        )
        return Jsonl.lines(checked, { byteOffset: start, lineNumber: nextLine })
      })
    })).pipe(
      Stream.mapChunks((lines) => {
        const last = Chunk.last(lines)
        if (last._tag === "Some") {
          committed = last.value.byteEnd
          nextLine = last.value.lineNumber + 1
          progressed = true
        }
        return lines
      })
    )

    const retryable = (error: E | DownloadTruncated | Jsonl.JsonlError): boolean =>
      error instanceof DownloadTruncated || (!(error instanceof Jsonl.JsonlError) && isRetryable(error as E))

    // Not `Stream.retry`: it runs an Effect per chunk (resetting the schedule on every emission), which costs
    // CPU on multi-gigabyte files and, through the fiber machinery, keeps each chunk of lines reachable from
    // promoted objects long enough for the young-generation collector to promote it too (the heap grew by
    // 100 MiB per 100 MB read). Here the schedule is reset only when a failure follows progress.
    return Stream.unwrap(Effect.map(
      Schedule.driver(policy as Schedule.Schedule<unknown, E | DownloadTruncated | Jsonl.JsonlError, R2>),
      (driver) => {
        const resume = (
          error: E | DownloadTruncated | Jsonl.JsonlError
        ): Effect.Effect<Stream.Stream<Jsonl.Line, E | DownloadTruncated | Jsonl.JsonlError, R | R2>, never, R2> => {
          if (!retryable(error)) return Effect.succeed(Stream.fail(error))
          const reset = progressed ? driver.reset : Effect.void
          progressed = false
          return Effect.zipRight(
            reset,
            Effect.match(driver.next(error), { onFailure: () => Stream.fail(error), onSuccess: () => withResume() })
          )
        }
        const withResume = (): Stream.Stream<Jsonl.Line, E | DownloadTruncated | Jsonl.JsonlError, R | R2> =>
          Stream.catchAll(attempt, (error) => Stream.unwrap(resume(error)))
        return withResume()
      }
    ))
  })

const dropBytes = <E, R>(body: Stream.Stream<Uint8Array, E, R>, count: number): Stream.Stream<Uint8Array, E, R> =>
  Stream.suspend(() => {
    let remaining = count
    return Stream.mapChunks(body, (chunk) => {
      if (remaining === 0) return chunk
      const out: Array<Uint8Array> = []
      for (const bytes of chunk) {
        if (remaining >= bytes.length) {
          remaining -= bytes.length
        } else {
          out.push(remaining === 0 ? bytes : bytes.subarray(remaining))
          remaining = 0
        }
      }
      return Chunk.unsafeFromArray(out)
    })
  })

/**
 * Parses `Content-Range: bytes start-end/total` (or `bytes * /total`).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseContentRange = (
  value: string | undefined
): { readonly start: number | undefined; readonly total: number | undefined } | undefined => {
  if (value === undefined) return undefined
  const match = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(value)
  if (match === null) return undefined
  return {
    start: match[1] === undefined ? undefined : Number(match[1]),
    total: match[3] === "*" ? undefined : Number(match[3])
  }
}

/**
 * Reads what an HTTP response says about where its body starts and the object's size: a `206` carries
 * `Content-Range`; a `200` is the whole object from byte 0 (a server that ignored `Range`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromResponse = <E, R>(
  response: {
    readonly status: number
    readonly headers: Readonly<Record<string, string | undefined>>
    readonly body: Stream.Stream<Uint8Array, E, R>
  },
  requestedOffset: number
): Opened<E, R> => {
  const length = response.headers["content-length"]
  const contentLength = length === undefined || length === "" ? undefined : Number(length)
  if (response.status === 206) {
    const range = parseContentRange(response.headers["content-range"])
    const start = range?.start ?? requestedOffset
    const total = range?.total ?? (contentLength === undefined ? undefined : start + contentLength)
    return { body: response.body, start, totalSize: total }
  }
  return { body: response.body, start: 0, totalSize: contentLength }
}

/**
 * Opens a GET for `range` (inclusive `end`; the whole object when omitted) and reads where the body starts and the
 * object's size. A `416` at a non-zero start means the object ends exactly there, so it reads as an empty body.
 *
 * @since 0.1.0
 * @category constructors
 */
export const openRange = (
  transport: Transport.Transport,
  request: HttpClientRequest.HttpClientRequest,
  range: { readonly start: number; readonly end?: number | undefined } | undefined,
  options: Transport.ExecuteOptions
): Effect.Effect<
  Opened<TransportError.TransportError> & { readonly status: number },
  TransportError.TransportError
> => {
  const start = range?.start ?? 0
  const ranged = range === undefined
    ? request
    : HttpClientRequest.setHeader(request, "range", `bytes=${start}-${range.end === undefined ? "" : range.end}`)
  return transport.open(ranged, options).pipe(
    Effect.map((response) => ({ ...fromResponse(response, start), status: response.status })),
    Effect.catchIf(
      (error) => start > 0 && error._tag === "StatusError" && error.status === 416,
      () => Effect.succeed({ body: Stream.empty, start, status: 206 })
    )
  )
}

/**
 * An `open` for {@link resumableLines} over a `Transport`: a GET with `Range: bytes=offset-` (no header at 0).
 * A `416` at a non-zero offset means the object ends exactly there, so it reads as an empty body.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rangeOpener = (
  transport: Transport.Transport,
  request: HttpClientRequest.HttpClientRequest,
  options: Transport.ExecuteOptions
) =>
(offset: number): Effect.Effect<Opened<TransportError.TransportError>, TransportError.TransportError> =>
  openRange(transport, request, offset === 0 ? undefined : { start: offset }, { idempotent: true, ...options })
