import type { Errors } from "@barge/ark"
import { ArkBatch, Job } from "@barge/ark"
import { Emulator, TestTime } from "@barge/emulator"
import type { HttpClient } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Either, Layer, Redacted, Schedule, Stream, TestClock } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const bucket = "barge-test"
const model = Job.foundationModel("doubao-pro-32k", "240615")

type EmulatorOptions = Parameters<typeof Emulator.layer>[0]

const processing = { queuedFor: "10 seconds", perRequest: "1 second", finalizingFor: "5 seconds" } as const

/** The service pointed at the emulator's loopback URLs. */
const arkOptions = (emulator: Emulator.Service, overrides: Partial<ArkBatch.Options> = {}): ArkBatch.Options => ({
  accessKeyId: Redacted.make(emulator.credentials.volcengine.accessKeyId),
  secretAccessKey: Redacted.make(emulator.credentials.volcengine.secretAccessKey),
  endpoint: emulator.urls.ark,
  tosEndpoint: emulator.urls.tos,
  bucket,
  // Calls' timeouts run on the TestClock: beyond `TestTime.run`'s horizon, so moving the clock never cuts one.
  timeout: "3650 days",
  ...overrides
})

const arkLayer = (overrides: Partial<ArkBatch.Options> = {}) =>
  Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) => ArkBatch.layer(arkOptions(emulator, overrides))))

const provide =
  (options: EmulatorOptions = { processing }, overrides: Partial<ArkBatch.Options> = {}) =>
  <A, E>(effect: Effect.Effect<A, E, ArkBatch.ArkBatch | Emulator.Emulator>) =>
    effect.pipe(
      Effect.provide(arkLayer(overrides).pipe(Layer.provideMerge(Emulator.layer(options)))),
      Effect.provide(NodeHttpClient.layerUndici)
    )

/** Just the emulator and an HTTP client, for tests that build their own `ArkBatch`. */
const withEmulator = <A, E>(effect: Effect.Effect<A, E, Emulator.Emulator | HttpClient.HttpClient>) =>
  effect.pipe(Effect.provide(Emulator.layer({ processing })), Effect.provide(NodeHttpClient.layerUndici))

const requests = (n: number, failing: ReadonlyArray<number> = []): Array<ArkBatch.BatchRequest> =>
  Array.from({ length: n }, (_, i) => ({
    customId: `req-${i + 1}`,
    body: {
      messages: [{
        role: "user",
        content: failing.includes(i + 1) ? `please fail ${Emulator.failMarker}` : `question ${i + 1}`
      }]
    }
  }))

/** Runs `effect`, moving the TestClock (by at least `step`) only while it waits on it (see `TestTime.run`). */
const withTime = <A, E, R>(effect: Effect.Effect<A, E, R>, step: Duration.DurationInput = "10 seconds") =>
  TestTime.run(effect, { step })

/** A clock `offset` milliseconds behind `base` (for a client whose clock is wrong). */
const behind = (base: Clock.Clock, offset: number): Clock.Clock => ({
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis() - offset,
  currentTimeMillis: Effect.map(base.currentTimeMillis, (t) => t - offset),
  unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos() - BigInt(offset) * 1_000_000n,
  currentTimeNanos: Effect.map(base.currentTimeNanos, (t) => t - BigInt(offset) * 1_000_000n),
  sleep: (duration) => base.sleep(duration)
})

const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) => Effect.map(Stream.runCollect(stream), Chunk.toArray)

