/**
 * The `dtt` command line: `dtt demo`, `dtt testbed` and `dtt chat` (@effect/cli). Parsing and help live here;
 * each handler hands its options to the module of the same name. `run(argv)` is what `bin.ts` executes.
 */
import { Crypto } from "@dtt/core"
import { Command, Options } from "@effect/cli"
import { Config, Console, Data, Effect, Option, Redacted } from "effect"
import * as Chat from "./Chat.js"
import * as Demo from "./Demo.js"
import { isHostPort, parseDuration } from "./internal/text.js"
import * as TestbedServer from "./TestbedServer.js"

export const VERSION = "0.1.0"

/** Environment variable read when `--secret` is not given, so the secret stays out of shell history. */
export const SECRET_ENV = "DTT_SECRET"

const DEMO_SECRET = "dtt-demo-secret"

const wholeNumber = (name: string, min: number, max: number, fallback: number, description: string) =>
  Options.integer(name).pipe(
    Options.withPseudoName("n"),
    Options.filterMap(
      (n) => (Number.isInteger(n) && n >= min && n <= max ? Option.some(n) : Option.none()),
      `--${name} must be a whole number from ${min} to ${max}`
    ),
    Options.withDefault(fallback),
    Options.withDescription(`${description} Default ${fallback}.`)
  )

const duration = (name: string, fallback: string, description: string) =>
  Options.text(name).pipe(
    Options.withPseudoName("duration"),
    Options.filterMap(
      parseDuration,
      `--${name} must be a duration such as 60s, 1500ms, 2m or 1h (or a number of seconds)`
    ),
    Options.withDefault(parseDuration(fallback).pipe(Option.getOrThrow)),
    Options.withDescription(`${description} Default ${fallback}.`)
  )

/**
 * `--secret`, else `DTT_SECRET`. Optional at parse time so that a missing secret can be reported naming both
 * places (@effect/cli would only name the flag).
 */
const secret = (fallback: string | undefined) =>
  Options.redacted("secret").pipe(
    Options.withFallbackConfig(Config.redacted(SECRET_ENV)),
    Options.withPseudoName("secret"),
    Options.optional,
    Options.withDescription(
      `The topic's shared secret. Prefer the ${SECRET_ENV} environment variable (read when --secret is absent), ` +
        "so the secret does not land in your shell history" +
        (fallback === undefined ? "." : `; default "${fallback}".`)
    )
  )

const requireSecret = (value: Option.Option<Redacted.Redacted>, fallback?: string) =>
  Option.match(value, {
    onSome: (r) => Effect.succeed(Redacted.value(r)),
    onNone: () =>
      fallback !== undefined
        ? Effect.succeed(fallback)
        : Effect.fail(new UsageError({ message: `a secret is needed: set ${SECRET_ENV} or pass --secret` }))
  })

const json = Options.boolean("json").pipe(
  Options.withDescription("One JSON object a line (events, status, summary) instead of text, for scripts.")
)

// ---------------------------------------------------------------------------------------------------------------
// dtt demo

const demo = Command.make(
  "demo",
  {
    nodes: wholeNumber("nodes", 2, 100, 5, "Nodes joining the topic (a node alone has nobody to join)."),
    dhtNodes: wholeNumber("dht-nodes", 1, 200, 20, "Storing nodes of the private DHT."),
    topic: Options.text("topic").pipe(
      Options.withPseudoName("name"),
      Options.withDefault("dtt-demo"),
      Options.withDescription("Topic name. Default dtt-demo.")
    ),
    secret: secret(DEMO_SECRET),
    duration: duration("duration", "60s", "How long to run (e.g. 60s, 2m); Ctrl-C stops earlier."),
    statusEvery: duration("status-every", "5s", "A status line this often."),
    json
  },
  (o) =>
    Effect.flatMap(requireSecret(o.secret, DEMO_SECRET), (secret) =>
      Demo.run({
        nodes: o.nodes,
        dhtNodes: o.dhtNodes,
        topic: o.topic,
        secret,
        duration: o.duration,
        statusEvery: o.statusEvery,
        json: o.json
      })).pipe(
        Effect.flatMap((summary) =>
          // A demo that joined nobody or lost every message is a failed demo: say so through the exit code.
          summary.joined < summary.nodes.length || (summary.messagesSent > 0 && summary.deliveries === 0)
            ? Effect.fail(new CommandFailed({ message: "not every node joined, or no message was delivered" }))
            : Effect.void
        )
      )
).pipe(
  Command.withDescription(
    "Run a whole swarm in this process: a private DHT and N real nodes on 127.0.0.1 join one topic, " +
      "broadcast now and then, and print who joined when, neighbours, messages and DHT requests, then a summary."
  )
)

// ---------------------------------------------------------------------------------------------------------------
// dtt testbed

