import { Signer } from "@barge/core"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted, TestClock } from "effect"
import { createRequire } from "node:module"
import * as Emulator from "../src/Emulator.js"
import * as Utils from "./utils.js"

const require = createRequire(import.meta.url)
const VolcSigner = require("@volcengine/openapi/lib/base/sign").default as new(
  request: Record<string, unknown>,
  service: string
) => { addAuthorization(credentials: Record<string, string>, date: Date): void }

const credentials = Emulator.defaultCredentials.volcengine
const bucket = "ark-bucket"
const inputKey = "jobs/input.jsonl"
const model = { Name: "doubao-pro-32k", ModelVersion: "240615" }

interface Answer {
  readonly status: number
  readonly body: {
    readonly ResponseMetadata: {
      readonly RequestId: string
      readonly Action: string
      readonly Service: string
      readonly Error?: { readonly Code: string; readonly CodeN: number; readonly Message: string }
    }
    readonly Result?: any
  }
}

const signerFor = (secret = credentials.secretAccessKey, accessKeyId = credentials.accessKeyId) =>
  Signer.volcengine({ accessKeyId, secretAccessKey: Redacted.make(secret), region: "cn-beijing", service: "ark" })

/** Calls one action, signed like a real client; `tamper` changes the request after signing. */
const call = (
  action: string,
  body: unknown,
  options: {
    readonly signer?: Signer.Service | undefined
    readonly query?: Record<string, string>
    readonly rawBody?: string
    /** Runs between signing and sending (e.g. to let the signature go stale). */
    readonly beforeSend?: Effect.Effect<void>
  } = {}
) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.post(`${emulator.urls.ark}/`).pipe(
      HttpClientRequest.setUrlParams({ Action: action, Version: "2024-01-01", ...options.query }),
      options.rawBody === undefined
        ? HttpClientRequest.bodyUnsafeJson(body)
        : HttpClientRequest.bodyText(options.rawBody, "application/json")
    )
    if (options.signer !== undefined || !("signer" in options)) {
      request = yield* (options.signer ?? signerFor()).sign(request)
    }
    if (options.beforeSend) yield* options.beforeSend
    const response = yield* client.execute(request)
    return { status: response.status, body: (yield* response.json) as Answer["body"] } satisfies Answer
  }).pipe(Effect.orDie)

const putInput = (lines: ReadonlyArray<unknown>, key = inputKey) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const text = lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n") + "\n"
    emulator.state.objects.tos.put(bucket, key, new TextEncoder().encode(text))
  })

const requests = (n: number, failing: ReadonlyArray<number> = []) =>
  Array.from({ length: n }, (_, i) => ({
    custom_id: `request-${i + 1}`,
    body: {
      messages: [{
        role: "user",
        content: failing.includes(i + 1) ? `fail me ${Emulator.failMarker}` : `question ${i + 1}`
      }]
    }
  }))

const createBody = (overrides: Record<string, unknown> = {}) => ({
  Name: "batch-job",
  ModelReference: { FoundationModel: model },
  InputFileTosLocation: { BucketName: bucket, ObjectKey: inputKey },
  OutputDirTosLocation: { BucketName: bucket, ObjectKey: "batch/output/" },
  CompletionWindow: "1d",
  ...overrides
})

const readText = (key: string) =>
  Effect.map(Emulator.Emulator, (emulator) => {
    const object = emulator.state.objects.tos.get(bucket, key)
    return object === undefined ? undefined : new TextDecoder().decode(object.body)
  })

const withEmulator = Utils.withEmulator({ processing: Utils.observableProcessing })

const advance = Utils.advance

const getJob = (id: string) => Effect.map(call("GetBatchInferenceJob", { Id: id }), (answer) => answer.body.Result)

