import { ApiError, TransportError } from "@barge/core"
import { Errors } from "@barge/qianfan"
import { assert, describe, it } from "@effect/vitest"

const statusError = (status: number, body: unknown, provider = "qianfan") =>
  new TransportError.StatusError({
    provider,
    action: "CreateBatchInferenceTask",
    method: "POST",
    url: "https://qianfan.baidubce.com/v2/batchinference",
    status,
    requestId: "header-id",
    body,
    attempts: 1
  })

const envelope = (code: string) => ({ requestId: "body-id", code, message: `${code} happened` })

const mapped = (status: number, body: unknown, provider?: string) => {
  const error = Errors.fromTransport(statusError(status, body, provider))
  assert.instanceOf(error, ApiError.ApiError)
  return error as ApiError.ApiError
}

describe("Errors.table", () => {
  it("maps BCE's public codes, BOS's and the batch codes, with their statuses, onto reasons", () => {
    const cases: ReadonlyArray<readonly [number, string, ApiError.Reason]> = [
      [403, "AccessDenied", "PermissionDenied"],
      [403, "OptInRequired", "PermissionDenied"],
      [400, "InappropriateJSON", "InvalidRequest"],
      [400, "MalformedJSON", "InvalidRequest"],
      [400, "InvalidHTTPRequest", "InvalidRequest"],
      [400, "InvalidURI", "InvalidRequest"],
      [404, "InvalidVersion", "NotFound"],
      [412, "PreconditionFailed", "Conflict"],
      [403, "InvalidAccessKeyId", "Authentication"],
      [400, "InvalidHTTPAuthHeader", "Authentication"],
      [400, "RequestExpired", "Authentication"],
      [403, "SignatureDoesNotMatch", "Authentication"],
      [400, "TaskRunningNumberExceedLimit", "QuotaExceeded"],
      [404, "ResourceNotFound", "NotFound"],
      [404, "NoSuchBucket", "NotFound"],
      [500, "InternalError", "Server"],
      [503, "ServiceUnavailable", "Overloaded"],
      [503, "SomethingNew", "Overloaded"],
      [409, "SomethingNew", "Conflict"]
    ]
    for (const [status, code, reason] of cases) {
      const error = mapped(status, envelope(code))
      assert.deepStrictEqual([error.reason, error.code, error.status, error.requestId], [
        reason,
        code,
        status,
        "body-id"
      ])
      assert.include(error.message, `${code} happened`)
    }
  })

  it("reads a bodiless 404 (a BOS HEAD) as NotFound with the header's request id, for the provider that answered", () => {
    const head = mapped(404, "", "bos")
    assert.deepStrictEqual([head.reason, head.provider, head.requestId], ["NotFound", "bos", "header-id"])
  })

  it("treats server failures as worth a look before resending a create, refusals as not", () => {
    assert.isTrue(ApiError.isAmbiguous(mapped(500, envelope("InternalError"))))
    assert.isFalse(ApiError.isAmbiguous(mapped(400, envelope("TaskRunningNumberExceedLimit"))))
  })
})
