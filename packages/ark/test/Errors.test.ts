import { Errors } from "@barge/ark"
import { ApiError } from "@barge/core"
import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"

const reasonOf = (table: ApiError.Table, code: string, status: number) =>
  ApiError.make(table, { action: "X", status, code, description: "d" }).reason

describe("Ark's error table", () => {
  it("maps the gateway's and Ark's documented codes onto the shared reasons", () => {
    const cases: Array<[code: string, status: number, reason: ApiError.Reason]> = [
      ["MissingAuthenticationToken", 401, "Authentication"],
      ["InvalidAccessKey", 401, "Authentication"],
      ["SignatureDoesNotMatch", 401, "Authentication"],
      ["InvalidTimestamp", 400, "Authentication"],
      ["AccessDenied", 403, "PermissionDenied"],
      ["LackPolicy", 403, "PermissionDenied"],
      ["OperationDenied.ServiceNotOpen", 403, "PermissionDenied"],
      ["OperationDenied.UnsupportedPhase", 403, "Conflict"],
      ["OperationDenied.SomethingNew", 403, "PermissionDenied"],
      ["AccountOverdueError", 403, "QuotaExceeded"],
      ["MissingParameter", 400, "InvalidRequest"],
      ["MissingParameter.ModelReference", 400, "InvalidRequest"],
      ["InvalidParameter.CompletionWindow", 400, "InvalidRequest"],
      ["NotFound.BatchInferenceJob", 404, "NotFound"],
      ["InvalidEndpointOrModel.NotFound", 404, "NotFound"],
      ["InvalidActionOrVersion", 404, "NotFound"],
      ["RateLimitExceeded.EndpointRPMExceeded", 429, "RateLimited"],
      ["FlowLimitExceeded", 429, "RateLimited"],
      ["QuotaExceeded", 429, "QuotaExceeded"],
      ["ServerOverloaded", 429, "Overloaded"],
      ["InternalError", 500, "Server"],
      ["SomethingNew", 503, "Overloaded"],
      ["SomethingElse", 418, "Unknown"]
    ]
    for (const [code, status, reason] of cases) assert.strictEqual(reasonOf(Errors.table, code, status), reason, code)
  })

  it("reads Ark's envelope, and nothing from a body that is not one", () => {
    const body = {
      ResponseMetadata: { RequestId: "r-1", Error: { Code: "AccessDenied", CodeN: 100013, Message: "no" } }
    }
    assert.deepStrictEqual(
      Errors.readEnvelope(body),
      Option.some({ code: "AccessDenied", description: "no", requestId: "r-1" })
    )
    assert.isTrue(Option.isNone(Errors.readEnvelope({ error: { message: "openai-shaped" } })))
    assert.isTrue(Option.isNone(Errors.readEnvelope("<html>gateway</html>")))
  })

  it("maps TOS's codes, telling a missing bucket from a missing object", () => {
    assert.strictEqual(reasonOf(Errors.tosTable, "NoSuchBucket", 404), "NotFound")
    assert.include(
      ApiError.make(Errors.tosTable, { action: "GetObject", code: "NoSuchBucket", description: "" }).message,
      "TOS console"
    )
    assert.strictEqual(reasonOf(Errors.tosTable, "SignatureDoesNotMatch", 403), "Authentication")
    assert.strictEqual(reasonOf(Errors.tosTable, "ExceedAccountQPSLimit", 429), "RateLimited")
  })

  it("reads a duplicate refusal that names no job id by its reason or its words", () => {
    const refusal = (reason: ApiError.Reason, description: string) =>
      new ApiError.ApiError({ provider: "ark", action: "CreateBatchInferenceJob", reason, description })
    assert.isTrue(Errors.looksLikeDuplicate(refusal("Conflict", "busy")))
    assert.isTrue(Errors.looksLikeDuplicate(refusal("InvalidRequest", "相同输入的任务正在运行, 重复提交")))
    assert.isFalse(Errors.looksLikeDuplicate(refusal("NotFound", "The model does not exist")))
    assert.isFalse(Errors.looksLikeDuplicate(refusal("InvalidRequest", "Name is not valid")))
  })
})
