/**
 * Test helpers: a mutating loopback proxy in front of the emulator (real payloads, bent into bad ones), running an
 * effect to an `Exit` whose failure is inspected without ever letting a defect pass, counting requests, and the
 * `barge` command as a spawned process.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Path from "node:path"

/** A request as the proxy saw it. */
export interface Seen {
  readonly method: string
  /** Path and query, as sent. */
  readonly url: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
}

/** What the upstream answered; a mutation returns a replacement or `undefined` to pass it through. */
export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
  /** Announce the whole body but send only this many bytes, then drop the connection (a truncated download). */
  readonly cutAt?: number
}

export type Mutation = (request: Seen, answer: Answer) => Answer | undefined

/**
 * A loopback proxy to `upstream` that forwards every request verbatim (headers included, so signatures still
 * verify) and lets `mutate()` rewrite the answer. `mutate` is read on every request, so a test can swap it.
 */
export const proxy = (
  upstream: string,
  mutate: () => Mutation
): Effect.Effect<{ readonly url: string; readonly seen: Array<Seen> }, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly seen: Array<Seen>; readonly server: Http.Server }>((resume) => {
      const target = new URL(upstream)
      const seen: Array<Seen> = []
      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const request: Seen = { method: req.method ?? "GET", url: req.url ?? "/", headers: { ...req.headers } }
          seen.push(request)
          const headers = { ...req.headers }
          delete headers.connection
          const forward = Http.request({
            host: target.hostname,
            port: target.port,
            method: request.method,
            path: request.url,
            headers,
            agent: false
          }, (upstreamResponse) => {
            const body: Array<Buffer> = []
            upstreamResponse.on("data", (chunk: Buffer) => body.push(chunk))
            upstreamResponse.on("end", () => {
              const answerHeaders: Record<string, string> = {}
              for (const [name, value] of Object.entries(upstreamResponse.headers)) {
                if (typeof value === "string") answerHeaders[name] = value
              }
              const original: Answer = {
                status: upstreamResponse.statusCode ?? 502,
                headers: answerHeaders,
                body: Buffer.concat(body)
              }
              const answer = mutate()(request, original) ?? original
              const out = { ...answer.headers }
              delete out["content-length"]
              delete out["transfer-encoding"]
              delete out.connection
              res.writeHead(answer.status, { ...out, "content-length": String(answer.body.byteLength) })
              if (answer.cutAt === undefined) res.end(answer.body)
              else res.write(answer.body.subarray(0, answer.cutAt), () => res.destroy())
            })
            upstreamResponse.on("error", () => res.destroy())
          })
          forward.on("error", () => res.destroy())
          forward.end(Buffer.concat(chunks))
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as Net.AddressInfo).port
        resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, seen, server }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ seen, url }) => ({ url, seen })))

/** JSON answer helpers for mutations. */
export const json = (answer: Answer): any => JSON.parse(answer.body.toString("utf8"))

export const withJson = (answer: Answer, value: unknown, status = answer.status): Answer => ({
  status,
  headers: { ...answer.headers, "content-type": "application/json" },
  body: Buffer.from(JSON.stringify(value))
})

export const withText = (answer: Answer, text: string, status: number, contentType: string): Answer => ({
  status,
  headers: { ...answer.headers, "content-type": contentType },
  body: Buffer.from(text)
})

/** How an effect ended, for the table: never a defect. */
export type Outcome =
  | { readonly _tag: "Accepted"; readonly value: unknown }
  | {
    readonly _tag: "Failed"
    readonly tag: string
    readonly message: string
    readonly text: string
    readonly error: unknown
  }
  | { readonly _tag: "Defect"; readonly pretty: string }

const tagOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error
    ? String((error as { _tag: unknown })._tag)
    : "untagged"

const messageOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error
    ? String((error as { message: unknown }).message)
    : String(error)

export const outcome = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<Outcome, never, R> =>
  Effect.map(Effect.exit(effect), (exit): Outcome => {
    if (Exit.isSuccess(exit)) return { _tag: "Accepted", value: exit.value }
    if (Cause.isDie(exit.cause) || Option.isNone(Cause.failureOption(exit.cause))) {
      return { _tag: "Defect", pretty: Cause.pretty(exit.cause) }
    }
    const error = Option.getOrThrow(Cause.failureOption(exit.cause))
    return { _tag: "Failed", tag: tagOf(error), message: messageOf(error), text: String(error), error }
  })

/** The emulator's request count, over every service. */
export const totalRequests = (counts: Readonly<Record<string, number>>): number =>
  Object.values(counts).reduce((a, b) => a + b, 0)

/** What a spawned `barge` left: its exit status and everything it wrote. */
export interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const cliDirectory = Path.resolve(import.meta.dirname, "../../cli")

/** The shell words that run `barge` from source (in `cliDirectory`). */
export const bargeCommand = ["node", "--import", "tsx", "src/bin.ts"] as const

/**
 * Runs the `barge` command (`args`), or a shell `script` that calls it as `$BARGE` (`bash -c`, for pipelines),
 * with `env` added (a variable set to `undefined` is removed); collects its output. Killed if the test is interrupted.
 */
export const cli = (
  args: ReadonlyArray<string> | { readonly script: string },
  env: Record<string, string | undefined> = {}
): Effect.Effect<Ran> =>
  Effect.async<Ran>((resume) => {
    const [command, ...rest] = "script" in args ? ["bash", "-c", args.script] : [...bargeCommand, ...args]
    // `undefined` removes a variable.
    const merged = { ...process.env, BARGE_FORCE_TTY: "", NO_COLOR: "1", BARGE: bargeCommand.join(" "), ...env }
    const child = spawn(command!, rest, {
      cwd: cliDirectory,
      env: Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined)),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })
