/**
 * The Barge emulator: loopback HTTP servers — Ark OpenAPI, TOS, Moonshot, Qianfan, BOS, OpenAI and Qianfan's
 * OpenAI-style `/v2` — that behave like the real providers closely enough for their official clients, sharing one
 * emulated clock, one pair of object stores and one fault injector. The services are a registry
 * ({@link surfaces}): adding one is one entry.
 *
 * @since 0.1.0
 */
import * as Registry from "@barge/core/Registry"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as ArkSurface from "./ark/Surface.js"
import * as BosSurface from "./bos/Surface.js"
import * as Completions from "./internal/Completions.js"
import type * as Ctx from "./internal/Context.js"
import * as Credentials from "./internal/Credentials.js"
import * as Faults from "./internal/Faults.js"
import * as Ids from "./internal/Ids.js"
import * as Models from "./internal/Models.js"
import * as ObjectStore from "./internal/ObjectStore.js"
import * as Processing from "./internal/Processing.js"
import * as Servers from "./internal/Servers.js"
import * as Time from "./internal/Time.js"
import * as OpenAiProfiles from "./openai-compatible/Profile.js"
import * as OpenAiSurface from "./openai-compatible/Surface.js"
import * as QianfanSurface from "./qianfan/Surface.js"
import * as TosSurface from "./tos/Surface.js"

/**
 * One emulated service: its name (the key of its URL, its state and its fault scope) and how to build its surface.
 *
 * @since 0.1.0
 * @category models
 */
export interface SurfaceEntry<Name extends string, S> {
  readonly name: Name
  /** Builds the surface (its HTTP app and inspectable state) on the emulator's shared context. */
  readonly make: (ctx: Ctx.EmulatorContext) => Effect.Effect<Ctx.Surface<S>>
}

const surface = <Name extends string, S>(
  name: Name,
  make: (ctx: Ctx.EmulatorContext) => Effect.Effect<Ctx.Surface<S>>
): SurfaceEntry<Name, S> => ({ name, make })

/**
 * Every emulated service, in port order (the first listens on `port`, the next on `port + 1`, …).
 *
 * @since 0.1.0
 * @category registry
 */
export const surfaces = [
  surface("ark", ArkSurface.make),
  surface("tos", TosSurface.make),
  surface("moonshot", OpenAiSurface.make(OpenAiProfiles.moonshot)),
  surface("qianfan", QianfanSurface.make),
  surface("bos", BosSurface.make),
  surface("openai", OpenAiSurface.make(OpenAiProfiles.openai)),
  surface("qianfan-v2", OpenAiSurface.make(OpenAiProfiles.qianfanV2))
] as const

type Entry = (typeof surfaces)[number]

/**
 * The emulated services' names.
 *
 * @since 0.1.0
 * @category models
 */
export type ServiceName = Entry["name"]

/**
 * @since 0.1.0
 * @category models
 */
export const services: ReadonlyArray<ServiceName> = surfaces.map((entry) => entry.name)

type StateOf<Name> = Extract<Entry, { readonly name: Name }> extends SurfaceEntry<string, infer S> ? S : never

/**
 * Base URLs, e.g. `http://127.0.0.1:41234`.
 *
 * @since 0.1.0
 * @category models
 */
export type Urls = { readonly [K in ServiceName]: string }

/**
 * The credentials the emulator accepts.
 *
 * @since 0.1.0
 * @category models
 */
export type AcceptedCredentials = Ctx.Credentials

/**
 * A structured fault configuration (see the README for the named profiles).
 *
 * @since 0.1.0
 * @category models
 */
export type FaultSpec = Faults.FaultSpec

/**
 * @since 0.1.0
 * @category models
 */
export type FaultRule = Faults.FaultRule

/**
 * Faults injected so far, by kind.
 *
 * @since 0.1.0
 * @category models
 */
export type FaultCounts = Ctx.FaultCounts

/**
 * Fault counts with every kind at zero: the starting point for adding up counts across runs.
 *
 * @since 0.1.0
 * @category constants
 */
export const noFaults: FaultCounts = Faults.emptyCounts()

/**
 * Names of the built-in fault profiles.
 *
 * @since 0.1.0
 * @category constants
 */
export const faultProfiles: ReadonlyArray<string> = Object.keys(Faults.profiles)

/**
 * The spec behind a built-in fault profile, or `undefined` for an unknown name. `delayScale` multiplies every
 * added delay (latency, slow bodies), so a soak can keep the profile's shape while its runs stay short.
 *
 * @since 0.1.0
 * @category constants
 */
export const faultProfile = (name: string, options?: { readonly delayScale?: number }): FaultSpec | undefined => {
  const spec: FaultSpec | undefined = Faults.profiles[name]
  const scale = options?.delayScale ?? 1
  if (spec === undefined || scale === 1) return spec
  return {
    ...spec,
    rules: spec.rules.map((rule) =>
      rule.delayMs === undefined ? rule : { ...rule, delayMs: Math.max(1, Math.round(rule.delayMs * scale)) }
    )
  }
}

