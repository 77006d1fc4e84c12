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
  it("a limit on running jobs, a rate limit or an overload: wait for room", () => {
    for (
      const error of [
        qianfan("TaskRunningNumberExceedLimit"),
        ark("Throttling", 429),
        ark("ServerOverloaded", 503),
        openAi(moonshot, "rate_limit_reached_error", 429),
        openAi(moonshot, "engine_overloaded_error", 429),
        openAi(openai, "rate_limit_exceeded", 429)
      ]
    ) {
      assert.isTrue(Steps.isBusy(error), error.message)
    }
  })

  it("a quota waiting does not refill, or a refusal of the batch itself: fail", () => {
    for (
      const error of [
        qianfan("AccountOverdue"),
        qianfan("InvalidParameter"),
        ark("AccountOverdueError", 403),
        ark("AccessDenied", 403),
        openAi(moonshot, "exceeded_current_quota_error", 429),
        openAi(openai, "insufficient_quota", 429),
        openAi(openai, "invalid_api_key", 401)
      ]
    ) {
      assert.isFalse(Steps.isBusy(error), error.message)
    }
    // No answer at all: the step's retries handle it (the create looks before it sends again), not a wait for room.
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
