/**
 * `pnpm demo`: the same batch program on every provider at once through the unified `Batch` service — at least
 * 1,000 requests each, live progress, streamed results and a summary table.
 *
 * With no credentials it starts the Barge emulator in this process (nothing leaves the machine). A provider whose
 * credentials are all in the environment (its registry entry names them: `VOLC_ACCESSKEY`/`VOLC_SECRETKEY`/
 * `ARK_TOS_BUCKET`, `MOONSHOT_API_KEY`, `OPENAI_API_KEY`, …) runs against the real service instead; pick its model
 * with `<PROVIDER>_MODEL` (`ARK_MODEL`, `QIANFAN_V2_MODEL`, …).
 *
 *   npx tsx examples/demo.ts      # BARGE_DEMO_REQUESTS=1200; BARGE_DEMO_PROVIDERS=ark,openai,… (default: every one)
 *
 * The providers come from the CLI's registry and run side by side: a new provider adds a row, not its run time.
 */
import * as Providers from "@barge/cli/Providers"
import * as Render from "@barge/cli/Render"
import * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import * as Registry from "@barge/core/Registry"
import * as Emulator from "@barge/emulator/Emulator"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"

// Deep imports above: the demo loads only the modules it uses (the CLI's command tree and the barrels' every
// module cost start-up time, which is most of a demo run).

const requestCount = Math.max(1, Number(process.env.BARGE_DEMO_REQUESTS ?? 1200))
const timeScale = Number(process.env.BARGE_DEMO_TIME_SCALE ?? 30)
// Against the emulator, jobs are capped at this many lines so the demo also shows a split batch merging back.
const linesPerJob = Number(process.env.BARGE_DEMO_LINES_PER_JOB ?? 500)
const interactive = process.env.BARGE_FORCE_TTY === "1" || (process.env.BARGE_FORCE_TTY !== "0" && process.stdout.isTTY)

/** The model a provider's requests name: `<PROVIDER>_MODEL`, else the one its registry entry documents. */
const modelOf = (entry: Registry.Entry) =>
  process.env[`${entry.name.toUpperCase().replace(/-/g, "_")}_MODEL`] ?? entry.model

const chosen = (process.env.BARGE_DEMO_PROVIDERS ?? "").split(",").map((p) => p.trim()).filter((p) => p.length > 0)
const entries = Providers.entries.filter((entry) => chosen.length === 0 || chosen.includes(entry.name))
const providers = entries.map((entry) => entry.name)

const topics = ["tides", "prime numbers", "photosynthesis", "the Silk Road", "TCP handshakes", "sourdough"]

/** The requests: every 40th asks the emulator to fail it, so the failure path shows too. */
const requestsFor = (entry: Registry.Entry, emulated: boolean): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: requestCount }, (_, i) => ({
    customId: `${entry.name}-${String(i + 1).padStart(5, "0")}`,
    model: modelOf(entry),
    messages: [{
      role: "user",
      content: `In one sentence, explain ${topics[i % topics.length]} (#${i + 1}).` +
        (emulated && i % 40 === 39 ? ` ${Emulator.failMarker}` : "")
    }],
    max_tokens: 64
  }))

interface Row {
  readonly provider: string
  readonly target: string
  readonly requests: number
  readonly jobs: number
  readonly succeeded: number
  readonly failed: number
  readonly polls: number
  readonly seconds: number
}

const print = (text: string) => Effect.sync(() => void process.stdout.write(text))

const labelWidth = Math.max(...providers.map((p) => p.length))
const label = (provider: string) => provider.padEnd(labelWidth)

/**
 * The live view. On a terminal: one line per provider, redrawn in place whenever one of them changes. Otherwise:
 * a plain line per provider and change, so a log or a pipe gets no control characters.
 */
const board = (() => {
  const lines = providers.map((p) => `${label(p)}  starting`)
  const keys = providers.map(() => "")
  let drawn = false
  const draw = () => {
    // One row per line, cut to the terminal's width: a wrapped line would break the cursor-up redraw.
    const width = Math.max(20, (process.stdout.columns ?? 80) - 1)
    if (drawn) process.stdout.write(`\x1b[${lines.length}A`)
    process.stdout.write(lines.map((line) => `\r\x1b[2K${line.slice(0, width)}\n`).join(""))
    drawn = true
  }
  return {
    /** Sets a provider's line; off a terminal it is printed when `key` changed (the counts, not the clock). */
    set: (provider: string, text: string, key: string = text) =>
      Effect.sync(() => {
        const index = providers.indexOf(provider)
        lines[index] = `${label(provider)}  ${text}`
        if (interactive) return draw()
        if (keys[index] === key) return
        keys[index] = key
        process.stdout.write(`${lines[index]}\n`)
      })
  }
})()

