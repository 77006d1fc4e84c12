import { Batch } from "@barge/core"
import { Emulator, TestTime } from "@barge/emulator"
import { Errors, QianfanBatch } from "@barge/qianfan"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import {
  Chunk,
  Clock,
  ConfigProvider,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Option,
  Redacted,
  Schedule,
  Stream,
  TestClock
} from "effect"
import type { Duration, Scope } from "effect"

const bucket = "barge"

type Overrides = Partial<Omit<QianfanBatch.Options, "accessKeyId" | "secretAccessKey">> & {
  readonly secret?: string
}

/** The service pointed at the emulator's Qianfan and BOS. Long timeouts: TestClock jumps must not cut requests. */
const client = (overrides: Overrides = {}) =>
  Layer.unwrapEffect(Effect.map(Emulator.Emulator, (emulator) =>
    QianfanBatch.layer({
      accessKeyId: Redacted.make(emulator.credentials.bce.accessKeyId),
      secretAccessKey: Redacted.make(overrides.secret ?? emulator.credentials.bce.secretAccessKey),
      endpoint: emulator.urls.qianfan,
      bosEndpoint: emulator.urls.bos,
      bucket,
      timeout: "1000 days",
      retry: { schedule: Schedule.spaced("1 second").pipe(Schedule.compose(Schedule.recurs(3))) },
      ...overrides
    })))

type Env = QianfanBatch.QianfanBatch | Emulator.Emulator

const run = <A, E>(
  effect: Effect.Effect<A, E, Env | Scope.Scope>,
  options: { readonly emulator?: Emulator.Options; readonly client?: Overrides } = {}
) =>
  effect.pipe(
    Effect.provide(client(options.client)),
    Effect.provide(
      Emulator.layer({
        processing: { queuedFor: "10 seconds", perRequest: "1 second", finalizingFor: "5 seconds" },
        ...options.emulator
      })
    ),
    Effect.provide(NodeHttpClient.layerUndici),
    Effect.scoped
  )

/** Runs `effect`, moving the TestClock (by at least `step`) only while it waits on it (see `TestTime.run`). */
const drive = <A, E, R>(effect: Effect.Effect<A, E, R>, step: Duration.DurationInput = "5 seconds") =>
  TestTime.run(effect, { step })

const queries = (n: number, failing: ReadonlyArray<number> = []) =>
  Array.from({ length: n }, (_, i) => ({
    id: `q${i + 1}`,
    query: failing.includes(i + 1) ? `fail ${Emulator.failMarker}]]` : `question ${i + 1}`
  }))

const service = QianfanBatch.QianfanBatch
const model = { endpoint: "ernie-4.0-8k" } as const

