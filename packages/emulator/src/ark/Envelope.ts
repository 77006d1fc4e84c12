/**
 * Volcengine OpenAPI envelopes: `{ ResponseMetadata, Result }` on success, `ResponseMetadata.Error` on failure,
 * with the gateway's codes, `CodeN` values and HTTP statuses from the common error table (docs/6369/68677).
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"

/** The service's identity in every envelope. */
export interface Meta {
  readonly requestId: string
  readonly action: string
  readonly version: string
  readonly region: string
}

/** An error the surface answers with. */
export interface ArkError {
  readonly code: string
  readonly codeN: number
  readonly status: number
  readonly message: string
}

const metadata = (meta: Meta) => ({
  RequestId: meta.requestId,
  Action: meta.action,
  Version: meta.version,
  Service: "ark",
  Region: meta.region
})

/** A successful answer. */
export const success = (meta: Meta, result: unknown): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson({ ResponseMetadata: metadata(meta), Result: result }, {
    headers: { "x-tt-logid": meta.requestId }
  })

/** An error answer: no `Result`, the error inside `ResponseMetadata`. */
export const failure = (meta: Meta, error: ArkError): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(
    {
      ResponseMetadata: { ...metadata(meta), Error: { Code: error.code, CodeN: error.codeN, Message: error.message } }
    },
    { status: error.status, headers: { "x-tt-logid": meta.requestId } }
  )

/**
 * The common gateway errors (docs/6369/68677, with their `CodeN` and HTTP status), plus Ark's own (docs/82379/1299023:
 * `NotFound.<Resource>` 404, `InvalidEndpointOrModel.NotFound` 404, `OperationDenied.*` 403).
 */
export const errors = {
  missingParameter: (name: string): ArkError => ({
    code: "MissingParameter",
    codeN: 100002,
    status: 400,
    message: `The request must contain the parameter ${name}.`
  }),
  invalidParameter: (name: string, detail: string): ArkError => ({
    code: "InvalidParameter",
    codeN: 100001,
    status: 400,
    message: `The specified parameter ${name} is not valid: ${detail}`
  }),
  missingAuthenticationToken: (): ArkError => ({
    code: "MissingAuthenticationToken",
    codeN: 100003,
    status: 401,
    message: "The request must contain an Authorization header."
  }),
  missingRequestInfo: (what: string): ArkError => ({
    code: "MissingRequestInfo",
    codeN: 100004,
    status: 400,
    message: `The request is missing ${what}.`
  }),
  invalidAuthorization: (detail: string): ArkError => ({
    code: "InvalidAuthorization",
    codeN: 100020,
    status: 400,
    message: `The Authorization header is malformed: ${detail}`
  }),
  invalidTimestamp: (): ArkError => ({
    code: "InvalidTimestamp",
    codeN: 100006,
    status: 400,
    message: "The Signature of the request is expired."
  }),
  invalidActionOrVersion: (action: string, version: string): ArkError => ({
    code: "InvalidActionOrVersion",
    codeN: 100008,
    status: 404,
    message: `Could not find operation ${action} for version ${version}`
  }),
  invalidAccessKey: (): ArkError => ({
    code: "InvalidAccessKey",
    codeN: 100009,
    status: 401,
    message: "The AccessKey ID in the request does not exist."
  }),
  signatureDoesNotMatch: (): ArkError => ({
    code: "SignatureDoesNotMatch",
    codeN: 100010,
    status: 401,
    message: "The request signature we calculated does not match the signature you provided."
  }),
  internalError: (): ArkError => ({
    code: "InternalError",
    codeN: 100014,
    status: 500,
    message: "The request has failed due to an internal error."
  }),
  // The codes below are Ark's own; none is documented. UNCONFIRMED: chosen to read like Volcengine's
  // `<Category>.<Resource>` codes, with HTTP statuses that match their meaning.
  jobNotFound: (id: string): ArkError => ({
    code: "NotFound.BatchInferenceJob",
    codeN: 1_700_404,
    status: 404,
    message: `The batch inference job ${id} does not exist or you do not have access to it.`
  }),
  modelNotFound: (model: string): ArkError => ({
    // Ark's data plane answers unknown models with this code (Ark error table); the control plane is assumed alike.
    code: "InvalidEndpointOrModel.NotFound",
    codeN: 1_700_405,
    status: 404,
    message: `The model or endpoint ${model} does not exist or you do not have access to it.`
  }),
  duplicateActiveJob: (id: string): ArkError => ({
    // UNCONFIRMED: only "the message contains the active job's id" is documented (DOC-1339603).
    code: "Conflict.BatchInferenceJob",
    codeN: 1_700_409,
    status: 409,
    message:
      `An active batch inference job ${id} already uses the same project, bucket and input object key; only one such job can be queued or running at a time.`
  }),
  // Ark's error table: `OperationDenied.*` answers 403; `UnsupportedPhase` is the code for "operation is not supported
  // while the target is in its current phase" (docs/82379/1299023). Whether batch actions use it is UNCONFIRMED.
  operationDenied: (id: string, phase: string, operation: string): ArkError => ({
    code: "OperationDenied.UnsupportedPhase",
    codeN: 1_700_403,
    status: 403,
    message: `The batch inference job ${id} cannot be ${operation} while it is ${phase}.`
  })
} as const
