/**
 * A loopback HTTP server whose answers a test scripts, for testing the transport machinery itself (retries,
 * timeouts, truncated bodies), not any provider's behaviour.
 */
import type { HttpServer, HttpServerResponse } from "@effect/platform"
import { HttpServerRequest } from "@effect/platform"
import { NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import { Effect } from "effect"
import * as Http from "node:http"

export interface Received {
  readonly method: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
}

export interface ScriptedServer {
  readonly url: string
  readonly received: ReadonlyArray<Received>
}

/** `handle` gets the request and its 1-based arrival number. */
export const scriptedServer = (
  handle: (
    request: HttpServerRequest.HttpServerRequest,
    n: number
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse, unknown>
) =>
  Effect.gen(function*() {
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: 0, host: "127.0.0.1" })
    const received: Array<Received> = []
    yield* server.serve(
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        received.push({ method: request.method, url: request.url, headers: { ...request.headers } })
        return handle(request, received.length)
      })
    )
    const address = server.address as HttpServer.TcpAddress
    return { url: `http://127.0.0.1:${address.port}`, received } satisfies ScriptedServer
  })

/** Drops the connection without an answer. */
export const resetConnection = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.sync(() => NodeHttpServerRequest.toIncomingMessage(request).socket.destroy())

/** Waits in real time (the test's clock may be a TestClock). */
export const realSleep = (millis: number) =>
  Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, millis)))

/** Waits in real time until `condition` holds (bounded). */
export const eventually = (condition: () => boolean, what = "condition") =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      if (condition()) return
      yield* realSleep(5)
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })
