/**
 * One batch, from submit to the last result, on any provider of the registry against an emulator: the requests
 * (seeded, a few made to fail), the provider's service wired to the emulator's URLs with fast retry and polling
 * schedules, its unified `Batch` view, and the results reduced to `{ customId, ok, content }` so every provider is
 * checked the same way.
 *
 * The flow is written once, over `Batch`. What stays per provider is data: how its service is built with the
 * test's schedules (the registry's `layerEmulated` takes no options), where the emulator keeps its jobs, and limits
 * tightened so a test batch splits.
 *
 * Shared by the soak, the restart driver and the tests.
 *
 * @since 0.1.0
 */
import * as ArkBatch from "@barge/ark/ArkBatch"
import * as Providers from "@barge/cli/Providers"
import * as Batch from "@barge/core/Batch"
import * as ChatRequest from "@barge/core/ChatRequest"
import type * as Contract from "@barge/core/Provider"
import type * as Registry from "@barge/core/Registry"
import type * as Transport from "@barge/core/Transport"
import * as Emulator from "@barge/emulator/Emulator"
import * as MoonshotBatch from "@barge/moonshot/MoonshotBatch"
import * as OpenAiBatch from "@barge/openai-compatible/OpenAiBatch"
import type * as OpenAiCompatible from "@barge/openai-compatible/OpenAiCompatible"
import * as Profile from "@barge/openai-compatible/Profile"
import * as QianfanBatch from "@barge/qianfan/QianfanBatch"
import * as QianfanV2Batch from "@barge/qianfan/QianfanV2Batch"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"

/**
 * A provider's name in the registry (`ark`, `moonshot`, `openai`, `qianfan`, `qianfan-v2`).
 *
 * @since 0.1.0
 */
export type Provider = string

/**
 * Every provider the CLI's registry lists, in its order.
 *
 * @since 0.1.0
 */
export const providers: ReadonlyArray<Provider> = Providers.names

/**
 * The registry entry of a provider.
 *
 * @since 0.1.0
 */
export const entryOf = (provider: Provider): Registry.Entry => {
  const entry = Providers.entryOf(provider)
  if (entry === undefined) throw new Error(`no provider "${provider}" in the registry (${providers.join(", ")})`)
  return entry
}

/**
 * One request of a test batch: its id and the user message the emulator answers.
 *
 * @since 0.1.0
 */
export interface TestRequest {
  readonly customId: string
  readonly text: string
  /** The message carries the emulator's failure marker, so its result must be a failure. */
  readonly fails: boolean
}

/**
 * A result as every provider's is checked.
 *
 * @since 0.1.0
 */
export interface Outcome {
  readonly customId: string
  readonly ok: boolean
  readonly content: string | undefined
}

/**
 * `count` requests; every `failEvery`-th one carries the failure marker.
 *
 * @since 0.1.0
 */
export const makeRequests = (count: number, tag: string, failEvery = 7): ReadonlyArray<TestRequest> =>
  Array.from({ length: count }, (_, i) => {
    const fails = (i + 1) % failEvery === 0
    return {
      customId: `${tag}-${i + 1}`,
      text: fails ? `please fail ${Emulator.failMarker} (${tag} ${i + 1})` : `question ${i + 1} of ${tag}`,
      fails
    }
  })

/**
 * The test requests as chat requests for a provider (its documented model).
 *
 * @since 0.1.0
 */
export const chatRequests = (
  provider: Provider,
  requests: ReadonlyArray<TestRequest>
): ReadonlyArray<ChatRequest.ChatRequest> =>
  requests.map((r) => ({
    customId: r.customId,
    model: entryOf(provider).model,
    messages: [{ role: "user", content: r.text }]
  }))

/**
 * How fast the clients retry and poll: milliseconds, since the emulator runs on a scaled live clock.
 *
 * @since 0.1.0
 */
export interface Speed {
  readonly retry: Transport.RetryOptions
  readonly poll: Schedule.Schedule<unknown, unknown>
  /** Reopening a dropped result download (the OpenAI-compatible platforms take it as an option). */
  readonly download: Schedule.Schedule<unknown, unknown>
  readonly timeout: Duration.DurationInput
  /** How the lifecycle re-sends a create whose answer was lost, and how long a creator settles (core's defaults: 1 s). */
  readonly create?: Contract.MakeOptions | undefined
  /** Let the clients use plain `http://` to hosts other than loopback (off unless a test opts in). */
  readonly allowInsecureHttp?: boolean | undefined
}

/**
 * @since 0.1.0
 */
