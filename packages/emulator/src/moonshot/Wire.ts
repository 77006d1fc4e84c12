/**
 * The JSON the emulated Moonshot API sends, exactly as Moonshot documents it (spec A1/A2), plus the OpenAI
 * `errors` list on failed batches (UNCONFIRMED for Moonshot; clients must tolerate it either way).
 */

/** A file as `GET /v1/files/{id}` returns it. */
export interface FileObject {
  readonly id: string
  readonly object: "file"
  readonly bytes: number
  readonly created_at: number
  readonly filename: string
  readonly purpose: string
  // UNCONFIRMED: the status enum is undocumented; Moonshot's OpenAPI example shows "ready".
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

/** The statuses of a batch. */
export type BatchStatus =
  | "validating"
  | "failed"
  | "in_progress"
  | "finalizing"
  | "completed"
  | "expired"
  | "cancelling"
  | "cancelled"

/** A batch as `GET /v1/batches/{id}` returns it. */
export interface BatchObject {
  readonly id: string
  readonly object: "batch"
  readonly endpoint: string
  readonly input_file_id: string
  readonly completion_window: string
  readonly status: BatchStatus
  readonly created_at: number
  readonly request_counts: { readonly completed: number; readonly failed: number; readonly total: number }
  readonly output_file_id: string | null
  readonly error_file_id: string | null
  readonly in_progress_at: number | null
  readonly expires_at: number | null
  readonly finalizing_at: number | null
  readonly completed_at: number | null
  readonly failed_at: number | null
  readonly cancelling_at: number | null
  readonly cancelled_at: number | null
  readonly metadata: Record<string, string> | null
  readonly errors?: { readonly object: "list"; readonly data: ReadonlyArray<BatchErrorItem> }
}

/** One line of a batch output or error file (the OpenAI convention; UNCONFIRMED for Moonshot, spec A3). */
export interface ResultLine {
  readonly id: string
  readonly custom_id: string
  readonly response: { readonly status_code: number; readonly request_id: string; readonly body: unknown } | null
  readonly error: { readonly code: string; readonly message: string } | null
}

/** Seconds since the epoch, the unit of every Moonshot timestamp. */
export const toSeconds = (millis: number): number => Math.floor(millis / 1000)
