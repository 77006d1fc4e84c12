/**
 * The embedded deployment's SQLite client: ONE libsql connection per process, shared by plain statements and
 * transactions.
 *
 * Why not the libsql client as it comes: it runs each transaction on its current connection and opens a fresh one
 * for whatever follows, never closing the old one. Every transaction then leaves a connection behind (the process
 * grows by megabytes a minute under the cluster's steady writes), a busy timeout set on the first connection is
 * lost on the next, and a statement on the fresh connection that meets the transaction's write lock waits for it
 * synchronously — in the very thread that must finish the transaction. Here a transaction is `BEGIN … COMMIT` on the
 * one connection, and statements from outside it wait (asynchronously) until it ends; other processes on the same
 * file wait their turn through the busy timeout. The WAL journal lets their reads run beside a write.
 */
import * as LibsqlClient from "@effect/sql-libsql/LibsqlClient"
import * as Libsql from "@libsql/client"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** A client whose transactions run on its own connection, one at a time; outside statements wait for them. */
export const serialized = (client: Libsql.Client): Libsql.Client => {
  // Settles when no transaction is open (each transaction chains onto the one before it).
  let idle: Promise<void> = Promise.resolve()
  const transaction = async (mode: Libsql.TransactionMode = "write"): Promise<Libsql.Transaction> => {
    let release!: () => void
    const previous = idle
    idle = new Promise<void>((resolve) => (release = resolve))
    await previous
    try {
      await client.execute(mode === "write" ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
    } catch (error) {
      release()
      throw error
    }
    let open = true
    const rollback = async () => {
      if (!open) return
      open = false
      try {
        await client.execute("ROLLBACK")
      } finally {
        release()
      }
    }
    const self: Libsql.Transaction = {
      execute: (statement: Libsql.InStatement) => client.execute(statement),
      batch: async (statements: Array<Libsql.InStatement>) => {
        const results: Array<Libsql.ResultSet> = []
        for (const statement of statements) results.push(await client.execute(statement))
        return results
      },
      executeMultiple: (sql: string) => client.executeMultiple(sql),
      commit: async () => {
        try {
          await client.execute("COMMIT")
        } catch (error) {
          await rollback()
          throw error
        }
        open = false
        release()
      },
      rollback,
      close: () => void rollback(),
      get closed() {
        return !open
      }
    }
    return self
  }
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === "transaction") return transaction
      if (property === "execute") {
        return async (statement: Libsql.InStatement) => {
          await idle
          return target.execute(statement)
        }
      }
      const value = Reflect.get(target, property, receiver)
      return typeof value === "function" ? value.bind(target) : value
    }
  })
}

/** `LibsqlClient` (and `SqlClient`) on `file`: one connection, WAL, a 10 s busy timeout, integers as bigint. */
export const layer = (file: string) =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => Libsql.createClient({ url: `file:${file}`, intMode: "bigint" })),
      (client) => Effect.sync(() => client.close())
    )
    yield* Effect.promise(() => client.execute("PRAGMA busy_timeout = 10000"))
    yield* Effect.promise(() => client.execute("PRAGMA journal_mode = WAL"))
    return LibsqlClient.layer({ liveClient: serialized(client) })
  }))
