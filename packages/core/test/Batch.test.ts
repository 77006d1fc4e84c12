import { ApiError, Batch, ChatRequest, Idempotency, InputValidation, Mock, Provider } from "@barge/core"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Either, Fiber, Option, Schedule, Stream, TestClock } from "effect"
import * as Schema from "effect/Schema"
import * as Plan from "../src/internal/batchPlan.js"

const requests = (n: number, model = "m1"): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: n }, (_, i) => ({
    customId: `r-${i + 1}`,
    model,
    messages: [{ role: "user", content: `question ${i + 1}` }]
  }))

const bytes = (text: string) => Stream.make(new TextEncoder().encode(text))

const fast = { schedule: Schedule.spaced("500 millis") }

const failing = (request: ChatRequest.ChatRequest) =>
  JSON.stringify(request.messages).includes("[[fail]]")
    ? new Batch.RequestError({ code: "bad", message: "no" })
    : undefined

/** A mock platform and the lifecycle over it; `settle: 0` because one process is all these tests run. */
const setup = (options: Mock.Options = {}) =>
  Effect.gen(function*() {
    const mock = yield* Mock.make({
      respond: (request) => failing(request) ?? echo(request),
      ...options
    })
    const service = Provider.make(mock.provider, { settle: 0, createBackoff: "10 millis" })
    const batch = yield* Batch.fromProvider(service)
    return { mock, service, batch }
  })

const echo = (request: ChatRequest.ChatRequest): ChatRequest.ChatResponse => ({
  choices: [{ message: { role: "assistant", content: `echo ${request.customId}` } }]
})

const collect = <A, E>(stream: Stream.Stream<A, E>) => Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

