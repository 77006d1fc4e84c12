/**
 * Every provider of the registry, its unified `Batch` layer pointed at an emulator (each entry's `layerEmulated`),
 * for the workers under test.
 */
import * as ArkBatch from "@barge/ark/ArkBatch"
import * as Registry from "@barge/core/Registry"
import * as Emulator from "@barge/emulator/Emulator"
import * as MoonshotBatch from "@barge/moonshot/MoonshotBatch"
import * as OpenAiBatch from "@barge/openai-compatible/OpenAiBatch"
import * as QianfanBatch from "@barge/qianfan/QianfanBatch"
import * as QianfanV2Batch from "@barge/qianfan/QianfanV2Batch"
import * as BatchProviders from "@barge/workflow/BatchProviders"
import { Layer } from "effect"

/** The registry's entries (the CLI lists the same five; the workflow package does not depend on the CLI). */
export const entries: ReadonlyArray<Registry.Entry> = [
  ArkBatch.registry,
  MoonshotBatch.registry,
  OpenAiBatch.registry,
  QianfanBatch.registry,
  QianfanV2Batch.registry
]

export type Provider = string

export const providers: ReadonlyArray<Provider> = entries.map((entry) => entry.name)

/** A model each provider and the emulator know (the registry's documented one). */
export const models: Readonly<Record<Provider, string>> = Object.fromEntries(
  entries.map((entry) => [entry.name, entry.model])
)

/** Every provider's `Batch` service against the emulator at `urls`. */
export const layer = (urls: Emulator.Urls, credentials: Emulator.AcceptedCredentials = Emulator.defaultCredentials) =>
  BatchProviders.layerEmulated(entries).pipe(
    Layer.provide(Layer.succeed(Registry.Emulated, Emulator.endpoints({ urls, credentials })))
  )
