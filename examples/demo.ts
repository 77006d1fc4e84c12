/**
 * `pnpm demo`: the same batch program on Volcengine Ark, Moonshot and Baidu Qianfan through the unified `Batch`
 * service — at least 1,000 requests each, live progress, streamed results and a summary table.
 *
 * With no credentials it starts the Barge emulator in this process (nothing leaves the machine). A provider whose
 * credentials are in the environment (`VOLC_ACCESSKEY`/`VOLC_SECRETKEY`, `MOONSHOT_API_KEY`,
 * `QIANFAN_ACCESS_KEY`/`QIANFAN_SECRET_KEY`) runs against the real service instead; pick its model with
 * `ARK_MODEL`, `MOONSHOT_MODEL`, `QIANFAN_MODEL`.
 *
 *   npx tsx examples/demo.ts      # BARGE_DEMO_REQUESTS=1200, BARGE_DEMO_PROVIDERS=ark,moonshot,qianfan by default
 */
import { Providers, Render } from "@barge/cli"
import { Batch, ChatRequest } from "@barge/core"
import { Emulator } from "@barge/emulator"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Clock, Effect, Layer, Option, Schedule, Stream } from "effect"

const requestCount = Math.max(1, Number(process.env.BARGE_DEMO_REQUESTS ?? 1200))
const chosen = (process.env.BARGE_DEMO_PROVIDERS ?? "").split(",").map((p) => p.trim()).filter((p) => p.length > 0)
const providers = Providers.names.filter((p) => chosen.length === 0 || chosen.includes(p))
const timeScale = Number(process.env.BARGE_DEMO_TIME_SCALE ?? 15)
// Against the emulator, jobs are capped at this many lines so the demo also shows a split batch merging back.
const linesPerJob = Number(process.env.BARGE_DEMO_LINES_PER_JOB ?? 500)
const interactive = process.env.BARGE_FORCE_TTY === "1" || (process.env.BARGE_FORCE_TTY !== "0" && process.stdout.isTTY)

const models: Record<Providers.ProviderName, string> = {
  ark: process.env.ARK_MODEL ?? "doubao-pro-32k",
  moonshot: process.env.MOONSHOT_MODEL ?? "kimi-k2.6",
  qianfan: process.env.QIANFAN_MODEL ?? "ernie-4.5-turbo-32k"
}

const topics = ["tides", "prime numbers", "photosynthesis", "the Silk Road", "TCP handshakes", "sourdough"]

/** The requests: every 40th asks the emulator to fail it, so the failure path shows too. */
const requestsFor = (provider: Providers.ProviderName, emulated: boolean): Array<ChatRequest.ChatRequest> =>
  Array.from({ length: requestCount }, (_, i) => ({
    customId: `${provider}-${String(i + 1).padStart(5, "0")}`,
    model: models[provider],
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

const print = (text: string) => Effect.sync(() => process.stdout.write(text))

const runOne = (provider: Providers.ProviderName, emulated: boolean) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const batch = yield* Batch.Batch
    const submitted = yield* batch.submit(requestsFor(provider, emulated))
    yield* print(
      `\n${provider} (${emulated ? "emulator" : "live"}): ${submitted.counts.total} requests in ` +
        `${submitted.parts.length} job(s) → ${submitted.id}\n`
    )

    let polls = 0
    let lastKey = ""
    // Against the emulator, poll briskly; a real provider gets the default back-off.
    const poll = emulated ? { schedule: Schedule.spaced("200 millis") } : {}
    yield* batch.watch(submitted.id, poll).pipe(
      Stream.runForEach((progress) => {
        polls = progress.polls
        if (interactive) return print(`\r\x1b[2K  ${Render.bar(progress)}`)
        const key = Render.changeKey(progress.status)
        if (key === lastKey) return Effect.void
        lastKey = key
        return print(`  ${Render.line(progress)}\n`)
      })
    )
    if (interactive) yield* print("\n")

    let succeeded = 0
    let failed = 0
    yield* batch.results(submitted.id).pipe(
      Stream.runForEach((result) =>
        Effect.suspend(() => {
          const shown = succeeded + failed < 3
          if (result._tag === "Succeeded") succeeded++
          else failed++
          if (!shown) return Effect.void
          const text = result._tag === "Succeeded"
            ? Option.getOrElse(ChatRequest.content(result.response), () => "(no text)")
            : `error ${result.error.code}: ${result.error.message}`
          return print(`  ${result.customId}  ${text.slice(0, 90)}\n`)
        })
      )
    )
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
  const live = Object.fromEntries(Providers.names.map((p) => [p, Providers.hasCredentials(p, process.env)])) as Record<
    Providers.ProviderName,
    boolean
  >
  const needsEmulator = providers.some((p) => !live[p])
  const emulator = needsEmulator ? Option.some(yield* Emulator.make({ timeScale })) : Option.none()
  yield* print(
    `Barge demo: ${requestCount} requests per provider` +
      (Option.isSome(emulator)
        ? ` (emulator at ×${timeScale} speed on ${emulator.value.urls.ark.replace(/:\d+$/, "")}; ` +
          `at most ${linesPerJob} lines per job, to show a split batch merging back)`
        : "") +
      "\n"
  )

  const rows: Array<Row> = []
  let failures = 0
  for (const provider of providers) {
    const target: Providers.Target = live[provider] || Option.isNone(emulator)
      ? { _tag: "Provider" }
      : { _tag: "Emulator", urls: emulator.value.urls, credentials: emulator.value.credentials }
    const row = yield* runOne(provider, target._tag === "Emulator").pipe(
      Effect.provide(
        Providers.layer(provider, target, target._tag === "Emulator" ? { maxLinesPerJob: linesPerJob } : {})
      ),
      Effect.catchAll((error) =>
        Effect.as(
          print(`\n${provider}: ${"message" in error ? error.message : String(error)}\n`).pipe(
            Effect.tap(() => void failures++)
          ),
          undefined
        )
      )
    )
    if (row !== undefined) rows.push(row)
  }

  yield* print(`\n${table(rows)}\n`)
  if (failures > 0) return yield* Effect.fail(`${failures} provider run(s) failed`)
}).pipe(Effect.scoped)

NodeRuntime.runMain(main.pipe(Effect.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeContext.layer))))
