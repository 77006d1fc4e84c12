/**
 * Every provider of the registry, its unified `Batch` layer pointed at an emulator (each entry's `layerEmulated`),
 * for the workers under test.
 */
// The CLI's list of registry entries, resolved from the repository root (as `examples/durable.ts` does): the
// workflow package itself does not depend on the CLI, which depends on it.
import * as CliProviders from "@barge/cli/Providers"
import * as Registry from "@barge/core/Registry"
import * as Emulator from "@barge/emulator/Emulator"
import * as BatchProviders from "@barge/workflow/BatchProviders"
import { Layer } from "effect"

/** Every provider of the registry: ark, moonshot, openai, qianfan, qianfan-v2. */
export const entries: ReadonlyArray<Registry.Entry> = CliProviders.entries

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
