import type { Errors } from "@barge/ark"
import { ArkBatch, Job } from "@barge/ark"
import { ApiError, Batch, type ChatRequest, Registry } from "@barge/core"
import { Emulator } from "@barge/emulator"
import type { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, type Duration, Effect, Layer, Redacted, Schedule, Stream } from "effect"

/** Jobs wait 10 s, then take 10 s per request, in emulated time the tests move with `advance`. */
const processing = { queuedFor: "10 seconds", perRequest: "10 seconds", finalizingFor: "5 seconds" } as const

const poll = { schedule: Schedule.spaced("20 millis") }

/** The service on the emulator's endpoints, as `layerEmulated` builds it, with a short settle after each create. */
const arkLayer = (overrides: Partial<ArkBatch.Options> = {}) =>
  Layer.effect(
    ArkBatch.ArkBatch,
    Effect.flatMap(Registry.Emulated, (emulated) =>
      ArkBatch.make({
        accessKeyId: emulated.credential("volcengine.accessKeyId"),
        secretAccessKey: emulated.credential("volcengine.secretAccessKey"),
        endpoint: emulated.url("ark"),
        tosEndpoint: emulated.url("tos"),
        bucket: emulated.bucket,
        create: { settle: "10 millis", createBackoff: "10 millis" },
        retry: false,
        ...overrides
      }))
  )

const run = (overrides: Partial<ArkBatch.Options> = {}) =>
<A, E>(
  effect: Effect.Effect<A, E, ArkBatch.ArkBatch | Emulator.Emulator | Registry.Emulated | HttpClient.HttpClient>
) =>
  effect.pipe(
    Effect.provide(arkLayer(overrides).pipe(Layer.provideMerge(Emulator.layer({ processing })))),
    Effect.provide(NodeHttpClient.layerUndici)
  )

const requests = (
  n: number,
  failing: ReadonlyArray<number> = [],
  model = "doubao-pro-32k"
): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: n }, (_, i) => ({
    customId: `req-${i + 1}`,
    model,
    messages: [{
      role: "user",
      content: failing.includes(i + 1) ? `please fail ${Emulator.failMarker}]]` : `问题 ${i + 1}`
    }],
    temperature: 0.2
  }))

const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) => Effect.map(Stream.runCollect(stream), Chunk.toArray)

const advance = (duration: Duration.DurationInput) =>
  Effect.flatMap(Emulator.Emulator, (emulator) => emulator.advance(duration))

const textOf = (bucket: string, key: string) =>
  Effect.map(Emulator.Emulator, (emulator) => {
    const object = emulator.state.objects.tos.get(bucket, key)
    return object === undefined ? undefined : new TextDecoder().decode(object.body)
  })

const storedJob = (id: string) =>
  Effect.map(Emulator.Emulator, (emulator) => {
    const job = emulator.state.ark.jobs.get(id)
    assert.isDefined(job, `the emulator holds job ${id}`)
    return job!
  })

const byId = (results: ReadonlyArray<Batch.BatchResult>) =>
  Object.fromEntries(results.map((r) => [r.customId, r._tag === "Failed" ? r.error.code : "ok"]))

