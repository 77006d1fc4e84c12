import { Batch, ChatRequest, InputValidation } from "@barge/core"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import {
  Chunk,
  Clock,
  DateTime,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Option,
  Schedule,
  Stream,
  TestClock
} from "effect"
import * as Schema from "effect/Schema"
import * as Plan from "../src/internal/batchPlan.js"

// An in-memory provider: a job moves with the Clock (1 s queued, then 100 ms per request), so TestClock drives it.
class MemoryError extends Schema.TaggedError<MemoryError>()("MemoryError", { message: Schema.String }) {}

interface MemoryJob {
  readonly id: string
  readonly model: string
  readonly requests: ReadonlyArray<ChatRequest.ChatRequest>
  readonly createdAt: number
  cancelledAt?: number
  failWith?: string
}

const makeMemory = (options: {
  readonly maxLinesPerJob?: number
  readonly maxBytesPerJob?: number
  readonly failSubmitAt?: number
}) => {
  const jobs = new Map<string, MemoryJob>()
  const submits: Array<{ readonly part: number; readonly parts: number; readonly count: number }> = []
  let next = 0
  const view = (job: MemoryJob, now: number) => {
    const started = job.createdAt + 1000
    const processed = Math.max(0, Math.min(job.requests.length, Math.floor((now - started) / 100)))
    if (job.cancelledAt !== undefined) return { job, processed: Math.min(processed, 0), state: "Stopped" as const }
    if (job.failWith !== undefined && now >= started) return { job, processed: 0, state: "Broken" as const }
    if (now < started) return { job, processed, state: "Waiting" as const }
    return { job, processed, state: processed === job.requests.length ? "Done" as const : "Working" as const }
  }
  type View = ReturnType<typeof view>
  const phaseOf = { Waiting: "pending", Working: "running", Done: "completed", Stopped: "cancelled", Broken: "failed" }
  const isFailure = (r: ChatRequest.ChatRequest) => JSON.stringify(r.messages).includes("[[fail]]")
  const driver: Batch.Driver<View, MemoryError> = {
    provider: "memory",
    limits: { maxBytesPerJob: options.maxBytesPerJob ?? 1_000_000, maxLinesPerJob: options.maxLinesPerJob ?? 1000 },
    submitOne: (requests, context) =>
      Effect.gen(function*() {
        if (options.failSubmitAt === context.part) return yield* new MemoryError({ message: "quota exhausted" })
        submits.push({ part: context.part, parts: context.parts, count: requests.length })
        const now = yield* Clock.currentTimeMillis
        const job: MemoryJob = { id: `job-${++next}`, model: context.model, requests, createdAt: now }
        jobs.set(job.id, job)
        return view(job, now)
      }),
    get: (jobId) =>
      Effect.gen(function*() {
        const job = jobs.get(jobId)
        if (job === undefined) return yield* new MemoryError({ message: `no job ${jobId}` })
        return view(job, yield* Clock.currentTimeMillis)
      }),
    list: Stream.suspend(() => Stream.fromIterable([...jobs.values()].reverse())).pipe(
      Stream.mapEffect((job) => Effect.map(Clock.currentTimeMillis, (now) => view(job, now)))
    ),
    cancel: (jobId) =>
      Effect.gen(function*() {
        const job = jobs.get(jobId)
        if (job === undefined) return yield* new MemoryError({ message: `no job ${jobId}` })
        const now = yield* Clock.currentTimeMillis
        job.cancelledAt = now
        return view(job, now)
      }),
    results: (jobId) =>
      Stream.fromIterable(jobs.get(jobId)?.requests ?? []).pipe(
        Stream.map((r): Batch.BatchResult =>
          isFailure(r)
            ? { _tag: "Failed", customId: r.customId, error: new Batch.RequestError({ code: "bad", message: "no" }) }
            : {
              _tag: "Succeeded",
              customId: r.customId,
              response: { choices: [{ message: { role: "assistant", content: `echo ${r.customId}` } }] }
            }
        )
      ),
    status: ({ job, processed, state }) =>
      new Batch.JobStatus({
        jobId: job.id,
        phase: phaseOf[state] as Batch.Phase,
        providerStatus: state,
        model: job.model,
        counts: new Batch.Counts({
          total: job.requests.length,
          completed: job.requests.slice(0, processed).filter((r) => !isFailure(r)).length,
          failed: job.requests.slice(0, processed).filter(isFailure).length
        }),
        createdAt: DateTime.unsafeMake(job.createdAt),
        expiresAt: DateTime.unsafeMake(job.createdAt + 86_400_000)
      })
  }
  return { driver, jobs, submits }
}

