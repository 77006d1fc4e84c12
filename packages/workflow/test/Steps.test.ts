/**
 * Which launch failures make an execution wait for room instead of failing, read through each provider's own error
 * table (the refusals as the provider sends them, mapped by its `ApiError.Table`).
 */
import * as ArkErrors from "@barge/ark/Errors"
import * as ApiError from "@barge/core/ApiError"
import * as Batch from "@barge/core/Batch"
import * as TransportError from "@barge/core/TransportError"
import * as MoonshotBatch from "@barge/moonshot/MoonshotBatch"
import * as OpenAiErrors from "@barge/openai-compatible/Errors"
import * as OpenAiBatch from "@barge/openai-compatible/OpenAiBatch"
import * as QianfanErrors from "@barge/qianfan/Errors"
import { assert, describe, it } from "@effect/vitest"
import { Duration } from "effect"
import * as Steps from "../src/internal/steps.js"

const qianfan = (code: string) =>
  ApiError.make(QianfanErrors.table, { action: "CreateBatchInferenceTask", status: 400, code, description: code })
const ark = (code: string, status: number) =>
  ApiError.make(ArkErrors.table, { action: "CreateBatchInferenceJob", status, code, description: code })
const openAi = (table: ApiError.Table, code: string, status: number) =>
  ApiError.make(table, { action: "CreateBatch", status, code, description: code })
const moonshot = OpenAiErrors.table(MoonshotBatch.profile)
const openai = OpenAiErrors.table(OpenAiBatch.profile)

describe("Steps.isBusy", () => {
  it("a limit on running jobs, a rate limit or an overload waits for room; a spent quota or a refusal of the batch fails", () => {
    const cases: ReadonlyArray<readonly [ApiError.ApiError, busy: boolean]> = [
      [qianfan("TaskRunningNumberExceedLimit"), true],
      [ark("Throttling", 429), true],
      [ark("ServerOverloaded", 503), true],
      [openAi(moonshot, "rate_limit_reached_error", 429), true],
      [openAi(moonshot, "engine_overloaded_error", 429), true],
      [openAi(openai, "rate_limit_exceeded", 429), true],
      [qianfan("AccountOverdue"), false],
      [qianfan("InvalidParameter"), false],
      [ark("AccountOverdueError", 403), false],
      [ark("AccessDenied", 403), false],
      [openAi(moonshot, "exceeded_current_quota_error", 429), false],
      [openAi(openai, "insufficient_quota", 429), false],
      [openAi(openai, "invalid_api_key", 401), false]
    ]
    for (const [error, busy] of cases) assert.strictEqual(Steps.isBusy(error), busy, error.message)
  })

  it("no answer at all is left to the step's retries (the create looks before it sends again)", () => {
    const timeout = new TransportError.RequestTimeout({
      provider: "ark",
      action: "CreateBatchInferenceJob",
      method: "POST",
      url: "https://ark.cn-beijing.volcengineapi.com/",
      timeout: Duration.seconds(30),
      attempts: 3
    })
    assert.isFalse(Steps.isBusy(timeout))
  })

  it("a split submission refused part-way for lack of room waits too (launching again attaches to the parts made)", () => {
    const partial = (cause: ApiError.ApiError) =>
      new Batch.PartialSubmission({ provider: "qianfan", submittedJobIds: ["task-1"], parts: 2, cause })
    assert.isTrue(Steps.isBusy(partial(qianfan("TaskRunningNumberExceedLimit"))))
    assert.isFalse(Steps.isBusy(partial(qianfan("AccountOverdue"))))
  })
})
