/**
 * A throwaway PostgreSQL for the tests: initialised in a temporary directory from the machine's own binaries,
 * listening on a free loopback port, stopped and deleted afterwards. `initdb` refuses to run as root, so as root
 * the server runs as the `postgres` user.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

export interface Server {
  /** `postgres://barge@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  readonly url: string
  readonly port: number
  readonly stop: () => void
}

/** A TCP port nothing listens on right now (on loopback). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const asRoot = process.getuid?.() === 0

const run = (command: string, args: ReadonlyArray<string>) =>
  execFileSync(asRoot ? "runuser" : command, asRoot ? ["-u", "postgres", "--", command, ...args] : [...args], {
    stdio: "pipe"
  })

export const start = async (options?: { readonly maxConnections?: number }): Promise<Server> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "barge-pg-"))
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim())
    Fs.chownSync(dir, uid, gid)
  }
  const data = Path.join(dir, "data")
  run("initdb", ["-D", data, "-A", "trust", "-U", "barge", "--no-sync"])
  const port = await freePort()
  run("pg_ctl", [
    "-D",
    data,
    "-l",
    Path.join(dir, "log"),
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=${options?.maxConnections ?? 300} ` +
    "-c fsync=off -c synchronous_commit=off",
    "-w",
    "start"
  ])
  return {
    url: `postgres://barge@127.0.0.1:${port}/postgres`,
    port,
    stop: () => {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
      } finally {
        Fs.rmSync(dir, { recursive: true, force: true })
      }
    }
  }
}
