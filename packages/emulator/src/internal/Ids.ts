/**
 * Seeded ids: the n-th id with a given prefix depends only on the seed, so two runs with one seed name their jobs
 * and files alike (handy when replaying a failing soak run).
 */
import { mix } from "./Hash.js"

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

/** `nextId(prefix)` → `prefix` + 20 lowercase alphanumerics, unique per prefix within a run. */
export const make = (seed: number): (prefix: string) => string => {
  const counters = new Map<string, number>()
  return (prefix) => {
    const n = counters.get(prefix) ?? 0
    counters.set(prefix, n + 1)
    let out = ""
    for (let part = 0; out.length < 20; part++) {
      let word = mix(`${seed}|${prefix}|${n}|${part}`)
      for (let i = 0; i < 5; i++) {
        out += alphabet[word % 36]
        word = Math.floor(word / 36)
      }
    }
    // The counter in the last characters guarantees uniqueness even if two hashes collide.
    const suffix = n.toString(36)
    return prefix + out.slice(0, 20 - suffix.length) + suffix
  }
}
