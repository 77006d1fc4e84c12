/**
 * Small, fast, stable non-cryptographic hashes for everything the emulator derives from a seed or a request:
 * fake completions, fault decisions and ids. Stable across runs and platforms, which `Math.random` is not.
 */

/** FNV-1a (32-bit) over a string's UTF-16 code units, optionally continuing from a previous hash. */
export const fnv1a = (text: string, seed = 0x811c9dc5): number => {
  let hash = seed >>> 0
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

/** FNV-1a followed by murmur3's finaliser, so nearby keys (`…|1`, `…|2`) give unrelated values. */
export const mix = (key: string): number => {
  let hash = fnv1a(key)
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b) >>> 0
  hash ^= hash >>> 13
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0
  return (hash ^ (hash >>> 16)) >>> 0
}

/** A uniform number in [0, 1) from a key. */
export const uniform = (key: string): number => mix(key) / 4294967296

/** Eight lowercase hex digits. */
export const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0")