describe("ArkBatch over the emulator", () => {
  it.effect("submit validates, uploads, creates; await polls to Completed; results reads responses and errors", () =>
    provide()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const submission = yield* ark.submit(requests(5, [4]), { name: "first-batch", model, completionWindow: 1 })
      assert.isFalse(submission.attached)
      assert.strictEqual(submission.requests, 5)
      assert.match(submission.job.id, /^bi-\d{14}-[a-z0-9]{5}$/)
      assert.strictEqual(submission.job.phase, "Queued")
      assert.match(submission.input.key, /^barge\/ark\/inputs\/[0-9a-f]{64}\.jsonl$/)

      const done = yield* withTime(ark.await(submission.job.id))
      assert.strictEqual(done.phase, "Completed")
      assert.deepStrictEqual({ ...done.counts }, { total: 5, completed: 4, failed: 1 })

      const results = yield* collect(ark.results(done))
      assert.strictEqual(results.length, 5)
      const responses = results.filter((r) => r._tag === "Response")
      assert.deepStrictEqual(responses.map((r) => r.customId), ["req-1", "req-2", "req-3", "req-5"])
      const first = responses[0]! as Extract<Job.Result, { _tag: "Response" }>
      const body = first.response as { choices: Array<{ message: { content: string } }> }
      assert.strictEqual(body.choices[0]!.message.content, Emulator.expectedContent("req-1", "question 1"))
      const errors = results.filter((r) => r._tag === "Error")
      assert.deepStrictEqual(errors.map((r) => r.customId), ["req-4"])
    })))

  it.effect("watch reports each observed change with counts, ending at the terminal phase", () =>
    provide()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const { job } = yield* ark.submit(requests(3), { name: "watched", model })
      const seen = yield* withTime(collect(ark.watch(job.id)), "1 second")
      assert.strictEqual(seen[0]!.phase, "Queued")
      assert.strictEqual(seen[seen.length - 1]!.phase, "Completed")
      assert.isTrue(seen.some((j) => j.phase === "Running"))
      for (let i = 1; i < seen.length; i++) {
        const [a, b] = [seen[i - 1]!, seen[i]!]
        assert.isFalse(a.phase === b.phase && a.counts.completed === b.counts.completed, "no repeated state")
      }
    })))

  it.effect("a second submit of the same input attaches to the active job; onDuplicate fail fails with its id", () =>
    provide()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const first = yield* ark.submit(requests(3), { name: "dup", model })
      const second = yield* ark.submit(requests(3), { name: "dup", model })
      assert.isTrue(second.attached)
      assert.strictEqual(second.job.id, first.job.id)
      assert.deepStrictEqual(second.input, first.input)
      const refused = yield* Effect.either(ark.submit(requests(3), { name: "dup", model, onDuplicate: "fail" }))
      assert.isTrue(Either.isLeft(refused))
      const error = (refused as Either.Left<ArkBatch.SubmitError, ArkBatch.Submission>).left
      assert.strictEqual(error._tag, "DuplicateActiveJob")
      assert.strictEqual((error as Errors.DuplicateActiveJob).activeJobId, first.job.id)
      const emulator = yield* Emulator.Emulator
      assert.strictEqual(emulator.state.ark.jobs.size, 1)
    })))

  it.effect("after a crash, a restarted process submitting the same input re-attaches instead of creating a job", () =>
    provide()(Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      // The first process submits, then dies: its service (and everything it held) is gone.
      const firstProcess = yield* Effect.scoped(
        Effect.flatMap(ArkBatch.make(arkOptions(emulator)), (ark) => ark.submit(requests(4), { name: "crashy", model }))
      ).pipe(Effect.provide(NodeHttpClient.layerUndici))
      // A fresh process, same input (an Iterable now, a Stream then: the content is what counts).
      const restarted = yield* Effect.flatMap(
        ArkBatch.make(arkOptions(emulator)),
        (ark) => ark.submit(Stream.fromIterable(requests(4)), { name: "crashy", model })
      ).pipe(Effect.provide(NodeHttpClient.layerUndici))
      assert.isTrue(restarted.attached)
      assert.strictEqual(restarted.job.id, firstProcess.job.id)
      assert.strictEqual(emulator.state.ark.jobs.size, 1)
    })))

  it.effect("submit rejects bad input before anything is sent, naming every line and rule", () =>
    provide()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const bad = [
        { customId: "a", body: { messages: [] } },
        { customId: "a", body: { messages: [] } },
        { customId: 7 as unknown as string, body: { messages: [] } },
        { customId: "c", body: "text" as unknown as Record<string, unknown> },
        { customId: "d", body: { model: "m1" } },
        { customId: "e", body: { model: "m2" } }
      ]
      const error = yield* Effect.flip(ark.submit(bad, { name: "bad", model }))
      assert.strictEqual(error._tag, "InputValidationError")
      const issues = (error as { issues: ReadonlyArray<{ lineNumber: number; rule: string }> }).issues
      assert.deepStrictEqual(issues.map((i) => [i.lineNumber, i.rule]), [
        [2, "DuplicateId"],
        [3, "InvalidId"],
        [4, "InvalidBody"],
        [6, "MixedModels"]
      ])
      const emulator = yield* Emulator.Emulator
      assert.strictEqual(emulator.state.objects.tos.list(bucket, "").length, 0)
      assert.strictEqual(emulator.state.ark.jobs.size, 0)
    })))

  it.effect("submit reads a JSONL file path, and reports every bad line of a bad file", () =>
    provide()(
      Effect.gen(function*() {
        const ark = yield* ArkBatch.ArkBatch
        const dir = mkdtempSync(join(tmpdir(), "barge-ark-"))
        const good = join(dir, "good.jsonl")
        writeFileSync(
          good,
          requests(3).map((r) => JSON.stringify({ custom_id: r.customId, body: r.body })).join("\n") + "\n"
        )
        const submission = yield* ark.submit(good, { name: "from-file", model })
        assert.strictEqual(submission.requests, 3)
        const fromObjects = yield* ark.submit(requests(3), { name: "from-file", model })
        assert.isTrue(fromObjects.attached, "the same content from objects lands on the same key and job")
        const bad = join(dir, "bad.jsonl")
        writeFileSync(
          bad,
          "{\"custom_id\":\"a\",\"body\":{\"model\":\"x\"}}\nnot json\n{\"custom_id\":\"b\",\"body\":{\"model\":\"y\"}}\n"
        )
        const error = yield* Effect.flip(ark.submit(bad, { name: "bad-file", model }))
        assert.strictEqual(error._tag, "InputValidationError")
        const issues = (error as { issues: ReadonlyArray<{ lineNumber: number; rule: string }> }).issues
        assert.deepStrictEqual(issues.map((i) => [i.lineNumber, i.rule]), [[2, "InvalidJson"], [3, "MixedModels"]])
      }).pipe(Effect.provide(NodeContext.layer))
    ))

  it.effect("every action: create, get, list (paged, filtered), update, stop, resume, delete", () =>
    provide()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const emulator = yield* Emulator.Emulator
      const ids: Array<string> = []
      for (let i = 0; i < 3; i++) {
        const key = `manual/input-${i}.jsonl`
        emulator.state.objects.tos.put(
          bucket,
          key,
          new TextEncoder().encode(
            requests(20).map((r) => JSON.stringify({ custom_id: r.customId, body: r.body })).join("\n")
          )
        )
        ids.push(
          yield* ark.create({
            name: `manual-${i}`,
            model,
            input: Job.Location.make({ bucket, key }),
            outputDir: Job.Location.make({ bucket, key: "manual/out" }),
            tags: { team: i === 1 ? "blue" : "red" }
          })
        )
        yield* TestClock.adjust("1 second")
      }
      const all = yield* collect(ark.list({ pageSize: 2, sortOrder: "Asc" }))
      assert.deepStrictEqual(all.map((j) => j.id), ids)
      const blue = yield* collect(ark.list({ tags: [{ key: "team", values: ["blue"] }] }))
      assert.deepStrictEqual(blue.map((j) => j.id), [ids[1]])
      const named = yield* collect(ark.list({ name: "manual-2", phases: ["Queued", "Running"] }))
      assert.deepStrictEqual(named.map((j) => j.id), [ids[2]])

      yield* ark.update(ids[0]!, { name: "renamed", description: "why" })
      const renamed = yield* ark.get(ids[0]!)
      assert.deepStrictEqual([renamed.name, renamed.description], ["renamed", "why"])

      yield* TestClock.adjust("15 seconds")
      yield* ark.stop(ids[0]!)
      const stopped = yield* withTime(Effect.flip(ark.await(ids[0]!)), "1 second")
      assert.strictEqual(stopped._tag, "JobTerminated")
      const terminated = (stopped as Errors.JobTerminated).job
      assert.strictEqual(terminated.phase, "Terminated")
      assert.isTrue(terminated.counts.completed > 0 && terminated.counts.completed < 20)
      const partial = yield* collect(ark.results(terminated.id))
      assert.strictEqual(partial.length, terminated.counts.completed)

      assert.strictEqual(yield* ark.resume(ids[0]!), ids[0])
      const resumed = yield* withTime(ark.await(ids[0]!))
      assert.deepStrictEqual({ ...resumed.counts }, { total: 20, completed: 20, failed: 0 })
      yield* ark.delete(ids[0]!)
      const gone = yield* Effect.flip(ark.get(ids[0]!))
      assert.strictEqual(gone._tag, "NotFound")
    })))

  it.effect("a job whose input Ark rejects ends in JobFailed carrying the job", () =>
    provide()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const emulator = yield* Emulator.Emulator
      emulator.state.objects.tos.put(bucket, "broken.jsonl", new TextEncoder().encode("{oops\n"))
      const id = yield* ark.create({
        name: "broken",
        model,
        input: Job.Location.make({ bucket, key: "broken.jsonl" }),
        outputDir: Job.Location.make({ bucket, key: "out/" })
      })
      const error = yield* withTime(Effect.flip(ark.await(id)))
      assert.strictEqual(error._tag, "JobFailed")
      assert.strictEqual((error as Errors.JobFailed).job.id, id)
      assert.include(error.message, "not JSON")
    })))

  it.effect("a job outliving its completion window is terminated; await fails with the finished count kept", () =>
    provide({ processing: { queuedFor: "1 minute", perRequest: "10 hours", finalizingFor: "1 minute" } })(
      Effect.gen(function*() {
        const ark = yield* ArkBatch.ArkBatch
        const { job } = yield* ark.submit(requests(5), { name: "slow", model, completionWindow: "1d" })
        assert.strictEqual(job.expiresAt!.getTime() - job.createdAt.getTime(), 86_400_000)
        // The schedule is the caller's: hourly checks keep a day-long wait to a few dozen polls.
        const error = yield* withTime(
          Effect.flip(ark.await(job.id, { schedule: Schedule.spaced("1 hour") })),
          "1 hour"
        )
        assert.strictEqual(error._tag, "JobTerminated")
        const last = (error as Errors.JobTerminated).job
        assert.include(last.message, "completion window")
        assert.strictEqual(last.counts.completed, 2)
        assert.strictEqual((yield* collect(ark.results(last))).length, 2)
      })
    ))
})

