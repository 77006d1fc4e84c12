/**
 * Each provider's unified `Batch` layer pointed at an emulator, for the workers under test.
 */
import * as ArkBatch from "@barge/ark/ArkBatch"
import * as Emulator from "@barge/emulator/Emulator"
import * as MoonshotBatch from "@barge/moonshot/MoonshotBatch"
import * as QianfanBatch from "@barge/qianfan/QianfanBatch"
import * as BatchProviders from "@barge/workflow/BatchProviders"
import { Layer, Redacted } from "effect"

export const providers = ["ark", "moonshot", "qianfan"] as const
export type Provider = typeof providers[number]

/** A model each provider and the emulator know. */
export const models: Record<Provider, string> = {
  ark: "doubao-pro-32k",
  moonshot: "kimi-k2.6",
  qianfan: "ernie-4.5-turbo-32k"
}

const fast = { retry: { maxRetryAfter: "25 millis" } } as const

/** Every provider's `Batch` service against the emulator at `urls`. */
export const layer = (urls: Emulator.Urls, credentials: Emulator.AcceptedCredentials = Emulator.defaultCredentials) =>
  BatchProviders.layer({
    ark: ArkBatch.layerBatch.pipe(Layer.provide(ArkBatch.layer({
      accessKeyId: Redacted.make(credentials.volcengine.accessKeyId),
      secretAccessKey: Redacted.make(credentials.volcengine.secretAccessKey),
      endpoint: urls.ark,
      tosEndpoint: urls.tos,
      bucket: "barge",
      ...fast
    }))),
    moonshot: MoonshotBatch.layerBatch.pipe(Layer.provide(MoonshotBatch.layer({
      apiKey: Redacted.make(credentials.moonshot.apiKey),
      baseUrl: `${urls.moonshot}/v1`,
      ...fast
    }))),
    qianfan: QianfanBatch.layerBatch.pipe(Layer.provide(QianfanBatch.layer({
      accessKeyId: Redacted.make(credentials.bce.accessKeyId),
      secretAccessKey: Redacted.make(credentials.bce.secretAccessKey),
      endpoint: urls.qianfan,
      bosEndpoint: urls.bos,
      bucket: "barge",
      createBackoff: "5 millis",
      ...fast
    })))
  })