const testbed = Command.make(
  "testbed",
  {
    nodes: wholeNumber("nodes", 1, 500, 20, "Storing nodes."),
    host: Options.text("host").pipe(
      Options.withPseudoName("address"),
      Options.withDefault("127.0.0.1"),
      Options.withDescription("Address the nodes bind to. Default 127.0.0.1, which keeps everything on this machine.")
    ),
    port: wholeNumber("port", 0, 65535, 6881, "UDP port of the first node, the bootstrap address (0 = any free port)."),
    statusEvery: duration("status-every", "30s", "A status line this often."),
    json
  },
  (o) =>
    Effect.scoped(
      Effect.gen(function*() {
        const server = yield* TestbedServer.serve({ nodes: o.nodes, host: o.host, port: o.port }).pipe(
          Effect.provide(Crypto.layerNode),
          Effect.mapError((e) => new CommandFailed({ message: `could not start the testbed: ${e.reason}` }))
        )
        const line = (event: Record<string, unknown>) => Console.log(JSON.stringify(event))
        if (o.json) {
          yield* line({ type: "listening", bootstrap: [server.bootstrap], nodes: server.nodes.length })
          yield* Effect.addFinalizer(() => line({ type: "stopped", ...server.stats() }))
        } else {
          yield* Console.log(`private DHT of ${server.nodes.length} nodes up`)
          yield* Console.log(`bootstrap ${server.bootstrap}`)
          if (o.host === "0.0.0.0") {
            yield* Console.log("(bound to every interface: others use this machine's address with the same port)")
          }
          yield* Console.log(
            `join it with: dtt chat --topic <name> --bootstrap ${server.bootstrap}   (Ctrl-C stops the testbed)`
          )
        }
        yield* Effect.forever(
          Effect.gen(function*() {
            yield* Effect.sleep(o.statusEvery)
            const stats = server.stats()
            yield* o.json
              ? line({ type: "status", ...stats })
              : Console.log(`status  items stored ${stats.storedItems}  queries answered ${stats.queriesAnswered}`)
          })
        )
      })
    )
).pipe(
  Command.withDescription(
    "Serve a private mainline DHT for nodes in other processes (dtt chat --bootstrap ...). Runs until Ctrl-C."
  )
)

// ---------------------------------------------------------------------------------------------------------------
// dtt chat

const chat = Command.make(
  "chat",
  {
    topic: Options.text("topic").pipe(
      Options.withPseudoName("name"),
      Options.withDescription("Topic name (everyone on the topic uses the same).")
    ),
    secret: secret(undefined),
    bootstrap: Options.text("bootstrap").pipe(
      Options.withPseudoName("host:port"),
      Options.repeated,
      Options.filterMap(
        (all) => (all.every(isHostPort) ? Option.some(all) : Option.none()),
        "--bootstrap must be host:port, e.g. 127.0.0.1:6881"
      ),
      Options.withDefault([] as Array<string>),
      Options.withDescription(
        "host:port of a private DHT such as `dtt testbed` (repeatable). Without it: the public mainline DHT."
      )
    ),
    name: Options.text("name").pipe(
      Options.withPseudoName("nick"),
      Options.optional,
      Options.withDescription("Nickname put in front of your lines.")
    ),
    statusEvery: duration(
      "status-every",
      "5s",
      "With --json a status line this often; without, a progress line this often while no neighbour is found."
    ),
    json
  },
  (o) =>
    Effect.flatMap(
      requireSecret(o.secret),
      (secret) =>
        Chat.run({
          topic: o.topic,
          secret,
          bootstrap: o.bootstrap,
          name: o.name,
          json: o.json,
          statusEvery: o.statusEvery
        }).pipe(
          Effect.mapError((e) => new CommandFailed({ message: e.reason }))
        )
    )
).pipe(
  Command.withDescription(
    "Join a topic: lines typed on stdin are broadcast, received messages and neighbour changes are printed. " +
      "Ctrl-D or Ctrl-C leaves."
  )
)

// ---------------------------------------------------------------------------------------------------------------

/** A command that ran and failed; the message is printed as it is and the exit code is 1. */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{ readonly message: string }> {}

/** The options parsed but do not make sense together; exit code 2, as for any other usage error. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

const dtt = Command.make(
  "dtt",
  {},
  () => Console.log("dtt: distributed topic tracker. Commands: demo, testbed, chat. `dtt --help` tells more.")
).pipe(
  Command.withDescription(
    "Peers sharing a topic name and secret find each other through the mainline DHT and talk over iroh-gossip."
  ),
  Command.withSubcommands([demo, testbed, chat])
)

/** Parse `argv` (as `process.argv`: node and script first) and run the command. */
export const run = Command.run(dtt, { name: "dtt", version: VERSION })
