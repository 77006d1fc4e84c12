#!/usr/bin/env node
/**
 * The `barge` executable.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Cli from "./Cli.js"

// A reader that stopped reading (`barge results ID | head -1`) is not an error: the command ends quietly, done.
// Anything else that goes wrong outside the program is a bug, and says so.
const onStreamError = (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(Cli.ExitCode.Ok)
  onUnexpected(error)
}
const onUnexpected = (error: unknown) => {
  try {
    process.stderr.write(Cli.bugReport(error instanceof Error ? (error.stack ?? error.message) : String(error)))
  } finally {
    process.exit(Cli.ExitCode.Unexpected)
  }
}
process.stdout.on("error", onStreamError)
process.stderr.on(
  "error",
  (error: NodeJS.ErrnoException) => process.exit(error.code === "EPIPE" ? Cli.ExitCode.Ok : Cli.ExitCode.Unexpected)
)
process.on("uncaughtException", onUnexpected)
process.on("unhandledRejection", onUnexpected)

NodeRuntime.runMain(
  Cli.run(process.argv.slice(2)).pipe(Effect.provide(Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici))),
  {
    disableErrorReporting: true,
    // 130 = interrupted (Ctrl-C), the shell convention; the batch itself keeps running at the provider.
    teardown: (exit, onExit) =>
      onExit(
        Exit.isSuccess(exit)
          ? (exit.value as number)
          : Exit.isInterrupted(exit)
          ? 130
          : Cli.ExitCode.Unexpected
      )
  }
)
