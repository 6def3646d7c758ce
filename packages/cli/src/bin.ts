#!/usr/bin/env node
/**
 * The `dtt` executable. Usage errors are printed by @effect/cli itself (exit code 2); a command that fails prints
 * one readable line (exit code 1); Ctrl-C interrupts the command, which closes every node, socket and fiber
 * before the process exits (130).
 *
 * Logs (the libraries' `Effect.logDebug` etc.) go to stderr as logfmt lines, so stdout stays clean for `--json`;
 * only warnings and worse by default, `--log-level debug` (@effect/cli's built-in option) shows more.
 */
import { ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Exit, Layer, Logger, LogLevel } from "effect"
import * as Cli from "./Cli.js"

/** The exit code, once everything the command opened is closed. */
const main: Effect.Effect<number> = Cli.run(process.argv).pipe(
  Effect.as(0),
  Effect.catchAll((error) =>
    ValidationError.isValidationError(error)
      ? Effect.succeed(2) // already printed, with the usage, by @effect/cli
      : Effect.as(Console.error(`dtt: ${error.message}`), error._tag === "UsageError" ? 2 : 1)
  ),
  Effect.catchAllDefect((defect) =>
    Effect.as(Console.error(`dtt: unexpected failure: ${Cause.pretty(Cause.die(defect))}`), 1)
  ),
  Effect.provide(NodeContext.layer),
  Effect.provide(
    Layer.merge(
      Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger)),
      Logger.minimumLogLevel(LogLevel.Warning)
    )
  )
)

// Exit explicitly: native handles (iroh) must not keep a finished command's process alive.
NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  disablePrettyLogger: true, // ours writes to stderr

  teardown: (exit, _onExit) =>
    process.exit(
      Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : Exit.isInterrupted(exit) ? 130 : 1
    )
})