export const fast: Speed = {
  retry: {
    schedule: Schedule.exponential("5 millis").pipe(
      Schedule.union(Schedule.spaced("60 millis")),
      Schedule.jittered,
      Schedule.intersect(Schedule.recurs(8))
    ),
    // The emulator's throttle says `Retry-After: 1`; honour it, shortened so a run stays short.
    maxRetryAfter: "25 millis"
  },
  poll: Schedule.spaced("15 millis").pipe(Schedule.upTo("60 seconds")),
  download: Schedule.exponential("5 millis").pipe(Schedule.intersect(Schedule.recurs(8))),
  timeout: "5 seconds",
  // A creator looks again for a concurrent create after `settle`: far beyond the resolution of the emulator's
  // creation times at the soak's time scale, and short enough that a split submission does not wait seconds.
  create: { createBackoff: "5 millis", settle: "25 millis" }
}

/**
 * Emulated processing for the soak: long enough in the queue (20 s emulated) that a retried create still finds
 * the job active (Ark's duplicate rule only covers Queued/Running jobs), short in real time at a high time scale.
 *
 * @since 0.1.0
 */
export const processing = { queuedFor: "20 seconds", perRequest: "1 second", finalizingFor: "2 seconds" } as const

/**
 * The bucket the flows use on TOS and BOS (it exists in the emulator from the start).
 *
 * @since 0.1.0
 */
export const bucket = Emulator.bucket

/**
 * The emulator's URLs and the credentials to sign with.
 *
 * @since 0.1.0
 */
export interface Target {
  readonly urls: Emulator.Urls
  readonly credentials: Emulator.AcceptedCredentials
}

/**
 * A provider's own service, whatever its job type.
 *
 * @since 0.1.0
 */
export type AnyService = Contract.Service<any, any, any, any, any>

/**
 * What the flows need to know about one provider beyond its registry entry.
 *
 * @since 0.1.0
 */
export interface Wiring {
  /** The provider's own service against the emulator, with the test's schedules. */
  readonly service: (
    endpoints: Registry.Endpoints,
    speed: Speed
  ) => Effect.Effect<AnyService, never, HttpClient.HttpClient>
  /** Every job (batch, task) the emulator holds for the provider, by id. */
  readonly jobs: (state: Emulator.State) => ReadonlyMap<string, unknown>
  /** Limits below the provider's own, so a test batch is split (several files, several jobs). */
  readonly limits?: Partial<Contract.Limits> | undefined
}

const transport = (speed: Speed) => ({
  retry: speed.retry,
  timeout: speed.timeout,
  allowInsecureHttp: speed.allowInsecureHttp,
  create: speed.create
})

/** An OpenAI-compatible platform: its key by the emulator's credential name, its base URL with the version path. */
const openAi = (
  make: (options: OpenAiCompatible.Options) => Effect.Effect<AnyService, never, HttpClient.HttpClient>,
  profile: Profile.Profile,
  credential: string
): Wiring["service"] =>
(endpoints, speed) =>
  make({
    apiKey: endpoints.credential(credential),
    baseUrl: `${endpoints.url(profile.name)}${Profile.versionPath(profile)}`,
    downloadSchedule: speed.download,
    ...transport(speed)
  })

/**
 * The wiring of every provider in the registry.
 *
 * @since 0.1.0
 */
export const wiring: Readonly<Record<Provider, Wiring>> = {
  ark: {
    service: (endpoints, speed) =>
      ArkBatch.make({
        accessKeyId: endpoints.credential("volcengine.accessKeyId"),
        secretAccessKey: endpoints.credential("volcengine.secretAccessKey"),
        endpoint: endpoints.url("ark"),
        tosEndpoint: endpoints.url("tos"),
        bucket: endpoints.bucket,
        ...transport(speed)
      }),
    jobs: (state) => state.ark.jobs
  },
  moonshot: {
    service: openAi(MoonshotBatch.make, MoonshotBatch.profile, "moonshot.apiKey"),
    jobs: (state) => state.moonshot.batches
  },
  openai: {
    service: openAi(OpenAiBatch.make, OpenAiBatch.profile, "openai.apiKey"),
    jobs: (state) => state.openai.batches
  },
  qianfan: {
    service: (endpoints, speed) =>
      QianfanBatch.make({
        accessKeyId: endpoints.credential("bce.accessKeyId"),
        secretAccessKey: endpoints.credential("bce.secretAccessKey"),
        endpoint: endpoints.url("qianfan"),
        bosEndpoint: endpoints.url("bos"),
        bucket: endpoints.bucket,
        ...transport(speed)
      }),
    jobs: (state) => state.qianfan.tasks,
    // Several files per task and several tasks for a test batch of 10–30 requests.
    limits: { maxBytesPerFile: 700, maxFilesPerJob: 2, maxBytesPerJob: 1400 }
  },
  "qianfan-v2": {
    service: openAi(QianfanV2Batch.make, QianfanV2Batch.profile, "qianfan.apiKey"),
    jobs: (state) => state["qianfan-v2"].batches
  }
}

const wiringOf = (provider: Provider): Wiring => {
  const found = wiring[provider]
  if (found === undefined) throw new Error(`the reliability flows have no wiring for provider "${provider}"`)
  return found
}

