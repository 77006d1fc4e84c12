/**
 * Baidu Qianfan batch inference end to end: submit questions, watch the task, print the answers.
 *
 *   npx tsx examples/qianfan.ts
 *
 * Without credentials it runs against Barge's embedded emulator (loopback only, about a second). With
 * `QIANFAN_ACCESS_KEY`, `QIANFAN_SECRET_KEY` and `QIANFAN_BOS_BUCKET` set it talks to the real Qianfan and BOS
 * (`QIANFAN_ENDPOINT` / `QIANFAN_BOS_ENDPOINT` override the default hosts; `QIANFAN_MODEL` the endpoint name).
 */
import { Emulator } from "@barge/emulator"
import { QianfanBatch } from "@barge/qianfan"
import type { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Chunk, Console, Effect, Layer, Option, Redacted, Schedule, Stream } from "effect"

const questions = [
  "地球的自转周期是多久？",
  "太阳系中最大的行星是哪颗？",
  "大气中最丰富的气体是什么？",
  "What is the boiling point of water at sea level?",
  "Name three primary colours."
].map((query, i) => ({ id: `q${i + 1}`, query }))

const real = ["QIANFAN_ACCESS_KEY", "QIANFAN_SECRET_KEY", "QIANFAN_BOS_BUCKET"].every((name) => process.env[name])

/** The emulator runs five times faster than real time, so the example ends in about a second. */
const embedded = Layer.unwrapScoped(Effect.gen(function*() {
  const emulator = yield* Emulator.make({ timeScale: 5 })
  yield* Console.log(`Using the embedded emulator at ${emulator.urls.qianfan} (BOS ${emulator.urls.bos})`)
  return QianfanBatch.layer({
    accessKeyId: Redacted.make(emulator.credentials.bce.accessKeyId),
    secretAccessKey: Redacted.make(emulator.credentials.bce.secretAccessKey),
    endpoint: emulator.urls.qianfan,
    bosEndpoint: emulator.urls.bos,
    bucket: "barge"
  })
}))

const poll = { schedule: real ? Schedule.spaced("15 seconds") : Schedule.spaced("50 millis") }

const program = Effect.gen(function*() {
  const qianfan = yield* QianfanBatch.QianfanBatch
  const model = process.env.QIANFAN_MODEL ?? "ernie-4.0-8k"
  const submission = yield* qianfan.submit(questions, {
    model: { endpoint: model },
    inferenceParams: { temperature: 0.7 }
  })
  yield* Console.log(
    `Submitted ${submission.lines} lines as task(s) ${submission.taskIds.join(", ")}` +
      (submission.attached > 0 ? ` (attached to ${submission.attached} existing)` : "")
  )
  yield* qianfan.watch(submission, poll).pipe(
    Stream.runForEach((task) =>
      Console.log(`  ${task.taskId}: ${task.runStatus} ${task.progress ?? 0}/${task.totalCount ?? "?"}`)
    )
  )
  const tasks = yield* qianfan.await(submission, poll)
  const results = Chunk.toReadonlyArray(yield* Stream.runCollect(qianfan.results(submission)))
  for (const result of results) {
    const text = result._tag === "Succeeded"
      ? Option.getOrElse(Option.fromNullable(result.response.choices[0]?.message.content), () => "")
      : `error ${result.error.code}: ${result.error.message}`
    yield* Console.log(`${result.customId}: ${text}`)
  }
  const ok = results.filter((r) => r._tag === "Succeeded").length
  const tokens = tasks.reduce((sum, t) => sum + (t.inputTokenUsage ?? 0) + (t.outputTokenUsage ?? 0), 0)
  yield* Console.log(`Summary: ${ok} succeeded, ${results.length - ok} failed, ${tokens} tokens`)
})

const qianfanLayer: Layer.Layer<QianfanBatch.QianfanBatch, unknown, HttpClient.HttpClient> = real
  ? QianfanBatch.layerConfig()
  : embedded

program.pipe(
  Effect.provide(qianfanLayer),
  Effect.provide(NodeHttpClient.layerUndici),
  Effect.tapErrorCause((cause) => Console.error(cause)),
  Effect.runPromise
).catch(() => process.exit(1))
