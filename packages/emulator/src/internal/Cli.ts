/**
 * The emulator's command line, parsed by hand: five flags do not justify a dependency, and the parser must
 * ignore the bare `--` package managers pass through.
 */
import { services } from "../Emulator.js"
import * as Faults from "./Faults.js"

/** How many services listen on consecutive ports from `--port`. */
const serviceCount = services.length

/** Options the CLI can set (a subset of `Emulator.Options`). */
export interface CliOptions {
  readonly host?: string
  readonly port?: number
  readonly timeScale?: number
  readonly faults?: string | Faults.FaultSpec
  readonly seed?: number
}

const profiles = Object.keys(Faults.profiles)

/** The usage line, also printed for `--help`. */
export const usage = `Usage: barge-emulator [--host 127.0.0.1] [--port 0] [--time-scale 1] [--faults ${
  profiles.join("|")
}] [--seed 1]`

/** The parsed command line, or a message saying what is wrong with it. */
export const parseArgs = (argv: ReadonlyArray<string>): CliOptions | string => {
  const options: {
    host?: string
    port?: number
    timeScale?: number
    faults?: string | Faults.FaultSpec
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
        const last = 65535 - (serviceCount - 1)
        if (port > last) {
          return `--port must leave room for ${serviceCount} consecutive ports (≤ ${last}), got ${port}`
        }
        options.port = port
        break
      }
      case "--time-scale": {
        const scale = number(Number.MIN_VALUE, false)
        if (typeof scale === "string") return scale
        options.timeScale = scale
        break
      }
      case "--faults": {
        if (value.trimStart().startsWith("{")) {
          const spec = Faults.parseSpec(value)
          if (typeof spec === "string") return spec
          options.faults = spec
        } else if (profiles.includes(value)) {
          options.faults = value
        } else {
          return `Unknown fault profile "${value}"; known profiles: ${profiles.join(", ")} (or a JSON spec)`
        }
        break
      }
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
