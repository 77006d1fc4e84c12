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

const hexDigits = "0123456789ABCDEF"
const isUnreservedByte = (b: number): boolean =>
  (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e ||
  b === 0x5f || b === 0x7e
const hexValue = (b: number): number =>
  b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x41 && b <= 0x46 ? b - 0x37 : b >= 0x61 && b <= 0x66 ? b - 0x57 : -1

/**
 * Canonical form of one wire component (a path segment, a query name or value): valid `%XX` escapes are decoded
 * to bytes, everything else is taken as its UTF-8 bytes, and the bytes are re-encoded with the unreserved set.
 * Working on bytes keeps it total: a stray `%` (which a WHATWG URL leaves as is) or an escape that is not UTF-8
 * canonicalises the same way on the signing and on the verifying side. A strictly encoded component is unchanged.
 */
export const canonicalComponent = (wire: string, plusIsSpace: boolean): string => {
  if (unreservedOnly.test(wire)) return wire
  const bytes = Buffer.from(wire, "utf8")
  let out = ""
  for (let i = 0; i < bytes.length; i++) {
    let b = bytes[i]!
    if (b === 0x25 && i + 2 < bytes.length) {
      const hi = hexValue(bytes[i + 1]!)
      const lo = hexValue(bytes[i + 2]!)
      if (hi >= 0 && lo >= 0) {
        b = hi * 16 + lo
        i += 2
      }
    } else if (b === 0x2b && plusIsSpace) {
      b = 0x20
    }
    out += isUnreservedByte(b) ? String.fromCharCode(b) : "%" + hexDigits[b >> 4] + hexDigits[b & 15]
  }
  return out
}

/**
 * Canonical path: each `/`-separated segment through {@link canonicalComponent} (empty segments kept): the V4
 * "single encoding" and BCE's `UriEncodeExceptSlash`. An empty path is `/`.
 */
export const normalizePath = (wirePath: string): string => {
  if (wirePath === "") return "/"
  if (unreservedOrSlash.test(wirePath)) return wirePath
  const segments = wirePath.split("/")
  for (let i = 0; i < segments.length; i++) {
    segments[i] = canonicalComponent(segments[i]!, false)
  }
  return segments.join("/")
}

/** One `name=value` pair of a query string, both in canonical encoding, in wire order. */
export type QueryPair = readonly [name: string, value: string]

/**
 * Splits a raw query string (without `?`) into canonically encoded pairs; `a` and `a=` both give an empty value.
 * `+` means a space: Effect's `UrlParams` (via `URLSearchParams`) writes spaces that way, and every official SDK
 * we verify against sends a literal plus as `%2B`, so the reading is unambiguous.
 */
export const parseQuery = (rawQuery: string): Array<QueryPair> => {
  const pairs: Array<QueryPair> = []
  if (rawQuery === "") return pairs
  const parts = rawQuery.split("&")
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    if (part === "") continue
    const eq = part.indexOf("=")
    pairs.push(
      eq === -1
        ? [canonicalComponent(part, true), ""]
        : [canonicalComponent(part.slice(0, eq), true), canonicalComponent(part.slice(eq + 1), true)]
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
  // Fast path: only a run of spaces or a whitespace character other than " " needs rewriting.
  const collapsed = /[^\S ]| {2}/.test(value) ? value.replace(/\s+/g, " ") : value
  return collapsed.trim()
}
