import { Effect } from "effect"
import { Cli } from "../../src/index.js"

/** Runs `barge ARGS…` in this process, capturing what it writes; `tty` says whether stdout claims a terminal. */
export const barge = (args: ReadonlyArray<string>, tty = false) =>
  Effect.gen(function*() {
    let stdout = ""
    let stderr = ""
    const output: Cli.Output = {
      out: (text) => void (stdout += text),
      err: (text) => void (stderr += text),
      isTty: () => tty
    }
    const code = yield* Cli.run(args).pipe(Effect.provideService(Cli.CurrentOutput, output))
    return { code, stdout, stderr }
  })