/**
 * Everything the emulator holds, for assertions in tests.
 *
 * @since 0.1.0
 * @category models
 */
export type State = { readonly [Name in ServiceName]: StateOf<Name> } & {
  /** The buckets behind TOS and BOS. */
  readonly objects: { readonly tos: Ctx.ObjectStore; readonly bos: Ctx.ObjectStore }
}

/**
 * The running emulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly urls: Urls
  readonly credentials: AcceptedCredentials
  readonly state: State
  /** Emulated now, epoch milliseconds. */
  readonly now: Effect.Effect<number>
  /** Moves emulated time forward by `duration`, on top of the (scaled) `Clock`. */
  readonly advance: (duration: Duration.DurationInput) => Effect.Effect<void>
  /** Requests received so far, per service (faulted ones included). */
  readonly requests: Effect.Effect<{ readonly [K in ServiceName]: number }>
  /**
   * Client connections open right now, over all the services. After a client's scope closes this should be
   * back to what it was before, which is how a test proves no socket leaked.
   */
  readonly openConnections: Effect.Effect<number>
  readonly faults: {
    readonly counts: Effect.Effect<FaultCounts>
    /** Replaces the fault configuration from now on (a profile name or a spec). */
    readonly set: (faults: string | FaultSpec) => Effect.Effect<void, InvalidOptions>
  }
  /** What the surfaces were built with (time, stores, models, completions, processing). */
  readonly context: Ctx.EmulatorContext
}

/**
 * Raised when the emulator's options cannot work, e.g. an unknown fault profile or a time scale of zero.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOptions extends Schema.TaggedError<InvalidOptions>("@barge/emulator/InvalidOptions")(
  "InvalidOptions",
  { message: Schema.String }
) {}

/**
 * @since 0.1.0
 * @category tags
 */
export class Emulator extends Context.Tag("@barge/emulator/Emulator")<Emulator, Service>() {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Interface to listen on (default `127.0.0.1`). */
  readonly host?: string
  /** Port of the first service; the others take the next ones, in registry order. `0` (the default) picks free ports. */
  readonly port?: number
  /** How many emulated milliseconds pass per `Clock` millisecond (default 1). */
  readonly timeScale?: number
  /** A fault profile name or spec (default: no faults). */
  readonly faults?: string | FaultSpec
  /** Seeds fault decisions and ids (default 1). */
  readonly seed?: number
  readonly credentials?: Credentials.Overrides
  readonly models?: Partial<Ctx.Models>
  readonly processing?: Partial<Record<keyof Ctx.ProcessingModel, Duration.DurationInput>>
}

/**
 * Builds the emulator in the current scope: the servers stop when the scope closes. The servers run their
 * handlers with the services of the fiber that calls `make`, so under `it.effect` they see its `TestClock`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, HttpServerError.ServeError | InvalidOptions, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    const firstPort = options.port ?? 0
    const seed = options.seed ?? 1
    if (!(Number.isFinite(options.timeScale ?? 1) && (options.timeScale ?? 1) > 0)) {
      return yield* new InvalidOptions({
        message: `The time scale must be a positive number (1 = real time), got ${options.timeScale}`
      })
    }
    const unknown = unknownServices(options.faults)
    if (unknown !== undefined) return yield* unknown
    const time = yield* Time.make(options.timeScale ?? 1)
    const faults = yield* Effect.try({
      try: () => Faults.make({ faults: options.faults, seed }),
      catch: (error) => new InvalidOptions({ message: (error as Error).message })
    })
    const objects = {
      tos: ObjectStore.make({ now: time.unsafeNow }),
      bos: ObjectStore.make({ now: time.unsafeNow })
    }
    const context: Ctx.EmulatorContext = {
      time,
      credentials: Credentials.merge(options.credentials),
      objects,
      completions: Completions.make(),
      processing: Processing.make(options.processing),
      models: Models.make(options.models),
      nextId: Ids.make(seed),
      faults,
      seed
    }
    const urls: Record<string, string> = {}
    const state: Record<string, unknown> = { objects }
    const requests: Record<string, number> = {}
    const listening: Array<Servers.Listening> = []
    for (const [index, entry] of surfaces.entries()) {
      const built: Ctx.Surface<unknown> = yield* entry.make(context)
      const name = entry.name
      requests[name] = 0
      const counted = Effect.zipRight(Effect.sync(() => requests[name]!++), built.app)
      const server = yield* Servers.listen(faults.wrap(name, counted), {
        host,
        port: firstPort === 0 ? 0 : firstPort + index
      })
      urls[name] = server.url
      state[name] = built.state
      listening.push(server)
    }
    return Emulator.of({
      urls: urls as Urls,
      credentials: context.credentials,
      state: state as State,
      now: time.now,
      advance: time.advance,
      requests: Effect.sync(() => ({ ...requests }) as { readonly [K in ServiceName]: number }),
      openConnections: Effect.sync(() => listening.reduce((n, server) => n + server.openConnections(), 0)),
      faults: {
        counts: Effect.sync(faults.counts),
        set: (spec) =>
          Effect.suspend(() => unknownServices(spec) ?? Effect.void).pipe(
            Effect.zipRight(Effect.try({
              try: () => faults.set(spec),
              catch: (error) => new InvalidOptions({ message: (error as Error).message })
            }))
          )
      },
      context
    })
  })

/** A fault spec naming a service the emulator does not have, as the error to fail with. */
const unknownServices = (faults: string | FaultSpec | undefined): Effect.Effect<never, InvalidOptions> | undefined => {
  if (faults === undefined || typeof faults === "string") return undefined
  const known = new Set<string>(services)
  const unknown = faults.rules.flatMap((rule) => rule.services ?? []).filter((name) => !known.has(name))
  return unknown.length === 0 ? undefined : Effect.fail(
    new InvalidOptions({
      message: `The fault spec names unknown services ${unknown.join(", ")}; the emulator has ${services.join(", ")}`
    })
  )
}

