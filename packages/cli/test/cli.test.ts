/**
 * The command line parser. Most cases run in-process through `Cli.run` with a console that records what is
 * printed (fast); a few run the real executable to check exit codes (0 for help, 2 for usage errors).
 */
import { ValidationError } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { type Console, Effect, Either } from "effect"
import * as Cli from "../src/Cli.js"
import { type Dtt, killAll, start } from "./support/dtt.js"

// The children and the in-process parser read our environment; these cases are about a secret that is nowhere.
delete process.env.DTT_SECRET

const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "")

/** Parse and run `dtt ...args` in this process; returns how it ended and everything it printed. */
const parse = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const printed: Array<string> = []
    const record = (...parts: ReadonlyArray<unknown>) => void printed.push(parts.map(String).join(" "))
    const console = yield* Effect.console
    const capture: Console.Console = {
      ...console,
      log: (...parts) => Effect.sync(() => record(...parts)),
      error: (...parts) => Effect.sync(() => record(...parts)),
      info: (...parts) => Effect.sync(() => record(...parts)),
      unsafe: { ...console.unsafe, log: record, error: record, info: record }
    }
    const result = yield* Cli.run(["node", "dtt", ...args]).pipe(Effect.withConsole(capture), Effect.either)
    return { result, text: stripAnsi(printed.join("\n")) }
  }).pipe(Effect.provide(NodeContext.layer))

const started: Array<Dtt> = []
afterAll(() => killAll(started))

/** The real executable, run to completion (these cases stop at parsing, before any network). */
const run = async (args: ReadonlyArray<string>) => {
  const p = start(args)
  started.push(p)
  p.child.stdin.end()
  const code = await p.exited(20_000)
  return { code, stdout: p.stdout(), stderr: p.stderr() }
}

describe("dtt command line", () => {
  it.effect("--help lists the three commands; --version prints the version", () =>
    Effect.gen(function*() {
      const help = yield* parse(["--help"])
      expect(Either.isRight(help.result)).toBe(true)
      for (const command of ["demo", "testbed", "chat"]) expect(help.text).toMatch(new RegExp(`- ${command} `))
      const version = yield* parse(["--version"])
      expect(version.text.trim()).toBe("0.1.0")
    }))

  it.effect("each command's help describes its options, and says the secret can come from DTT_SECRET", () =>
    Effect.gen(function*() {
      const chat = yield* parse(["chat", "--help"])
      expect(chat.text).toContain("$ chat --topic name [--secret secret] [--bootstrap host:port...] [--name nick]")
      expect(chat.text).toContain("DTT_SECRET environment variable")
      const demo = yield* parse(["demo", "--help"])
      expect(demo.text).toContain(
        "$ demo [--nodes n] [--dht-nodes n] [--topic name] [--secret secret] [--duration duration] [--status-every duration]"
      )
      expect(demo.text).toContain("DTT_SECRET environment variable")
      expect(demo.text).toContain("Nodes joining the topic (a node alone has nobody to join). Default 5.")
      const testbed = yield* parse(["testbed", "--help"])
      expect(testbed.text).toContain("$ testbed [--nodes n] [--host address] [--port n]")
      expect(testbed.text).toMatch(/bootstrap address \(0 = any free port\)\. Default 6881\./)
    }))

  it.effect("bad options fail with a validation error and print one readable line, no stack trace", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["demo", "--nodes", "1"], "--nodes must be a whole number from 2 to 100"],
        [["demo", "--nodes", "many"], "'many' is not a integer"],
        [["demo", "--duration", "soon"], "--duration must be a duration such as 60s"],
        [["testbed", "--port", "70000"], "--port must be a whole number from 0 to 65535"],
        [["chat", "--topic", "t", "--secret", "s", "--bootstrap", "nowhere"], "--bootstrap must be host:port"],
        [["chat", "--topic", "t", "--secret", "s", "--colour", "red"], "Received unknown argument: '--colour'"],
        [["chat", "--secret", "s"], "Expected to find option: '--topic'"],
        [["fly"], "Invalid subcommand for dtt - use one of 'demo', 'testbed', 'chat'"]
      ]
      for (const [args, message] of cases) {
        const { result, text } = yield* parse(args)
        const what = `dtt ${args.join(" ")}: ${text}`
        expect(Either.isLeft(result) && ValidationError.isValidationError(result.left), what).toBe(true)
        expect(text, what).toContain(message)
        expect(text).not.toMatch(/\bat .*:\d+:\d+/)
      }
    }))

  it.effect("chat without --secret and without DTT_SECRET fails before any network, naming both ways", () =>
    Effect.gen(function*() {
      const { result } = yield* parse(["chat", "--topic", "t", "--bootstrap", "127.0.0.1:9"])
      const error = Either.isLeft(result) && result.left._tag === "UsageError" ? result.left : undefined
      expect(error?.message).toBe("a secret is needed: set DTT_SECRET or pass --secret")
    }))

  it("the executable exits 0 for help and 2 for usage errors, with the message on its output", async () => {
    const [help, bad, noSecret] = await Promise.all([
      run(["--help"]),
      run(["demo", "--nodes", "0"]),
      run(["chat", "--topic", "t", "--bootstrap", "127.0.0.1:9"])
    ])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("dtt 0.1.0")
    expect(bad.code).toBe(2)
    expect(bad.stdout + bad.stderr).toContain("--nodes must be a whole number from 2 to 100")
    expect(noSecret.code).toBe(2)
    expect(noSecret.stderr).toContain("dtt: a secret is needed: set DTT_SECRET or pass --secret")
  }, 30_000)
})
