/**
 * A `multipart/form-data` body built as a stream with a known length: the fields and the file's part header,
 * the file's bytes as they are read, then the closing boundary. Nothing is buffered whole, and the exact
 * `Content-Length` lets servers that refuse chunked uploads accept it.
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as Stream from "effect/Stream"

const encoder = new TextEncoder()

const quote = (value: string): string =>
  value.replace(/["\\\r\n]/g, (c) => c === "\"" ? "%22" : c === "\\" ? "\\\\" : "")

/** A streamed multipart body with one file part after the plain fields. */
export const body = <E>(options: {
  readonly boundary: string
  readonly fields: Readonly<Record<string, string>>
  readonly fileField: string
  readonly filename: string
  readonly contentType: string
  readonly content: Stream.Stream<Uint8Array, E>
  readonly size: number
}): HttpBody.HttpBody => {
  const b = options.boundary
  let head = ""
  for (const [name, value] of Object.entries(options.fields)) {
    head += `--${b}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`
  }
  head += `--${b}\r\nContent-Disposition: form-data; name="${quote(options.fileField)}"; filename="${
    quote(options.filename)
  }"\r\nContent-Type: ${options.contentType}\r\n\r\n`
  const headBytes = encoder.encode(head)
  const tailBytes = encoder.encode(`\r\n--${b}--\r\n`)
  const stream: Stream.Stream<Uint8Array, unknown> = Stream.make(headBytes).pipe(
    Stream.concat(options.content),
    Stream.concat(Stream.make(tailBytes))
  )
  return HttpBody.stream(
    stream,
    `multipart/form-data; boundary=${b}`,
    headBytes.length + options.size + tailBytes.length
  )
}