describe("ArkBatch errors", () => {
  it.effect("maps Ark's envelopes to the typed union", () =>
    provide()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const notFound = yield* Effect.flip(ark.get("bi-20990101000000-zzzzz"))
      assert.strictEqual(notFound._tag, "NotFound")
      assert.strictEqual((notFound as Errors.NotFound).code, "NotFound.BatchInferenceJob")
      assert.isString((notFound as Errors.NotFound).requestId)
      const missing = yield* Effect.flip(ark.get(""))
      assert.strictEqual(missing._tag, "MissingParameter")
      const invalid = yield* Effect.flip(ark.create({
        name: "not a valid name!",
        model,
        input: Job.Location.make({ bucket, key: "k" }),
        outputDir: Job.Location.make({ bucket, key: "o/" })
      }))
      assert.strictEqual(invalid._tag, "InvalidParameter")
      assert.strictEqual((invalid as Errors.InvalidParameter).codeN, 100001)
      const unknownModel = yield* Effect.flip(
        ark.submit(requests(1), { name: "m", model: Job.foundationModel("no-such-model", "1") })
      )
      assert.strictEqual(unknownModel._tag, "NotFound")
      assert.include(unknownModel.message, "no-such-model")
    })))

  it.effect("a completion window Ark would refuse fails as InputValidationError before any request", () =>
    provide()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const emulator = yield* Emulator.Emulator
      const path = join(mkdtempSync(join(tmpdir(), "barge-ark-window-")), "in.jsonl")
      writeFileSync(path, `${JSON.stringify({ custom_id: "a", body: { messages: [] } })}\n`)
      const failures = [
        yield* Effect.flip(ark.submit(requests(2), { name: "w", model, completionWindow: "3w" })),
        yield* Effect.flip(ark.submit(requests(2), { name: "w", model, completionWindow: 29 })),
        yield* Effect.flip(ark.submit(requests(2), { name: "w", model, completionWindow: 1.5 })),
        yield* Effect.flip(
          ark.submit(path, { name: "w", model, completionWindow: "0d" }).pipe(Effect.provide(NodeContext.layer))
        ),
        yield* Effect.flip(ark.create({
          name: "w",
          model,
          input: Job.Location.make({ bucket, key: "k" }),
          outputDir: Job.Location.make({ bucket, key: "o/" }),
          completionWindow: "24h"
        }))
      ]
      const values = ["\"3w\"", "29", "1.5", "\"0d\"", "\"24h\""]
      for (const [i, failure] of failures.entries()) {
        const value = values[i]!
        assert.strictEqual(failure._tag, "InputValidationError")
        assert.include(failure.message, "completionWindow")
        assert.include(failure.message, value)
        assert.include(failure.message, "1 to 28")
      }
      assert.deepStrictEqual(yield* emulator.requests, { ark: 0, tos: 0, moonshot: 0, qianfan: 0, bos: 0 })
      // "N days" is Ark's other spelling and passes.
      const { job } = yield* ark.submit(requests(1), { name: "days", model, completionWindow: "2 days" })
      assert.strictEqual(job.completionWindow, "2d")
    })))

  it.effect("authentication failures are AuthenticationError with Ark's code", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const wrongSecret = yield* Effect.flip(Effect.flatMap(
        ArkBatch.make(arkOptions(emulator, { secretAccessKey: Redacted.make("wrong") })),
        (ark) => ark.get("bi-20990101000000-zzzzz")
      ))
      assert.deepStrictEqual([wrongSecret._tag, (wrongSecret as Errors.AuthenticationError).code], [
        "AuthenticationError",
        "SignatureDoesNotMatch"
      ])
      assert.notInclude(wrongSecret.message, "wrong")
      const wrongKey = yield* Effect.flip(Effect.flatMap(
        ArkBatch.make(arkOptions(emulator, { accessKeyId: Redacted.make("AKLTnobody") })),
        (ark) => ark.get("bi-20990101000000-zzzzz")
      ))
      assert.strictEqual((wrongKey as Errors.AuthenticationError).code, "InvalidAccessKey")
      // A client clock 20 minutes behind the server: InvalidTimestamp.
      const ark = yield* ArkBatch.make(arkOptions(emulator))
      const clock = yield* Effect.clock
      const stale = yield* Effect.flip(Effect.withClock(ark.get("bi-20990101000000-zzzzz"), behind(clock, 20 * 60_000)))
      assert.deepStrictEqual([stale._tag, (stale as Errors.AuthenticationError).code], [
        "AuthenticationError",
        "InvalidTimestamp"
      ])
      assert.include(stale.message, "clock")
    }).pipe(withEmulator))

  it.live("throttling and server errors become Throttled and ServerError; a dead endpoint is RequestFailed", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const ark = yield* ArkBatch.make(arkOptions(emulator, { retry: false }))
      yield* emulator.faults.set({ rules: [{ kind: "throttle", rate: 1, services: ["ark"], retryAfterSeconds: 3 }] })
      const throttled = yield* Effect.flip(ark.get("bi-20990101000000-zzzzz"))
      assert.strictEqual(throttled._tag, "Throttled")
      assert.strictEqual(Duration.toSeconds((throttled as Errors.Throttled).retryAfter!), 3)
      yield* emulator.faults.set({ rules: [{ kind: "serverError", rate: 1, services: ["ark"], status: 503 }] })
      const server = yield* Effect.flip(ark.get("bi-20990101000000-zzzzz"))
      assert.strictEqual(server._tag, "ServerError")
      assert.strictEqual((server as Errors.ServerError).status, 503)
      const dead = yield* ArkBatch.make(arkOptions(emulator, { endpoint: "http://127.0.0.1:1", retry: false }))
      const refused = yield* Effect.flip(dead.get("x"))
      assert.strictEqual(refused._tag, "RequestFailed")
    }).pipe(withEmulator))
})

