/**
 * TOS's error codes and HTTP statuses (the `TosServerCode` enum of `@volcengine/tos-sdk`). `ec` is TOS's
 * fine-grained error code header/field; the values here are placeholders (UNCONFIRMED), clients never rely on them.
 */

/** An error the TOS surface answers with. */
export interface TosError {
  readonly code: string
  readonly status: number
  readonly message: string
  readonly ec: string
}

export const errors = {
  /** Names the buckets that exist: the emulator creates a bucket on the first object written to it (`PUT`). */
  noSuchBucket: (bucket: string, existing: ReadonlyArray<string>): TosError => ({
    code: "NoSuchBucket",
    status: 404,
    message: `The specified bucket ${bucket} does not exist. Buckets that exist: ${
      existing.length === 0 ? "none" : existing.join(", ")
    } (the emulator creates a bucket when an object is first written to it).`,
    ec: "0006-00000001"
  }),
  noSuchKey: (key: string): TosError => ({
    code: "NoSuchKey",
    status: 404,
    message: `The specified key ${key} does not exist.`,
    ec: "0017-00000003"
  }),
  accessDenied: (message: string): TosError => ({ code: "AccessDenied", status: 403, message, ec: "0003-00000001" }),
  invalidAccessKeyId: (): TosError => ({
    code: "InvalidAccessKeyId",
    status: 403,
    message: "The AccessKeyId you provided does not exist in our records.",
    ec: "0002-00000003"
  }),
  signatureDoesNotMatch: (): TosError => ({
    code: "SignatureDoesNotMatch",
    status: 403,
    message: "The request signature we calculated does not match the signature you provided.",
    ec: "0002-00000004"
  }),
  requestTimeTooSkewed: (): TosError => ({
    code: "RequestTimeTooSkewed",
    status: 403,
    message: "The difference between the request time and the server's time is too large.",
    ec: "0002-00000005"
  }),
  invalidArgument: (message: string): TosError => ({
    code: "InvalidArgument",
    status: 400,
    message,
    ec: "0002-00000001"
  }),
  invalidObjectName: (): TosError => ({
    code: "InvalidObjectName",
    status: 400,
    message: "The object key is not validly percent-encoded.",
    ec: "0017-00000001"
  }),
  incompleteBody: (): TosError => ({
    code: "IncompleteBody",
    status: 400,
    message: "The request body ended before the declared length.",
    ec: "0017-00000002"
  }),
  methodNotAllowed: (method: string): TosError => ({
    code: "MethodNotAllowed",
    status: 405,
    message: `The method ${method} is not allowed on this resource.`,
    ec: "0001-00000001"
  })
} as const
