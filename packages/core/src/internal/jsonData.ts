/**
 * Whether a value is plain JSON data that `JSON.stringify` writes as it is: nothing dropped, nothing changed, no
 * throw. A request built in code can hold what JSON cannot (a BigInt, a cycle, a Date, `Infinity` from `1e400`),
 * and any value can nest deeper than `JSON.stringify`'s recursion survives; each is found here, before a request is
 * encoded, with the path to it.
 */

/** The deepest nesting accepted: far beyond any chat request, far below what `JSON.stringify` survives. */
export const maxDepth = 100

/** What stops a value from being sent as JSON, and where. */
export interface Problem {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

interface Visit {
  readonly value: unknown
  readonly parent: Visit | undefined
  readonly key: string | number | undefined
  readonly depth: number
  readonly inArray: boolean
}

interface Leave {
  readonly leave: object
}

const pathOf = (visit: Visit): Array<string | number> => {
  const path: Array<string | number> = []
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) path.push(at.key)
  return path.reverse()
}

const describeNumber = (n: number): string =>
  Number.isNaN(n)
    ? "NaN, which JSON cannot carry"
    : `${n}, which JSON cannot carry (a number beyond ±1.8e308, such as 1e400, reads as Infinity)`

/**
 * The first problem in `value`, depth first, or `undefined` when it is plain JSON data. Iterative (an explicit
 * stack, not recursion), so no nesting can overflow the call stack here; a cycle is found by the objects on the
 * current path.
 */
export const check = (value: unknown, depthLimit = maxDepth): Problem | undefined => {
  const onPath = new Set<object>()
  const stack: Array<Visit | Leave> = [{ value, parent: undefined, key: undefined, depth: 0, inArray: false }]
  const problem = (visit: Visit, message: string): Problem => ({ path: pathOf(visit), message })
  while (stack.length > 0) {
    const item = stack.pop()!
    if ("leave" in item) {
      onPath.delete(item.leave)
      continue
    }
    const current = item.value
    switch (typeof current) {
      case "string":
      case "boolean":
        continue
      case "number":
        if (!Number.isFinite(current)) return problem(item, `is ${describeNumber(current)}`)
        continue
      case "bigint":
        return problem(item, `is a BigInt (${current}n), which JSON cannot carry; use a number or a string`)
      case "undefined":
        // An object key holding `undefined` is a key left out, as JSON writes it; in an array it would become null.
        if (item.inArray) return problem(item, "is undefined, which JSON would write as null; remove it")
        continue
      case "function":
      case "symbol":
        return problem(item, `is a ${typeof current}, which JSON cannot carry`)
    }
    if (current === null) continue
    const object = current as object
    if (item.depth >= depthLimit) {
      return problem(item, `nests more than ${depthLimit} levels deep; no chat request needs that, flatten it`)
    }
    if (onPath.has(object)) {
      return problem(item, "refers back to an object that contains it (a circular structure), which JSON cannot carry")
    }
    const children: Array<Visit> = []
    if (Array.isArray(object)) {
      const array = object as ReadonlyArray<unknown>
      for (let i = 0; i < array.length; i++) {
        if (!(i in array)) return problem(item, `has an empty slot at ${i}, which JSON would write as null`)
        children.push({ value: array[i], parent: item, key: i, depth: item.depth + 1, inArray: true })
      }
    } else {
      const prototype = Object.getPrototypeOf(object)
      if (prototype !== Object.prototype && prototype !== null) {
        const name = (prototype as { constructor?: { name?: string } }).constructor?.name ?? "class"
        return problem(item, `is a ${name} object, not plain data; JSON would not keep it as it is`)
      }
      for (const [key, child] of Object.entries(object)) {
        children.push({ value: child, parent: item, key, depth: item.depth + 1, inArray: false })
      }
    }
    onPath.add(object)
    stack.push({ leave: object })
    // Reversed, so the first key is looked at first and the problem reported is the first in the value.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!)
  }
  return undefined
}

/**
 * Whether {@link check} finds nothing, decided without building a path: a plain recursive walk that allocates
 * nothing, for the common request that is fine (the full check runs only when this says no, to name the problem).
 * Recursion is bounded by `depthLimit`, and a cycle is deeper than any limit, so it cannot overflow the stack.
 * `for…in` also visits enumerable keys a polluted `Object.prototype` would add: stricter, never laxer, than
 * `Object.entries`.
 */
export const isPlain = (value: unknown, depthLimit = maxDepth): boolean => plainAt(value, 0, depthLimit, false)

const plainAt = (value: unknown, depth: number, depthLimit: number, inArray: boolean): boolean => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(value)
    case "undefined":
      return !inArray
    case "object":
      break
    default:
      return false
  }
  if (value === null) return true
  if (depth >= depthLimit) return false
  if (Array.isArray(value)) {
    const array = value as ReadonlyArray<unknown>
    for (let i = 0; i < array.length; i++) {
      if (!(i in array) || !plainAt(array[i], depth + 1, depthLimit, true)) return false
    }
    return true
  }
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) return false
  const object = value as Record<string, unknown>
  for (const key in object) {
    if (!plainAt(object[key], depth + 1, depthLimit, false)) return false
  }
  return true
}

/** A path as a user reads it: `messages.0.content`, shortened in the middle when it is long. */
export const formatPath = (path: ReadonlyArray<string | number>): string =>
  path.length <= 8 ? path.join(".") : `${path.slice(0, 4).join(".")}.….${path.slice(-2).join(".")}`
