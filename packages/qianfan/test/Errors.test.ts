import { TransportError } from "@barge/core"
import { Errors } from "@barge/qianfan"
import { assert, describe, it } from "@effect/vitest"

const statusError = (status: number, body: unknown) =>
  new TransportError.StatusError({
    provider: "qianfan",
    action: "CreateBatchInferenceTask",
    method: "POST",
    url: "https://qianfan.baidubce.com/v2/batchinference",
    status,
    requestId: "header-id",
    body,
    attempts: 1
  })

const envelope = (code: string) => ({ requestId: "body-id", code, message: `${code} happened` })

describe("Errors.fromStatusError", () => {
  it("maps every documented code to its typed error", () => {
    const cases: ReadonlyArray<readonly [number, string, string]> = [
      [403, "AccessDenied", "AccessDenied"],
      [400, "InvalidParameter", "InvalidParameter"],
      [400, "InappropriateJSON", "InvalidParameter"],
      [400, "MalformedJSON", "InvalidParameter"],
      [403, "InvalidAccessKeyId", "AuthenticationError"],
      [400, "InvalidHTTPAuthHeader", "AuthenticationError"],
      [400, "RequestExpired", "AuthenticationError"],
      [403, "SignatureDoesNotMatch", "AuthenticationError"],
      [400, "TaskRunningNumberExceedLimit", "TaskRunningNumberExceedLimit"],
      [404, "ResourceNotFound", "NotFound"],
      [404, "NoSuchKey", "NotFound"],
      [500, "InternalError", "ServerError"],
      [503, "SomethingNew", "ServerError"],
      [409, "SomethingNew", "QianfanApiError"]
    ]
    for (const [status, code, tag] of cases) {
      const error = Errors.fromStatusError(statusError(status, envelope(code)))
      assert.strictEqual(error._tag, tag, code)
      assert.strictEqual(error.code, code)
      assert.strictEqual(error.requestId, "body-id")
      assert.include(error.message, `${code} happened`)
    }
  })

  it("keeps an unknown code whole and reads a bodiless 404 as NotFound", () => {
    const unknown = Errors.fromStatusError(statusError(409, { ...envelope("Conflict"), extra: 1 }))
    assert.strictEqual(unknown._tag, "QianfanApiError")
    if (unknown._tag === "QianfanApiError") assert.deepStrictEqual(unknown.body, { ...envelope("Conflict"), extra: 1 })
    const head = Errors.fromStatusError(statusError(404, ""))
    assert.strictEqual(head._tag, "NotFound")
    assert.strictEqual(head.requestId, "header-id")
  })

  it("TaskRunningNumberExceedLimit carries the limit of 20", () => {
    const error = Errors.fromStatusError(statusError(400, envelope("TaskRunningNumberExceedLimit")))
    assert.strictEqual(error._tag === "TaskRunningNumberExceedLimit" ? error.limit : 0, 20)
  })

  it("treats lost answers and server errors as ambiguous, refusals as not", () => {
    assert.isTrue(Errors.isAmbiguous(Errors.fromStatusError(statusError(502, envelope("BadGateway")))))
    assert.isFalse(Errors.isAmbiguous(Errors.fromStatusError(statusError(400, envelope("InvalidParameter")))))
  })
})
