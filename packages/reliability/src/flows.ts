/**
 * One batch, from submit to the last result, on each provider's own service against an emulator: the requests
 * (seeded, a few made to fail), the service wired to the emulator's URLs with fast retry and polling schedules, and
 * the results reduced to `{ customId, ok, content }` so every provider is checked the same way.
 *
 * Shared by the soak, the restart driver and the tests.
 *
 * @since 0.1.0
 */
import * as ArkBatch from "@barge/ark/ArkBatch"
import * as Job from "@barge/ark/Job"
import type * as Batch from "@barge/core/Batch"
import type * as Transport from "@barge/core/Transport"
import * as Emulator from "@barge/emulator/Emulator"
import * as OpenAiCompatible from "@barge/moonshot/OpenAiCompatible"
import * as Profile from "@barge/moonshot/Profile"
import * as QianfanBatch from "@barge/qianfan/QianfanBatch"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"

/**
 * @since 0.1.0
 */
export type Provider = "ark" | "moonshot" | "qianfan"

/**
 * @since 0.1.0
 */
export const providers: ReadonlyArray<Provider> = ["ark", "moonshot", "qianfan"]

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
 * How fast the clients retry and poll: milliseconds, since the emulator runs on a scaled live clock.
 *
 * @since 0.1.0
 */
export interface Speed {
  readonly retry: Transport.RetryOptions
  readonly poll: Schedule.Schedule<unknown, unknown>
  readonly download: Schedule.Schedule<unknown, unknown>
  readonly timeout: Duration.DurationInput
  /** Qianfan's first wait before re-sending an ambiguous create (the client's default is 1 s). */
  readonly createBackoff?: Duration.DurationInput | undefined
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
  createBackoff: "5 millis"
}

/**
 * Emulated processing for the soak: long enough in the queue (20 s emulated) that a retried create still finds
 * the job active (Ark's duplicate rule only covers Queued/Running jobs), short in real time at a high time scale.
 *
 * @since 0.1.0
 */
export const processing = { queuedFor: "20 seconds", perRequest: "1 second", finalizingFor: "2 seconds" } as const

/**
 * The bucket the flows use on TOS and BOS (`barge` exists on BOS from the start).
 *
 * @since 0.1.0
 */
export const bucket = "barge"

/**
 * Qianfan limits small enough that a test batch splits into several files and tasks.
 *
 * @since 0.1.0
 */
export const qianfanLimits: QianfanBatch.Limits = { maxBytesPerFile: 700, maxFilesPerTask: 2, maxBytesPerTask: 1400 }

/**
 * Where a flow's submission landed: the job ids, to compare with the emulator's state.
 *
 * @since 0.1.0
 */
export interface Submitted {
  readonly jobIds: ReadonlyArray<string>
}

/**
 * The three phases of a batch on one provider.
 *
 * @since 0.1.0
 */
export interface Flow {
  readonly provider: Provider
  readonly submit: (requests: ReadonlyArray<TestRequest>) => Effect.Effect<Submitted, unknown>
  readonly await: (submitted: Submitted) => Effect.Effect<void, unknown>
  readonly results: (submitted: Submitted) => Stream.Stream<Outcome, unknown>
}

/**
 * Credentials a flow signs with (the emulator's own by default).
 *
 * @since 0.1.0
 */
export type Credentials = Emulator.AcceptedCredentials

const contentOf = (response: unknown): string | undefined => {
  const choices = (response as { choices?: ReadonlyArray<{ message?: { content?: unknown } }> } | undefined)?.choices
  const content = choices?.[0]?.message?.content
  return typeof content === "string" ? content : undefined
}

const fromBatchResult = (result: Batch.BatchResult): Outcome =>
  result._tag === "Succeeded"
    ? { customId: result.customId, ok: true, content: contentOf(result.response) }
    : { customId: result.customId, ok: false, content: undefined }

/**
 * The emulator's URLs and the credentials to sign with.
 *
 * @since 0.1.0
 */
export interface Target {
  readonly urls: Emulator.Urls
  readonly credentials: Credentials
}

/**
 * The Ark service against the target.
 *
 * @since 0.1.0
 */
export const arkService = (target: Target, speed: Speed = fast) =>
  ArkBatch.make({
    accessKeyId: Redacted.make(target.credentials.volcengine.accessKeyId),
    secretAccessKey: Redacted.make(target.credentials.volcengine.secretAccessKey),
    endpoint: target.urls.ark,
    tosEndpoint: target.urls.tos,
    bucket,
    retry: speed.retry,
    timeout: speed.timeout,
    allowInsecureHttp: speed.allowInsecureHttp
  })

/**
 * The Moonshot client (the OpenAI-compatible core with the Moonshot profile) against the target.
 *
 * @since 0.1.0
 */
export const moonshotService = (target: Target, speed: Speed = fast) =>
  OpenAiCompatible.make({
    profile: Profile.moonshot({ baseUrl: `${target.urls.moonshot}/v1` }),
    apiKey: Redacted.make(target.credentials.moonshot.apiKey),
    retry: speed.retry,
    timeout: speed.timeout,
    downloadSchedule: speed.download,
    allowInsecureHttp: speed.allowInsecureHttp
  })