const requests = (n: number, model = "m1"): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: n }, (_, i) => ({
    customId: `r-${i + 1}`,
    model,
    messages: [{ role: "user", content: `question ${i + 1}` }]
  }))

const bytes = (text: string) => Stream.make(new TextEncoder().encode(text))

const fast = { schedule: Schedule.spaced("500 millis") }

describe("Batch", () => {
  it.effect("reports every invalid line with its number and rule, and uploads nothing", () =>
    Effect.gen(function*() {
      const { driver, submits } = makeMemory({})
      const batch = yield* Batch.make(driver)
      const input = [
        `{"custom_id":"a","body":{"model":"m","messages":[{"role":"user","content":"hi"}]}}`,
        `not json`,
        `{"body":{"model":"m","messages":[{"role":"user","content":"hi"}]}}`,
        ``,
        `{"custom_id":"a","body":{"model":"m","messages":[{"role":"user","content":"again"}]}}`,
        `{"custom_id":"b","body":{"messages":[{"role":"user","content":"hi"}]}}`,
        `{"custom_id":"c","body":{"model":"m","messages":[]}}`,
        `{"customId":"d","model":"m","messages":[{"role":"user","content":"barge form"}]}`,
        `{"id":7,"query":"qianfan form"}`
      ].join("\n")
      const error = yield* Effect.flip(batch.submit(Batch.jsonlBytes(bytes(input))))
      assert.strictEqual(error._tag, "InputValidationError")
      if (error._tag !== "InputValidationError") return
      assert.instanceOf(error, InputValidation.InputValidationError)
      assert.deepStrictEqual(error.issues.map((i) => [i.lineNumber, i.rule]), [
        [2, "InvalidJson"],
        [3, "MissingField"],
        [5, "DuplicateId"],
        [6, "MissingModel"],
        [7, "InvalidBody"],
        [9, "MissingModel"]
      ])
      assert.strictEqual(error.totalIssues, 6)
      assert.strictEqual(error.lines, 8)
      assert.include(error.message, "already used on line 1")
      assert.strictEqual(submits.length, 0)
    }))

  it.effect("bytes that are not UTF-8 are reported with the issues found before them", () =>
    Effect.gen(function*() {
      const { driver, submits } = makeMemory({})
      const batch = yield* Batch.make(driver)
      const good = new TextEncoder().encode(
        `{"customId":"a","model":"m","messages":[{"role":"user","content":"x"}]}\nnope\n`
      )
      const bad = Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a])
      const error = yield* Effect.flip(batch.submit(Batch.jsonlBytes(Stream.make(good, bad))))
      assert.strictEqual(error._tag, "InputValidationError")
      if (error._tag === "InputValidationError") {
        assert.deepStrictEqual(error.issues.map((i) => [i.lineNumber, i.rule]), [[2, "InvalidJson"], [
          3,
          "InvalidUtf8"
        ]])
      }
      assert.strictEqual(submits.length, 0)
    }))

  it.scoped("reads a JSONL file through the FileSystem", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const file = yield* fs.makeTempFileScoped({ suffix: ".jsonl" })
      yield* fs.writeFileString(file, requests(3).map((r) => JSON.stringify(r)).join("\n") + "\n")
      const { driver, jobs } = makeMemory({})
      const batch = yield* Batch.make(driver)
      const status = yield* batch.submit(Batch.jsonlFile(file))
      assert.deepStrictEqual(jobs.get(status.parts[0].jobId)!.requests.map((r) => r.customId), ["r-1", "r-2", "r-3"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("accepts the OpenAI, Barge and Qianfan line forms, with --model filling the gaps", () =>
    Effect.gen(function*() {
      const { driver, jobs } = makeMemory({})
      const batch = yield* Batch.make(driver)
      const input = [
        `{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"messages":[{"role":"user","content":"x"}],"temperature":0.5}}`,
        `{"customId":"b","messages":[{"role":"user","content":"y"}],"max_tokens":5}`,
        `{"id":3,"query":"z"}`
      ].join("\r\n")
      const status = yield* batch.submit(Batch.jsonlBytes(bytes(input)), { model: "m9" })
      assert.strictEqual(status.counts.total, 3)
      const job = jobs.get(status.parts[0].jobId)!
      assert.deepStrictEqual(job.requests.map((r) => [r.customId, r.model]), [["a", "m9"], ["b", "m9"], ["3", "m9"]])
      assert.deepStrictEqual(ChatRequest.parameters(job.requests[0]), { temperature: 0.5 })
      assert.deepStrictEqual(ChatRequest.parameters(job.requests[1]), { max_tokens: 5 })
    }))

  it.effect("splits an input three times over the line limit into jobs whose results merge to each id once", () =>
    Effect.gen(function*() {
      const { driver, submits } = makeMemory({ maxLinesPerJob: 10 })
      const batch = yield* Batch.make(driver)
      const status = yield* batch.submit(requests(30))
      assert.strictEqual(status.parts.length, 3)
      assert.deepStrictEqual(submits, [{ part: 0, parts: 3, count: 10 }, { part: 1, parts: 3, count: 10 }, {
        part: 2,
        parts: 3,
        count: 10
      }])
      assert.strictEqual(status.id, "memory:job-1+job-2+job-3")
      assert.strictEqual(status.counts.total, 30)
      const ids = Chunk.toReadonlyArray(yield* Stream.runCollect(batch.results(status.id))).map((r) => r.customId)
      assert.deepStrictEqual([...ids].sort(), requests(30).map((r) => r.customId).sort())
      assert.strictEqual(new Set(ids).size, 30)
    }))

  it.effect("withLimits tightens a Batch layer's limits, never raises them", () =>
    Effect.gen(function*() {
      const { driver, submits } = makeMemory({ maxLinesPerJob: 10 })
      const tight = yield* Effect.provide(
        Batch.Batch,
        Batch.layer(driver).pipe(Batch.withLimits({ maxLinesPerJob: 4 }))
      )
      assert.strictEqual(tight.limits.maxLinesPerJob, 4)
      yield* tight.submit(requests(12))
      assert.deepStrictEqual(submits.map((s) => s.count), [4, 4, 4])
      const loose = yield* Effect.provide(
        Batch.Batch,
        Batch.layer(driver).pipe(Batch.withLimits({ maxLinesPerJob: 99 }))
      )
      assert.strictEqual(loose.limits.maxLinesPerJob, 10)
    }))

  it.effect("splits by bytes and by model, never putting two models in one job", () =>
    Effect.gen(function*() {
      const one = Buffer.byteLength(ChatRequest.toOpenAiLine(requests(1)[0])) + 1
      const { driver, jobs } = makeMemory({ maxBytesPerJob: one * 4 })
      const batch = yield* Batch.make(driver)
      const mixed = [
        ...requests(6, "m1"),
        ...requests(6, "m2").map((r) => ({ ...r, customId: r.customId.replace("r-", "s-") }))
      ]
      const status = yield* batch.submit(Stream.fromIterable(mixed))
      const parts = status.parts.map((p) => jobs.get(p.jobId)!)
      assert.deepStrictEqual(parts.map((j) => [j.model, j.requests.length]), [["m1", 4], ["m1", 2], ["m2", 4], [
        "m2",
        2
      ]])
    }))

  it.effect("rejects a line no job could hold, before anything is sent", () =>
    Effect.gen(function*() {
      const { driver, submits } = makeMemory({ maxBytesPerJob: 300 })
      const batch = yield* Batch.make(driver)
      const big: ChatRequest.ChatRequest = {
        customId: "big",
        model: "m1",
        messages: [{ role: "user", content: "x".repeat(400) }]
      }
      const error = yield* Effect.flip(batch.submit([...requests(2), big]))
      assert.strictEqual(error._tag, "InputValidationError")
      if (error._tag === "InputValidationError") {
        assert.deepStrictEqual(error.issues.map((i) => [i.lineNumber, i.rule]), [[3, "LineTooLarge"]])
      }
      assert.strictEqual(submits.length, 0)
    }))

  it.effect("watch reports counts, rate and ETA per poll and ends at the terminal phase; await returns it", () =>
    Effect.gen(function*() {
      const { driver } = makeMemory({ maxLinesPerJob: 10 })
      const batch = yield* Batch.make(driver)
      const status = yield* batch.submit(requests(20))
      const fiber = yield* batch.watch(status.id, fast).pipe(Stream.runCollect, Effect.fork)
      yield* TestClock.adjust("10 seconds")
      const seen = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      const last = seen[seen.length - 1]
      assert.strictEqual(last.status.phase, "completed")
      assert.strictEqual(last.status.counts.completed, 20)
      assert.strictEqual(seen.filter((p) => Batch.isTerminal(p.status.phase)).length, 1)
      assert.strictEqual(seen[0].status.phase, "pending")
      assert.isTrue(Option.isNone(seen[0].eta))
      const midway = seen.find((p) => p.status.phase === "running" && Option.isSome(p.eta))
      assert.isDefined(midway)
      assert.isTrue(Option.getOrThrow(midway!.ratePerSecond) > 0)
      assert.deepStrictEqual(last.polls, seen.length)
      assert.isTrue(Duration.greaterThan(last.elapsed, Duration.seconds(1)))
      const done = yield* batch.await(status.id, fast)
      assert.strictEqual(done.phase, "completed")
    }))

  it.effect("await fails with BatchFailed carrying the status when a part fails", () =>
    Effect.gen(function*() {
      const { driver, jobs } = makeMemory({ maxLinesPerJob: 5 })
      const batch = yield* Batch.make(driver)
      const status = yield* batch.submit(requests(10))
      jobs.get(status.parts[1].jobId)!.failWith = "boom"
      const fiber = yield* Effect.fork(Effect.exit(batch.await(status.id, fast)))
      yield* TestClock.adjust("10 seconds")
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(exit)
      assert.strictEqual(error._tag, "BatchFailed")
      if (error._tag === "BatchFailed") {
        assert.strictEqual(error.status.phase, "failed")
        assert.strictEqual(error.status.providerStatus, "Done, Broken")
      }
    }))

  it.effect("a schedule that ends first is a BatchTimeout, not a success", () =>
    Effect.gen(function*() {
      const { driver } = makeMemory({})
      const batch = yield* Batch.make(driver)
      const status = yield* batch.submit(requests(100))
      const fiber = yield* Effect.fork(Effect.flip(batch.await(status.id, { schedule: Schedule.recurs(2) })))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "BatchTimeout")
    }))

  it.effect("cancel stops every unfinished part", () =>
    Effect.gen(function*() {
      const { driver } = makeMemory({ maxLinesPerJob: 5 })
      const batch = yield* Batch.make(driver)
      const status = yield* batch.submit(requests(10))
      const cancelled = yield* batch.cancel(status.id)
      assert.strictEqual(cancelled.phase, "cancelled")
      assert.deepStrictEqual(cancelled.parts.map((p) => p.providerStatus), ["Stopped", "Stopped"])
    }))

  it.effect("a failed part after earlier parts is a PartialSubmission naming the jobs created", () =>
    Effect.gen(function*() {
      const { driver } = makeMemory({ maxLinesPerJob: 5, failSubmitAt: 1 })
      const batch = yield* Batch.make(driver)
      const error = yield* Effect.flip(batch.submit(requests(15)))
      assert.strictEqual(error._tag, "PartialSubmission")
      if (error._tag === "PartialSubmission") {
        assert.deepStrictEqual(error.submittedJobIds, ["job-1"])
        assert.strictEqual(error.cause.cause._tag, "MemoryError")
        assert.include(error.message, "submitted 1 of 3 jobs")
      }
    }))

  it.effect("a provider failure keeps the provider's own error as the cause", () =>
    Effect.gen(function*() {
      const { driver } = makeMemory({})
      const batch = yield* Batch.make(driver)
      const error = yield* Effect.flip(batch.get("memory:nope"))
      assert.strictEqual(error._tag, "ProviderError")
      if (error._tag === "ProviderError") {
        assert.instanceOf(error.cause, MemoryError)
        assert.strictEqual(error.jobId, "nope")
        assert.strictEqual(error.message, "memory get (job nope) failed: no job nope")
      }
    }))

  it.effect("ids of another provider or of no provider are InvalidBatchId", () =>
    Effect.gen(function*() {
      const { driver } = makeMemory({})
      const batch = yield* Batch.make(driver)
      const other = yield* Effect.flip(batch.get("ark:bi-1"))
      assert.strictEqual(other._tag, "InvalidBatchId")
      assert.include(other.message, "belongs to ark")
      const garbage = yield* Effect.flip(batch.results("just-an-id").pipe(Stream.runDrain))
      assert.strictEqual(garbage._tag, "InvalidBatchId")
    }))

  it.effect("list shows each provider job as a one-part batch", () =>
    Effect.gen(function*() {
      const { driver } = makeMemory({ maxLinesPerJob: 5 })
      const batch = yield* Batch.make(driver)
      yield* batch.submit(requests(10))
      const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(batch.list))
      assert.deepStrictEqual(listed.map((s) => s.id), ["memory:job-2", "memory:job-1"])
    }))

  it.effect("job ids with separators survive the logical id", () =>
    Effect.gen(function*() {
      const { driver, jobs } = makeMemory({})
      const batch = yield* Batch.make(driver)
      const status = yield* batch.submit(requests(1))
      const job = jobs.get(status.parts[0].jobId)!
      jobs.set("a+b:c%", { ...job, id: "a+b:c%" })
      const id = Batch.aggregate("memory", [driver.status(yield* driver.get("a+b:c%"))]).id
      assert.strictEqual(id, "memory:a%2Bb%3Ac%25")
      const got = yield* batch.get(id)
      assert.strictEqual(got.parts[0].jobId, "a+b:c%")
    }))
})