describe("Batch lifecycle", () => {
  it.effect("reports every invalid line with its number and rule, and uploads nothing", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup()
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
      assert.strictEqual(mock.state().uploads, 0)
    }))

  it.effect("bytes that are not UTF-8 are reported with the issues found before them", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup()
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
      assert.strictEqual(mock.state().uploads, 0)
    }))

  it.scoped("reads a JSONL file through the FileSystem, twice: to check and to upload", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const file = yield* fs.makeTempFileScoped({ suffix: ".jsonl" })
      yield* fs.writeFileString(file, requests(3).map((r) => JSON.stringify(r)).join("\n") + "\n")
      const { batch, mock } = yield* setup()
      const submitted = yield* batch.submit(Batch.jsonlFile(file))
      const [uploaded] = [...mock.state().files.values()]
      assert.deepStrictEqual(uploaded!.map((line) => JSON.parse(line).custom_id), ["r-1", "r-2", "r-3"])
      assert.strictEqual(submitted.status.counts.total, 3)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("a file that changes between the check and the upload is refused, not uploaded changed", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup()
      let reads = 0
      const changing = Stream.suspend(() => {
        reads++
        const n = reads === 1 ? 3 : 4
        return bytes(requests(n).map((r) => JSON.stringify(r)).join("\n"))
      })
      const error = yield* Effect.flip(batch.submit(Batch.jsonlBytes(changing)))
      assert.strictEqual(error._tag, "InputValidationError")
      if (error._tag === "InputValidationError") assert.strictEqual(error.issues[0]?.rule, "InputChanged")
      assert.strictEqual(mock.state().creates, 0)
    }))

  it.effect("accepts the OpenAI, Barge and Qianfan line forms, with the default model filling the gaps", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup()
      const input = [
        `{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"messages":[{"role":"user","content":"x"}],"temperature":0.5}}`,
        `{"customId":"b","messages":[{"role":"user","content":"y"}],"max_tokens":5}`,
        `{"id":3,"query":"z"}`
      ].join("\r\n")
      const submitted = yield* batch.submit(Batch.jsonlBytes(bytes(input)), { model: "m9" })
      assert.strictEqual(submitted.status.counts.total, 3)
      const sent = [...mock.state().files.values()][0]!.map((line) => JSON.parse(line))
      assert.deepStrictEqual(sent.map((l) => [l.custom_id, l.body.model]), [["a", "m9"], ["b", "m9"], ["3", "m9"]])
      assert.strictEqual(sent[0].body.temperature, 0.5)
      assert.strictEqual(sent[1].body.max_tokens, 5)
    }))

  it.effect("splits an input three times over the line limit into jobs whose results merge to each id once", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup({ limits: { maxLinesPerJob: 10 } })
      const submitted = yield* batch.submit(requests(30))
      assert.strictEqual(submitted.status.parts.length, 3)
      assert.deepStrictEqual([...mock.state().files.values()].map((lines) => lines.length), [10, 10, 10])
      assert.strictEqual(submitted.id, submitted.status.id)
      assert.match(submitted.id, /^mock:job-\d+\+job-\d+\+job-\d+$/)
      assert.strictEqual(submitted.status.counts.total, 30)
      yield* TestClock.adjust("1 hour")
      const ids = (yield* collect(batch.results(submitted.id))).map((r) => r.customId)
      assert.deepStrictEqual([...ids].sort(), requests(30).map((r) => r.customId).sort())
      assert.strictEqual(new Set(ids).size, 30)
    }))

  it.effect("withLimits tightens a Batch layer's limits, never raises them", () =>
    Effect.gen(function*() {
      const { service, mock } = yield* setup({ limits: { maxLinesPerJob: 10 } })
      const tight = yield* Batch.fromProvider(service).pipe(Effect.provideService(Batch.LimitOverrides, {
        maxLinesPerJob: 4
      }))
      assert.strictEqual(tight.limits.maxLinesPerJob, 4)
      yield* tight.submit(requests(12))
      assert.deepStrictEqual([...mock.state().files.values()].map((lines) => lines.length), [4, 4, 4])
      const loose = yield* Batch.fromProvider(service).pipe(
        Effect.provideService(Batch.LimitOverrides, { maxLinesPerJob: 99 })
      )
      assert.strictEqual(loose.limits.maxLinesPerJob, 10)
    }))

  it.effect("splits by UTF-8 bytes and by model, never putting two models in one job", () =>
    Effect.gen(function*() {
      const { mock: probe } = yield* setup()
      const one = Buffer.byteLength(probe.provider.encodeLine(requests(1)[0]!), "utf8") + 1
      const { batch, mock } = yield* setup({ limits: { maxBytesPerJob: one * 4 } })
      const mixed = [
        ...requests(6, "m1"),
        ...requests(6, "m2").map((r) => ({ ...r, customId: r.customId.replace("r-", "s-") }))
      ]
      yield* batch.submit(Stream.fromIterable(mixed))
      const files = [...mock.state().files.values()].map((lines) => [JSON.parse(lines[0]!).body.model, lines.length])
      assert.deepStrictEqual(files, [["m1", 4], ["m1", 2], ["m2", 4], ["m2", 2]])
    }))

  it.effect("counts bytes in UTF-8, so Chinese text is measured at its real size", () =>
    Effect.gen(function*() {
      const chinese = (id: string): ChatRequest.ChatRequest => ({
        customId: id,
        model: "m1",
        messages: [{ role: "user", content: "地球的自转周期是多久？".repeat(10) }]
      })
      const { mock: probe } = yield* setup()
      const line = probe.provider.encodeLine(chinese("a"))
      const size = Buffer.byteLength(line, "utf8") + 1
      assert.isAbove(size, line.length + 1)
      // Room for two lines by UTF-16 units, but not by bytes: the third line must start a new job.
      const { batch } = yield* setup({ limits: { maxBytesPerJob: size * 2 + 10 } })
      const submitted = yield* batch.submit([chinese("a"), chinese("b"), chinese("c")])
      assert.strictEqual(submitted.status.parts.length, 2)
    }))

  it.effect("rejects a line no job could hold, before anything is sent", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup({ limits: { maxBytesPerJob: 300 } })
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
      assert.strictEqual(mock.state().uploads, 0)
    }))

  it.effect("watch reports counts, rate and ETA per poll and ends at the terminal phase; await returns it", () =>
    Effect.gen(function*() {
      const { batch } = yield* setup({ limits: { maxLinesPerJob: 10 } })
      const submitted = yield* batch.submit(requests(20))
      const fiber = yield* batch.watch(submitted.id, fast).pipe(Stream.runCollect, Effect.fork)
      yield* TestClock.adjust("10 seconds")
      const seen = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      const last = seen[seen.length - 1]!
      assert.strictEqual(last.status.phase, "completed")
      assert.strictEqual(last.status.counts.completed, 20)
      assert.strictEqual(seen.filter((p) => Batch.isTerminal(p.status.phase)).length, 1)
      assert.strictEqual(seen[0]!.status.phase, "pending")
      assert.isTrue(Option.isNone(seen[0]!.eta))
      const midway = seen.find((p) => p.status.phase === "running" && Option.isSome(p.eta))
      assert.isDefined(midway)
      assert.isTrue(Option.getOrThrow(midway!.ratePerSecond) > 0)
      assert.deepStrictEqual(last.polls, seen.length)
      assert.isTrue(Duration.greaterThan(last.elapsed, Duration.seconds(1)))
      const done = yield* batch.await(submitted.id, fast)
      assert.strictEqual(done.phase, "completed")
    }))

  it.effect("await fails with BatchFailed carrying the status when a part fails", () =>
    Effect.gen(function*() {
      const { batch } = yield* setup({
        limits: { maxLinesPerJob: 5 },
        failJob: ({ index }) => (index === 1 ? "boom" : undefined)
      })
      const submitted = yield* batch.submit(requests(10))
      const fiber = yield* Effect.fork(Effect.flip(batch.await(submitted.id, fast)))
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "BatchFailed")
      if (error._tag === "BatchFailed") {
        assert.strictEqual(error.status.phase, "failed")
        assert.strictEqual(error.status.providerStatus, "done, failed")
      }
    }))

  it.effect("a schedule that ends first is a BatchTimeout, not a success", () =>
    Effect.gen(function*() {
      const { batch } = yield* setup()
      const submitted = yield* batch.submit(requests(100))
      const fiber = yield* Effect.fork(Effect.flip(batch.await(submitted.id, { schedule: Schedule.recurs(2) })))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "BatchTimeout")
    }))

  it.effect("after cancel, every submitted request appears in results exactly once; the unrun ones as Failed", () =>
    Effect.gen(function*() {
      const { batch } = yield* setup({ limits: { maxLinesPerJob: 10 } })
      const submitted = yield* batch.submit(requests(20))
      // 1 s queued, then 100 ms per request: 5 of each job's 10 have run.
      yield* TestClock.adjust("1500 millis")
      const cancelled = yield* batch.cancel(submitted.id)
      assert.strictEqual(cancelled.phase, "cancelled")
      const results = yield* collect(batch.results(submitted.id))
      assert.strictEqual(results.length, 20)
      assert.strictEqual(new Set(results.map((r) => r.customId)).size, 20)
      const unrun = results.filter((r) => r._tag === "Failed")
      assert.strictEqual(unrun.length, 10)
      for (const result of unrun) {
        if (result._tag === "Failed") {
          assert.strictEqual(result.error.code, "batch_cancelled")
          assert.include(result.error.message, "not processed")
        }
      }
    }))

  it.effect("a part that fails while others were created is a PartialSubmission naming the jobs created", () =>
    Effect.gen(function*() {
      const { batch } = yield* setup({
        limits: { maxLinesPerJob: 5 },
        refuseCreate: ({ index }) =>
          index === 1
            ? new ApiError.ApiError({
              provider: "mock",
              action: "CreateBatch",
              reason: "QuotaExceeded",
              description: "quota exhausted"
            })
            : undefined
      })
      const error = yield* Effect.flip(batch.submit(requests(15)))
      assert.strictEqual(error._tag, "PartialSubmission")
      if (error._tag === "PartialSubmission") {
        assert.strictEqual(error.submittedJobIds.length, 2)
        assert.strictEqual(error.cause._tag, "ApiError")
        if (error.cause._tag === "ApiError") assert.strictEqual(error.cause.reason, "QuotaExceeded")
        assert.include(error.message, "submitted 2 of 3 jobs")
      }
    }))

  it.effect("a provider refusal reaches the program as an ApiError whose reason is provider-independent", () =>
    Effect.gen(function*() {
      const { batch } = yield* setup()
      const error = yield* Effect.flip(batch.get("mock:nope"))
      assert.isTrue(ApiError.is("NotFound")(error))
      assert.isFalse(ApiError.is("RateLimited", "Authentication")(error))
      assert.include(error.message, "no job or file nope")
    }))

  it.effect("ids of another provider, or naming a job twice, are InvalidBatchId; a bare job id is one job", () =>
    Effect.gen(function*() {
      const { batch } = yield* setup()
      const other = yield* Effect.flip(batch.get("ark:bi-1"))
      assert.strictEqual(other._tag, "InvalidBatchId")
      assert.include(other.message, "belongs to ark")
      const submitted = yield* batch.submit(requests(2))
      const jobId = submitted.status.parts[0].jobId
      const twice = yield* Effect.flip(batch.results(`mock:${jobId}+${jobId}`).pipe(Stream.runDrain))
      assert.strictEqual(twice._tag, "InvalidBatchId")
      assert.include(twice.message, "named twice")
      const bare = yield* batch.get(jobId)
      assert.strictEqual(bare.id, `mock:${jobId}`)
    }))

  it.effect("list shows each provider job as a one-part batch", () =>
    Effect.gen(function*() {
      const { batch } = yield* setup({ limits: { maxLinesPerJob: 5 } })
      const submitted = yield* batch.submit(requests(10))
      const listed = yield* collect(batch.list)
      assert.deepStrictEqual(
        listed.map((s) => s.id),
        [...submitted.status.parts].reverse().map((p) => `mock:${p.jobId}`)
      )
    }))

  it.effect("job ids with separators survive the logical id", () => {
    const id = Batch.aggregate("memory", [
      new Batch.JobStatus({
        jobId: "a+b:c%",
        phase: "running",
        providerStatus: "running",
        counts: new Batch.Counts({ total: 1, completed: 0, failed: 0 })
      })
    ]).id
    assert.strictEqual(id, "memory:a%2Bb%3Ac%25")
    return Effect.void
  })
})

