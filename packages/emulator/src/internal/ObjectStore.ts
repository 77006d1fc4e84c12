/**
 * In-memory buckets for the TOS and BOS surfaces. Every operation is synchronous, so two concurrent requests can
 * never interleave between a read and a write and no object is ever lost or half-written.
 *
 * Bodies are kept as the chunks they arrived in (never copied); `body` joins them only when someone asks for one
 * array, and `etag` is hashed only when first read — so benchmarks can store gigabyte result files cheaply.
 */
import * as Bytes from "@barge/core/Bytes"
import { createHash } from "node:crypto"
import type { ObjectStore, ObjectWriter, StoredObject } from "./Context.js"

/** Content type used when a writer gives none. */
export const defaultContentType = "application/octet-stream"

/** Writers gather small appends into blocks of about this size. */
export const blockSize = 64 * 1024

class StoredObjectImpl implements StoredObject {
  private joined: Uint8Array | undefined
  private md5: string | undefined
  readonly size: number

  constructor(
    readonly bucket: string,
    readonly key: string,
    readonly chunks: ReadonlyArray<Uint8Array>,
    readonly contentType: string,
    readonly lastModified: number
  ) {
    let size = 0
    for (const chunk of chunks) size += chunk.byteLength
    this.size = size
    if (chunks.length === 1) this.joined = chunks[0]
    if (chunks.length === 0) this.joined = new Uint8Array(0)
  }

  get body(): Uint8Array {
    if (this.joined === undefined) this.joined = Bytes.concat(this.chunks, this.size)
    return this.joined
  }

  get etag(): string {
    if (this.md5 === undefined) {
      const hash = createHash("md5")
      for (const chunk of this.chunks) hash.update(chunk)
      this.md5 = hash.digest("hex")
    }
    return this.md5
  }

  slice(start: number, end: number = this.size): ReadonlyArray<Uint8Array> {
    const from = Math.max(0, Math.min(start, this.size))
    const to = Math.max(from, Math.min(end, this.size))
    const out: Array<Uint8Array> = []
    let offset = 0
    for (const chunk of this.chunks) {
      const chunkEnd = offset + chunk.byteLength
      if (chunkEnd > from && offset < to) {
        out.push(chunk.subarray(Math.max(0, from - offset), Math.min(chunk.byteLength, to - offset)))
      }
      if (chunkEnd >= to) break
      offset = chunkEnd
    }
    return out
  }

  toJSON() {
    return { bucket: this.bucket, key: this.key, size: this.size, contentType: this.contentType }
  }
}

/**
 * Creates an empty store. `now` gives `lastModified` (pass emulated time; defaults to `Date.now`). Writing to a
 * bucket that does not exist creates it: whether a missing bucket is an error is the surface's decision.
 */
export const make = (options?: { readonly now?: () => number }): ObjectStore => {
  const now = options?.now ?? Date.now
  const buckets = new Map<string, Map<string, StoredObject>>()

  const bucketOf = (bucket: string): Map<string, StoredObject> => {
    let objects = buckets.get(bucket)
    if (objects === undefined) {
      objects = new Map()
      buckets.set(bucket, objects)
    }
    return objects
  }

  const putChunks = (
    bucket: string,
    key: string,
    chunks: ReadonlyArray<Uint8Array>,
    contentType: string = defaultContentType
  ): StoredObject => {
    const object = new StoredObjectImpl(bucket, key, chunks, contentType, now())
    bucketOf(bucket).set(key, object)
    return object
  }

  const writer = (bucket: string, key: string, contentType?: string): ObjectWriter => {
    const chunks: Array<Uint8Array> = []
    // Small appends (a line each) are gathered into blocks, so serving the object later writes a few large
    // chunks instead of millions of tiny ones; large appends are kept as they are, uncopied.
    let pending: Array<Uint8Array> = []
    let pendingSize = 0
    const flush = () => {
      if (pendingSize === 0) return
      chunks.push(Bytes.concat(pending, pendingSize))
      pending = []
      pendingSize = 0
    }
    let committed = false
    return {
      append: (bytes) => {
        if (committed) throw new Error(`Object ${bucket}/${key} was already committed`)
        if (bytes.byteLength === 0) return
        if (bytes.byteLength >= blockSize) {
          flush()
          chunks.push(bytes)
          return
        }
        pending.push(bytes)
        pendingSize += bytes.byteLength
        if (pendingSize >= blockSize) flush()
      },
      commit: () => {
        committed = true
        flush()
        return putChunks(bucket, key, chunks, contentType)
      }
    }
  }

  return {
    createBucket: (bucket) => void bucketOf(bucket),
    hasBucket: (bucket) => buckets.has(bucket),
    buckets: () => [...buckets.keys()].sort(),
    put: (bucket, key, body, contentType) => putChunks(bucket, key, [body], contentType),
    putChunks,
    writer,
    get: (bucket, key) => buckets.get(bucket)?.get(key),
    delete: (bucket, key) => buckets.get(bucket)?.delete(key) ?? false,
    list: (bucket, prefix) => {
      const objects = buckets.get(bucket)
      if (objects === undefined) return []
      const out: Array<StoredObject> = []
      for (const [key, object] of objects) {
        if (key.startsWith(prefix)) out.push(object)
      }
      // Plain code-unit order, as S3-style listings sort keys by their UTF-8 bytes (equal for the BMP).
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    }
  }
}
