import { Signer } from "@barge/core"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { createRequire } from "node:module"
import * as Emulator from "../src/Emulator.js"
import * as Utils from "./utils.js"

const require = createRequire(import.meta.url)
const { Auth } = require("@baiducloud/sdk") as {
  Auth: new(ak: string, sk: string) => {
    generateAuthorization(
      method: string,
      uri: string,
      params: Record<string, string>,
      headers: Record<string, string | number>,
      timestamp?: number
    ): string
  }
}

const credentials = Emulator.defaultCredentials.bce
const bucket = "barge"

type Json = any

const signerFor = (secret = credentials.secretAccessKey, accessKeyId = credentials.accessKeyId) =>
  Signer.bce({ accessKeyId, secretAccessKey: Redacted.make(secret) })

const call = (
  action: string,
  body: unknown,
  options: {
    readonly signer?: Signer.Service | null
    readonly raw?: string
    readonly path?: string
  } = {}
) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.post(`${emulator.urls.qianfan}${options.path ?? "/v2/batchinference"}`).pipe(
      HttpClientRequest.setUrlParams({ Action: action }),
      options.raw === undefined
        ? HttpClientRequest.bodyUnsafeJson(body)
        : HttpClientRequest.bodyText(options.raw, "application/json")
    )
    if (options.signer !== null) request = yield* (options.signer ?? signerFor()).sign(request)
    const response = yield* client.execute(request)
    return { status: response.status, headers: response.headers, body: (yield* response.json) as Json }
  }).pipe(Effect.orDie)

const putLines = (key: string, lines: ReadonlyArray<unknown>) =>
  Effect.map(Emulator.Emulator, (emulator) => {
    const text = lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n") + "\n"
    emulator.state.objects.bos.put(bucket, key, new TextEncoder().encode(text))
  })

const queries = (n: number, failing: ReadonlyArray<number> = []) =>
  Array.from({ length: n }, (_, i) => ({
    id: `q${i + 1}`,
    query: failing.includes(i + 1) ? `fail ${Emulator.failMarker}]]` : `question ${i + 1}`
  }))

const createBody = (overrides: Record<string, unknown> = {}) => ({
  name: "batch-task",
  description: "emulator test",
  endpoint: "ernie-4.0-8k",
  inferenceParams: { temperature: 0.5 },
  inputBosUri: `bos:/${bucket}/in/`,
  outputBosUri: `bos:/${bucket}/out/`,
  ...overrides
})

const withEmulator = Utils.withEmulator({ processing: Utils.observableProcessing })

const advance = Utils.advance
const describeTask = (taskId: string) =>
  Effect.map(call("DescribeBatchInferenceTask", { taskId }), (answer) => answer.body.result)

const readLines = (key: string) =>
  Effect.map(Emulator.Emulator, (emulator) => {
    const object = emulator.state.objects.bos.get(bucket, key)
    return object === undefined
      ? undefined
      : new TextDecoder().decode(object.body).trim().split("\n").map((line) => JSON.parse(line))
  })

