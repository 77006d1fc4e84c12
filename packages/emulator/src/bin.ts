#!/usr/bin/env node
/**
 * `barge-emulator` / `pnpm --filter @barge/emulator start`: runs the five emulated services until SIGINT or
 * SIGTERM. Once all of them listen it prints ONE line of JSON with their base URLs on stdout, so a script can
 * start it and read where to connect.
 *
 * Flags: `--host H` (default 127.0.0.1), `--port P` (first port; 0 = free ports), `--time-scale N`,
 * `--faults PROFILE`, `--seed N`. A bare `--` (package-manager pass-through) is ignored.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Emulator from "./Emulator.js"
import * as Cli from "./internal/Cli.js"

const main = (options: Emulator.Options) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    yield* Console.log(JSON.stringify(emulator.urls))
    return yield* Effect.never
  }).pipe(Effect.provide(Emulator.layerConfig(options)))

const parsed = Cli.parseArgs(process.argv.slice(2))
if (typeof parsed === "string") {
  process.stderr.write(`${parsed}\n`)
  process.exit(parsed === Cli.usage ? 0 : 2)
} else {
  NodeRuntime.runMain(main(parsed))
}
