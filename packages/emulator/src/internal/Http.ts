/**
 * Request helpers the provider surfaces share: the raw request as the core `Verifier` wants it, query parsing
 * that keeps the raw form for signature checks, and small response builders.
 */
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"

/**
 * A request exactly as received. Structurally the same as `@barge/core`'s `Verifier.IncomingRequest`, so it can be
 * passed to the verifiers directly.
 */
export interface IncomingRequest {
  readonly method: string
  /** The path as sent, still percent-encoded. */
  readonly path: string
  /** The raw query string, without the `?`. */
  readonly query: string
  /** Header names lowercased; repeated headers joined with `, ` (as Node does). */
  readonly headers: Record<string, string>
  readonly body: Uint8Array
}

/** Splits a request target into its raw path and raw query (without `?`). */
export const splitUrl = (url: string): { readonly path: string; readonly query: string } => {
  const at = url.indexOf("?")
  return at < 0 ? { path: url, query: "" } : { path: url.slice(0, at), query: url.slice(at + 1) }
}

/** The request's headers as a plain lowercased record. */
export const headersOf = (request: HttpServerRequest.HttpServerRequest): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers)) out[name.toLowerCase()] = value
  return out
}

/** Reads the whole request (body included) from a server request. */
export const incoming = (
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<IncomingRequest, HttpServerError.RequestError> =>
  Effect.map(request.arrayBuffer, (buffer) => {
    const { path, query } = splitUrl(request.url)
    return { method: request.method, path, query, headers: headersOf(request), body: new Uint8Array(buffer) }
  })

/** Reads the current request, body included. */
export const currentIncoming: Effect.Effect<
  IncomingRequest,
  HttpServerError.RequestError,
  HttpServerRequest.HttpServerRequest
> = Effect.flatMap(HttpServerRequest.HttpServerRequest, incoming)

/**
 * Decodes a raw query string to a record (first value wins for repeated names; `+` is a space, as in forms).
 * Invalid percent-escapes are kept literally rather than failing the request.
 */
export const parseQuery = (query: string): Record<string, string> => {
  const out: Record<string, string> = {}
  if (query === "") return out
  for (const pair of query.split("&")) {
    if (pair === "") continue
    const at = pair.indexOf("=")
    const name = decode(at < 0 ? pair : pair.slice(0, at))
    const value = at < 0 ? "" : decode(pair.slice(at + 1))
    if (!(name in out)) out[name] = value
  }
  return out
}

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "))
  } catch {
    return text
  }
}

/** Decodes each `/`-separated segment of a raw path (object keys may contain encoded characters). */
export const decodePath = (path: string): string => path.split("/").map(decode).join("/")

/** Parses a JSON body; `undefined` when it is not valid JSON (surfaces answer with their own validation error). */
export const parseJson = (body: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder().decode(body))
  } catch {
    return undefined
  }
}

/** A JSON response with a status and extra headers. */
export const json = (
  body: unknown,
  status = 200,
  headers: Record<string, string> = {}
): HttpServerResponse.HttpServerResponse => HttpServerResponse.unsafeJson(body, { status, headers })

/** An XML response (TOS errors are XML). */
export const xml = (
  body: string,
  status = 200,
  headers: Record<string, string> = {}
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(body, { status, headers, contentType: "application/xml" })

/** Escapes text for an XML element. */
export const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(
    /'/g,
    "&apos;"
  )

/**
 * Parses a `Range: bytes=…` header against an object size. `undefined` = no (usable) range, serve it all;
 * `"unsatisfiable"` = answer 416.
 */
export const parseRange = (
  header: string | undefined,
  size: number
): { readonly start: number; readonly end: number } | "unsatisfiable" | undefined => {
  if (header === undefined) return undefined
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (match === null) return undefined
  const [, from, to] = match
  if (from === "" && to === "") return undefined
  if (from === "") {
    const suffix = Number(to)
    if (suffix === 0) return "unsatisfiable"
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(from)
  if (start >= size) return "unsatisfiable"
  const end = to === "" ? size - 1 : Math.min(Number(to), size - 1)
  if (end < start) return undefined
  return { start, end }
}
