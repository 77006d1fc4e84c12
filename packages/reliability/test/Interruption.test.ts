/**
 * Interrupting `await`, `watch` or `results` closes every socket and leaves the remote job alone; `cancelOnInterrupt`
 * cancels it instead. The client runs with its own HTTP layer inside the interrupted fiber, as a program would, so
 * "closed" means the emulator sees its connections go away.
 */
import { Emulator, TestTime } from "@barge/emulator"
import type { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Schedule, type Scope, Stream } from "effect"
import * as Flows from "../src/flows.js"
import { totalRequests } from "./support.js"

const poll = Schedule.spaced("10 millis")

interface Ops {
  readonly await: (id: string, cancelOnInterrupt: boolean) => Effect.Effect<unknown, unknown>
  readonly watch: (id: string, cancelOnInterrupt: boolean) => Effect.Effect<unknown, unknown>
  readonly results: (id: string) => Effect.Effect<unknown, unknown>
  readonly cancelled: (emulator: Emulator.Service, id: string) => Effect.Effect<boolean>
}

const ops = (provider: Flows.Provider, target: Flows.Target): Effect.Effect<Ops, never, HttpClient.HttpClient> => {
  switch (provider) {
    case "ark":
      return Effect.map(Flows.arkService(target), (ark): Ops => ({
        await: (id, cancelOnInterrupt) => ark.await(id, { schedule: poll, cancelOnInterrupt }),
        watch: (id, cancelOnInterrupt) => Stream.runDrain(ark.watch(id, { schedule: poll, cancelOnInterrupt })),
        results: (id) => Stream.runDrain(ark.results(id)),
        cancelled: (emulator, id) =>
          Effect.map(
            emulator.state.ark.view(id),
            (view) => view?.phase === "Terminating" || view?.phase === "Terminated"
          )
      }))
    case "moonshot":
      return Effect.map(Flows.moonshotService(target), (kimi): Ops => ({
        await: (id, cancelOnInterrupt) => kimi.await(id, { schedule: poll, cancelOnInterrupt }),
        watch: (id, cancelOnInterrupt) => Stream.runDrain(kimi.watch(id, { schedule: poll, cancelOnInterrupt })),
        results: (id) => Stream.runDrain(kimi.results(id)),
        cancelled: (emulator, id) =>
          Effect.sync(() => emulator.state.moonshot.batches.get(id)?.plan.cancelRequestedAt !== undefined)
      }))
    case "qianfan":
      return Effect.map(Flows.qianfanService(target), (qianfan): Ops => ({
        await: (id, cancelOnInterrupt) => qianfan.await(id, { schedule: poll, cancelOnInterrupt }),
        watch: (id, cancelOnInterrupt) => Stream.runDrain(qianfan.watch(id, { schedule: poll, cancelOnInterrupt })),
        results: (id) => Stream.runDrain(qianfan.results(id)),
        cancelled: (emulator, id) =>
          Effect.sync(() => {
            const status = emulator.state.qianfan.describe(id)?.runStatus
            return status === "Stopping" || status === "Stopped"
          })
      }))
  }
}

/** A running job: queued for an emulated hour, so it is still active whenever the test looks. */
const setup = (provider: Flows.Provider) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.make({
      timeScale: 1,
      processing: { queuedFor: "1 hour", perRequest: "1 second", finalizingFor: "1 second" }
    })
    const target = { urls: emulator.urls, credentials: emulator.credentials }
    const requests = Flows.makeRequests(40, "int", 100)
    const submitted = yield* Flows.make(provider, target).pipe(
      Effect.flatMap((flow) => flow.submit(requests)),
      Effect.provide(NodeHttpClient.layerUndici)
    )
    return { emulator, target, id: submitted.jobIds[0]! }
  })

/**
 * Runs `effect` (with its own HTTP client) in a fiber, waits until `working` says it is doing what the test
 * interrupts (requests reached the emulator, a download is flowing), checks it is still running, interrupts it.
 */
const interruptWhen = <A, E>(
  effect: Effect.Effect<A, E, HttpClient.HttpClient>,
  working: Effect.Effect<boolean>
) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.provide(effect, NodeHttpClient.layerUndici))
    yield* TestTime.waitUntil(working)
    const exit = yield* Fiber.poll(fiber)
    assert.isTrue(exit._tag === "None", "still working when interrupted")
    yield* Fiber.interrupt(fiber)
  })

