import { Job, Wire } from "@barge/ark"
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"

const decode = Schema.decodeUnknownSync(Wire.BatchInferenceJob)

const wireJob = (overrides: Record<string, unknown> = {}) =>
  decode({
    Id: "bi-20240918194641-r2nwq",
    Name: "批量推理任务",
    ProjectName: "default",
    InputFileTosLocation: { BucketName: "my-bucket-name", ObjectKey: "batch-inference-job/dataset/my-job.jsonl" },
    OutputDirTosLocation: { BucketName: "my-bucket-name", ObjectKey: "batch-inference-job/output/" },
    CompletionWindow: "1d",
    Status: { Phase: "Completed", PhaseTime: "2024-09-18T11:50:00Z", Message: "批量推理任务已完成" },
    ModelReference: { FoundationModel: { Name: "doubao-pro-32k", ModelVersion: "240615" } },
    RequestCounts: { Total: 2, Completed: 2, Failed: 0 },
    Tags: [{ Key: "sys:ark:createdBy", Value: "IAMUser/x" }],
    CreateTime: "2024-09-18T11:46:41Z",
    UpdateTime: "2024-09-18T11:50:00Z",
    ExpireTime: "2024-09-19T11:46:41Z",
    ...overrides
  })

describe("Job mapping", () => {
  it("maps the documented Get example to the camelCase job", () => {
    const job = Job.fromWire(wireJob())
    assert.strictEqual(job.id, "bi-20240918194641-r2nwq")
    assert.deepStrictEqual(job.model, Job.foundationModel("doubao-pro-32k", "240615"))
    assert.deepStrictEqual({ ...job.input }, {
      bucket: "my-bucket-name",
      key: "batch-inference-job/dataset/my-job.jsonl"
    })
    assert.deepStrictEqual({ ...job.counts }, { total: 2, completed: 2, failed: 0 })
    assert.strictEqual(job.expiresAt!.toISOString(), "2024-09-19T11:46:41.000Z")
    assert.isTrue(job.isTerminal)
    assert.deepStrictEqual(job.tags, [{ key: "sys:ark:createdBy", value: "IAMUser/x" }])
  })

  it("derives ExpireTime from CreateTime + CompletionWindow (\"Nd\" or \"N days\") when Ark omits it", () => {
    const job = Job.fromWire(wireJob({ ExpireTime: undefined, CompletionWindow: "28 days" }))
    assert.strictEqual(job.expiresAt!.toISOString(), "2024-10-16T11:46:41.000Z")
    assert.strictEqual(Job.parseCompletionWindow("3d"), 3)
    assert.strictEqual(Job.parseCompletionWindow("1 day"), 1)
    assert.isUndefined(Job.parseCompletionWindow("24h"))
  })

  it("keeps unknown phases as strings that are not terminal", () => {
    const job = Job.fromWire(wireJob({ Status: { Phase: "Initializing" } }))
    assert.strictEqual(job.phase, "Initializing")
    assert.isFalse(job.isTerminal)
  })

  it("reads result lines: a 200 response, an error line, and a non-2xx response as an error", () => {
    const line = Schema.decodeUnknownSync(Wire.ResultLine)
    assert.deepStrictEqual(
      Job.resultFromWire(line({ custom_id: "a", error: null, response: { status_code: 200, body: { x: 1 } } })),
      { _tag: "Response", customId: "a", statusCode: 200, response: { x: 1 } }
    )
    const failed = Job.resultFromWire(
      line({ custom_id: "b", response: null, error: { code: "AccessDenied", type: "Forbidden", message: "no" } })
    )
    assert.deepStrictEqual(failed, {
      _tag: "Error",
      customId: "b",
      error: { code: "AccessDenied", type: "Forbidden", message: "no" }
    })
    const status = Job.resultFromWire(line({ custom_id: "c", response: { status_code: 500, body: {} } }))
    assert.strictEqual(status._tag, "Error")
  })
})
