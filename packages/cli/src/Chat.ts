/**
 * `dtt chat`: one node on a topic. Lines read from stdin are broadcast to the swarm; received messages and
 * neighbour changes are printed. By default the node uses the public mainline DHT (its usual bootstrap routers)
 * and number0's relays; with `bootstrap` it uses a private DHT such as `dtt testbed`, and when that DHT is on
 * loopback the node stays on loopback too (no relays, endpoint bound to 127.0.0.1).
 *
 * A message is the UTF-8 line, prefixed with `name: ` when a name is given. Anything received is shown as one
 * sanitised line (see `printable`): peers are strangers.
 */
import { Config, NodeIdentity, Topic, TopicId } from "@dtt/core"
import { Console, Effect, Layer, Option, Stream } from "effect"
import * as readline from "node:readline"
import * as DhtReachability from "./internal/dhtReachability.js"
import { printable, shortId } from "./internal/text.js"
import * as PeerNode from "./PeerNode.js"

export interface ChatOptions {
  readonly topic: string
  readonly secret: string
  /** "host:port" of a private DHT; empty = the public mainline DHT. */
  readonly bootstrap: ReadonlyArray<string>
  readonly name: Option.Option<string>
  /** Lines to broadcast. Default: stdin, line by line; the chat ends when it ends. */
  readonly input?: Stream.Stream<string>
  /** Default `Console.log`. */
  readonly print?: (line: string) => Effect.Effect<void>
}

/** stdin as a stream of lines, ending at end of input. */
export const stdinLines: Stream.Stream<string> = Stream.suspend(() => {
  const rl = readline.createInterface({ input: process.stdin, terminal: false })
  return Stream.fromAsyncIterable(rl, () => undefined).pipe(
    Stream.catchAll(() => Stream.empty),
    Stream.ensuring(Effect.sync(() => rl.close()))
  )
})

/** Loopback DHTs keep the node on loopback; anything else is taken as a real network. */
const isLoopback = (hostPort: string) => /^(127\.|localhost:)/.test(hostPort)

/** Largest line we send, in UTF-8 bytes; iroh-gossip's default message size leaves room for ~4 KB. */
const MAX_LINE_BYTES = 2048

export const run = (options: ChatOptions): Effect.Effect<void, PeerNode.NodeStartError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const print = options.print ?? ((line: string) => Console.log(line))
      const local = options.bootstrap.length > 0 && options.bootstrap.every(isLoopback)
      const identity = NodeIdentity.generate()
      const counters = PeerNode.makeCounters()
      const context = yield* Layer.build(
        PeerNode.layer(
          {
            identity,
            dht: {
              host: local ? "127.0.0.1" : "0.0.0.0",
              ...(options.bootstrap.length > 0 ? { bootstrap: options.bootstrap } : {})
            },
            gossip: local
              ? { bindAddr: "127.0.0.1:0", preset: "minimal", relay: { _tag: "Disabled" } }
              : { bindAddr: "0.0.0.0:0", preset: "minimal", relay: { _tag: "Default" } }
          },
          counters
        )
      )
      const topic = yield* Topic.joinNoWait(TopicId.fromName(options.topic), {
        secret: options.secret,
        config: Config.defaults
      }).pipe(
        Effect.provide(context),
        Effect.mapError((e) => new PeerNode.NodeStartError({ reason: `could not subscribe: ${e._tag}` }))
      )
      const [sender, receiver] = yield* topic.split
      const where = options.bootstrap.length > 0 ? `private DHT ${options.bootstrap.join(", ")}` : "the public mainline DHT"
      yield* print(`joining topic "${options.topic}" as ${shortId(identity.endpointId)} via ${where} ...`)
      yield* Effect.forkScoped(DhtReachability.watch(counters, options.bootstrap, print))

      yield* Effect.forkScoped(
        receiver.events.pipe(
          Stream.runForEach((event) => {
            switch (event._tag) {
              case "NeighborUp":
                return print(`* neighbour up ${shortId(event.peer)}`)
              case "NeighborDown":
                return print(`* neighbour down ${shortId(event.peer)}`)
              case "Lagged":
                return print(`* missed ${event.missed ?? "some"} events`)
              case "Received":
                return print(`[${shortId(event.deliveredFrom)}] ${printable(event.content)}`)
            }
          })
        )
      )
      yield* Effect.forkScoped(
        Effect.gen(function* () {
          yield* topic.joined
          const neighbours = (yield* topic.neighbors).map(shortId).join(", ")
          yield* print(`* joined (neighbours ${neighbours})`)
        }).pipe(Effect.ignore)
      )

      const prefix = Option.match(options.name, { onNone: () => "", onSome: (n) => `${n}: ` })
      const send = (line: string) =>
        Effect.gen(function* () {
          if (line.trim() === "") return
          const bytes = new TextEncoder().encode(prefix + line)
          if (bytes.length > MAX_LINE_BYTES) return yield* print(`* line too long (${bytes.length} bytes, at most ${MAX_LINE_BYTES})`)
          if (!(yield* topic.isJoined)) yield* print("* not joined yet; the line goes out once a neighbour is up")
          yield* topic.joined
          const result = yield* Effect.either(sender.broadcast(bytes))
          if (result._tag === "Left") yield* print(`* could not send: ${result.left._tag}`)
        })

      // Reading ends at end of input (Ctrl-D) or when the topic closes; either ends the chat.
      yield* Effect.raceFirst(
        Stream.runForEach(options.input ?? stdinLines, (line) => Effect.catchAll(send(line), () => Effect.void)),
        topic.awaitClosed
      )
      yield* print("* leaving")
    })
  )
