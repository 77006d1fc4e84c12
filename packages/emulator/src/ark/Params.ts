/**
 * Reading request parameters from a JSON body the way the gateway does: a missing required field is
 * `MissingParameter`, a field of the wrong type or out of range is `InvalidParameter`, naming the field's path.
 */
import type { ArkError } from "./Envelope.js"
import { errors } from "./Envelope.js"

/** Thrown (and caught by the surface) to answer with an error envelope. */
export class Reject {
  constructor(readonly error: ArkError) {}
}

/** A JSON object from the request. */
export type Json = Readonly<Record<string, unknown>>

export const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const at = (path: string, name: string) => (path === "" ? name : `${path}.${name}`)

const present = (obj: Json, name: string): boolean => obj[name] !== undefined && obj[name] !== null

/** A required non-empty string. */
export const string = (obj: Json, name: string, path = ""): string => {
  if (!present(obj, name) || obj[name] === "") throw new Reject(errors.missingParameter(at(path, name)))
  const value = obj[name]
  if (typeof value !== "string") throw new Reject(errors.invalidParameter(at(path, name), "expected a string"))
  return value
}

/** An optional string (`undefined` when absent). */
export const optionalString = (obj: Json, name: string, path = ""): string | undefined =>
  present(obj, name) ? string(obj, name, path) : undefined

/** An optional boolean. */
export const optionalBoolean = (obj: Json, name: string, path = ""): boolean | undefined => {
  if (!present(obj, name)) return undefined
  const value = obj[name]
  if (typeof value !== "boolean") throw new Reject(errors.invalidParameter(at(path, name), "expected a boolean"))
  return value
}

/** An optional integer within `[min, max]`. */
export const optionalInteger = (obj: Json, name: string, min: number, max: number, path = ""): number | undefined => {
  if (!present(obj, name)) return undefined
  const value = obj[name]
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new Reject(errors.invalidParameter(at(path, name), `expected an integer from ${min} to ${max}`))
  }
  return value
}

/** A required object. */
export const object = (obj: Json, name: string, path = ""): Json => {
  if (!present(obj, name)) throw new Reject(errors.missingParameter(at(path, name)))
  const value = obj[name]
  if (!isObject(value)) throw new Reject(errors.invalidParameter(at(path, name), "expected an object"))
  return value
}

/** An optional object. */
export const optionalObject = (obj: Json, name: string, path = ""): Json | undefined =>
  present(obj, name) ? object(obj, name, path) : undefined

/** An optional array whose elements `item` reads (it receives the element and its path). */
export const optionalArray = <A>(
  obj: Json,
  name: string,
  item: (value: unknown, path: string) => A,
  path = ""
): ReadonlyArray<A> | undefined => {
  if (!present(obj, name)) return undefined
  const value = obj[name]
  if (!Array.isArray(value)) throw new Reject(errors.invalidParameter(at(path, name), "expected an array"))
  return value.map((element, i) => item(element, `${at(path, name)}.${i + 1}`))
}

/** An array element that must be a string. */
export const stringItem = (value: unknown, path: string): string => {
  if (typeof value !== "string") throw new Reject(errors.invalidParameter(path, "expected a string"))
  return value
}

/** An array element that must be an object. */
export const objectItem = (value: unknown, path: string): Json => {
  if (!isObject(value)) throw new Reject(errors.invalidParameter(path, "expected an object"))
  return value
}

/** A `{ BucketName, ObjectKey }` location. */
export const tosLocation = (
  obj: Json,
  name: string,
  options: { readonly allowEmptyKey: boolean }
): { BucketName: string; ObjectKey: string } => {
  const location = object(obj, name)
  const bucket = string(location, "BucketName", name)
  const key = options.allowEmptyKey && (location.ObjectKey === "" || location.ObjectKey === undefined)
    ? ""
    : string(location, "ObjectKey", name)
  return { BucketName: bucket, ObjectKey: key }
}
