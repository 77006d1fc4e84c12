/**
 * A CPU profile of a measured phase alone, for the workers: start-up and imports are left out.
 */

/**
 * With `BARGE_BENCH_PROFILE=DIR`, records a CPU profile of the measured phase alone (not the process start-up)
 * through the inspector, and writes it to DIR when the phase ends.
 */
export const phaseProfiler = async () => {
  const dir = process.env.BARGE_BENCH_PROFILE
  if (dir === undefined || dir === "") return undefined
  const { Session } = await import("node:inspector/promises")
  const { writeFileSync } = await import("node:fs")
  const { join } = await import("node:path")
  const session = new Session()
  session.connect()
  await session.post("Profiler.enable")
  await session.post("Profiler.setSamplingInterval", { interval: 500 })
  await session.post("Profiler.start")
  return async () => {
    const { profile } = await session.post("Profiler.stop")
    writeFileSync(join(dir, `phase-${process.pid}-${Date.now()}.cpuprofile`), JSON.stringify(profile))
    session.disconnect()
  }
}
