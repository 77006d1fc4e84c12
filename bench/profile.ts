/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function, highest first.
 */
import { readFileSync } from "node:fs"

interface ProfileNode {
  readonly id: number
  readonly callFrame: {
    readonly functionName: string
    readonly url: string
    readonly lineNumber: number
  }
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** One function's share of the samples. */
export interface Hotspot {
  readonly name: string
  readonly millis: number
  readonly share: number
}

const where = (node: ProfileNode): string => {
  const { functionName, lineNumber, url } = node.callFrame
  const file = url === "" ? "" : url.replace(/^.*\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, "").replace(
    /^.*\/work\/main\//,
    ""
  ).replace(/^file:\/\//, "")
  return `${functionName === "" ? "(anonymous)" : functionName}${file === "" ? "" : ` ${file}:${lineNumber + 1}`}`
}

/** The `top` functions by self time, each with its share of the whole profile. */
export const hotspots = (path: string, top = 12): ReadonlyArray<Hotspot> => {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0
    total += micros
    const name = where(byId.get(id)!)
    self.set(name, (self.get(name) ?? 0) + micros)
  })
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => ({ name, millis: micros / 1000, share: micros / total }))
}

if (process.argv[1]?.endsWith("profile.ts")) {
  for (const spot of hotspots(process.argv[2]!, Number(process.argv[3] ?? 25))) {
    console.log(
      `${(spot.share * 100).toFixed(1).padStart(5)} %  ${spot.millis.toFixed(0).padStart(6)} ms  ${spot.name}`
    )
  }
}