describe("ArkBatch over the emulator", () => {
  it.live("submit puts Ark's lines in TOS and creates the job; await and results read both output files", () =>
    run()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const submitted = yield* ark.submit(requests(5, [4]), { completionWindow: "3 days" })
      assert.strictEqual(submitted.attached, 0)
      assert.strictEqual(submitted.status.counts.total, 5)
      const job = yield* storedJob(submitted.status.parts[0]!.jobId)
      assert.deepStrictEqual(job.modelReference, {
        FoundationModel: { Name: "doubao-pro-32k", ModelVersion: "240615" }
      })
      assert.strictEqual(job.completionWindow, "3d")
      assert.match(job.input.ObjectKey, /^barge\/ark\/inputs\/[0-9a-f]{40}\.jsonl$/)
      assert.strictEqual(job.output.ObjectKey, "barge/ark/outputs/")
      const key = job.input.ObjectKey.slice("barge/ark/inputs/".length, -".jsonl".length)
      assert.deepStrictEqual(job.tags.filter((tag) => tag.Key.startsWith("barge-")), [
        { Key: "barge-part", Value: key },
        { Key: "barge-lines", Value: "5" }
      ])
      const input = (yield* textOf(job.input.BucketName, job.input.ObjectKey))!
      const lines = input.trimEnd().split("\n")
      // The job's ModelReference names the model: Ark's lines leave it out, and keep every parameter.
      assert.deepStrictEqual(JSON.parse(lines[0]!), {
        custom_id: "req-1",
        body: { messages: [{ role: "user", content: "问题 1" }], temperature: 0.2 }
      })

      yield* advance("1 hour")
      const done = yield* ark.await(submitted.id, poll)
      assert.deepStrictEqual([done.phase, done.providerStatus], ["completed", "Completed"])
      assert.deepStrictEqual({ ...done.counts }, { total: 5, completed: 4, failed: 1 })
      const results = yield* collect(ark.results(submitted.id))
      assert.deepStrictEqual(byId(results), {
        "req-1": "ok",
        "req-2": "ok",
        "req-3": "ok",
        "req-4": "InvalidRequest",
        "req-5": "ok"
      })
      const first = results.find((r) => r.customId === "req-1")!
      assert.strictEqual(first._tag, "Succeeded")
      if (first._tag === "Succeeded") {
        assert.strictEqual(first.response.choices[0]!.message.content, Emulator.expectedContent("req-1", "问题 1"))
      }
      const failed = results.find((r) => r.customId === "req-4")!
      assert.include(failed._tag === "Failed" ? failed.error.message : "", "failed on purpose")
    })))

  it.live("a submission beyond a job's limits is split into jobs behind one id; results list each request once", () =>
    run()(Effect.gen(function*() {
      const ark = (yield* ArkBatch.ArkBatch).withLimits({ maxLinesPerJob: 2 })
      const submitted = yield* ark.submit(requests(5))
      assert.strictEqual(submitted.status.parts.length, 3)
      assert.match(submitted.id, /^ark:bi-\d{14}-[a-z0-9]+\+bi-\d{14}-[a-z0-9]+\+bi-\d{14}-[a-z0-9]+$/)
      const sizes: Array<number> = []
      for (const part of submitted.status.parts) {
        const job = yield* storedJob(part.jobId)
        sizes.push((yield* textOf(job.input.BucketName, job.input.ObjectKey))!.trimEnd().split("\n").length)
      }
      assert.deepStrictEqual(sizes, [2, 2, 1])
      yield* advance("1 hour")
      assert.strictEqual((yield* ark.await(submitted.id, poll)).phase, "completed")
      const ids = (yield* collect(ark.results(submitted.id))).map((r) => r.customId).sort()
      assert.deepStrictEqual(ids, ["req-1", "req-2", "req-3", "req-4", "req-5"])
    })))

  it.live("submitting the same requests again attaches to the job, uploading nothing", () =>
    run()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const emulator = yield* Emulator.Emulator
      const first = yield* ark.submit(requests(3))
      const before = yield* emulator.requests
      const again = yield* ark.submit(requests(3))
      const after = yield* emulator.requests
      assert.strictEqual(again.id, first.id)
      assert.strictEqual(again.attached, 1)
      assert.strictEqual(after.tos, before.tos, "no upload")
      assert.strictEqual(emulator.state.ark.jobs.size, 1)
    })))

  it.live("a create whose answer is lost is found again by its part tag: one job, whether or not the transport resends", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      for (const retry of [false, undefined] as const) {
        yield* emulator.faults.set("lost-create")
        const ark = yield* Effect.provide(ArkBatch.ArkBatch, arkLayer({ retry }))
        const submitted = yield* ark.submit(requests(retry === false ? 2 : 3))
        const counts = yield* emulator.faults.counts
        assert.strictEqual(counts.lostResponse, 1, "the create was done and its answer lost")
        assert.strictEqual(submitted.status.parts.length, 1)
      }
      assert.strictEqual(emulator.state.ark.jobs.size, 2, "one job per submission")
    }).pipe(
      Effect.provide(Emulator.layer({ processing })),
      Effect.provide(NodeHttpClient.layerUndici)
    ))

  it.live("Ark's duplicate rule: its own create fails with DuplicateActiveJob, the contract's create attaches", () =>
    run()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const prepared = yield* ark.prepare(requests(2))
      const part = prepared.parts[0]!
      const submitted = yield* ark.launch(prepared)
      const activeId = submitted.status.parts[0]!.jobId
      const stored = yield* storedJob(activeId)

      const refused = yield* Effect.flip(ark.create({
        name: "again",
        model: Job.foundationModel("doubao-pro-32k", "240615"),
        input: Job.Location.make({ bucket: stored.input.BucketName, key: stored.input.ObjectKey }),
        outputDir: Job.Location.make({ bucket: stored.output.BucketName, key: stored.output.ObjectKey })
      }))
      assert.strictEqual(refused._tag, "DuplicateActiveJob")
      assert.strictEqual((refused as Errors.DuplicateActiveJob).activeJobId, activeId)
      assert.include(refused.message, activeId)

      const attached = yield* ark.contract.create({
        key: part.key,
        submission: prepared.key,
        index: 0,
        count: 1,
        model: part.model,
        group: part.group,
        lines: part.lines,
        bytes: part.bytes,
        input: `tos://${stored.input.BucketName}/${stored.input.ObjectKey}`,
        window: undefined,
        metadata: {},
        parameters: {},
        options: {}
      })
      assert.strictEqual(attached.id, activeId)
      assert.strictEqual((yield* Emulator.Emulator).state.ark.jobs.size, 1)
    })))

  it.live("Ark's own create sends the window as \"<N>d\" (\"3 days\" → \"3d\", 36 hours → \"2d\")", () =>
    run()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const emulator = yield* Emulator.Emulator
      const create = (key: string, completionWindow: string) => {
        emulator.state.objects.tos.put("barge", key, new TextEncoder().encode(`{"custom_id":"a","body":{}}\n`))
        return ark.create({
          name: "windowed",
          model: Job.foundationModel("doubao-pro-32k", "240615"),
          input: Job.Location.make({ bucket: "barge", key }),
          outputDir: Job.Location.make({ bucket: "barge", key: "out/" }),
          completionWindow
        })
      }
      const days = yield* create("a.jsonl", "3 days")
      assert.strictEqual(days.completionWindow, "3d")
      const hours = yield* create("b.jsonl", "36 hours")
      assert.strictEqual(hours.completionWindow, "2d")
      const tooLong = yield* Effect.flip(create("c.jsonl", "29 days"))
      assert.strictEqual(tooLong._tag, "InputValidationError")
      assert.include(tooLong.message, "1d to 28d")
    })))

  it.live("cancel: every request appears exactly once, those that never ran as Failed batch_cancelled", () =>
    run()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const submitted = yield* ark.submit(requests(5))
      // Queued for 10 s, then 10 s a request: two have run 35 s in (with seconds to spare either side).
      yield* advance("35 seconds")
      const cancelling = yield* ark.cancelBatch(submitted.id)
      assert.strictEqual(cancelling.phase, "cancelling")
      yield* advance("10 seconds")
      const ended = yield* Effect.flip(ark.await(submitted.id, poll))
      assert.strictEqual(ended._tag, "BatchFailed")
      const results = yield* collect(ark.results(submitted.id))
      assert.deepStrictEqual(byId(results), {
        "req-1": "ok",
        "req-2": "ok",
        "req-3": "batch_cancelled",
        "req-4": "batch_cancelled",
        "req-5": "batch_cancelled"
      })
      assert.strictEqual(results.length, 5)
    })))

  it.live("resume, update and delete: Ark's extras", () =>
    run()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const submitted = yield* ark.submit(requests(3))
      const id = submitted.status.parts[0]!.jobId
      yield* ark.cancel(id)
      yield* advance("10 seconds")
      assert.strictEqual((yield* ark.get(id)).phase, "Terminated")
      const resumed = yield* ark.resume(id)
      assert.strictEqual(resumed.phase, "Queued")
      yield* advance("1 hour")
      assert.strictEqual((yield* ark.get(id)).phase, "Completed")
      yield* ark.update(id, { name: "renamed", description: "done" })
      assert.deepStrictEqual([(yield* ark.get(id)).name, (yield* ark.get(id)).description], ["renamed", "done"])
      yield* ark.delete(id)
      const gone = yield* Effect.flip(ark.get(id))
      assert.deepStrictEqual([gone._tag, gone._tag === "ApiError" ? gone.reason : ""], ["ApiError", "NotFound"])
    })))

  it.live("refusals reach the program as ApiError with the right reason; OperationDenied is 403", () =>
    run()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const missing = yield* Effect.flip(ark.get("bi-20990101000000-nope0"))
      assert.strictEqual(missing._tag, "ApiError")
      if (missing._tag === "ApiError") {
        assert.deepStrictEqual([missing.reason, missing.status, missing.code], [
          "NotFound",
          404,
          "NotFound.BatchInferenceJob"
        ])
        assert.isString(missing.requestId)
      }

      // Stopping a finished job: Ark's table answers OperationDenied.* with HTTP 403.
      const submitted = yield* ark.submit(requests(1))
      yield* advance("1 hour")
      const denied = yield* Effect.flip(ark.cancel(submitted.status.parts[0]!.jobId))
      assert.strictEqual(denied._tag, "ApiError")
      if (denied._tag === "ApiError") {
        assert.deepStrictEqual([denied.reason, denied.status, denied.code], [
          "Conflict",
          403,
          "OperationDenied.UnsupportedPhase"
        ])
        assert.include(denied.message, "phase does not allow")
      }
    })))

  it.live("a wrong secret is Authentication, without the secret in the message", () =>
    run({ secretAccessKey: Redacted.make("totally-wrong-secret") })(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const error = yield* Effect.flip(ark.get("bi-20990101000000-nope0"))
      assert.isTrue(ApiError.is("Authentication")(error))
      assert.notInclude(error.message, "totally-wrong-secret")
      assert.include(error.message, "VOLC_SECRETKEY")
      const unified = yield* Effect.flip(ark.submit(requests(1)))
      assert.isTrue(ApiError.is("Authentication")(unified), "the same refusal through submit (TOS first)")
    })))

  it.live("an answer without Ark's envelope (a wrong endpoint) is still an ApiError, never a raw StatusError", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      // Moonshot's surface answers in OpenAI's shape, with no ResponseMetadata.
      const error = yield* Effect.flip(
        Effect.flatMap(ArkBatch.ArkBatch, (ark) => ark.get("bi-20990101000000-nope0")).pipe(
          Effect.provide(arkLayer({ endpoint: emulator.urls.moonshot }))
        )
      )
      assert.strictEqual(error._tag, "ApiError")
      if (error._tag === "ApiError") {
        assert.strictEqual(error.provider, "ark")
        assert.strictEqual(error.reason, "Authentication")
        assert.strictEqual(error.status, 401)
      }
    }).pipe(
      Effect.provide(Emulator.layer({ processing })),
      Effect.provide(NodeHttpClient.layerUndici)
    ))

  it.live("lenient decoding: a job needs only its Id; an unknown phase is unknown, the word kept; an odd list item is skipped", () =>
    run()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const emulator = yield* Emulator.Emulator
      const odd = (yield* ark.submit(requests(1))).status.parts[0]!.jobId
      const sparse = (yield* ark.submit(requests(2))).status.parts[0]!.jobId
      const plain = (yield* ark.submit(requests(3))).status.parts[0]!.jobId

      // Ark's SDK marks every field optional: a job with an Id and a phase word Barge does not know yet.
      emulator.state.ark.reshape(sparse, (job) => ({ Id: job.Id, Status: { Phase: "Initializing" } }))
      const job = yield* ark.get(sparse)
      assert.deepStrictEqual([job.id, job.phase, job.name, job.input], [sparse, "Initializing", undefined, undefined])
      assert.deepStrictEqual([ark.jobStatus(job).phase, ark.jobStatus(job).providerStatus], ["unknown", "Initializing"])
      // Not terminal: polling goes on, the word shown.
      const status = yield* ark.batchStatus(sparse)
      assert.deepStrictEqual([status.parts[0]!.phase, status.providerStatus], ["unknown", "Initializing"])
      assert.isFalse(Batch.isTerminal(status.phase))

      // One item Barge cannot read does not cost the rest of the page.
      emulator.state.ark.reshape(odd, (item) => ({ ...item, Id: 42 }))
      const listed = (yield* collect(ark.list())).map((j) => j.id).sort()
      assert.deepStrictEqual(listed, [plain, sparse].sort())
    })))

  it.live("an unknown bare model is refused before anything is uploaded, saying how to name it", () =>
    run()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const emulator = yield* Emulator.Emulator
      const before = yield* emulator.requests
      const refused = yield* Effect.flip(ark.submit([
        ...requests(1, [], "doubao-unknown"),
        ...requests(2, [], "ep-20250101000000-abcde").slice(1)
      ]))
      assert.strictEqual(refused._tag, "InputValidationError")
      if (refused._tag === "InputValidationError") {
        assert.deepStrictEqual(refused.issues.map((issue) => issue.lineNumber), [1, 2])
        assert.include(refused.issues[0]!.message, "unknown model \"doubao-unknown\"")
        assert.include(refused.issues[0]!.message, "doubao-unknown@<version>")
        assert.include(refused.issues[1]!.message, "endpoint id")
      }
      const after = yield* emulator.requests
      assert.deepStrictEqual([after.tos, after.ark], [before.tos, before.ark], "nothing was sent")

      // A versioned name goes through; Ark itself says when it does not know it.
      const unknown = yield* Effect.flip(ark.submit(requests(1, [], "doubao-unknown@240615")))
      assert.isTrue(ApiError.is("NotFound")(unknown))
      assert.include(unknown.message, "InvalidEndpointOrModel.NotFound")
      // Named explicitly, and through the versions table.
      const explicit = yield* ark.submit(requests(1, [], "doubao-pro-32k@241215"))
      assert.deepStrictEqual((yield* ark.get(explicit.status.parts[0]!.jobId)).model, {
        _tag: "Foundation",
        name: "doubao-pro-32k",
        version: "241215"
      })
    })))

  it.live("a bucket named by the user is created on first use; a missing one is named in the error", () =>
    run()(Effect.gen(function*() {
      const ark = yield* ArkBatch.ArkBatch
      const emulator = yield* Emulator.Emulator
      const submitted = yield* ark.submit(requests(2), { bucket: "my-own-bucket", prefix: "team/x" })
      const job = yield* storedJob(submitted.status.parts[0]!.jobId)
      assert.deepStrictEqual([job.input.BucketName, job.output.ObjectKey], ["my-own-bucket", "team/x/outputs/"])
      yield* advance("1 hour")
      yield* ark.await(submitted.id, poll)
      assert.strictEqual((yield* collect(ark.results(submitted.id))).length, 2)
      assert.includeMembers([...emulator.state.objects.tos.buckets()], ["barge", "my-own-bucket"])
    })))
})
