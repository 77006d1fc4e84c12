/**
 * The JSON the emulated OpenAI-compatible platforms send: Moonshot's documented objects (spec A1/A2), plus OpenAI's
 * `errors` list on failed batches (UNCONFIRMED for Moonshot; clients must tolerate it either way) and, where the
 * profile says so, OpenAI's `expired_at` and `model`.
 */

/** A file as `GET /files/{id}` returns it. */
export interface FileObject {
  readonly id: string
  readonly object: "file"
  readonly bytes: number
  readonly created_at: number
  readonly filename: string
  readonly purpose: string
  // UNCONFIRMED on Moonshot: the status enum is undocumented; its OpenAPI example shows "ready".
  readonly status: string
  readonly status_details: string | null
}

/** One reason a batch failed validation, in OpenAI's `BatchError` shape. */
export interface BatchErrorItem {
  readonly code: string
  readonly message: string
  readonly line: number | null
  readonly param: string | null
}

/** A batch as `GET /batches/{id}` returns it; `status` is the profile's word. */
export interface BatchObject {
  readonly id: string
  readonly object: "batch"
  readonly endpoint: string
  readonly input_file_id: string
  readonly completion_window: string
  readonly status: string
  readonly model?: string | null
  readonly created_at: number
  readonly request_counts: { readonly completed: number; readonly failed: number; readonly total: number }
  readonly output_file_id: string | null
  readonly error_file_id: string | null
  readonly in_progress_at: number | null
  readonly expires_at: number | null
  readonly finalizing_at: number | null
  readonly completed_at: number | null
  readonly failed_at: number | null
  readonly expired_at?: number | null
  readonly cancelling_at: number | null
  readonly cancelled_at: number | null
  readonly metadata: Record<string, string> | null
  readonly errors?: { readonly object: "list"; readonly data: ReadonlyArray<BatchErrorItem> }
}

/** One line of a batch output or error file (the OpenAI convention; UNCONFIRMED for Moonshot and Qianfan). */
export interface ResultLine {
  readonly id: string
  readonly custom_id: string
  readonly response: { readonly status_code: number; readonly request_id: string; readonly body: unknown } | null
  readonly error: { readonly code: string; readonly message: string } | null
}

/** Seconds since the epoch, the unit of every timestamp. */
export const toSeconds = (millis: number): number => Math.floor(millis / 1000)
