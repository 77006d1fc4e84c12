import { ArkBatch, Errors, Job, Wire } from "@barge/ark"
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"

const metadata = (code: string, message = "msg", codeN?: number) =>
  Wire.ResponseMetadata.make({
    RequestId: "req-1",
    Action: "X",
    Error: Wire.ErrorInfo.make({ Code: code, Message: message, ...(codeN === undefined ? {} : { CodeN: codeN }) })
  })

describe("Errors.fromEnvelope", () => {
  it("maps each documented code to its member of the union, keeping Code, CodeN, Message and RequestId", () => {
    const cases: Array<[string, number, string]> = [
      ["InvalidAccessKey", 401, "AuthenticationError"],
      ["SignatureDoesNotMatch", 401, "AuthenticationError"],
      ["InvalidTimestamp", 400, "AuthenticationError"],
      ["MissingAuthenticationToken", 401, "AuthenticationError"],
      ["AccessDenied", 403, "AccessDenied"],
      ["LackPolicy", 403, "AccessDenied"],
      ["InvalidParameter", 400, "InvalidParameter"],
      ["InvalidParameter.Name", 400, "InvalidParameter"],
      ["MissingParameter", 400, "MissingParameter"],
      ["NotFound.BatchInferenceJob", 404, "NotFound"],
      ["InvalidEndpointOrModel.NotFound", 404, "NotFound"],
      ["FlowLimitExceeded", 429, "Throttled"],
      ["InternalError", 500, "ServerError"],
      ["SomethingNew", 400, "ArkApiError"]
    ]
    for (const [code, status, tag] of cases) {
      const error = Errors.fromEnvelope("GetBatchInferenceJob", status, metadata(code, "details", 100010))
      assert.strictEqual(error._tag, tag, code)
      assert.deepStrictEqual([error.code, error.codeN, error.description, error.requestId], [
        code,
        100010,
        "details",
        "req-1"
      ])
      assert.include(error.message, code)
    }
  })

  it("reads the active job id out of a Create refusal, whatever its code", () => {
    const error = Errors.fromEnvelope(
      "CreateBatchInferenceJob",
      400,
      metadata("OperationDenied.Unknown", "任务 bi-20240918194641-r2nwq 正在运行或排队")
    )
    assert.strictEqual(error._tag, "DuplicateActiveJob")
    assert.strictEqual((error as Errors.DuplicateActiveJob).activeJobId, "bi-20240918194641-r2nwq")
  })
})

/** A scripted Ark endpoint: answers each action with the given status and body (no signature check). */
const scripted = (answers: Record<string, { status: number; body: unknown }>) =>
  Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request, url) => {
      const action = url.searchParams.get("Action") ?? ""
      const answer = answers[action] ?? { status: 404, body: {} }
      return Effect.succeed(
        HttpClientResponse.fromWeb(
          request,
          new Response(JSON.stringify(answer.body), {
            status: answer.status,
            headers: { "content-type": "application/json" }
          })
        )
      )
    })
  )

const options: ArkBatch.Options = {
  accessKeyId: Redacted.make("AKLTtest"),
  secretAccessKey: Redacted.make("secret"),
  endpoint: "http://127.0.0.1:9",
  tosEndpoint: "http://127.0.0.1:9",
  retry: false
}

const job = (id: string, key: string) => ({
  Id: id,
  Name: "n",
  ProjectName: "default",
  InputFileTosLocation: { BucketName: "b", ObjectKey: key },
  OutputDirTosLocation: { BucketName: "b", ObjectKey: "o/" },
  Status: { Phase: "Running", Message: "" },
  ModelReference: { FoundationModel: { Name: "doubao-pro-32k", ModelVersion: "240615" } },
  RequestCounts: { Total: 1, Completed: 0, Failed: 0 },
  CreateTime: "2026-01-01T00:00:00Z"
})

describe("ArkBatch envelope handling", () => {
  it.effect("an HTTP 200 carrying ResponseMetadata.Error is a typed failure", () =>
    Effect.gen(function*() {
      const ark = yield* ArkBatch.make(options)
      const error = yield* Effect.flip(ark.get("bi-20260101000000-aaaaa"))
      assert.strictEqual(error._tag, "AccessDenied")
      assert.strictEqual((error as Errors.AccessDenied).status, 200)
    }).pipe(Effect.provide(scripted({
      GetBatchInferenceJob: {
        status: 200,
        body: { ResponseMetadata: { RequestId: "r", Error: { Code: "AccessDenied", CodeN: 100013, Message: "no" } } }
      }
    }))))

  it.effect("a duplicate refusal without a job id is resolved with a List of Queued/Running jobs on the same input", () =>
    Effect.gen(function*() {
      const ark = yield* ArkBatch.make(options)
      const error = yield* Effect.flip(ark.create({
        name: "n",
        model: Job.foundationModel("doubao-pro-32k", "240615"),
        input: Job.Location.make({ bucket: "b", key: "in.jsonl" }),
        outputDir: Job.Location.make({ bucket: "b", key: "o/" })
      }))
      assert.strictEqual(error._tag, "DuplicateActiveJob")
      assert.strictEqual((error as Errors.DuplicateActiveJob).activeJobId, "bi-20260101000000-match")
    }).pipe(Effect.provide(scripted({
      CreateBatchInferenceJob: {
        status: 409,
        body: { ResponseMetadata: { Error: { Code: "Conflict", Message: "an identical job is already running" } } }
      },
      ListBatchInferenceJobs: {
        status: 200,
        body: {
          ResponseMetadata: { RequestId: "r" },
          Result: {
            Items: [job("bi-20260101000000-other", "other.jsonl"), job("bi-20260101000000-match", "in.jsonl")],
            PageNumber: 1,
            PageSize: 100,
            TotalCount: 2
          }
        }
      }
    }))))
})

describe("ArkBatch.layerConfig", () => {
  it.effect("a missing credential is a ConfigError naming the variable", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.provide(ArkBatch.ArkBatch, ArkBatch.layerConfig()))
      assert.include(String(error), "VOLC_SECRETKEY")
    }).pipe(
      Effect.provide(scripted({})),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["VOLC_ACCESSKEY", "AKLTx"]])))
    ))

  it.effect("reads credentials, region and endpoints from the environment", () =>
    Effect.gen(function*() {
      const config = yield* ArkBatch.config()
      assert.strictEqual(config.region, "cn-beijing")
      assert.strictEqual(config.endpoint, "https://open.volcengineapi.com")
      assert.strictEqual(config.bucket, "my-bucket")
      assert.strictEqual(Redacted.value(config.secretAccessKey), "sk")
      assert.notInclude(String(config.secretAccessKey), "sk")
    }).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(
      new Map([["VOLC_ACCESSKEY", "AKLTx"], ["VOLC_SECRETKEY", "sk"], ["ARK_TOS_BUCKET", "my-bucket"]])
    ))))
})