describe("Ark surface", () => {
  it.effect("runs a job Queued → Running → Completed and writes results and errors where ErrorFileTosLocation says", () =>
    withEmulator(Effect.gen(function*() {
      yield* putInput(requests(4, [3]))
      const created = yield* call("CreateBatchInferenceJob", createBody())
      assert.strictEqual(created.status, 200)
      assert.strictEqual(created.body.ResponseMetadata.Service, "ark")
      assert.strictEqual(created.body.ResponseMetadata.Action, "CreateBatchInferenceJob")
      const id: string = created.body.Result.Id
      assert.match(id, /^bi-\d{14}-[a-z0-9]{5}$/)

      const queued = yield* getJob(id)
      assert.strictEqual(queued.Status.Phase, "Queued")
      assert.deepStrictEqual(queued.RequestCounts, { Total: 4, Completed: 0, Failed: 0 })
      assert.strictEqual(queued.CompletionWindow, "1d")
      assert.strictEqual(Date.parse(queued.ExpireTime) - Date.parse(queued.CreateTime), 24 * 3600 * 1000)

      yield* advance("12 seconds")
      const running = yield* getJob(id)
      assert.strictEqual(running.Status.Phase, "Running")
      assert.deepStrictEqual(running.RequestCounts, { Total: 4, Completed: 2, Failed: 0 })

      yield* advance("1 minute")
      const done = yield* getJob(id)
      assert.strictEqual(done.Status.Phase, "Completed")
      assert.deepStrictEqual(done.RequestCounts, { Total: 4, Completed: 3, Failed: 1 })
      assert.deepStrictEqual(done.ErrorFileTosLocation, {
        BucketName: bucket,
        ObjectKey: `batch/output/${id}/error/errors.jsonl`
      })
      const results = (yield* readText(`batch/output/${id}/output/results.jsonl`))!.trim().split("\n").map((l) =>
        JSON.parse(l)
      )
      assert.deepStrictEqual(results.map((r) => r.custom_id), ["request-1", "request-2", "request-4"])
      assert.strictEqual(results[0].response.status_code, 200)
      assert.strictEqual(
        results[0].response.body.choices[0].message.content,
        Emulator.expectedContent("request-1", "question 1")
      )
      const failures = (yield* readText(done.ErrorFileTosLocation.ObjectKey))!.trim().split("\n").map((l) =>
        JSON.parse(l)
      )
      assert.deepStrictEqual(failures.map((r) => [r.custom_id, r.response]), [["request-3", null]])
      assert.isString(failures[0].error.code)
    })))

  it.effect("refuses a second active job on the same project, bucket and key, naming the active job", () =>
    withEmulator(Effect.gen(function*() {
      yield* putInput(requests(2))
      const first = yield* call("CreateBatchInferenceJob", createBody())
      const second = yield* call("CreateBatchInferenceJob", createBody({ Name: "again" }))
      assert.strictEqual(second.status, 409)
      assert.include(second.body.ResponseMetadata.Error!.Message, first.body.Result.Id)
      // Another project is another key.
      const other = yield* call("CreateBatchInferenceJob", createBody({ ProjectName: "other" }))
      assert.strictEqual(other.status, 200)
      // Once the first job is finished, the same key is free again.
      yield* advance("1 minute")
      const third = yield* call("CreateBatchInferenceJob", createBody())
      assert.strictEqual(third.status, 200)
      assert.notStrictEqual(third.body.Result.Id, first.body.Result.Id)
    })))

  it.effect("concurrent identical Creates make exactly one job; every other answer names it", () =>
    withEmulator(Effect.gen(function*() {
      yield* putInput(requests(2))
      const answers = yield* Effect.all(
        Array.from({ length: 20 }, () => call("CreateBatchInferenceJob", createBody())),
        { concurrency: "unbounded" }
      )
      const created = answers.filter((a) => a.status === 200)
      assert.strictEqual(created.length, 1)
      const id = created[0]!.body.Result.Id
      for (const refused of answers.filter((a) => a.status !== 200)) {
        assert.strictEqual(refused.status, 409)
        assert.include(refused.body.ResponseMetadata.Error!.Message, id)
      }
      const emulator = yield* Emulator.Emulator
      assert.strictEqual(emulator.state.ark.jobs.size, 1)
    })))

  it.effect("stop moves a job to Terminating then Terminated, keeping what finished; resume runs the rest", () =>
    withEmulator(Effect.gen(function*() {
      yield* putInput(requests(10))
      const id = (yield* call("CreateBatchInferenceJob", createBody())).body.Result.Id
      yield* advance("13 seconds")
      assert.strictEqual((yield* call("StopBatchInferenceJob", { Id: id })).status, 200)
      const stopping = yield* getJob(id)
      assert.strictEqual(stopping.Status.Phase, "Terminating")
      yield* advance("6 seconds")
      const stopped = yield* getJob(id)
      assert.strictEqual(stopped.Status.Phase, "Terminated")
      assert.deepStrictEqual(stopped.RequestCounts, { Total: 10, Completed: 3, Failed: 0 })
      const partial = (yield* readText(`batch/output/${id}/output/results.jsonl`))!.trim().split("\n")
      assert.strictEqual(partial.length, 3)
      // Ark's error table: OperationDenied.* answers 403.
      const stopAgain = yield* call("StopBatchInferenceJob", { Id: id })
      assert.deepStrictEqual(
        [stopAgain.status, stopAgain.body.ResponseMetadata.Error!.Code],
        [403, "OperationDenied.UnsupportedPhase"]
      )

      // The documented variant: Id in the query string, empty body.
      const resumed = yield* call("ResumeBatchInferenceJob", {}, { query: { Id: id } })
      assert.strictEqual(resumed.status, 200)
      assert.strictEqual(resumed.body.Result.Id, id)
      yield* advance("1 minute")
      const finished = yield* getJob(id)
      assert.strictEqual(finished.Status.Phase, "Completed")
      assert.deepStrictEqual(finished.RequestCounts, { Total: 10, Completed: 10, Failed: 0 })
      const all = (yield* readText(`batch/output/${id}/output/results.jsonl`))!.trim().split("\n")
      assert.strictEqual(all.length, 10)
    })))

  it.effect("an expired completion window terminates the job and keeps finished results", () =>
    withEmulator(Effect.gen(function*() {
      yield* putInput(requests(3))
      const id = (yield* call("CreateBatchInferenceJob", createBody({ CompletionWindow: "1d" }))).body.Result.Id
      const emulator = yield* Emulator.Emulator
      // Make the job slow enough to outlive its window: a day passes after one request.
      const job = emulator.state.ark.jobs.get(id)!
      job.expireTime = job.createTime + 11_500
      yield* advance("1 hour")
      const expired = yield* getJob(id)
      assert.strictEqual(expired.Status.Phase, "Terminated")
      assert.include(expired.Status.Message, "completion window")
      assert.deepStrictEqual(expired.RequestCounts, { Total: 3, Completed: 1, Failed: 0 })
      const kept = (yield* readText(`batch/output/${id}/output/results.jsonl`))!.trim().split("\n")
      assert.strictEqual(kept.length, 1)
    })))

  it.effect("a malformed input file fails the job with the linter's reason", () =>
    withEmulator(Effect.gen(function*() {
      yield* putInput([{ custom_id: "a", body: {} }, { custom_id: "a", body: {} }])
      const id = (yield* call("CreateBatchInferenceJob", createBody())).body.Result.Id
      yield* advance("11 seconds")
      const failed = yield* getJob(id)
      assert.strictEqual(failed.Status.Phase, "Failed")
      assert.include(failed.Status.Message, "custom_id=a is duplicated")
      yield* putInput(["not json"], "jobs/bad.jsonl")
      const bad = (yield* call(
        "CreateBatchInferenceJob",
        createBody({
          InputFileTosLocation: { BucketName: bucket, ObjectKey: "jobs/bad.jsonl" }
        })
      )).body.Result.Id
      yield* advance("11 seconds")
      assert.include((yield* getJob(bad)).Status.Message, "Line 1 of the input file is not JSON")
    })))

  it.effect("lists with paging, filters and sort", () =>
    withEmulator(Effect.gen(function*() {
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        yield* putInput(requests(1), `jobs/${i}.jsonl`)
        const created = yield* call(
          "CreateBatchInferenceJob",
          createBody({
            Name: `job-${i}`,
            InputFileTosLocation: { BucketName: bucket, ObjectKey: `jobs/${i}.jsonl` },
            Tags: [{ Key: "team", Value: i % 2 === 0 ? "even" : "odd" }]
          })
        )
        ids.push(created.body.Result.Id)
        yield* advance("1 second")
      }
      const page1 = (yield* call("ListBatchInferenceJobs", { PageSize: 2, SortOrder: "Asc" })).body.Result
      assert.strictEqual(page1.TotalCount, 5)
      assert.deepStrictEqual(page1.Items.map((item: { Id: string }) => item.Id), ids.slice(0, 2))
      assert.isUndefined(page1.Items[0].ErrorFileTosLocation)
      const page3 =
        (yield* call("ListBatchInferenceJobs", { PageSize: 2, PageNumber: 3, SortOrder: "Asc" })).body.Result
      assert.deepStrictEqual(page3.Items.map((item: { Id: string }) => item.Id), ids.slice(4))
      const desc = (yield* call("ListBatchInferenceJobs", {})).body.Result
      assert.strictEqual(desc.Items[0].Id, ids[4])
      const byTag =
        (yield* call("ListBatchInferenceJobs", { TagFilters: [{ Key: "team", Values: ["odd"] }] })).body.Result
      assert.strictEqual(byTag.TotalCount, 2)
      const byIds = (yield* call("ListBatchInferenceJobs", { Filter: { Ids: [ids[1], ids[3]] } })).body.Result
      assert.strictEqual(byIds.TotalCount, 2)
      const byName = (yield* call("ListBatchInferenceJobs", { Filter: { Name: "job-2" } })).body.Result
      assert.deepStrictEqual(byName.Items.map((item: { Id: string }) => item.Id), [ids[2]])
      yield* advance("1 minute")
      const completed = (yield* call("ListBatchInferenceJobs", { Filter: { Phases: ["Completed"] } })).body.Result
      assert.strictEqual(completed.TotalCount, 5)
      const byModel = (yield* call("ListBatchInferenceJobs", {
        Filter: { FoundationModels: [{ Name: "doubao-pro-32k", ModelVersions: ["999999"] }] }
      })).body.Result
      assert.strictEqual(byModel.TotalCount, 0)
      const badSize = yield* call("ListBatchInferenceJobs", { PageSize: 101 })
      assert.strictEqual(badSize.body.ResponseMetadata.Error!.Code, "InvalidParameter")
    })))

  it.effect("updates and deletes a finished job; an active one cannot be deleted", () =>
    withEmulator(Effect.gen(function*() {
      yield* putInput(requests(1))
      const id = (yield* call("CreateBatchInferenceJob", createBody())).body.Result.Id
      const active = yield* call("DeleteBatchInferenceJob", { Id: id })
      assert.deepStrictEqual(
        [active.status, active.body.ResponseMetadata.Error!.Code],
        [403, "OperationDenied.UnsupportedPhase"]
      )
      yield* call("UpdateBatchInferenceJob", { Id: id, Name: "renamed", Description: "new words" })
      const updated = yield* getJob(id)
      assert.strictEqual(updated.Name, "renamed")
      assert.strictEqual(updated.Description, "new words")
      yield* advance("1 minute")
      assert.strictEqual((yield* call("DeleteBatchInferenceJob", { Id: id })).status, 200)
      const gone = yield* call("GetBatchInferenceJob", { Id: id })
      assert.strictEqual(gone.status, 404)
      assert.include(gone.body.ResponseMetadata.Error!.Message, id)
    })))

  it.effect("answers bad requests with MissingParameter, InvalidParameter and the model error, never a crash", () =>
    withEmulator(Effect.gen(function*() {
      const missing = yield* call("CreateBatchInferenceJob", { ...createBody(), Name: undefined })
      assert.deepStrictEqual([missing.status, missing.body.ResponseMetadata.Error!.Code], [400, "MissingParameter"])
      assert.include(missing.body.ResponseMetadata.Error!.Message, "Name")
      // Whole days written "<N>d", 1d to 28d, the only form Ark documents: "3 days" and "36h" are refused.
      for (const refused of ["29d", "0d", "3 days", "36h", "1.5d"]) {
        const window = yield* call("CreateBatchInferenceJob", createBody({ CompletionWindow: refused }))
        assert.deepStrictEqual(
          [window.status, window.body.ResponseMetadata.Error!.Code],
          [400, "InvalidParameter"],
          refused
        )
      }
      const wrongType = yield* call("CreateBatchInferenceJob", createBody({ InputFileTosLocation: "tos://x" }))
      assert.strictEqual(wrongType.body.ResponseMetadata.Error!.Code, "InvalidParameter")
      const unknownModel = yield* call(
        "CreateBatchInferenceJob",
        createBody({
          ModelReference: { FoundationModel: { Name: "no-such-model", ModelVersion: "1" } }
        })
      )
      assert.deepStrictEqual(
        [unknownModel.status, unknownModel.body.ResponseMetadata.Error!.Code],
        [404, "InvalidEndpointOrModel.NotFound"]
      )
      const action = yield* call("NoSuchAction", {})
      assert.deepStrictEqual([action.status, action.body.ResponseMetadata.Error!.Code], [404, "InvalidActionOrVersion"])
      const notJson = yield* call("GetBatchInferenceJob", {}, { rawBody: "{not json" })
      assert.strictEqual(notJson.body.ResponseMetadata.Error!.Code, "InvalidParameter")
      const noId = yield* call("GetBatchInferenceJob", {})
      assert.strictEqual(noId.body.ResponseMetadata.Error!.Code, "MissingParameter")
      const array = yield* call("GetBatchInferenceJob", [1, 2])
      assert.strictEqual(array.body.ResponseMetadata.Error!.Code, "InvalidParameter")
    })))

  it.effect("authenticates every request with the Volcengine scheme", () =>
    withEmulator(Effect.gen(function*() {
      const unsigned = yield* call("ListBatchInferenceJobs", {}, { signer: undefined })
      assert.deepStrictEqual(
        [unsigned.status, unsigned.body.ResponseMetadata.Error!.Code, unsigned.body.ResponseMetadata.Error!.CodeN],
        [401, "MissingAuthenticationToken", 100003]
      )
      const wrongSecret = yield* call("ListBatchInferenceJobs", {}, { signer: signerFor("not-the-secret") })
      assert.deepStrictEqual([wrongSecret.status, wrongSecret.body.ResponseMetadata.Error!.Code], [
        401,
        "SignatureDoesNotMatch"
      ])
      const unknownKey = yield* call("ListBatchInferenceJobs", {}, { signer: signerFor(undefined, "AKLTnobody") })
      assert.deepStrictEqual([unknownKey.status, unknownKey.body.ResponseMetadata.Error!.Code], [
        401,
        "InvalidAccessKey"
      ])
      const stale = yield* call("ListBatchInferenceJobs", {}, { beforeSend: TestClock.adjust("20 minutes") })
      assert.deepStrictEqual([stale.status, stale.body.ResponseMetadata.Error!.Code], [400, "InvalidTimestamp"])
      const fresh = yield* call("ListBatchInferenceJobs", {})
      assert.strictEqual(fresh.status, 200)
    })))
})