/**
 * The provider's own service against the target, with its test limits (or `limits` given) applied.
 *
 * @since 0.1.0
 */
export const service = (
  provider: Provider,
  target: Target,
  speed: Speed = fast,
  limits: Partial<Contract.Limits> | undefined = wiringOf(provider).limits
): Effect.Effect<AnyService, never, HttpClient.HttpClient> =>
  Effect.map(
    wiringOf(provider).service(Emulator.endpoints(target), speed),
    (own) => limits === undefined ? own : own.withLimits(limits)
  )

/**
 * The unified `Batch` over the provider's service (see {@link service}).
 *
 * @since 0.1.0
 */
export const layer = (
  provider: Provider,
  target: Target,
  speed: Speed = fast,
  limits?: Partial<Contract.Limits>
): Layer.Layer<Batch.Batch, never, HttpClient.HttpClient> =>
  Layer.effect(Batch.Batch, Effect.flatMap(service(provider, target, speed, limits), Batch.fromProvider))

/**
 * Where a flow's submission landed: the logical batch id and its provider job ids, to compare with the emulator's
 * state.
 *
 * @since 0.1.0
 */
export interface Submitted {
  readonly id: string
  readonly jobIds: ReadonlyArray<string>
}

/**
 * The three phases of a batch on one provider.
 *
 * @since 0.1.0
 */
export interface Flow {
  readonly provider: Provider
  /** The provider's own service the flow runs on. */
  readonly service: AnyService
  readonly batch: Batch.Service
  readonly submit: (requests: ReadonlyArray<TestRequest>) => Effect.Effect<Submitted, Batch.BatchError>
  readonly await: (submitted: Submitted) => Effect.Effect<void, Batch.BatchError>
  readonly results: (submitted: Submitted) => Stream.Stream<Outcome, Batch.BatchError>
}

const toOutcome = (result: Batch.BatchResult): Outcome =>
  result._tag === "Succeeded"
    ? {
      customId: result.customId,
      ok: true,
      content: Option.getOrUndefined(ChatRequest.content(result.response))
    }
    : { customId: result.customId, ok: false, content: undefined }

/**
 * A flow for `provider` against the target: one for every provider, over the unified `Batch`.
 *
 * @since 0.1.0
 */
export const make = (
  provider: Provider,
  target: Target,
  speed: Speed = fast
): Effect.Effect<Flow, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const own = yield* service(provider, target, speed)
    const batch = yield* Batch.fromProvider(own)
    return {
      provider,
      service: own,
      batch,
      submit: (requests) =>
        Effect.map(batch.submit(chatRequests(provider, requests)), (submission) => ({
          id: submission.id,
          jobIds: submission.status.parts.map((part) => part.jobId)
        })),
      await: (submitted) => Effect.asVoid(batch.await(submitted.id, { schedule: speed.poll })),
      results: (submitted) => Stream.map(batch.results(submitted.id), toOutcome)
    }
  })

/**
 * What the emulator holds for a provider: the ids of every job, batch or task.
 *
 * @since 0.1.0
 */
export const remoteJobs = (emulator: Emulator.Service, provider: Provider): ReadonlyArray<string> => [
  ...wiringOf(provider).jobs(emulator.state).keys()
]

/**
 * Checks results against the requests: every id exactly once, successes carrying exactly the emulator's answer,
 * marked requests failed. Returns the problems found (empty when all is well) and the duplicate count.
 *
 * @since 0.1.0
 */
export const checkResults = (
  requests: ReadonlyArray<TestRequest>,
  outcomes: ReadonlyArray<Outcome>
): { readonly problems: ReadonlyArray<string>; readonly duplicates: number; readonly checked: number } => {
  const problems: Array<string> = []
  const byId = new Map(requests.map((r) => [r.customId, r]))
  const seen = new Map<string, number>()
  let duplicates = 0
  for (const outcome of outcomes) {
    const n = (seen.get(outcome.customId) ?? 0) + 1
    seen.set(outcome.customId, n)
    if (n > 1) {
      duplicates++
      problems.push(`result for ${outcome.customId} arrived ${n} times`)
      continue
    }
    const request = byId.get(outcome.customId)
    if (request === undefined) {
      problems.push(`result for unknown id ${outcome.customId}`)
      continue
    }
    if (request.fails) {
      if (outcome.ok) problems.push(`${outcome.customId} should have failed`)
    } else if (!outcome.ok) {
      problems.push(`${outcome.customId} failed`)
    } else if (outcome.content !== Emulator.expectedContent(request.customId, request.text)) {
      problems.push(`${outcome.customId}: content ${JSON.stringify(outcome.content)} is not the emulator's answer`)
    }
  }
  for (const request of requests) {
    if (!seen.has(request.customId)) problems.push(`no result for ${request.customId}`)
  }
  return { problems, duplicates, checked: outcomes.length }
}
