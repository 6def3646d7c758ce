#!/usr/bin/env node
/**
 * The `dtt` executable. Usage errors are printed by @effect/cli itself (exit code 2); a command that fails prints
 * one readable line (exit code 1); Ctrl-C interrupts the command, which closes every node, socket and fiber
 * before the process exits (130).
 */
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit } from "effect"
import * as Cli from "./Cli.js"

/** The exit code, once everything the command opened is closed. */
const main: Effect.Effect<number> = Cli.run(process.argv).pipe(
  Effect.as(0),
  Effect.catchAll((error) =>
    ValidationError.isValidationError(error)
      ? Effect.succeed(2) // already printed, with the usage, by @effect/cli
      : Effect.as(Console.error(`dtt: ${error.message}`), error._tag === "UsageError" ? 2 : 1)
  ),
  Effect.catchAllDefect((defect) => Effect.as(Console.error(`dtt: unexpected failure: ${Cause.pretty(Cause.die(defect))}`), 1)),
  Effect.provide(NodeContext.layer)
)

// Exit explicitly: native handles (iroh) must not keep a finished command's process alive.
NodeRuntime.runMain(main, {
  disableErrorReporting: true,
  teardown: (exit, _onExit) =>
    process.exit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : Exit.isInterrupted(exit) ? 130 : 1)
})
