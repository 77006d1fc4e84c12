/**
 * Completion windows: how long a provider may take over a batch. Each provider accepts its own values (Ark whole
 * days `1d`–`28d`; OpenAI and Qianfan's console only `24h`; Qianfan's `/v2/batches` whole hours `1h`–`672h`; …);
 * its {@link Rules} say which, in data, and map any requested window onto the value sent on the wire — rounded up
 * to the next accepted value, or refused with a message that names what is accepted. A value the provider would
 * reject is never sent.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"

/**
 * What a provider accepts as a completion window.
 *
 * @since 0.1.0
 * @category models
 */
export interface Rules {
  /** What is accepted, in words for messages (`"24h"`, `"1d to 28d (whole days)"`). */
  readonly accepted: string
  /** The wire value sent when none is asked for; `undefined` leaves the field out (the provider's default). */
  readonly default: string | undefined
  /** The wire value for a window: the shortest accepted one at least as long, or why none fits. */
  readonly toWire: (window: Duration.Duration) => Either.Either<string, string>
}

/**
 * A window as a user may write it: a `Duration` input (`"3 days"`, `Duration.hours(24)`, milliseconds) or the
 * providers' short forms `"24h"`, `"3d"`.
 *
 * @since 0.1.0
 * @category models
 */
export type Input = Duration.DurationInput | string

const short = /^\s*(\d+)\s*([hd])\s*$/i

/**
 * Reads a window as a user wrote it, or `None` when it is not one.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (input: Input): Option.Option<Duration.Duration> => {
  if (typeof input === "string") {
    const match = short.exec(input)
    if (match !== null) {
      const n = Number(match[1])
      return Option.some(match[2]!.toLowerCase() === "d" ? Duration.days(n) : Duration.hours(n))
    }
  }
  const decoded = Duration.decodeUnknown(typeof input === "string" ? input.trim() : input)
  return Option.filter(decoded, (d) => Duration.isFinite(d) && Duration.greaterThan(d, Duration.zero))
}

/**
 * Maps a requested window (or none) onto the wire value: `Right(undefined)` leaves the field out, `Left` is a
 * message naming what the provider accepts.
 *
 * @since 0.1.0
 * @category mapping
 */
export const resolve = (
  rules: Rules,
  provider: string,
  input: Input | undefined
): Either.Either<string | undefined, string> => {
  if (input === undefined) return Either.right(rules.default)
  return Option.match(parse(input), {
    onNone: () =>
      Either.left(
        `completion window ${JSON.stringify(input)} is not a duration (such as "24h", "3d" or "3 days"); ` +
          `${provider} accepts ${rules.accepted}`
      ),
    onSome: (window) =>
      Either.mapLeft(
        rules.toWire(window),
        (why) => `completion window ${JSON.stringify(input)} cannot be used on ${provider}: ${why}`
      )
  })
}

const hourMillis = 3_600_000

/**
 * Whole units from `min` to `max` (`unit` `"h"` or `"d"`), spelled `"<n><unit>"`: a window is rounded up to whole
 * units and up to `min`; one longer than `max` units is refused.
 *
 * @since 0.1.0
 * @category constructors
 */
export const range = (options: {
  readonly unit: "h" | "d"
  readonly min: number
  readonly max: number
  /** The wire value when none is asked for; default: leave the field out. */
  readonly default?: string | undefined
}): Rules => {
  const unitMillis = options.unit === "d" ? 24 * hourMillis : hourMillis
  const accepted = `${options.min}${options.unit} to ${options.max}${options.unit} (whole ${
    options.unit === "d" ? "days" : "hours"
  })`
  return {
    accepted,
    default: options.default,
    toWire: (window) => {
      const units = Math.max(options.min, Math.ceil(Duration.toMillis(window) / unitMillis - 1e-9))
      return units > options.max
        ? Either.left(`longer than the ${options.max}${options.unit} it accepts (${accepted})`)
        : Either.right(`${units}${options.unit}`)
    }
  }
}

/**
 * A fixed list of accepted values (e.g. `["24h"]`): a window maps onto the shortest one at least as long; a longer
 * one is refused.
 *
 * @since 0.1.0
 * @category constructors
 */
export const oneOf = (
  values: readonly [string, ...Array<string>],
  options?: { readonly default?: string | undefined }
): Rules => {
  const sorted = values
    .map((value) => ({ value, millis: Option.getOrThrow(Option.map(parse(value), Duration.toMillis)) }))
    .sort((a, b) => a.millis - b.millis)
  const accepted = values.join(" or ")
  return {
    accepted: values.length === 1 ? `only ${accepted}` : accepted,
    default: options?.default,
    toWire: (window) => {
      const millis = Duration.toMillis(window)
      const fit = sorted.find((candidate) => candidate.millis >= millis)
      return fit === undefined
        ? Either.left(`longer than ${sorted[sorted.length - 1]!.value}, the longest it accepts (${accepted})`)
        : Either.right(fit.value)
    }
  }
}