describe("ArkBatch create retries", () => {
  it.live("a Create whose response was lost is retried and lands on the job it created, never a second one", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const ark = yield* ArkBatch.make(arkOptions(emulator))
      yield* emulator.faults.set({
        rules: [{ kind: "lostResponse", rate: 1, services: ["ark"], match: "Action=CreateBatchInferenceJob", limit: 1 }]
      })
      const submission = yield* ark.submit(requests(2), { name: "lost", model })
      assert.strictEqual((yield* emulator.faults.counts).lostResponse, 1)
      assert.isTrue(submission.attached, "the retry met the job the first attempt created")
      assert.strictEqual(emulator.state.ark.jobs.size, 1)
      assert.isTrue(emulator.state.ark.jobs.has(submission.job.id))
    }).pipe(withEmulator))
})

describe("ArkBatch upload retries", () => {
  it.live("a failed TOS upload of the input is retried (bytes can be sent again) and the submission goes through", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const ark = yield* ArkBatch.make(arkOptions(emulator))
      yield* emulator.faults.set({
        rules: [{ kind: "serverError", rate: 1, services: ["tos"], match: "^PUT ", status: 503, limit: 2 }]
      })
      const submission = yield* ark.submit(requests(3), { name: "upload-retry", model })
      assert.strictEqual((yield* emulator.faults.counts).serverError, 2)
      assert.isFalse(submission.attached)
      const stored = emulator.state.objects.tos.get(bucket, submission.input.key)
      assert.strictEqual(new TextDecoder().decode(stored!.body).trim().split("\n").length, 3)
    }).pipe(withEmulator))
})

