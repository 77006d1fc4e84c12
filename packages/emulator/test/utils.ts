/**
 * Test setup the surface tests share: a running emulator with an undici `HttpClient`, and emulated time.
 */
import type { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { type Duration, Effect } from "effect"
import * as Emulator from "../src/Emulator.js"

/** Jobs that stay queued, then process one request a second, so tests can observe every phase. */
export const observableProcessing: NonNullable<Emulator.Options["processing"]> = {
  queuedFor: "10 seconds",
  perRequest: "1 second",
  finalizingFor: "5 seconds"
}

/** Runs `effect` against a fresh emulator (started with `options`) over real loopback HTTP. */
export const withEmulator =
  (options?: Emulator.Options) => <A, E>(effect: Effect.Effect<A, E, Emulator.Emulator | HttpClient.HttpClient>) =>
    effect.pipe(Effect.provide(Emulator.layer(options)), Effect.provide(NodeHttpClient.layerUndici))

/** Moves the emulator's clock forward. */
export const advance = (duration: Duration.DurationInput) =>
  Effect.flatMap(Emulator.Emulator, (emulator) => emulator.advance(duration))
