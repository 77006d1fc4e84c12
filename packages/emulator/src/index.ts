/**
 * @since 0.1.0
 */

/**
 * The Barge emulator: five loopback HTTP servers (Ark, TOS, Moonshot, Qianfan, BOS) for tests, examples and
 * trying Barge without provider credentials.
 *
 * @since 0.1.0
 */
export * as Emulator from "./Emulator.js"

/**
 * Time in tests against the emulator: move the `TestClock` only while the program waits on it, and wait for
 * events in real time.
 *
 * @since 0.1.0
 */
export * as TestTime from "./TestTime.js"
