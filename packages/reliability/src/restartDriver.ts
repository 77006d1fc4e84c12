/**
 * A batch run that survives being killed: the restart test starts it, SIGKILLs it at some point, and starts it
 * again with the same arguments until it finishes.
 *
 * ```sh
 * tsx packages/reliability/src/restartDriver.ts <provider> '<emulator urls JSON>' <state dir> <requests> <tag>
 * ```
 *
 * Progress lives in the state directory: `submission.json` once a submission exists (so a restart attaches to it
 * instead of submitting again — Ark, for one, only refuses a duplicate of a job still queued or running), and
 * `results.jsonl`, one line per result, appended as each arrives. A restarted results phase reads the whole result
 * stream again and skips every id already recorded, so nothing is written twice. Markers on stdout (`phase …`) tell
 * the test where the run is.
 *
 * @since 0.1.0
 */
import * as Emulator from "@barge/emulator/Emulator"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Flows from "./flows.js"

const say = (line: string) => Effect.sync(() => process.stdout.write(`${line}\n`))

/**
 * The recorded results, after dropping a last line a kill cut short.
 *
 * @since 0.1.0
 */
export const readRecorded = (path: string): ReadonlyArray<Flows.Outcome> => {
  if (!Fs.existsSync(path)) return []
  const text = Fs.readFileSync(path, "utf8")
  const complete = text.slice(0, text.lastIndexOf("\n") + 1)
  if (complete.length !== text.length) Fs.truncateSync(path, Buffer.byteLength(complete))
  return complete.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Flows.Outcome)
}

const main = (argv: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const [provider, urlsJson, stateDir, count, tag] = argv
    const target: Flows.Target = {
      urls: JSON.parse(urlsJson!) as Emulator.Urls,
      credentials: Emulator.defaultCredentials
    }
    const flow = yield* Flows.make(provider as Flows.Provider, target)
    const requests = Flows.makeRequests(Number(count), tag!)
    const submissionPath = Path.join(stateDir!, "submission.json")
    const resultsPath = Path.join(stateDir!, "results.jsonl")
    yield* say("phase start")

    let submitted: Flows.Submitted
    if (Fs.existsSync(submissionPath)) {
      submitted = JSON.parse(Fs.readFileSync(submissionPath, "utf8")) as Flows.Submitted
      yield* say(`phase attached ${submitted.jobIds.join(",")}`)
    } else {
      yield* say("phase submit")
      submitted = yield* flow.submit(requests)
      // Written whole then renamed, so a kill never leaves half a file.
      Fs.writeFileSync(`${submissionPath}.tmp`, JSON.stringify(submitted))
      Fs.renameSync(`${submissionPath}.tmp`, submissionPath)
      yield* say(`phase created ${submitted.jobIds.join(",")}`)
    }

    yield* say("phase polling")
    yield* flow.await(submitted)

    yield* say("phase results")
    const recorded = new Set(readRecorded(resultsPath).map((outcome) => outcome.customId))
    yield* Stream.runForEach(flow.results(submitted), (outcome) =>
      Effect.sync(() => {
        if (recorded.has(outcome.customId)) return
        Fs.appendFileSync(resultsPath, `${JSON.stringify(outcome)}\n`)
        recorded.add(outcome.customId)
      }))
    yield* say(`done ${recorded.size}`)
  }).pipe(Effect.provide(NodeHttpClient.layerUndici))

if (process.argv[1] !== undefined && Path.resolve(process.argv[1]) === Path.resolve(import.meta.filename)) {
  Effect.runPromiseExit(main(process.argv.slice(2))).then((exit) => {
    if (exit._tag === "Failure") {
      process.stderr.write(`${String(exit.cause)}\n`)
      process.exit(1)
    }
    process.exit(0)
  })
}
