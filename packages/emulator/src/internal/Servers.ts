/**
 * Starts one loopback HTTP server for an app, in the current scope. The handler runs with the services of the
 * fiber that calls `listen` (the platform captures its runtime), which is how a test's `TestClock` reaches the
 * emulated providers.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"

/** A base URL for a host and port (IPv6 literals get brackets). */
export const urlOf = (host: string, port: number): string =>
  host.includes(":") ? `http://[${host}]:${port}` : `http://${host}:${port}`

/** A listening server: its base URL and how many client connections are open right now. */
export interface Listening {
  readonly url: string
  readonly openConnections: () => number
}

/** Serves `app` on `host:port` (0 = a free port) until the scope closes. */
export const listen = (
  app: HttpApp.Default,
  options: { readonly host: string; readonly port: number }
): Effect.Effect<Listening, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const node = Http.createServer()
    // Tracked so tests can prove a client closed every socket it opened (no leaks after interruption).
    let open = 0
    node.on("connection", (socket) => {
      open++
      socket.once("close", () => open--)
    })
    const server = yield* NodeHttpServer.make(() => node, { host: options.host, port: options.port })
    // Runs before the platform's `close`, which would otherwise wait for idle keep-alive sockets to time out.
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    yield* server.serve(app)
    const address = server.address
    return {
      url: address._tag === "TcpAddress" ? urlOf(options.host, address.port) : address.path,
      openConnections: () => open
    }
  })