/** At least `n` more requests than `before` have reached the emulator (the client is polling). */
const requestsPast = (emulator: Emulator.Service, before: number, n: number) =>
  Effect.map(emulator.requests, (counts) => totalRequests(counts) >= before + n)

const socketsClosed = (emulator: Emulator.Service) =>
  TestTime.waitUntil(Effect.map(emulator.openConnections, (open) => open === 0))

const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.scoped(effect)

describe("interruption", () => {
  for (const provider of Flows.providers) {
    describe(provider, () => {
      it.live("interrupting await closes every socket and leaves the job running", () =>
        run(Effect.gen(function*() {
          const { emulator, id, target } = yield* setup(provider)
          const before = totalRequests(yield* emulator.requests)
          yield* interruptWhen(
            Effect.flatMap(ops(provider, target), (o) => o.await(id, false)),
            requestsPast(emulator, before, 3)
          )
          assert.isAbove(totalRequests(yield* emulator.requests), before + 2)
          yield* socketsClosed(emulator)
          assert.isFalse(
            yield* Effect.flatMap(ops(provider, target), (o) => o.cancelled(emulator, id)).pipe(
              Effect.provide(NodeHttpClient.layerUndici)
            )
          )
          assert.deepStrictEqual(Flows.remoteJobs(emulator, provider).includes(id), true)
        })))

      it.live("interrupting watch closes every socket and leaves the job running", () =>
        run(Effect.gen(function*() {
          const { emulator, id, target } = yield* setup(provider)
          const before = totalRequests(yield* emulator.requests)
          yield* interruptWhen(
            Effect.flatMap(ops(provider, target), (o) => o.watch(id, false)),
            requestsPast(emulator, before, 3)
          )
          yield* socketsClosed(emulator)
          assert.isFalse(
            yield* Effect.flatMap(ops(provider, target), (o) => o.cancelled(emulator, id)).pipe(
              Effect.provide(NodeHttpClient.layerUndici)
            )
          )
        })))

      it.live("interrupting results mid-download closes every socket", () =>
        run(Effect.gen(function*() {
          const { emulator, id, target } = yield* setup(provider)
          yield* emulator.advance("3 hours")
          // Result downloads crawl: the interruption lands while a body is flowing.
          yield* Effect.orDie(emulator.faults.set({
            rules: [
              {
                kind: "slowBody",
                rate: 1,
                services: ["tos", "bos"],
                match: String.raw`^GET /[^/?]+/[^?]+`,
                delayMs: 4000
              },
              {
                kind: "slowBody",
                rate: 1,
                services: ["moonshot"],
                match: String.raw`^GET /v1/files/[^/]+/content$`,
                delayMs: 4000
              }
            ],
            maxConsecutive: 1000
          }))
          // Interrupted once a crawling body is on its way (the fault fires as the answer starts).
          yield* interruptWhen(
            Effect.flatMap(ops(provider, target), (o) => o.results(id)),
            Effect.map(emulator.faults.counts, (counts) => counts.slowBody >= 1)
          )
          assert.isAtLeast((yield* emulator.faults.counts).slowBody, 1, "a download was in flight")
          yield* socketsClosed(emulator)
        })))

      for (const step of ["await", "watch"] as const) {
        it.live(`${step} with cancelOnInterrupt cancels the job when interrupted`, () =>
          run(Effect.gen(function*() {
            const { emulator, id, target } = yield* setup(provider)
            const before = totalRequests(yield* emulator.requests)
            yield* interruptWhen(
              Effect.flatMap(ops(provider, target), (o) => step === "await" ? o.await(id, true) : o.watch(id, true)),
              requestsPast(emulator, before, 3)
            )
            assert.isTrue(
              yield* Effect.flatMap(ops(provider, target), (o) => o.cancelled(emulator, id)).pipe(
                Effect.provide(NodeHttpClient.layerUndici)
              ),
              "the job was cancelled"
            )
            yield* socketsClosed(emulator)
          })))
      }
    })
  }
})
