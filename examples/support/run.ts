/**
 * What every provider example does the same way, written once: watch a batch to its end printing progress, print
 * each result, and pick the real provider when its credentials are set or the embedded emulator when not. Each
 * `examples/<provider>.ts` keeps what is particular to its provider: the requests it sends, the options it takes,
 * its own verbs.
 */
import type { Batch, Registry } from "@barge/core"
import { Emulator } from "@barge/emulator"
import type { HttpClient, HttpServerError } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, type ConfigError, Effect, Layer, Option, Schedule, Stream } from "effect"

/** The verbs these helpers use, which every provider's service has with the same shapes. */
type Lifecycle = Pick<Batch.Lifecycle<unknown>, "watch" | "results">

/** Watches `id` to its end, one line per poll, then prints every result; returns the end and the successes. */
export const watchAndPrint = (service: Lifecycle, id: string) =>
  Effect.gen(function*() {
    const done = yield* service.watch(id, { schedule: Schedule.spaced("250 millis") }).pipe(
      Stream.tap((p) =>
        Effect.sync(() => {
          const c = p.status.counts
          console.log(
            `  ${p.status.providerStatus.padEnd(11)} ${c.completed + c.failed}/${c.total} done (${c.failed} failed)`
          )
        })
      ),
      Stream.runLast,
      Effect.map(Option.getOrThrow)
    )
    let succeeded = 0
    yield* service.results(id).pipe(
      Stream.runForEach((result) =>
        Effect.sync(() => {
          if (result._tag === "Succeeded") {
            succeeded++
            console.log(`  ✓ ${result.customId}: ${result.response.choices[0]?.message.content ?? ""}`)
          } else {
            console.log(`  ✗ ${result.customId}: ${result.error.code}: ${result.error.message}`)
          }
        })
      )
    )
    return { status: done.status, succeeded }
  })

/**
 * The provider's service from its `layerConfig` when `variable` is set, else its `layerEmulated` on an embedded
 * emulator (time runs 4× faster there).
 */
export const realOrEmulated = <I>(
  variable: string,
  provider: {
    readonly layerConfig: () => Layer.Layer<I, ConfigError.ConfigError, HttpClient.HttpClient>
    readonly layerEmulated: Layer.Layer<I, never, HttpClient.HttpClient | Registry.Emulated>
  }
): Layer.Layer<I, ConfigError.ConfigError | Emulator.InvalidOptions | HttpServerError.ServeError> =>
  Layer.unwrapEffect(
    Effect.map(Config.option(Config.redacted(variable)), (set): Layer.Layer<
      I,
      ConfigError.ConfigError | Emulator.InvalidOptions | HttpServerError.ServeError,
      HttpClient.HttpClient
    > =>
      Option.isSome(set) ? provider.layerConfig() : provider.layerEmulated.pipe(
        Layer.tap(() => Effect.sync(() => console.log(`no ${variable}: using the embedded emulator`))),
        Layer.provide(Emulator.layer({ timeScale: 4 }))
      ))
  ).pipe(Layer.provide(NodeHttpClient.layerUndici))

/** Runs an example to its end; a failure is printed and exits 1. */
export const main = <E>(program: Effect.Effect<void, E>) =>
  Effect.runPromise(program).catch((error) => {
    console.error(String(error))
    process.exit(1)
  })