/**
 * The emulator as a scoped layer.
 *
 * @example
 * ```ts
 * import { Emulator } from "@barge/emulator"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const emulator = yield* Emulator.Emulator
 *   console.log(emulator.urls.moonshot)
 * })
 * Effect.runPromise(Effect.provide(program, Emulator.layer()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<Emulator | Registry.Emulated, HttpServerError.ServeError | InvalidOptions> =>
  withEndpoints(Layer.scoped(Emulator, make(options)))

/**
 * The bucket that exists in both emulated object stores from the start.
 *
 * @since 0.1.0
 * @category constants
 */
export const bucket = "barge"

/**
 * What a provider's `layerEmulated` reads: the emulator's base URL per service, the credentials it accepts by
 * name (`volcengine.accessKeyId`, `volcengine.secretAccessKey`, `bce.accessKeyId`, `bce.secretAccessKey`,
 * `moonshot.apiKey`, `openai.apiKey`, `qianfan.apiKey`) and a bucket that exists.
 *
 * @since 0.1.0
 * @category accessors
 */
export const endpoints = (
  emulator: { readonly urls: Urls; readonly credentials: AcceptedCredentials }
): Registry.Endpoints => ({
  url: (service) => {
    const url = (emulator.urls as Record<string, string | undefined>)[service]
    if (url === undefined) {
      throw new Error(`the emulator has no service "${service}" (it has ${Object.keys(emulator.urls).join(", ")})`)
    }
    return url
  },
  credential: (name) => {
    const [group, key] = name.split(".") as [string, string | undefined]
    const value = key === undefined
      ? undefined
      : (emulator.credentials as unknown as Record<string, Record<string, string> | undefined>)[group]?.[key]
    if (value === undefined) throw new Error(`the emulator has no credential "${name}"`)
    return Redacted.make(value)
  },
  bucket
})

const withEndpoints = <E, R>(self: Layer.Layer<Emulator, E, R>): Layer.Layer<Emulator | Registry.Emulated, E, R> =>
  Layer.effect(Registry.Emulated, Effect.map(Emulator, endpoints)).pipe(Layer.provideMerge(self))

/**
 * Like `layer`, with credentials overridable from the environment: `BARGE_EMULATOR_VOLC_ACCESS_KEY`,
 * `BARGE_EMULATOR_VOLC_SECRET_KEY`, `BARGE_EMULATOR_BCE_ACCESS_KEY`, `BARGE_EMULATOR_BCE_SECRET_KEY`,
 * `BARGE_EMULATOR_MOONSHOT_API_KEY`, `BARGE_EMULATOR_OPENAI_API_KEY`, `BARGE_EMULATOR_QIANFAN_API_KEY`.
 * Credentials given in `options` win over the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Options = {}
): Layer.Layer<Emulator | Registry.Emulated, HttpServerError.ServeError | InvalidOptions | ConfigError.ConfigError> =>
  withEndpoints(Layer.scoped(
    Emulator,
    Effect.flatMap(Credentials.config, (env) =>
      make({
        ...options,
        credentials: {
          volcengine: { ...env.volcengine, ...options.credentials?.volcengine },
          bce: { ...env.bce, ...options.credentials?.bce },
          moonshot: { ...env.moonshot, ...options.credentials?.moonshot },
          openai: { ...env.openai, ...options.credentials?.openai },
          qianfan: { ...env.qianfan, ...options.credentials?.qianfan }
        }
      }))
  ))

/**
 * The default credentials (documented in the README).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCredentials: AcceptedCredentials = Credentials.defaults

/**
 * What the emulator answers to a request with `customId` whose last user message is `lastUserText`: lets a test
 * check every result against its request.
 *
 * @since 0.1.0
 * @category completions
 */
export const expectedContent: (customId: string, lastUserText: string) => string = Completions.expectedContent

/**
 * Put this in a message to make that request fail (`[[barge:fail]]`, `[[barge:fail:CODE]]` or
 * `[[barge:fail:CODE:STATUS]]`).
 *
 * @since 0.1.0
 * @category completions
 */
export const failMarker: string = "[[barge:fail]]"
