/**
 * `dtt chat`: one node on a topic. Lines read from stdin are broadcast to the swarm; received messages and
 * neighbour changes are printed. By default the node uses the public mainline DHT (its usual bootstrap routers)
 * and number0's relays; with `bootstrap` it uses a private DHT such as `dtt testbed`, and when that DHT is on
 * loopback the node stays on loopback too (no relays, endpoint bound to 127.0.0.1).
 *
 * A message is the UTF-8 line, prefixed with `name: ` when a name is given. Anything received is shown as one
 * sanitised line (see `printable`): peers are strangers.
 */
import { Config, Metrics, NodeIdentity, Topic, TopicId } from "@dtt/core"
import { Clock, Console, Duration, Effect, Layer, Option, Stream } from "effect"
import * as readline from "node:readline"
import { type ChatEvent, recordFigures, render, toJsonLine } from "./internal/chatEvents.js"
import * as DhtReachability from "./internal/dhtReachability.js"
import { printable } from "./internal/text.js"
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
  /** One JSON object a line (events, status, summary) instead of text. */
  readonly json?: boolean
  /** JSON status lines, and in text mode the progress line while not joined, this often. Default 5 s. */
  readonly statusEvery?: Duration.DurationInput
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

/** Received payloads as text for JSON; invalid UTF-8 becomes U+FFFD (JSON.stringify escapes control characters). */
const decoder = new TextDecoder("utf-8", { fatal: false })

export const run = (options: ChatOptions): Effect.Effect<void, PeerNode.NodeStartError> =>
  Effect.scoped(
    Effect.gen(function*() {
      const print = options.print ?? ((line: string) => Console.log(line))
      const emit = (event: ChatEvent) =>
        options.json === true ? print(toJsonLine(event)) : Effect.forEach(render(event), print, { discard: true })
      const startedAt = yield* Clock.currentTimeMillis
      let joinedAt: number | undefined
      let sent = 0
      let received = 0
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
      yield* emit({
        type: "started",
        endpointId: identity.endpointId,
        topic: options.topic,
        bootstrap: options.bootstrap
      })
      yield* Effect.forkScoped(
        DhtReachability.watchChanges(counters, (change) =>
          emit(
            change._tag === "Unreachable"
              ? { type: "dht-unreachable", quietSeconds: change.quietSeconds, bootstrap: options.bootstrap }
              : { type: "dht-reachable" }
          ))
      )
      const figures = Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const neighbors = (yield* topic.neighbors).length
        const records = recordFigures(yield* Metrics.snapshot)
        return { elapsedMs: now - startedAt, neighbors, sent, received, dht: { ...counters }, records }
      })
      // JSON: a status line every period. Text: the progress line while not joined (long waits say something).
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.gen(function*() {
            yield* Effect.sleep(options.statusEvery ?? Duration.seconds(5))
            const f = yield* figures
            if (options.json === true) yield* emit({ type: "status", joined: joinedAt !== undefined, ...f })
            else if (joinedAt === undefined) {
              yield* emit({ type: "progress", elapsedMs: f.elapsedMs, dht: f.dht, records: f.records })
            }
          })
        )
      )
      // Runs when the chat ends, however it ends (end of input, closed topic, Ctrl-C).
      yield* Effect.addFinalizer(() =>
        Effect.flatMap(figures, (f) =>
          emit({ type: "summary", ...f, joinedAfterMs: joinedAt === undefined ? null : joinedAt - startedAt })).pipe(
            Effect.ignore
          )
      )

      yield* Effect.forkScoped(
        receiver.events.pipe(
          Stream.runForEach((event) => {
            switch (event._tag) {
              case "NeighborUp":
                return emit({ type: "neighbor-up", peer: event.peer })
              case "NeighborDown":
                return emit({ type: "neighbor-down", peer: event.peer })
              case "Lagged":
                return emit({ type: "lagged", missed: event.missed ?? null })
              case "Received":
                received++
                return emit({
                  type: "message",
                  from: event.deliveredFrom,
                  text: decoder.decode(event.content),
                  printable: printable(event.content)
                })
            }
          })
        )
      )
      yield* Effect.forkScoped(
        Effect.gen(function*() {
          yield* topic.joined
          joinedAt = yield* Clock.currentTimeMillis
          yield* emit({ type: "joined", afterMs: joinedAt - startedAt, neighbors: yield* topic.neighbors })
        }).pipe(Effect.ignore)
      )

      const prefix = Option.match(options.name, {
        onNone: () =>
          "",
        onSome: (n) => `${n}: `
      })
      const send = (line: string) =>
        Effect.gen(function*() {
          if (line.trim() === "") return
          const bytes = new TextEncoder().encode(prefix + line)
          if (bytes.length > MAX_LINE_BYTES) {
            return yield* emit({ type: "line-too-long", bytes: bytes.length, max: MAX_LINE_BYTES })
          }
          if (!(yield* topic.isJoined)) {
            yield* emit({ type: "queued" })
          }
          yield* topic.joined
          const result = yield* Effect.either(sender.broadcast(bytes))
          if (result._tag === "Left") yield* emit({ type: "send-failed", error: result.left._tag })
          else sent++
        })

      // Reading ends at end of input (Ctrl-D) or when the topic closes; either ends the chat.
      yield* Effect.raceFirst(
        Stream.runForEach(options.input ?? stdinLines, (line) => Effect.catchAll(send(line), () => Effect.void)),
        topic.awaitClosed
      )
      yield* emit({ type: "leaving" })
    })
  )
