/**
 * The emulated tos surface. PLACEHOLDER: answers 501 until the tos work lands; keep the `make` and `State` exports.
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type { EmulatorContext, Surface } from "../internal/Context.js"

/** Inspectable state of this surface. */
export interface State {}

/** Builds the surface. */
export const make = (_ctx: EmulatorContext): Effect.Effect<Surface<State>> =>
  Effect.succeed({ app: HttpServerResponse.text("not implemented", { status: 501 }), state: {} })
