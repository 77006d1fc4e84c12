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

const usage = `Usage: barge-emulator [--host 127.0.0.1] [--port 0] [--time-scale 1] [--faults ${
  Emulator.faultProfiles.join("|")
}] [--seed 1]`

/** The parsed command line, or a message saying what is wrong with it. */
const parseArgs = (argv: ReadonlyArray<string>): Emulator.Options | string => {
  const options: {
    host?: string
    port?: number
    timeScale?: number
    faults?: string
    seed?: number
  } = {}
  const args = argv.filter((arg) => arg !== "--")
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--help" || arg === "-h") return usage
    const eq = arg.indexOf("=")
    const flag = eq > 0 ? arg.slice(0, eq) : arg
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i]
    if (value === undefined) return `${flag} needs a value\n${usage}`
    const number = (min: number, integer: boolean): number | string => {
      const n = Number(value)
      return Number.isFinite(n) && n >= min && (!integer || Number.isInteger(n))
        ? n
        : `${flag} must be ${integer ? "an integer" : "a number"} ≥ ${min}, got "${value}"`
    }
    switch (flag) {
      case "--host":
        options.host = value
        break
      case "--port": {
        const port = number(0, true)
        if (typeof port === "string") return port
        if (port > 65535 - 4) return `--port must leave room for five consecutive ports (≤ 65531), got ${port}`
        options.port = port
        break
      }
      case "--time-scale": {
        const scale = number(Number.MIN_VALUE, false)
        if (typeof scale === "string") return scale
        options.timeScale = scale
        break
      }
      case "--faults":
        if (!Emulator.faultProfiles.includes(value)) {
          return `Unknown fault profile "${value}"; known profiles: ${Emulator.faultProfiles.join(", ")}`
        }
        options.faults = value
        break
      case "--seed": {
        const seed = number(0, true)
        if (typeof seed === "string") return seed
        options.seed = seed
        break
      }
      default:
        return `Unknown argument "${arg}"\n${usage}`
    }
  }
  return options
}

const main = (options: Emulator.Options) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    yield* Console.log(JSON.stringify(emulator.urls))
    return yield* Effect.never
  }).pipe(Effect.provide(Emulator.layerConfig(options)))

const parsed = parseArgs(process.argv.slice(2))
if (typeof parsed === "string") {
  process.stderr.write(`${parsed}\n`)
  process.exit(parsed === usage ? 0 : 2)
} else {
  NodeRuntime.runMain(main(parsed))
}
