/**
 * Lazy writers into an object store. A Qianfan task writes its output files only when someone could observe them;
 * the console surface registers how to bring its tasks up to date, and the BOS surface calls `settle` before it
 * serves any request, so a client that reads the bucket directly never sees a finished task without its output.
 * Keyed by the store, so two emulators in one process never touch each other's tasks.
 */
import type { ObjectStore } from "../internal/Context.js"

const writers = new WeakMap<ObjectStore, Array<() => void>>()

/** Registers a writer to run before every read of `store`. */
export const register = (store: ObjectStore, settle: () => void): void => {
  const list = writers.get(store)
  if (list === undefined) writers.set(store, [settle])
  else list.push(settle)
}

/** Runs every writer registered for `store`. */
export const settle = (store: ObjectStore): void => {
  for (const write of writers.get(store) ?? []) write()
}
