/**
 * Generated samples for checking a hand-written fast path against its schema: values as they arrive from a file
 * (through JSON), and near misses — a valid value with one field, at a path the schema looks at, replaced by a
 * value of any JSON type or removed.
 */
import { FastCheck as fc } from "effect"

/**
 * What a value is once it has been through a file: JSON (undefined keys gone, NaN as null). A key named
 * `__proto__` is dropped: the schema interpreter would turn it into the decoded object's prototype, while a fast
 * path that keeps the parsed object keeps it as a plain key — a corner no provider sends, where neither is wrong.
 */
export const asJson = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value) ?? "null", (key, item) => (key === "__proto__" ? undefined : item))

const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined), // the key removed
  fc.constant(null),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant([]),
  fc.jsonValue(),
  fc.dictionary(fc.string(), fc.jsonValue())
)

const isContainer = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

/**
 * `valid` with the value at one of `paths` replaced (an empty path replaces the whole value). A missing or
 * non-object step on the way is made an object (or an array, for a numeric key), so every path is reached.
 */
export const nearMiss = (
  valid: fc.Arbitrary<unknown>,
  paths: ReadonlyArray<ReadonlyArray<string | number>>
): fc.Arbitrary<unknown> =>
  fc.tuple(valid, fc.constantFrom(...paths), anyJson).map(([value, path, replacement]) => {
    if (path.length === 0) return asJson(replacement)
    const root = asJson(value)
    if (!isContainer(root)) return root
    let node: Record<string, unknown> = root
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!
      if (!isContainer(node[key])) node[key] = typeof path[i + 1] === "number" ? [] : {}
      node = node[key] as Record<string, unknown>
    }
    const last = path[path.length - 1]!
    if (replacement === undefined) delete node[last]
    else node[last] = replacement
    return asJson(root)
  })
