/**
 * A loopback HTTP server whose answers a test scripts, for testing the transport machinery itself (retries,
 * timeouts, truncated bodies), not any provider's behaviour.
 */
import type { HttpServer, HttpServerResponse } from "@effect/platform"
import { HttpServerRequest } from "@effect/platform"
import { NodeHttpServer, NodeHttpServerRequest } from "@effect/platform-node"
import { Chunk, Clock, Effect, TestClock } from "effect"
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

/** Waits in real time until `condition` holds, however long it takes: the test's own timeout is the only bound. */
export const eventually = (condition: () => boolean | Effect.Effect<boolean>): Effect.Effect<void> =>
  Effect.suspend(() => {
    const holds = condition()
    return Effect.flatMap(
      typeof holds === "boolean" ? Effect.succeed(holds) : holds,
      (ok) => ok ? Effect.void : Effect.zipRight(realSleep(2), eventually(condition))
    )
  })

/** Whether something waits on the TestClock for a delay `accepts` (in milliseconds from now). */
export const isWaiting = (accepts: (delayMillis: number) => boolean): Effect.Effect<boolean> =>
  Effect.zipWith(
    Clock.currentTimeMillis,
    TestClock.sleeps(),
    (now, sleeps) => Chunk.some(sleeps, (at) => at > now && accepts(at - now))
  )

/**
 * Waits in real time until something waits on the TestClock for a delay `accepts`: the client is sleeping — a
 * retry's wait, a server's pause — rather than doing IO.
 */
export const clockWaits = (accepts: (delayMillis: number) => boolean) => eventually(() => isWaiting(accepts))
