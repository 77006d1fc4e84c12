/**
 * Reading a job's output file (`results.jsonl` or the errors file) as typed results, line by line in constant
 * memory, resuming a broken download from the last complete line (see `Storage.lines`).
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Errors from "../Errors.js"
import * as Job from "../Job.js"
import type * as Storage from "../Storage.js"
import * as Wire from "../Wire.js"

const decodeLine = Schema.decodeUnknown(Schema.parseJson(Wire.ResultLine))

/** The file's results; an absent file (Ark omits the errors file when nothing failed) is empty. */
export const read = (storage: Storage.Service, key: string) =>
  storage.lines(key).pipe(
    Stream.filter((line) => line.text.trim() !== ""),
    Stream.mapEffect((line) =>
      decodeLine(line.text).pipe(
        Effect.map(Job.resultFromWire),
        Effect.mapError((error) =>
          new Errors.TosError({
            operation: "ReadResults",
            bucket: storage.bucket,
            key,
            status: 200,
            code: "MalformedResultLine",
            description: `line ${line.lineNumber}: ${error.message}`
          })
        )
      )
    ),
    Stream.catchAll((error) =>
      error._tag === "TosError" && error.status === 404 && error.code === "NoSuchKey"
        ? Stream.empty
        : Stream.fail(error)
    )
  )