describe("Batch submission is idempotent", () => {
  it.effect("the same input submitted again attaches to its jobs: nothing uploaded or created twice", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup({ limits: { maxLinesPerJob: 5 } })
      const first = yield* batch.submit(requests(10))
      const again = yield* batch.submit(requests(10))
      assert.strictEqual(again.id, first.id)
      assert.strictEqual(again.attached, 2)
      assert.strictEqual(first.attached, 0)
      assert.strictEqual(mock.state().creates, 2)
      assert.strictEqual(mock.state().uploads, 2)
    }))

  it.effect("ten concurrent submits of one input in one process share one creation", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup()
      const all = yield* Effect.all(Array.from({ length: 10 }, () => batch.submit(requests(3))), {
        concurrency: "unbounded"
      })
      assert.strictEqual(new Set(all.map((s) => s.id)).size, 1)
      assert.strictEqual(mock.state().creates, 1)
      assert.strictEqual(all.filter((s) => s.attached === 0).length, 1)
    }))

  it.effect("concurrent submits in one process wait for one settle, not one each", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make({ respond: echo })
      const batch = yield* Batch.fromProvider(Provider.make(mock.provider, { settle: "1 second" }))
      const fiber = yield* Effect.fork(
        Effect.all(Array.from({ length: 10 }, () => batch.submit(requests(3))), { concurrency: "unbounded" })
      )
      // The creator looks again after one settle; the nine queued behind it take the survivor it confirmed.
      yield* TestClock.adjust("1 second")
      const all = yield* Fiber.join(fiber)
      assert.strictEqual(new Set(all.map((s) => s.id)).size, 1)
      assert.strictEqual(mock.state().creates, 1)
    }))

  it.effect("prepare and launch are separate steps; a Prepared survives its schema round trip", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup({ limits: { maxLinesPerJob: 2 } })
      const prepared = yield* batch.prepare(requests(3))
      assert.strictEqual(mock.state().creates, 0)
      assert.strictEqual(prepared.parts.length, 2)
      const stored = JSON.parse(JSON.stringify(Schema.encodeSync(Batch.Prepared)(prepared)))
      const restored = Schema.decodeUnknownSync(Batch.Prepared)(stored)
      const launched = yield* batch.launch(restored)
      const relaunched = yield* batch.launch(restored)
      assert.strictEqual(relaunched.id, launched.id)
      assert.strictEqual(mock.state().creates, 2)
    }))

  it.effect("processes that race converge on the oldest job; each cancels only its own", () =>
    Effect.gen(function*() {
      const jobs: Array<{ id: string; createdAt: number; cancelled: boolean }> = []
      let next = 0
      const identify = (job: (typeof jobs)[number]): Idempotency.Identity => ({
        id: job.id,
        createdAt: job.createdAt,
        cancelled: job.cancelled,
        terminal: false
      })
      // Two "processes" (different lock keys) whose creates both land before either looks: same second, so the
      // id breaks the tie.
      const gate = yield* Effect.makeLatch(false)
      const proc = (name: string) =>
        Idempotency.createOnce({
          key: name,
          find: Stream.suspend(() => Stream.fromIterable(jobs)),
          create: Effect.sync(() => {
            const job = { id: `job-${9 - next++}`, createdAt: 1000, cancelled: false }
            jobs.push(job)
            return job
          }).pipe(Effect.zipLeft(gate.await)),
          identify,
          cancel: (job) => Effect.sync(() => (job.cancelled = true)),
          isAmbiguous: () => false,
          settle: 0
        })
      const fiber = yield* Effect.fork(Effect.all([proc("p1"), proc("p2")], { concurrency: 2 }))
      yield* Effect.yieldNow()
      yield* gate.open
      const [a, b] = yield* Fiber.join(fiber)
      assert.strictEqual(a.job.id, b.job.id)
      assert.strictEqual(a.job.id, "job-8")
      assert.deepStrictEqual(jobs.filter((j) => !j.cancelled).map((j) => j.id), ["job-8"])
    }))
})

