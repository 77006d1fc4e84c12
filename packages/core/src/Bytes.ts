/**
 * Byte-buffer helpers shared by the client packages and the emulator: joining chunks a stream delivered.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/**
 * The parts joined into one buffer. A single part is returned as is (no copy); `size`, when the caller already
 * knows it, saves a pass over the parts.
 *
 * @since 0.1.0
 * @category utils
 */
export const concat = (parts: ReadonlyArray<Uint8Array>, size?: number): Uint8Array => {
  if (parts.length === 1) return parts[0]!
  let total = size
  if (total === undefined) {
    total = 0
    for (const part of parts) total += part.byteLength
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

/**
 * A whole byte stream in one buffer (for bodies known to be small, or already bounded by the caller).
 *
 * @since 0.1.0
 * @category utils
 */
export const collect = <E, R>(body: Stream.Stream<Uint8Array, E, R>): Effect.Effect<Uint8Array, E, R> =>
  Effect.map(Stream.runCollect(body), (chunks) => concat(Chunk.toReadonlyArray(chunks)))