describe("Qianfan surface", () => {
  it.effect("runs a task Queuing → Running → Done and writes one output file per input file", () =>
    withEmulator(Effect.gen(function*() {
      yield* putLines("in/a.jsonl", queries(3, [2]))
      yield* putLines("in/b.txt", [{ id: "b1", query: "another" }])
      const created = yield* call("CreateBatchInferenceTask", createBody())
      assert.strictEqual(created.status, 200)
      assert.isString(created.headers["x-bce-request-id"])
      assert.strictEqual(created.body.requestId, created.headers["x-bce-request-id"])
      const taskId: string = created.body.result.taskId
      assert.match(taskId, /^infer-[a-z0-9]{11}$/)

      const queued = yield* describeTask(taskId)
      assert.strictEqual(queued.runStatus, "Queuing")
      assert.strictEqual(queued.progress, 0)
      // Qianfan reports no total count; the emulator does not invent one for clients to rely on.
      assert.notProperty(queued, "totalCount")
      assert.match(queued.outputDir, /^[0-9a-f]{24}$/)

      yield* advance("12 seconds")
      const running = yield* describeTask(taskId)
      assert.strictEqual(running.runStatus, "Running")
      assert.strictEqual(running.progress, 2)

      yield* advance("1 minute")
      const done = yield* describeTask(taskId)
      assert.strictEqual(done.runStatus, "Done")
      assert.strictEqual(done.progress, 4)
      assert.isAbove(done.inputTokenUsage, 0)
      assert.isString(done.finishTime)

      const a = (yield* readLines(`out/${done.outputDir}/a.jsonl`))!
      assert.deepStrictEqual(a.map((line: Json) => line.id), ["q1", "q2", "q3"])
      assert.strictEqual(a[0].query, "question 1")
      assert.strictEqual(a[0].output.result, Emulator.expectedContent("q1", "question 1"))
      assert.isNumber(a[1].output.error_code)
      const b = (yield* readLines(`out/${done.outputDir}/b.jsonl`))!
      assert.deepStrictEqual(b.map((line: Json) => line.id), ["b1"])
    })))

  it.effect("stops a running task (Stopping → Stopped, partial output) and answers false once it is over", () =>
    withEmulator(Effect.gen(function*() {
      yield* putLines("in/a.jsonl", queries(10))
      const taskId: string = (yield* call("CreateBatchInferenceTask", createBody())).body.result.taskId
      yield* advance("13 seconds")
      const stopped = yield* call("StopBatchInferenceTask", { taskId })
      assert.deepStrictEqual(stopped.body.result, true)
      assert.strictEqual((yield* describeTask(taskId)).runStatus, "Stopping")
      yield* advance("10 seconds")
      const final = yield* describeTask(taskId)
      assert.strictEqual(final.runStatus, "Stopped")
      assert.strictEqual(final.progress, 3)
      assert.lengthOf((yield* readLines(`out/${final.outputDir}/a.jsonl`))!, 3)
      assert.deepStrictEqual((yield* call("StopBatchInferenceTask", { taskId })).body.result, false)
    })))

  it.effect("fails a task whose input repeats an id, with errorCode and errorReason", () =>
    withEmulator(Effect.gen(function*() {
      yield* putLines("in/a.jsonl", [{ id: "1", query: "x" }, { id: "1", query: "y" }])
      const taskId: string = (yield* call("CreateBatchInferenceTask", createBody())).body.result.taskId
      yield* advance("11 seconds")
      const failed = yield* describeTask(taskId)
      assert.strictEqual(failed.runStatus, "Failed")
      assert.isNumber(failed.errorCode)
      assert.include(failed.errorReason, "repeats the id")
    })))

  it.effect("expires a task that cannot finish inside its 24h completion window", () =>
    Utils.withEmulator({ processing: { queuedFor: "10 seconds", perRequest: "1 minute" } })(Effect.gen(function*() {
      // 2000 lines at a minute each need about 33 hours: more than the 24 h window.
      yield* putLines("in/a.jsonl", queries(2000))
      const longTask: string = (yield* call("CreateBatchInferenceTask", createBody({ completion_window: "24h" }))).body
        .result.taskId
      yield* advance("23 hours")
      assert.strictEqual((yield* describeTask(longTask)).runStatus, "Running")
      yield* advance("2 hours")
      const expired = yield* describeTask(longTask)
      assert.strictEqual(expired.runStatus, "Expired")
      assert.isBelow(expired.progress, 2000)
      assert.isAbove(expired.progress, 0)
    })))

  it.effect("takes completion_window \"24h\" or none, and refuses any other value naming what it accepts", () =>
    withEmulator(Effect.gen(function*() {
      yield* putLines("in/a.jsonl", queries(1))
      for (const window of ["1h", "168h", "672h", "2d"]) {
        const refused = yield* call("CreateBatchInferenceTask", createBody({ completion_window: window }))
        assert.deepStrictEqual([refused.status, refused.body.code], [400, "InvalidParameter"], window)
        assert.include(refused.body.message, `can only be "24h"`)
      }
      assert.strictEqual(
        (yield* call("CreateBatchInferenceTask", createBody({ completion_window: "24h" }))).status,
        200
      )
      assert.strictEqual((yield* call("CreateBatchInferenceTask", createBody())).status, 200)
    })))

  it.effect("deletes a finished task (Describe then answers ResourceNotFound) and answers false for a running one", () =>
    withEmulator(Effect.gen(function*() {
      yield* putLines("in/a.jsonl", queries(3))
      const taskId: string = (yield* call("CreateBatchInferenceTask", createBody())).body.result.taskId
      const running = yield* call("DeleteBatchInferenceTask", { taskId })
      assert.deepStrictEqual([running.status, running.body.result], [200, false])
      yield* advance("1 minute")
      const done = yield* describeTask(taskId)
      assert.strictEqual(done.runStatus, "Done")
      const deleted = yield* call("DeleteBatchInferenceTask", { taskId })
      assert.deepStrictEqual([deleted.status, deleted.body.result], [200, true])
      const gone = yield* call("DescribeBatchInferenceTask", { taskId })
      assert.deepStrictEqual([gone.status, gone.body.code], [404, "ResourceNotFound"])
      assert.lengthOf((yield* call("DescribeBatchInferenceTasks", {})).body.result.taskList, 0)
      // The output stays in BOS.
      assert.lengthOf((yield* readLines(`out/${done.outputDir}/a.jsonl`))!, 3)
      const again = yield* call("DeleteBatchInferenceTask", { taskId })
      assert.deepStrictEqual([again.status, again.body.code], [404, "ResourceNotFound"])
    })))

  it.effect("a patched task shows the fields a test puts over it, in Describe and in the list", () =>
    withEmulator(Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* putLines("in/a.jsonl", queries(1))
      const taskId: string = (yield* call("CreateBatchInferenceTask", createBody())).body.result.taskId
      emulator.state.qianfan.patch(taskId, { runStatus: "Paused", name: undefined })
      const patched = yield* describeTask(taskId)
      assert.strictEqual(patched.runStatus, "Paused")
      assert.notProperty(patched, "name")
      const listed = (yield* call("DescribeBatchInferenceTasks", {})).body.result.taskList
      assert.strictEqual(listed[0].runStatus, "Paused")
    })))

  it.effect("creates every task exactly once under concurrent requests", () =>
    withEmulator(Effect.gen(function*() {
      yield* putLines("in/a.jsonl", queries(1))
      const created = yield* Effect.forEach(
        Array.from({ length: 15 }, (_, i) => i),
        (i) => call("CreateBatchInferenceTask", createBody({ name: `task-${i}` })),
        { concurrency: "unbounded" }
      )
      const ids = new Set(created.map((answer) => answer.body.result.taskId))
      assert.strictEqual(ids.size, 15)
      const listed = (yield* call("DescribeBatchInferenceTasks", { maxKeys: 100 })).body.result.taskList
      assert.strictEqual(listed.length, 15)
    })))

  it.effect("refuses the 21st active task with TaskRunningNumberExceedLimit", () =>
    withEmulator(Effect.gen(function*() {
      yield* putLines("in/a.jsonl", queries(1))
      for (let i = 0; i < 20; i++) {
        assert.strictEqual((yield* call("CreateBatchInferenceTask", createBody())).status, 200)
      }
      const refused = yield* call("CreateBatchInferenceTask", createBody())
      assert.strictEqual(refused.status, 400)
      assert.strictEqual(refused.body.code, "TaskRunningNumberExceedLimit")
      yield* advance("1 minute")
      assert.strictEqual((yield* call("CreateBatchInferenceTask", createBody())).status, 200)
    })))

  it.effect("lists tasks in pages with marker/maxKeys and filters by runStatus", () =>
    withEmulator(Effect.gen(function*() {
      yield* putLines("in/a.jsonl", queries(1))
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) ids.push((yield* call("CreateBatchInferenceTask", createBody())).body.result.taskId)
      const first = (yield* call("DescribeBatchInferenceTasks", { maxKeys: 2 })).body.result
      assert.deepStrictEqual(first.taskList.map((t: Json) => t.taskId), [ids[4], ids[3]])
      assert.deepStrictEqual(first.pageInfo, { marker: ids[3], maxKeys: 2, isTruncated: true })
      const rest = (yield* call("DescribeBatchInferenceTasks", { maxKeys: 10, marker: ids[3] })).body.result
      assert.deepStrictEqual(rest.taskList.map((t: Json) => t.taskId), [ids[2], ids[1], ids[0]])
      assert.strictEqual(rest.pageInfo.isTruncated, false)
      const reversed = (yield* call("DescribeBatchInferenceTasks", { pageReverse: true, maxKeys: 1 })).body.result
      assert.deepStrictEqual(reversed.taskList.map((t: Json) => t.taskId), [ids[0]])
      yield* call("StopBatchInferenceTask", { taskId: ids[1] })
      const stopping = (yield* call("DescribeBatchInferenceTasks", { runStatus: ["Stopping"] })).body.result
      assert.deepStrictEqual(stopping.taskList.map((t: Json) => t.taskId), [ids[1]])
      const capped = (yield* call("DescribeBatchInferenceTasks", { maxKeys: 500 })).body.result
      assert.strictEqual(capped.pageInfo.maxKeys, 100)
    })))

  it.effect("answers validation errors with the BCE envelope", () =>
    withEmulator(Effect.gen(function*() {
      yield* putLines("in/a.jsonl", queries(1))
      const expectError = (answer: { status: number; body: Json }, status: number, code: string) => {
        assert.strictEqual(answer.status, status)
        assert.strictEqual(answer.body.code, code)
        assert.isString(answer.body.requestId)
        assert.isString(answer.body.message)
      }
      expectError(yield* call("CreateBatchInferenceTask", null, { raw: "{not json" }), 400, "MalformedJSON")
      expectError(yield* call("CreateBatchInferenceTask", { name: 5 }), 400, "InappropriateJSON")
      expectError(yield* call("CreateBatchInferenceTask", createBody({ name: "x" })), 400, "InvalidParameter")
      expectError(
        yield* call("CreateBatchInferenceTask", createBody({ modelId: "amv-irrrsmxabb6r" })),
        400,
        "InvalidParameter"
      )
      expectError(
        yield* call("CreateBatchInferenceTask", createBody({ endpoint: "no-such-model" })),
        400,
        "InvalidParameter"
      )
      expectError(
        yield* call("CreateBatchInferenceTask", createBody({ inputBosUri: "bos://barge/in/" })),
        400,
        "InvalidParameter"
      )
      expectError(
        yield* call("CreateBatchInferenceTask", createBody({ inputBosUri: "bos:/barge/empty/" })),
        400,
        "InvalidParameter"
      )
      expectError(yield* call("DescribeBatchInferenceTask", { taskId: "infer-nosuchtask1" }), 404, "ResourceNotFound")
      const noBucket = yield* call("CreateBatchInferenceTask", createBody({ outputBosUri: "bos:/no-such-bucket/out/" }))
      expectError(noBucket, 400, "InvalidParameter")
      assert.include(noBucket.body.message, "(buckets: barge)")
      // BCE's public table: a URI that does not parse is 400 (not 404).
      expectError(yield* call("DescribeBatchInferenceTasks", {}, { path: "/v2/batchinferencez" }), 400, "InvalidURI")
      expectError(yield* call("NoSuchAction", {}), 400, "InvalidAction")
    })))

  it.effect("authenticates every request: missing, unknown key, wrong secret", () =>
    withEmulator(Effect.gen(function*() {
      const missing = yield* call("DescribeBatchInferenceTasks", {}, { signer: null })
      assert.deepStrictEqual([missing.status, missing.body.code], [403, "AccessDenied"])
      const unknown = yield* call("DescribeBatchInferenceTasks", {}, { signer: signerFor(undefined, "nobody") })
      assert.deepStrictEqual([unknown.status, unknown.body.code], [403, "InvalidAccessKeyId"])
      const wrong = yield* call("DescribeBatchInferenceTasks", {}, { signer: signerFor("wrong-secret") })
      assert.deepStrictEqual([wrong.status, wrong.body.code], [403, "SignatureDoesNotMatch"])
    })))

  it.live("accepts a request signed by @baiducloud/sdk's Auth and rejects it with one byte changed", () =>
    withEmulator(Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const url = new URL(emulator.urls.qianfan)
      const send = async (action: string) => {
        const headers: Record<string, string> = {
          host: url.host,
          "content-type": "application/json",
          "x-bce-date": new Date().toISOString().replace(/\.\d+Z$/, "Z")
        }
        headers.authorization = new Auth(credentials.accessKeyId, credentials.secretAccessKey).generateAuthorization(
          "POST",
          "/v2/batchinference",
          { Action: "DescribeBatchInferenceTasks" },
          headers
        )
        const response = await fetch(`${emulator.urls.qianfan}/v2/batchinference?Action=${action}`, {
          method: "POST",
          headers,
          body: "{}"
        })
        return { status: response.status, body: await response.json() as Json }
      }
      const accepted = yield* Effect.promise(() => send("DescribeBatchInferenceTasks"))
      assert.strictEqual(accepted.status, 200)
      assert.deepStrictEqual(accepted.body.result.taskList, [])
      // One byte of the signed query changed after signing.
      const rejected = yield* Effect.promise(() => send("DescribeBatchInferenceTaskz"))
      assert.deepStrictEqual([rejected.status, rejected.body.code], [403, "SignatureDoesNotMatch"])
    })))
})