describe("ArkBatch results downloads", () => {
  it.live("a truncated or reset results download resumes with Range, never repeating or skipping a line", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const ark = yield* ArkBatch.make(arkOptions(emulator))
      const { job } = yield* ark.submit(requests(300), { name: "big", model })
      yield* emulator.advance("1 day")
      const done = yield* ark.get(job.id)
      assert.strictEqual(done.phase, "Completed")
      yield* emulator.faults.set({
        rules: [
          { kind: "truncate", rate: 1, services: ["tos"], match: "^GET /[^/?]+/[^?]+results", limit: 2 },
          { kind: "reset", rate: 1, services: ["tos"], match: "^GET /[^/?]+/[^?]+results", limit: 1 }
        ],
        maxConsecutive: 3
      })
      const results = yield* collect(ark.results(done))
      const counts = yield* emulator.faults.counts
      assert.isTrue(counts.truncate + counts.reset > 0, "faults were injected")
      const ids = results.map((r) => r.customId)
      assert.strictEqual(ids.length, 300)
      assert.strictEqual(new Set(ids).size, 300)
    }).pipe(
      Effect.provide(
        Emulator.layer({ processing: { queuedFor: "1 second", perRequest: "1 second", finalizingFor: "1 second" } })
      ),
      Effect.provide(NodeHttpClient.layerUndici)
    ))
})