describe("Batch.aggregate", () => {
  const part = (phase: Batch.Phase, jobId = "j") =>
    new Batch.JobStatus({
      jobId,
      phase,
      providerStatus: phase,
      counts: new Batch.Counts({ total: 1, completed: 0, failed: 0 })
    })
  const phase = (...phases: [Batch.Phase, ...Array<Batch.Phase>]) =>
    Batch.aggregate("p", [part(phases[0]), ...phases.slice(1).map((p) => part(p))]).phase

  it("adds phases up by the documented rules", () => {
    assert.strictEqual(phase("completed", "completed"), "completed")
    assert.strictEqual(phase("completed", "failed", "cancelled"), "failed")
    assert.strictEqual(phase("completed", "expired", "cancelled"), "expired")
    assert.strictEqual(phase("completed", "pending"), "running")
    assert.strictEqual(phase("pending", "pending"), "pending")
    assert.strictEqual(phase("completed", "finalizing"), "finalizing")
    assert.strictEqual(phase("running", "cancelling"), "cancelling")
    assert.strictEqual(phase("failed", "running"), "running")
  })

  it("round-trips through its schema for --json output", () => {
    const status = Batch.aggregate("p", [part("running")])
    const encoded = Schema.encodeSync(Batch.BatchStatus)(status)
    assert.deepStrictEqual(Schema.decodeUnknownSync(Batch.BatchStatus)(encoded), status)
    assert.isTrue(Either.isRight(Schema.decodeUnknownEither(Batch.BatchStatus)(JSON.parse(JSON.stringify(encoded)))))
  })
})

describe("Batch progress estimate", () => {
  it("follows the recent rate, not the average since the start", () => {
    // 100 s queued with nothing done, then 10 requests per second.
    const samples = Array.from({ length: 30 }, (_, i) => ({ at: i * 10_000, done: Math.max(0, i - 10) * 100 }))
    const recent = samples.slice(-Plan.rateWindow)
    assert.strictEqual(Plan.rate(recent), 10)
    assert.isBelow(Plan.rate(samples)!, 10)
    assert.strictEqual(Plan.eta(500, Plan.rate(recent)), 50_000)
    assert.isUndefined(Plan.rate([{ at: 0, done: 0 }, { at: 1000, done: 0 }]))
  })
})
