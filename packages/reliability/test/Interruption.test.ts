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

/** The unified `Batch` over the provider's service (with its test limits: Qianfan's batch spans several tasks). */
const batchOf = (provider: Flows.Provider, target: Flows.Target) =>
  Effect.map(Flows.make(provider, target), (flow) => flow.batch)

const ops = (provider: Flows.Provider, target: Flows.Target) => ({
  await: (id: string, cancelOnInterrupt: boolean) =>
    Effect.flatMap(batchOf(provider, target), (batch) => batch.await(id, { schedule: poll, cancelOnInterrupt })),
  watch: (id: string, cancelOnInterrupt: boolean) =>
    Effect.flatMap(
      batchOf(provider, target),
      (batch) => Stream.runDrain(batch.watch(id, { schedule: poll, cancelOnInterrupt }))
    ),
  results: (id: string) => Effect.flatMap(batchOf(provider, target), (batch) => Stream.runDrain(batch.results(id)))
})

/** The phase of every job of the batch, as the provider reports it now. */
const phases = (provider: Flows.Provider, target: Flows.Target, id: string) =>
  Effect.flatMap(batchOf(provider, target), (batch) => batch.get(id)).pipe(
    Effect.map((status) => status.parts.map((part) => part.phase)),
    Effect.provide(NodeHttpClient.layerUndici)
  )

const cancelling = (phase: string) => phase === "cancelling" || phase === "cancelled"

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
    return { emulator, target, id: submitted.id, jobIds: submitted.jobIds }
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

/** Rules that make every result download crawl, whichever service serves it. */
const crawlingDownloads: Emulator.FaultSpec = {
  rules: [
    { kind: "slowBody", rate: 1, services: ["tos", "bos"], match: String.raw`^GET /[^/?]+/[^?]+`, delayMs: 4000 },
    {
      kind: "slowBody",
      rate: 1,
      services: ["moonshot", "openai", "qianfan-v2"],
      match: String.raw`^GET /v[12]/files/[^/]+/content$`,
      delayMs: 4000
    }
  ],
  maxConsecutive: 1000
}

describe("interruption", () => {
  for (const provider of Flows.providers) {
    describe(provider, () => {
      for (const step of ["await", "watch"] as const) {
        it.live(`interrupting ${step} closes every socket and leaves the job running`, () =>
          run(Effect.gen(function*() {
            const { emulator, id, jobIds, target } = yield* setup(provider)
            const before = totalRequests(yield* emulator.requests)
            yield* interruptWhen(ops(provider, target)[step](id, false), requestsPast(emulator, before, 3))
            assert.isAbove(totalRequests(yield* emulator.requests), before + 2)
            yield* socketsClosed(emulator)
            const after = yield* phases(provider, target, id)
            assert.strictEqual(after.length, jobIds.length)
            assert.isFalse(after.some(cancelling), `phases after the interruption: ${after.join(", ")}`)
            const remote = Flows.remoteJobs(emulator, provider)
            assert.isTrue(jobIds.every((job) => remote.includes(job)), `${jobIds.join(", ")} in ${remote.join(", ")}`)
          })))
      }

      it.live("interrupting results mid-download closes every socket", () =>
        run(Effect.gen(function*() {
          const { emulator, id, target } = yield* setup(provider)
          yield* emulator.advance("3 hours")
          // Result downloads crawl: the interruption lands while a body is flowing.
          yield* Effect.orDie(emulator.faults.set(crawlingDownloads))
          // Interrupted once a crawling body is on its way (the fault fires as the answer starts).
          yield* interruptWhen(
            ops(provider, target).results(id),
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
            yield* interruptWhen(ops(provider, target)[step](id, true), requestsPast(emulator, before, 3))
            const after = yield* phases(provider, target, id)
            assert.isTrue(after.every(cancelling), `every job was cancelled: ${after.join(", ")}`)
            yield* socketsClosed(emulator)
          })))
      }
    })
  }
})