describe("Provider rules applied by the lifecycle", () => {
  it.effect("a fixed parameter is refused naming the lines, before anything is sent", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup({ fixedParameters: ["temperature", "top_p"] })
      const input = [...requests(2), { ...requests(3)[2]!, temperature: 0.3 }, { ...requests(4)[3]!, top_p: 0.9 }]
      const error = yield* Effect.flip(batch.submit(input))
      assert.strictEqual(error._tag, "InputValidationError")
      if (error._tag === "InputValidationError") {
        assert.deepStrictEqual(error.issues.map((i) => [i.lineNumber, i.rule]), [[3, "FixedParameter"], [
          4,
          "FixedParameter"
        ]])
        assert.include(error.issues[0]!.message, "\"temperature\" cannot be set")
      }
      assert.strictEqual(mock.state().uploads, 0)
    }))

  it.effect("with fixedParameters: \"drop\", the line is sent without it and every dropped value is reported", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup({ fixedParameters: ["temperature"] })
      const input = [...requests(1), { ...requests(2)[1]!, temperature: 0.3, max_tokens: 9 }]
      const submitted = yield* batch.submit(input, { fixedParameters: "drop" })
      assert.deepStrictEqual(
        submitted.dropped.map((d) => [d.lineNumber, d.customId, d.parameter, d.value]),
        [[2, "r-2", "temperature", 0.3]]
      )
      const sent = [...mock.state().files.values()][0]!.map((line) => JSON.parse(line).body)
      assert.isUndefined(sent[1].temperature)
      assert.strictEqual(sent[1].max_tokens, 9)
    }))

  it.effect("a requested window is mapped onto what the provider accepts, or refused before anything is sent", () =>
    Effect.gen(function*() {
      const { batch, mock } = yield* setup()
      const mapped = yield* batch.prepare(requests(1), { completionWindow: "90 minutes" })
      assert.strictEqual(mapped.window, "2h")
      const error = yield* Effect.flip(batch.submit(requests(2), { completionWindow: "30 days" }))
      assert.strictEqual(error._tag, "InputValidationError")
      assert.include(error.message, "accepts (1h to 168h")
      const garbage = yield* Effect.flip(batch.submit(requests(2), { completionWindow: "soon" }))
      assert.include(garbage.message, "is not a duration")
      assert.strictEqual(mock.state().creates, 0)
    }))

  it.effect("a provider's submission rules are reported with the input's issues, before anything is sent", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make()
      const strict: Provider.Provider<Mock.MockJob> = {
        ...mock.provider,
        checkSubmission: (options) =>
          Object.keys(options.metadata ?? {}).length > 1 ? ["metadata takes one pair on this platform"] : []
      }
      const batch = yield* Batch.fromProvider(Provider.make(strict, { settle: 0 }))
      const error = yield* Effect.flip(
        batch.submit([...requests(1), { ...requests(2)[1]!, customId: "r-1" }], { metadata: { a: "1", b: "2" } })
      )
      assert.strictEqual(error._tag, "InputValidationError")
      if (error._tag === "InputValidationError") {
        assert.deepStrictEqual(error.issues.map((i) => [i.lineNumber, i.rule]), [[0, "InvalidParameter"], [
          2,
          "DuplicateId"
        ]])
      }
      assert.strictEqual(mock.state().uploads, 0)
    }))

  it.effect("a provider that takes parameters per job gets one job per parameter set, none dropped", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make()
      const perJob: Provider.Provider<Mock.MockJob> = {
        ...mock.provider,
        partKey: (request) => `${request.model}\u0000${JSON.stringify(ChatRequest.parameters(request))}`
      }
      const batch = yield* Batch.fromProvider(Provider.make(perJob, { settle: 0 }))
      const input = [
        requests(1)[0]!,
        { ...requests(2)[1]!, temperature: 0.3 },
        { ...requests(3)[2]!, temperature: 0.3 },
        { ...requests(4)[3]!, temperature: 0.9 }
      ]
      const submitted = yield* batch.submit(input)
      assert.strictEqual(submitted.status.parts.length, 3)
      const jobs = yield* Effect.forEach(submitted.status.parts, (p) => mock.provider.get(p.jobId))
      assert.deepStrictEqual(jobs.map((j) => [j.total, j.parameters]), [
        [1, {}],
        [2, { temperature: 0.3 }],
        [1, { temperature: 0.9 }]
      ])
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
    assert.strictEqual(phase("unknown"), "unknown")
    assert.strictEqual(phase("completed", "unknown"), "unknown")
    assert.strictEqual(phase("running", "unknown"), "running")
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