/**
 * The Qianfan service against the target.
 *
 * @since 0.1.0
 */
export const qianfanService = (target: Target, speed: Speed = fast) =>
  QianfanBatch.make({
    accessKeyId: Redacted.make(target.credentials.bce.accessKeyId),
    secretAccessKey: Redacted.make(target.credentials.bce.secretAccessKey),
    endpoint: target.urls.qianfan,
    bosEndpoint: target.urls.bos,
    bucket,
    limits: qianfanLimits,
    retry: speed.retry,
    timeout: speed.timeout,
    createBackoff: speed.createBackoff,
    allowInsecureHttp: speed.allowInsecureHttp
  })

const arkModel = Job.foundationModel("doubao-pro-32k", "240615")

/**
 * A flow for `provider` against the target.
 *
 * @since 0.1.0
 */
export const make = (
  provider: Provider,
  target: Target,
  speed: Speed = fast
): Effect.Effect<Flow, never, HttpClient.HttpClient> => {
  switch (provider) {
    case "ark":
      return Effect.map(arkService(target, speed), (ark): Flow => ({
        provider,
        submit: (requests) =>
          Effect.map(
            ark.submit(
              requests.map((r) => ({ customId: r.customId, body: { messages: [{ role: "user", content: r.text }] } })),
              { name: "soak", model: arkModel }
            ),
            (submission) => ({ jobIds: [submission.job.id] })
          ),
        await: (submitted) => Effect.asVoid(ark.await(submitted.jobIds[0]!, { schedule: speed.poll })),
        results: (submitted) =>
          Stream.map(ark.results(submitted.jobIds[0]!), (result): Outcome =>
            result._tag === "Response"
              ? { customId: result.customId, ok: true, content: contentOf(result.response) }
              : { customId: result.customId, ok: false, content: undefined })
      }))
    case "moonshot":
      return Effect.map(moonshotService(target, speed), (kimi): Flow => ({
        provider,
        submit: (requests) =>
          Effect.map(
            kimi.submit(OpenAiCompatible.fromLines(
              "soak.jsonl",
              requests.map((r) => ({
                custom_id: r.customId,
                method: "POST",
                url: "/v1/chat/completions",
                body: { model: "moonshot-v1-8k", messages: [{ role: "user", content: r.text }] }
              }))
            )),
            (batch) => ({ jobIds: [batch.id] })
          ),
        await: (submitted) => Effect.asVoid(kimi.await(submitted.jobIds[0]!, { schedule: speed.poll })),
        results: (submitted) => Stream.map(kimi.results(submitted.jobIds[0]!), fromBatchResult)
      }))
    case "qianfan":
      return Effect.map(qianfanService(target, speed), (qianfan): Flow => ({
        provider,
        submit: (requests) =>
          Effect.map(
            qianfan.submit(requests.map((r) => ({ id: r.customId, query: r.text })), {
              model: { endpoint: "ernie-4.0-8k" }
            }),
            (submission) => ({ jobIds: submission.taskIds })
          ),
        await: (submitted) =>
          Effect.asVoid(
            qianfan.await(submitted.jobIds as [string, ...Array<string>], { schedule: speed.poll })
          ),
        results: (submitted) =>
          Stream.map(qianfan.results(submitted.jobIds as [string, ...Array<string>]), fromBatchResult)
      }))
  }
}

/**
 * What the emulator holds for a provider: the ids of every job (Ark), batch (Moonshot) or task (Qianfan).
 *
 * @since 0.1.0
 */
export const remoteJobs = (emulator: Emulator.Service, provider: Provider): ReadonlyArray<string> => {
  switch (provider) {
    case "ark":
      return [...emulator.state.ark.jobs.keys()]
    case "moonshot":
      return [...emulator.state.moonshot.batches.keys()]
    case "qianfan":
      return [...emulator.state.qianfan.tasks.keys()]
  }
}

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

/**
 * The job ids the provider lists (every job, batch or task the emulator holds for it), through the provider's own
 * list call: for an emulator in another process, whose state this process cannot read.
 *
 * @since 0.1.0
 */
export const listRemote = (
  provider: Provider,
  target: Target,
  speed: Speed = fast
): Effect.Effect<ReadonlyArray<string>, unknown, HttpClient.HttpClient> => {
  const ids = <E>(stream: Stream.Stream<string, E>) =>
    Effect.map(Stream.runCollect(stream), (chunk) => Array.from(chunk))
  switch (provider) {
    case "ark":
      return Effect.flatMap(arkService(target, speed), (ark) => ids(Stream.map(ark.list(), (job) => job.id)))
    case "moonshot":
      return Effect.flatMap(
        moonshotService(target, speed),
        (kimi) => ids(Stream.map(kimi.batches.list(), (batch) => batch.id))
      )
    case "qianfan":
      return Effect.flatMap(
        qianfanService(target, speed),
        (qianfan) => ids(Stream.map(qianfan.listTasks(), (task) => task.taskId))
      )
  }
}
