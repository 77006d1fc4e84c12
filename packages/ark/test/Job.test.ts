import { Job, Wire } from "@barge/ark"
import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as internal from "../src/internal/provider.js"

const decode = Schema.decodeUnknownSync(Wire.BatchInferenceJob)

/** The Get example of DOC-1339609. */
const documented = (overrides: Record<string, unknown> = {}) =>
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

describe("Job", () => {
  it("maps the documented Get example onto the camelCase job", () => {
    const job = Job.fromWire(documented())
    assert.deepStrictEqual(job.model, Job.foundationModel("doubao-pro-32k", "240615"))
    assert.deepStrictEqual({ ...job.input! }, {
      bucket: "my-bucket-name",
      key: "batch-inference-job/dataset/my-job.jsonl"
    })
    assert.deepStrictEqual({ ...job.counts }, { total: 2, completed: 2, failed: 0 })
    assert.strictEqual(job.expiresAt!.toISOString(), "2024-09-19T11:46:41.000Z")
    assert.isTrue(job.isTerminal)
    assert.strictEqual(job.tag("sys:ark:createdBy"), "IAMUser/x")
  })

  it("derives ExpireTime from CreateTime + CompletionWindow (\"Nd\" or \"N days\") when Ark leaves it out", () => {
    const job = Job.fromWire(documented({ ExpireTime: undefined, CompletionWindow: "28 days" }))
    assert.strictEqual(job.expiresAt!.toISOString(), "2024-10-16T11:46:41.000Z")
  })

  it("reads a job that has nothing but its Id", () => {
    const job = Job.fromWire(decode({ Id: "bi-20240918194641-r2nwq" }))
    assert.deepStrictEqual([job.id, job.phase, job.name, job.model, job.tags], [
      "bi-20240918194641-r2nwq",
      "",
      undefined,
      undefined,
      []
    ])
    assert.deepStrictEqual([internal.status(job).phase, internal.status(job).providerStatus], ["unknown", "(none)"])
  })
})

describe("Ark's status mapping", () => {
  const statusOf = (overrides: Record<string, unknown>) => internal.status(Job.fromWire(documented(overrides)))

  it("maps the six phases; a Terminated job that ended at its expiry is expired", () => {
    const phase = (Phase: string, PhaseTime = "2024-09-18T12:00:00Z") =>
      statusOf({ Status: { Phase, PhaseTime } }).phase
    assert.deepStrictEqual(
      ["Queued", "Running", "Completed", "Terminating", "Terminated", "Failed"].map((p) => phase(p)),
      ["pending", "running", "completed", "cancelling", "cancelled", "failed"]
    )
    assert.strictEqual(phase("Terminated", "2024-09-19T11:46:41Z"), "expired")
  })

  it("keeps an unknown phase word, non-terminal; `constructor` is a word like any other", () => {
    for (const word of ["Initializing", "constructor", "toString"]) {
      const status = statusOf({ Status: { Phase: word } })
      assert.deepStrictEqual([status.phase, status.providerStatus], ["unknown", word])
    }
  })

  it("counts the requests a job was created with until Ark has read them", () => {
    const status = statusOf({
      RequestCounts: {},
      Status: { Phase: "Queued" },
      Tags: [{ Key: "barge-lines", Value: "7" }]
    })
    assert.strictEqual(status.counts.total, 7)
  })
})

describe("Ark's model forms", () => {
  it("takes name@version, custom:<id> and bare names it knows a version of", () => {
    const versions = internal.defaultVersions
    assert.deepStrictEqual(
      internal.modelOf("doubao-pro-32k@241215", versions),
      Either.right(Job.foundationModel("doubao-pro-32k", "241215"))
    )
    assert.strictEqual(internal.modelOf("custom:cm-123", versions)._tag, "Right")
    assert.strictEqual(internal.modelOf("doubao-pro-32k", versions)._tag, "Right")
    assert.strictEqual(internal.modelOf("doubao-unknown", versions)._tag, "Left")
    assert.strictEqual(internal.modelOf("ep-20250101-x", versions)._tag, "Left")
  })

  it("encodes a request as Ark's line: custom_id and the body without the model", () => {
    assert.strictEqual(
      internal.encodeLine({ customId: "a", model: "m", messages: [{ role: "user", content: "你好" }], top_p: 1 }),
      "{\"custom_id\":\"a\",\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"你好\"}],\"top_p\":1}}"
    )
  })
})