describe("Ark surface fidelity with @volcengine/openapi", () => {
  it.effect("accepts a request signed by the official Signer and rejects it with one body byte changed", () =>
    withEmulator(Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* HttpClient.HttpClient
      const now = yield* emulator.now
      const url = new URL(emulator.urls.ark)
      const send = (body: string, mutate: (signed: string) => string) =>
        Effect.gen(function*() {
          const request: Record<string, unknown> & { headers: Record<string, string> } = {
            region: "cn-beijing",
            method: "POST",
            pathname: "/",
            params: { Action: "ListBatchInferenceJobs", Version: "2024-01-01" },
            headers: { Host: url.host, "Content-Type": "application/json" },
            body
          }
          new VolcSigner(request, "ark").addAuthorization(
            { accessKeyId: credentials.accessKeyId, secretKey: credentials.secretAccessKey },
            new Date(now)
          )
          const response = yield* client.execute(
            HttpClientRequest.post(`${emulator.urls.ark}/?Action=ListBatchInferenceJobs&Version=2024-01-01`).pipe(
              HttpClientRequest.setHeaders(request.headers),
              HttpClientRequest.bodyText(mutate(body), "application/json")
            )
          )
          return { status: response.status, body: (yield* response.json) as Answer["body"] }
        }).pipe(Effect.orDie)
      const body = JSON.stringify({ PageSize: 10 })
      const accepted = yield* send(body, (b) => b)
      assert.strictEqual(accepted.status, 200)
      assert.strictEqual(accepted.body.Result.TotalCount, 0)
      const rejected = yield* send(body, (b) => b.replace("10", "11"))
      assert.strictEqual(rejected.status, 401)
      assert.strictEqual(rejected.body.ResponseMetadata.Error!.Code, "SignatureDoesNotMatch")
    })))
})