describe("QianfanBatch", () => {
  it.effect("submits, awaits with polling on the TestClock, and reads every result", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const submission = yield* qianfan.submit(queries(4, [3]), { model, inferenceParams: { temperature: 0.2 } })
      assert.lengthOf(submission.taskIds, 1)
      assert.strictEqual(submission.lines, 4)
      assert.strictEqual(submission.attached, 0)
      const [task] = yield* drive(qianfan.await(submission))
      assert.strictEqual(task.runStatus, "Done")
      assert.strictEqual(task.progress, 4)
      const results = Chunk.toReadonlyArray(yield* Stream.runCollect(qianfan.results(submission)))
      assert.deepStrictEqual(results.map((r) => r.customId).sort(), ["q1", "q2", "q3", "q4"])
      const q1 = results.find((r) => r.customId === "q1")!
      assert.strictEqual(q1._tag, "Succeeded")
      if (q1._tag === "Succeeded") {
        assert.strictEqual(q1.response.choices[0]!.message.content, Emulator.expectedContent("q1", "question 1"))
        assert.isAbove(q1.response.usage!.total_tokens, 0)
      }
      const q3 = results.find((r) => r.customId === "q3")!
      assert.strictEqual(q3._tag, "Failed")
      if (q3._tag === "Failed") assert.match(q3.error.code, /^\d+$/)
    })))

  it.effect("splits input into several files and tasks within the limits and reads them all back", () =>
    run(
      Effect.gen(function*() {
        const qianfan = yield* service
        const emulator = yield* Emulator.Emulator
        // Each line is about 35 bytes: 2 lines per file, 2 files per task → 10 lines make 3 tasks.
        const submission = yield* qianfan.submit(queries(10), { model })
        assert.lengthOf(submission.taskIds, 3)
        const inputs = emulator.state.objects.bos.list(bucket, `barge/input/${submission.hash}/`)
        assert.deepStrictEqual(
          inputs.map((o) => o.key.slice(`barge/input/${submission.hash}/`.length)),
          [
            "task-000/part-0000.jsonl",
            "task-000/part-0001.jsonl",
            "task-001/part-0000.jsonl",
            "task-001/part-0001.jsonl",
            "task-002/part-0000.jsonl"
          ]
        )
        yield* drive(qianfan.await(submission))
        const ids = Chunk.toReadonlyArray(yield* Stream.runCollect(qianfan.results(submission))).map((r) => r.customId)
        assert.deepStrictEqual([...ids].sort(), queries(10).map((q) => q.id).sort())
      }),
      { client: { limits: { maxBytesPerFile: 80, maxFilesPerTask: 2, maxBytesPerTask: 1000 } } }
    ))

  it.effect("submitting the same input again attaches to the existing tasks instead of creating new ones", () =>
    run(
      Effect.gen(function*() {
        const qianfan = yield* service
        const emulator = yield* Emulator.Emulator
        const first = yield* qianfan.submit(queries(6), { model })
        const again = yield* qianfan.submit(queries(6), { model })
        assert.deepStrictEqual(again.taskIds, first.taskIds)
        assert.strictEqual(again.attached, first.taskIds.length)
        assert.strictEqual(emulator.state.qianfan.tasks.size, first.taskIds.length)
        const other = yield* qianfan.submit(queries(6), { model: { endpoint: "ernie-x1-turbo-32k" } })
        assert.notDeepEqual(other.taskIds, first.taskIds)
      }),
      { client: { limits: { maxBytesPerFile: 80, maxFilesPerTask: 2, maxBytesPerTask: 1000 } } }
    ))

  it.effect("re-attaches to the task when the create response is lost", () =>
    run(
      Effect.gen(function*() {
        const qianfan = yield* service
        const emulator = yield* Emulator.Emulator
        const submission = yield* qianfan.submit(queries(3), { model })
        assert.strictEqual((yield* emulator.faults.counts).lostResponse, 1)
        assert.strictEqual(emulator.state.qianfan.tasks.size, 1)
        assert.deepStrictEqual([...submission.taskIds], [...emulator.state.qianfan.tasks.keys()])
      }),
      { emulator: { faults: "lost-create" } }
    ))

  it.effect("rejects bad input before anything is sent, naming every line and rule", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const emulator = yield* Emulator.Emulator
      const error = yield* Effect.flip(qianfan.submit([
        { id: "a", query: "fine" },
        { id: "a", query: "duplicate" },
        { id: "b" },
        { query: "no id" }
      ], { model }))
      assert.strictEqual(error._tag, "InputValidationError")
      if (error._tag === "InputValidationError") {
        assert.deepStrictEqual(error.issues.map((i) => [i.lineNumber, i.rule]), [
          [2, "DuplicateId"],
          [3, "InvalidField"],
          [4, "MissingField"]
        ])
      }
      const both = yield* Effect.flip(
        qianfan.submit(queries(1), { model: { endpoint: "a", modelId: "b" } as unknown as QianfanBatch.ModelRef })
      )
      assert.strictEqual(both._tag, "InputValidationError")
      assert.deepStrictEqual(emulator.state.objects.bos.list(bucket, ""), [])
      assert.strictEqual(emulator.state.qianfan.tasks.size, 0)
    })))

  it.effect("a completion window Qianfan would refuse fails as InputValidationError before any request", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const emulator = yield* Emulator.Emulator
      const windows = ["3w", "0h", "673h", "1.5h", "1d"]
      for (const completionWindow of windows) {
        const error = yield* Effect.flip(qianfan.submit(queries(2), { model, completionWindow }))
        assert.strictEqual(error._tag, "InputValidationError")
        assert.include(error.message, `completionWindow "${completionWindow}"`)
        assert.include(error.message, "\"1h\" to \"672h\"")
      }
      // Reported together with the input's own problems, in one error.
      const both = yield* Effect.flip(qianfan.submit([{ id: "a" }], { model, completionWindow: "3w" }))
      assert.strictEqual(both._tag, "InputValidationError")
      if (both._tag === "InputValidationError") {
        assert.deepStrictEqual(both.issues.map((i) => [i.lineNumber, i.rule]), [[0, "InvalidParameter"], [
          1,
          "InvalidField"
        ]])
      }
      const direct = yield* Effect.flip(qianfan.createTask({
        name: "direct",
        endpoint: "ernie-4.0-8k",
        inferenceParams: {},
        inputBosUri: `bos:/${bucket}/in/`,
        outputBosUri: `bos:/${bucket}/out/`,
        completion_window: "2d"
      }))
      assert.strictEqual(direct._tag, "InputValidationError")
      assert.include(direct.message, "completion_window")
      assert.deepStrictEqual(yield* emulator.requests, { ark: 0, tos: 0, moonshot: 0, qianfan: 0, bos: 0 })
    })))

  it.effect("re-sends an ambiguous create after createBackoff, not before", () =>
    run(
      Effect.gen(function*() {
        const qianfan = yield* service
        const emulator = yield* Emulator.Emulator
        const serverErrors = Effect.map(emulator.faults.counts, (counts) => counts.serverError)
        const start = yield* Clock.currentTimeMillis
        // The backoff: a sleep on the clock, not a call's timeout (1000 days).
        const backingOff = Effect.map(TestClock.sleeps(), Chunk.filter((at) => at > start && at - start < 86_400_000))
        const fiber = yield* Effect.fork(qianfan.submit(queries(2), { model }))
        // The upload and the first (failing) create happen in real time; then the client waits on the clock.
        yield* TestTime.waitUntil(Effect.map(backingOff, Chunk.isNonEmpty))
        assert.strictEqual(yield* serverErrors, 1)
        // Under the jittered first wait (at least 0.8 h): no second create yet, the backoff still pending.
        yield* TestClock.adjust("45 minutes")
        assert.isTrue(Chunk.isNonEmpty(yield* backingOff), "still backing off")
        assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
        assert.strictEqual(yield* serverErrors, 1)
        const submission = yield* drive(Fiber.join(fiber), "10 minutes")
        assert.strictEqual(yield* serverErrors, 2)
        assert.deepStrictEqual([...submission.taskIds], [...emulator.state.qianfan.tasks.keys()])
      }),
      {
        emulator: {
          faults: {
            rules: [{
              kind: "serverError",
              rate: 1,
              status: 500,
              services: ["qianfan"],
              match: "CreateBatchInferenceTask",
              limit: 2
            }]
          }
        },
        client: { createBackoff: "1 hour" }
      }
    ))

  it.effect("reads the role data format and creates with modelId", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const emulator = yield* Emulator.Emulator
      const submission = yield* qianfan.submit(
        [{ id: "r1", messages: [{ role: "user", content: "hello" }] }],
        { model: { modelId: "amv-irrrsmxabb6r" }, dataFormat: "role", completionWindow: "24h" }
      )
      const task = emulator.state.qianfan.tasks.get(submission.taskIds[0])!
      assert.strictEqual(task.modelId, "amv-irrrsmxabb6r")
      assert.strictEqual(task.dataFormat, "role")
      yield* drive(qianfan.await(submission))
      const [result] = Chunk.toReadonlyArray(yield* Stream.runCollect(qianfan.results(submission)))
      assert.strictEqual(result!._tag, "Succeeded")
    })))

  it.effect("watches each status change with its progress until Done", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const submission = yield* qianfan.submit(queries(30), { model })
      const seen = Chunk.toReadonlyArray(
        yield* drive(
          Stream.runCollect(qianfan.watch(submission, { schedule: Schedule.spaced("5 seconds") })),
          "5 seconds"
        )
      )
      assert.strictEqual(seen[0]!.runStatus, "Queuing")
      assert.strictEqual(seen[seen.length - 1]!.runStatus, "Done")
      assert.isTrue(seen.some((t) => t.runStatus === "Running" && (t.progress ?? 0) > 0))
      const progress = seen.map((t) => t.progress ?? 0)
      assert.deepStrictEqual(progress, [...progress].sort((a, b) => a - b))
    })))

  it.effect("await fails with the task when it is stopped, expired or failed", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const emulator = yield* Emulator.Emulator
      const stopped = yield* qianfan.submit(queries(20), { model })
      yield* qianfan.stopTask(stopped.taskIds[0])
      const stopError = yield* Effect.flip(drive(qianfan.await(stopped)))
      assert.strictEqual(stopError._tag, "TaskStopped")
      if (stopError._tag === "TaskStopped") assert.strictEqual(stopError.task.runStatus, "Stopped")
      const refused = yield* Effect.flip(qianfan.stopTask(stopped.taskIds[0]))
      assert.strictEqual(refused._tag, "StopRefused")

      // 4000 lines at 1 s each cannot finish inside a 1 h window.
      const expiring = yield* qianfan.submit(queries(4000).map((q) => ({ ...q, id: `x-${q.id}` })), {
        model,
        completionWindow: "1h"
      })
      yield* emulator.advance("2 hours")
      const expired = yield* Effect.flip(qianfan.await(expiring))
      assert.strictEqual(expired._tag, "TaskExpired")

      // A task over input that breaks the format's rules fails at the provider.
      const broken = new TextEncoder().encode("{\"id\":\"1\",\"query\":\"a\"}\n{\"id\":\"1\",\"query\":\"b\"}\n")
      yield* qianfan.storage.put("raw/in/a.jsonl", Stream.make(broken), { contentLength: broken.length })
      const taskId = yield* qianfan.createTask({
        name: "broken-input",
        endpoint: "ernie-4.0-8k",
        inferenceParams: {},
        inputBosUri: `bos:/${bucket}/raw/in/`,
        outputBosUri: `bos:/${bucket}/raw/out/`
      })
      const failed = yield* Effect.flip(drive(qianfan.await(taskId)))
      assert.strictEqual(failed._tag, "TaskFailed")
      if (failed._tag === "TaskFailed") {
        assert.isNumber(failed.task.errorCode)
        assert.include(failed.message, "repeats the id")
      }
    })))

  it.effect("lists tasks page by page with runStatus filters", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        ids.push((yield* qianfan.submit([{ id: `only-${i}`, query: "x" }], { model })).taskIds[0])
      }
      const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(qianfan.listTasks({ pageSize: 2 })))
      assert.deepStrictEqual(listed.map((t) => t.taskId), [...ids].reverse())
      yield* qianfan.stopTask(ids[2]!)
      const stopping = Chunk.toReadonlyArray(
        yield* Stream.runCollect(qianfan.listTasks({ runStatus: ["Stopping", "Stopped"], pageSize: 1 }))
      )
      assert.deepStrictEqual(stopping.map((t) => t.taskId), [ids[2]])
    })))

  it.effect("maps the BCE error envelope to typed errors", () =>
    run(Effect.gen(function*() {
      const qianfan = yield* service
      const notFound = yield* Effect.flip(qianfan.describeTask("infer-doesnotexist"))
      assert.strictEqual(notFound._tag, "NotFound")
      if (notFound._tag === "NotFound") {
        assert.strictEqual(notFound.code, "ResourceNotFound")
        assert.isString(notFound.requestId)
      }
      const invalid = yield* Effect.flip(qianfan.createTask({
        name: "bad-model",
        endpoint: "no-such-model",
        inferenceParams: {},
        inputBosUri: `bos:/${bucket}/nothing/`,
        outputBosUri: `bos:/${bucket}/out/`
      }))
      assert.strictEqual(invalid._tag, "InvalidParameter")

      for (let i = 0; i < 20; i++) yield* qianfan.submit([{ id: `busy-${i}`, query: "x" }], { model })
      const limited = yield* Effect.flip(qianfan.submit([{ id: "one-too-many", query: "x" }], { model }))
      assert.strictEqual(limited._tag, "TaskRunningNumberExceedLimit")
      if (limited._tag === "TaskRunningNumberExceedLimit") assert.strictEqual(limited.limit, 20)
      // With waitForCapacity the create is retried until earlier tasks finish.
      const waited = yield* drive(
        qianfan.submit([{ id: "patient", query: "x" }], { model, waitForCapacity: Schedule.spaced("10 seconds") })
      )
      assert.lengthOf(waited.taskIds, 1)
    })))

  it.effect("a wrong secret is an AuthenticationError that never shows the secret", () =>
    run(
      Effect.gen(function*() {
        const qianfan = yield* service
        const error = yield* Effect.flip(qianfan.describeTask("infer-x"))
        assert.strictEqual(error._tag, "AuthenticationError")
        if (error._tag === "AuthenticationError") assert.strictEqual(error.code, "SignatureDoesNotMatch")
        assert.notInclude(JSON.stringify(error) + error.message, "wrong-secret-value")
      }),
      { client: { secret: "wrong-secret-value" } }
    ))

  it.effect("results resume a truncated download without losing or repeating a line", () =>
    run(
      Effect.gen(function*() {
        const qianfan = yield* service
        const submission = yield* qianfan.submit(queries(40), { model })
        yield* drive(qianfan.await(submission), "10 seconds")
        const emulator = yield* Emulator.Emulator
        yield* emulator.faults.set({
          rules: [{ kind: "truncate", rate: 1, services: ["bos"], match: "^GET /v1/barge/barge/output/", limit: 2 }]
        })
        const results = Chunk.toReadonlyArray(yield* drive(Stream.runCollect(qianfan.results(submission)), "1 second"))
        assert.strictEqual((yield* emulator.faults.counts).truncate, 2)
        assert.deepStrictEqual(results.map((r) => r.customId), queries(40).map((q) => q.id))
      })
    ))

  it.effect("completes a split submission under the chaos fault profile with every result exactly once", () =>
    run(
      Effect.gen(function*() {
        const qianfan = yield* service
        const emulator = yield* Emulator.Emulator
        const submission = yield* drive(qianfan.submit(queries(30), { model }), "1 second")
        assert.strictEqual(emulator.state.qianfan.tasks.size, submission.taskIds.length)
        yield* drive(qianfan.await(submission), "5 seconds")
        const results = Chunk.toReadonlyArray(yield* drive(Stream.runCollect(qianfan.results(submission)), "1 second"))
        assert.deepStrictEqual(results.map((r) => r.customId).sort(), queries(30).map((q) => q.id).sort())
        assert.isAbove((yield* emulator.faults.counts).total, 0)
      }),
      {
        emulator: { faults: "chaos", seed: 3 },
        client: {
          limits: { maxBytesPerFile: 200, maxFilesPerTask: 2, maxBytesPerTask: 10_000 },
          retry: { schedule: Schedule.spaced("1 second").pipe(Schedule.compose(Schedule.recurs(6))) }
        }
      }
    ))

  it.effect("stores objects in BOS: put from a stream, ranged get, head, list, delete", () =>
    run(Effect.gen(function*() {
      const { storage } = yield* service
      const bytes = new TextEncoder().encode("0123456789")
      yield* storage.put("s/a.txt", Stream.make(bytes.subarray(0, 4), bytes.subarray(4)), { contentLength: 10 })
      yield* storage.put("s/b.txt", Stream.make(bytes), { contentLength: 10 })
      const ranged = yield* Stream.runCollect(storage.stream("s/a.txt", { range: { start: 3, end: 5 } })).pipe(
        Effect.map((chunks) => new TextDecoder().decode(Buffer.concat(Chunk.toReadonlyArray(chunks))))
      )
      assert.strictEqual(ranged, "345")
      // A resumed read from exactly the end (BOS answers 416) is an empty body, not a failure.
      const atEnd = yield* storage.get("s/a.txt", { range: { start: 10 } })
      assert.strictEqual(Chunk.size(yield* Stream.runCollect(atEnd.body)), 0)
      const tail = yield* storage.get("s/a.txt", { range: { start: 7 } })
      assert.deepStrictEqual([tail.status, tail.start, tail.totalSize], [206, 7, 10])
      const head = yield* storage.head("s/a.txt")
      assert.strictEqual(head.size, 10)
      assert.strictEqual(Option.getOrThrow(yield* storage.exists("s/b.txt")).size, 10)
      const listed = Chunk.toReadonlyArray(yield* Stream.runCollect(storage.list("s/"))).map((o) => o.key)
      assert.deepStrictEqual(listed, ["s/a.txt", "s/b.txt"])
      yield* storage.delete("s/a.txt")
      yield* storage.delete("s/a.txt")
      assert.isTrue(Option.isNone(yield* storage.exists("s/a.txt")))
      const missing = yield* Effect.flip(Stream.runDrain(storage.stream("s/a.txt")))
      assert.strictEqual(missing._tag, "NotFound")
    })))

  it.effect("layerConfig fails naming the missing variable", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.provide(QianfanBatch.QianfanBatch, QianfanBatch.layerConfig()).pipe(
          Effect.provide(NodeHttpClient.layerUndici)
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "QIANFAN_ACCESS_KEY")
    }))

  it.effect("layerConfig reads credentials, bucket and endpoints from the environment", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const provider = ConfigProvider.fromMap(
        new Map([
          ["QIANFAN_ACCESS_KEY", emulator.credentials.bce.accessKeyId],
          ["QIANFAN_SECRET_KEY", emulator.credentials.bce.secretAccessKey],
          ["QIANFAN_BOS_BUCKET", bucket],
          ["QIANFAN_ENDPOINT", emulator.urls.qianfan],
          ["QIANFAN_BOS_ENDPOINT", emulator.urls.bos]
        ])
      )
      const tasks = yield* Effect.flatMap(QianfanBatch.QianfanBatch, (q) => Stream.runCollect(q.listTasks())).pipe(
        Effect.provide(QianfanBatch.layerConfig()),
        Effect.withConfigProvider(provider)
      )
      assert.strictEqual(Chunk.size(tasks), 0)
    }).pipe(Effect.provide(Emulator.layer()), Effect.provide(NodeHttpClient.layerUndici)))

  it("maps an ERNIE output line and an error line to results", () => {
    const ok = QianfanBatch.toResult({
      id: "1",
      output: { id: "as-1", result: "hi", usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }
    })
    assert.strictEqual(ok._tag, "Succeeded")
    const failed = QianfanBatch.toResult({ id: 2, output: { error_code: 336003, error_msg: "bad" } })
    assert.deepStrictEqual(failed._tag === "Failed" ? [failed.customId, failed.error.code] : [], ["2", "336003"])
    assert.isTrue(Either.isRight(Either.right(Batch.isTerminal("completed"))))
    assert.strictEqual(new Errors.StopRefused({ taskId: "t" })._tag, "StopRefused")
  })
})
