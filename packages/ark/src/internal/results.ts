/**
 * Reading a job's output file (`results.jsonl` or the errors file) as typed results, chunk by chunk in constant
 * memory (no Effect per line), resuming a broken download from the last complete line (see `Storage.lines`).
 */
import * as Jsonl from "@barge/core/Jsonl"
import * as Stream from "effect/Stream"
import * as Errors from "../Errors.js"
import * as Job from "../Job.js"
import type * as Storage from "../Storage.js"
import * as Wire from "../Wire.js"

/** The file's results; an absent file (Ark omits the errors file when nothing failed) is empty. */
export const read = (storage: Storage.Service, key: string) =>
  storage.lines(key).pipe(
    // Blank lines are skipped.
    Jsonl.decodeLines(Wire.ResultLine, { fast: Wire.fastResultLine }),
    Stream.map(Job.resultFromWire),
    Stream.mapError((error) =>
      error instanceof Jsonl.JsonlError && (error.reason === "InvalidJson" || error.reason === "SchemaMismatch")
        ? new Errors.TosError({
          operation: "ReadResults",
          bucket: storage.bucket,
          key,
          status: 200,
          code: "MalformedResultLine",
          description: `line ${error.lineNumber}: ${error.description}`
        })
        : error
    ),
    Stream.catchAll((error) =>
      error._tag === "TosError" && error.status === 404 && error.code === "NoSuchKey"
        ? Stream.empty
        : Stream.fail(error)
    )
  )
