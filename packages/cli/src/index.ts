/**
 * The `barge` command line.
 *
 * @since 0.1.0
 */

/**
 * The command tree, `run` and the exit codes.
 *
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"

/**
 * Which `Batch` layer the CLI builds for a provider (real or emulated).
 *
 * @since 0.1.0
 */
export * as Providers from "./Providers.js"

/**
 * Progress bars, plain progress lines and status summaries.
 *
 * @since 0.1.0
 */
export * as Render from "./Render.js"
