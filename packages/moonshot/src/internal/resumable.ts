/**
 * Lines of a remote file of known size, resumed with a ranged request from the end of the last complete line when
 * the body drops or comes back short. A line is only emitted once a later line (or the verified end of the file)
 * proves it complete, so nothing is emitted twice or cut short.
 *
 * Core's `Download.resumableLines` is the shared home for this; this module exists until it lands.
 */
import * as Jsonl from "@barge/core/Jsonl"
import * as Stream from "effect/Stream"

/** How to reopen the file and which failures are worth reopening for. */
export interface ResumeOptions<E> {
  readonly size: number
  readonly open: (offset: number) => Stream.Stream<Uint8Array, E>
  readonly isResumable: (error: E) => boolean
  readonly maxResumes?: number
  /** Raised when the body keeps ending before `size` bytes. */
  readonly onShort: (offset: number) => E
}

/** The file's lines, in order, each exactly once. */
export const lines = <E>(options: ResumeOptions<E>): Stream.Stream<Jsonl.Line, E | Jsonl.JsonlError> =>
  Stream.suspend(() => {
    let offset = 0
    let lineNumber = 1
    let resumes = 0
    const maxResumes = options.maxResumes ?? 10

    const attempt = (): Stream.Stream<Jsonl.Line, E | Jsonl.JsonlError> => {
      let held: Jsonl.Line | undefined
      const release = (line: Jsonl.Line): Array<Jsonl.Line> => {
        const previous = held
        held = line
        if (previous === undefined) return []
        offset = previous.byteEnd
        lineNumber = previous.lineNumber + 1
        return [previous]
      }
      const finish = Stream.suspend((): Stream.Stream<Jsonl.Line, E | Jsonl.JsonlError> => {
        const last = held
        if (last !== undefined && last.byteEnd >= options.size) {
          offset = last.byteEnd
          lineNumber = last.lineNumber + 1
          return Stream.make(last)
        }
        if (offset >= options.size && last === undefined) return Stream.empty
        return retry(options.onShort(offset))
      })
      const retry = (error: E | Jsonl.JsonlError): Stream.Stream<Jsonl.Line, E | Jsonl.JsonlError> => {
        const resumable = !(error instanceof Jsonl.JsonlError) && options.isResumable(error as E)
        if (!resumable || resumes >= maxResumes) return Stream.fail(error)
        resumes++
        return Stream.suspend(attempt)
      }
      const startOffset = offset
      return Jsonl.lines(options.open(startOffset), { byteOffset: startOffset, lineNumber }).pipe(
        Stream.mapConcat(release),
        Stream.concat(finish),
        Stream.catchAll((error) =>
          // A line cut by the drop may have failed UTF-8 decoding; a truncated body is resumable then too.
          error instanceof Jsonl.JsonlError && error.reason === "InvalidUtf8" && resumes < maxResumes
            ? Stream.suspend(() => {
              resumes++
              return attempt()
            })
            : retry(error)
        )
      )
    }
    return attempt()
  })