/** The first few results of each provider, shown under the live view once everything is done. */
const samples = new Map<string, Array<string>>()

const runOne = (entry: Registry.Entry, emulated: boolean) =>
  Effect.gen(function*() {
    const provider = entry.name
    const started = yield* Clock.currentTimeMillis
    const batch = yield* Batch.Batch
    yield* board.set(provider, `submitting ${requestCount} requests (${emulated ? "emulator" : "live"})`)
    const { id, status: submitted } = yield* batch.submit(requestsFor(entry, emulated))
    yield* board.set(provider, `${submitted.counts.total} requests submitted as ${submitted.parts.length} job(s)`)

    let polls = 0
    // Against the emulator, poll briskly; a real provider gets the default adaptive schedule.
    const poll = emulated ? { schedule: Schedule.spaced("100 millis") } : {}
    yield* batch.watch(id, poll).pipe(
      Stream.runForEach((progress) => {
        polls = progress.polls
        return interactive
          ? board.set(provider, Render.bar(progress, 16))
          : board.set(provider, Render.line(progress), Render.changeKey(progress.status))
      })
    )

    let succeeded = 0
    let failed = 0
    const shown: Array<string> = []
    yield* batch.results(id).pipe(
      Stream.runForEach((result) =>
        Effect.sync(() => {
          if (result._tag === "Succeeded") succeeded++
          else failed++
          if (shown.length >= 3) return
          const text = result._tag === "Succeeded"
            ? Option.getOrElse(ChatRequest.content(result.response), () => "(no text)")
            : `error ${result.error.code}: ${result.error.message}`
          shown.push(`  ${result.customId}  ${text.slice(0, 90)}`)
        })
      )
    )
    samples.set(provider, [`${provider} → ${id}`, ...shown])
    const finished = yield* Clock.currentTimeMillis
    return {
      provider,
      target: emulated ? "emulator" : "live",
      requests: submitted.counts.total,
      jobs: submitted.parts.length,
      succeeded,
      failed,
      polls,
      seconds: (finished - started) / 1000
    } satisfies Row
  })

const table = (rows: ReadonlyArray<Row>): string => {
  const header = ["provider", "target", "requests", "jobs", "succeeded", "failed", "polls", "wall time"]
  const cells = rows.map((r) => [
    r.provider,
    r.target,
    String(r.requests),
    String(r.jobs),
    String(r.succeeded),
    String(r.failed),
    String(r.polls),
    `${r.seconds.toFixed(1)} s`
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: ReadonlyArray<string>) =>
    c.map((v, i) => (i < 2 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ")
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...cells.map(line)].join("\n")
}

const main = Effect.gen(function*() {
  const live = (entry: Registry.Entry) => Registry.hasCredentials(entry, process.env)
  const emulator = entries.some((e) => !live(e)) ? Option.some(yield* Emulator.make({ timeScale })) : Option.none()
  yield* print(
    `Barge demo: ${requestCount} requests per provider, all providers at once` +
      (Option.isSome(emulator)
        ? ` (emulator at ×${timeScale} speed on ${emulator.value.urls.ark.replace(/:\d+$/, "")}; ` +
          `at most ${linesPerJob} lines per job, to show a split batch merging back)`
        : "") +
      "\n\n"
  )

  const failures: Array<string> = []
  const rows = yield* Effect.forEach(entries, (entry) => {
    const provider = entry.name
    const target: Providers.Target = live(entry) || Option.isNone(emulator)
      ? { _tag: "Provider" }
      : { _tag: "Emulator", endpoints: Emulator.endpoints(emulator.value) }
    const limits = target._tag === "Emulator" ? { maxLinesPerJob: linesPerJob } : {}
    return runOne(entry, target._tag === "Emulator").pipe(
      Effect.provide(Providers.layer(entry, target, limits)),
      Effect.map(Option.some),
      Effect.catchAll((error) => {
        const message = "message" in error ? error.message : String(error)
        failures.push(`${provider}: ${message}`)
        return Effect.as(board.set(provider, `failed: ${message}`), Option.none<Row>())
      })
    )
  }, { concurrency: "unbounded" })

  for (const provider of providers) yield* print(`\n${(samples.get(provider) ?? []).join("\n")}\n`)
  yield* print(`\n${table(rows.flatMap(Option.toArray))}\n`)
  if (failures.length > 0) {
    return yield* Effect.fail(`${failures.length} provider run(s) failed:\n${failures.join("\n")}`)
  }
}).pipe(Effect.scoped)

NodeRuntime.runMain(main.pipe(Effect.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer))))
