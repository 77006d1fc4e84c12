/**
 * RFC 3986 encoding and wire decoding shared by every signing scheme.
 *
 * Signers and verifiers both canonicalise from the *wire* form (the path and query as they travel), so a request
 * signed by any client — ours, an official SDK, or `URLSearchParams` — canonicalises the same way on both ends:
 * decode what arrived, then re-encode with the strict RFC 3986 unreserved set.
 */
import { createHash } from "node:crypto"

const unreservedOnly = /^[A-Za-z0-9\-._~]*$/
const unreservedOrSlash = /^[A-Za-z0-9\-._~/]*$/
const extraReserved = /[!'()*]/g
const escapeExtra = (c: string): string => "%" + c.charCodeAt(0).toString(16).toUpperCase()

/**
 * Percent-encodes every byte outside `A-Z a-z 0-9 - . _ ~` with uppercase hex (`encodeURIComponent` leaves
 * `! ' ( ) *` alone, so they are escaped afterwards).
 */
export const uriEncode = (s: string): string =>
  unreservedOnly.test(s) ? s : encodeURIComponent(s).replace(extraReserved, escapeExtra)

/** Decodes `%XX` sequences; a malformed sequence is kept literally rather than rejected. */
export const percentDecode = (s: string): string => {
  if (s.indexOf("%") === -1) return s
  try {
    return decodeURIComponent(s)
  } catch {
    return s.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
      const code = parseInt(hex, 16)
      return code < 0x80 ? String.fromCharCode(code) : m
    })
  }
}

/**
 * Decodes a query component. `+` means a space: Effect's `UrlParams` (via `URLSearchParams`) writes spaces that
 * way, and every official SDK we verify against sends a literal plus as `%2B`, so the reading is unambiguous.
 */
export const queryDecode = (s: string): string => percentDecode(s.indexOf("+") === -1 ? s : s.replace(/\+/g, " "))

/**
 * Re-encodes a wire path segment by segment (slashes kept, empty segments kept): the V4 "single encoding" and the
 * BCE `UriEncodeExceptSlash` rule. A path already in strict RFC 3986 form comes back unchanged.
 */
export const normalizePath = (wirePath: string): string => {
  if (wirePath === "") return "/"
  if (unreservedOrSlash.test(wirePath)) return wirePath
  const segments = wirePath.split("/")
  for (let i = 0; i < segments.length; i++) {
    segments[i] = uriEncode(percentDecode(segments[i]!))
  }
  return segments.join("/")
}

/** One decoded `name=value` pair of a query string, in wire order. */
export type QueryPair = readonly [name: string, value: string]

/** Splits a raw query string (without `?`) into decoded pairs; `a` and `a=` both give an empty value. */
export const parseQuery = (rawQuery: string): Array<QueryPair> => {
  const pairs: Array<QueryPair> = []
  if (rawQuery === "") return pairs
  const parts = rawQuery.split("&")
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    if (part === "") continue
    const eq = part.indexOf("=")
    pairs.push(
      eq === -1 ? [queryDecode(part), ""] : [queryDecode(part.slice(0, eq)), queryDecode(part.slice(eq + 1))]
    )
  }
  return pairs
}

/** Lowercase hex SHA-256 of a string or bytes. */
export const sha256Hex = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex")

/** The SHA-256 of the empty payload, precomputed because GET requests are the common case. */
export const emptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/** Byte-order string comparison (JS `<` compares UTF-16 units; same order as bytes for the ASCII we compare). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Collapses runs of whitespace to one space and trims: the V4 "Trimall" of a header value. */
export const trimAll = (value: string): string => {
  const collapsed = /\s{2,}|[\t\r\n\f\v]/.test(value) ? value.replace(/\s+/g, " ") : value
  return collapsed.trim()
}
