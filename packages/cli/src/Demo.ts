/**
 * `dtt demo`: a whole swarm in one process on loopback. A private mainline DHT (`Testbed`) and N real nodes
 * (iroh endpoints on 127.0.0.1, relays off, addresses published and resolved on that DHT) join one topic the way
 * strangers on the public DHT would: nobody is handed an address or a peer. The demo prints who joined when,
 * neighbour changes, a status line now and then (neighbours per node, messages, DHT requests) and a summary.
 *
 * Every node broadcasts a short numbered message now and then once it has joined, so delivery can be checked:
 * each (message, receiver) pair is counted once, against the nodes that had joined when the message was sent.
 */
import { Config, Crypto, type EndpointId, NodeIdentity, Topic, TopicId } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { Clock, Console, Duration, Effect, Exit, Layer, Random, Scope, Stream } from "effect"
import { type DemoEvent, LIST_NODES_UP_TO, render, toJsonLine } from "./internal/demoEvents.js"
import { componentSizes } from "./internal/graph.js"
import { printable, seconds, shortId } from "./internal/text.js"
import * as PeerNode from "./PeerNode.js"

export interface DemoOptions {
  readonly nodes: number
  readonly topic: string
  readonly secret: string
  readonly duration: Duration.DurationInput
  /** Storing nodes of the private DHT. Default 20. */
  readonly dhtNodes?: number
  /** A status line this often. Default 5 s. */
  readonly statusEvery?: Duration.DurationInput
  /** Mean pause between one node's broadcasts (each pause drawn from 0.5x-1.5x). Default 4 s. */
  readonly broadcastEvery?: Duration.DurationInput
  /** Pause between node starts, so joins can be told apart. Default 300 ms. */
  readonly stagger?: Duration.DurationInput
  /** Where lines go. Default `Console.log`. */
  readonly print?: (line: string) => Effect.Effect<void>
  /** One JSON object a line (`internal/demoEvents.ts`) instead of the human text. */
  readonly json?: boolean
}

export interface NodeSummary {
  readonly name: string
  readonly endpointId: EndpointId.EndpointId
  /** Milliseconds from the node's start to its first neighbour; undefined if it never joined. */
  readonly joinedAfterMs: number | undefined
  readonly neighbors: number
  readonly sent: number
  readonly received: number
  readonly dht: PeerNode.DhtCounters
}

export interface Summary {
  readonly nodes: ReadonlyArray<NodeSummary>
  readonly joined: number
  /** Sizes of the connected components of the neighbour graph at the end, largest first. */
  readonly components: ReadonlyArray<number>
  readonly messagesSent: number
  /** Distinct (message, receiver) pairs seen, counting only receivers that had joined when the message was sent. */
  readonly deliveries: number
  /** For each message, the other nodes that had joined when it was sent (a node that joins later cannot get it). */
  readonly expectedDeliveries: number
  readonly elapsedMs: number
  /** True when the run was cut short (Ctrl-C). */
  readonly interrupted: boolean
}

/** Payloads look like `demo n3 #7`; anything else received is counted but not matched to a sender. */
const MESSAGE = /^demo (n\d+) #(\d+)$/

interface NodeState {
  readonly name: string
  readonly identity: NodeIdentity.NodeIdentity
  readonly counters: PeerNode.DhtCounters
  startedAt: number
  joinedAt: number | undefined
  topic: Topic.Topic | undefined
  sent: number
  received: number
}

/** Runs the demo for `duration` (or until interrupted) and returns what happened; prints as it goes. */
export const run = (options: DemoOptions): Effect.Effect<Summary, PeerNode.NodeStartError> =>
  Effect.scoped(
    Effect.gen(function*() {
      const print = options.print ?? ((line: string) => Console.log(line))
      const topicId = TopicId.fromName(options.topic)
      const t0 = yield* Clock.currentTimeMillis
      const now = Clock.currentTimeMillis
      const at = (ms: number) => `t+${seconds(ms - t0).padStart(6)}`
      const emit = (event: DemoEvent) =>
        Effect.flatMap(now, (ms) =>
          options.json === true
            ? print(toJsonLine(event, ms - t0))
            : Effect.forEach(render(event, at(ms)), print, { discard: true }))
      const durationMs = Duration.toMillis(Duration.decode(options.duration))
      const statusEveryMs = Duration.toMillis(Duration.decode(options.statusEvery ?? "5 seconds"))
      const broadcastEveryMs = Duration.toMillis(Duration.decode(options.broadcastEvery ?? "4 seconds"))
      // Stop broadcasting a little before the end so the last messages have time to arrive.
      const quietAt = t0 + durationMs - Math.min(3000, durationMs / 4)

      /** Above this many nodes, neighbour changes are only seen in the status lines (one line each would flood). */
      const listEvents = options.nodes <= LIST_NODES_UP_TO
      const states: Array<NodeState> = []
      const nameOf = new Map<string, string>()
      const nameFor = (id: string) => nameOf.get(id) ?? shortId(id)
      /** Per message: who should get it (joined when it was sent, sender excluded) and who did. */
      const deliveries = new Map<string, { readonly expected: ReadonlySet<string>; readonly got: Set<string> }>()

      yield* emit({
        type: "start",
        nodes: options.nodes,
        topic: options.topic,
        dhtNodes: options.dhtNodes ?? 20,
        durationMs
      })
      const bed = yield* Testbed.make({ size: options.dhtNodes ?? 20 }).pipe(
        Effect.provide(Crypto.layerNode),
        Effect.mapError((e) => new PeerNode.NodeStartError({ reason: `private DHT: ${e.reason}` }))
      )
      yield* emit({ type: "dhtUp", bootstrap: bed.bootstrap[0]! })

      const graph = Effect.gen(function*() {
        const g = new Map<string, ReadonlyArray<string>>()
        for (const s of states) g.set(s.identity.endpointId, s.topic === undefined ? [] : yield* s.topic.neighbors)
        return g
      })

      const summary = (interrupted: boolean) =>
        Effect.gen(function*() {
          const g = yield* graph
          const sent = states.reduce((sum, s) => sum + s.sent, 0)
          let delivered = 0
          let expected = 0
          for (const d of deliveries.values()) {
            expected += d.expected.size
            for (const name of d.got) if (d.expected.has(name)) delivered++
          }
          return {
            nodes: states.map((s) => ({
              name: s.name,
              endpointId: s.identity.endpointId,
              joinedAfterMs: s.joinedAt === undefined ? undefined : s.joinedAt - s.startedAt,
              neighbors: g.get(s.identity.endpointId)?.length ?? 0,
              sent: s.sent,
              received: s.received,
              dht: { ...s.counters }
            })),
            joined: states.filter((s) => s.joinedAt !== undefined).length,
            components: componentSizes(g),
            messagesSent: sent,
            deliveries: delivered,
            expectedDeliveries: expected,
            elapsedMs: (yield* now) - t0,
            interrupted
          } satisfies Summary
        })

      const status = Effect.gen(function*() {
        const g = yield* graph
        yield* emit({
          type: "status",
          joined: states.filter((s) => s.joinedAt !== undefined).length,
          nodes: options.nodes,
          neighbours: Object.fromEntries(states.map((s) => [s.name, g.get(s.identity.endpointId)?.length ?? 0])),
          components: componentSizes(g).length,
          sent: states.reduce((sum, s) => sum + s.sent, 0),
          received: states.reduce((sum, s) => sum + s.received, 0),
          dhtGets: states.reduce((sum, s) => sum + PeerNode.totalGets(s.counters), 0),
          dhtPuts: states.reduce((sum, s) => sum + PeerNode.totalPuts(s.counters), 0)
        })
      })

      const printSummary = (s: Summary) => emit({ type: "summary", ...s })

      /** One node's event loop: neighbour changes and received messages. */
      const watch = (state: NodeState, receiver: Topic.Receiver) =>
        receiver.events.pipe(
          Stream.runForEach((event) =>
            Effect.gen(function*() {
              switch (event._tag) {
                case "NeighborUp":
                  return listEvents
                    ? yield* emit({ type: "neighbourUp", node: state.name, peer: nameFor(event.peer) })
                    : undefined
                case "NeighborDown":
                  return listEvents
                    ? yield* emit({ type: "neighbourDown", node: state.name, peer: nameFor(event.peer) })
                    : undefined
                case "Lagged":
                  return yield* emit({ type: "lagged", node: state.name, missed: event.missed ?? null })
                case "Received": {
                  state.received++
                  const text = printable(event.content)
                  const match = MESSAGE.exec(text)
                  if (match !== null) {
                    deliveries.get(`${match[1]} #${match[2]}`)?.got.add(state.name)
                  }
                  return
                }
              }
            })
          )
        )

      /** Once joined: a numbered broadcast every 0.5x-1.5x `broadcastEvery` until shortly before the end. */
      const chatter = (state: NodeState, sender: Topic.Sender) =>
        Effect.gen(function*() {
          while (true) {
            yield* Effect.sleep(Duration.millis(Math.round(broadcastEveryMs * (0.5 + (yield* Random.next)))))
            if ((yield* now) >= quietAt) return
            const number = state.sent + 1
            const key = `${state.name} #${number}`
            // Registered before sending: on loopback a copy can arrive before `broadcast` returns.
            const expected = new Set(states.filter((s) => s !== state && s.joinedAt !== undefined).map((s) => s.name))
            deliveries.set(key, { expected, got: new Set() })
            const sent = yield* Effect.either(sender.broadcast(new TextEncoder().encode(`demo ${key}`)))
            if (sent._tag === "Right") {
              state.sent = number
            } else {
              deliveries.delete(key)
              yield* emit({ type: "broadcastFailed", node: state.name, error: sent.left._tag })
            }
          }
        })

      // Each node in its own scope; all close together at the end (a node's close waits ~1 s for its
      // Disconnects to flush: one after the other, ten nodes would take ten seconds).
      const scopes: Array<Scope.CloseableScope> = []
      yield* Effect.addFinalizer((exit) =>
        Effect.forEach(scopes, (scope) => Scope.close(scope, exit), { concurrency: "unbounded", discard: true })
      )

      const startNode = (index: number) =>
        Effect.gen(function*() {
          const state: NodeState = {
            name: `n${index}`,
            identity: NodeIdentity.generate(),
            counters: PeerNode.makeCounters(),
            startedAt: yield* now,
            joinedAt: undefined,
            topic: undefined,
            sent: 0,
            received: 0
          }
          nameOf.set(state.identity.endpointId, state.name)
          states.push(state)
          const scope = yield* Scope.make()
          scopes.push(scope)
          const context = yield* Layer.buildWithScope(
            PeerNode.layer(
              {
                identity: state.identity,
                dht: bed.clientOptions(),
                gossip: { bindAddr: "127.0.0.1:0", preset: "minimal", relay: { _tag: "Disabled" } }
              },
              state.counters
            ),
            scope
          )
          const topic = yield* Topic.joinNoWait(topicId, { secret: options.secret, config: Config.defaults }).pipe(
            Effect.provide(context),
            Effect.mapError((e) =>
              new PeerNode.NodeStartError({ reason: `${state.name} could not subscribe: ${e._tag}` })
            ),
            Scope.extend(scope)
          )
          state.topic = topic
          const [sender, receiver] = yield* Scope.extend(topic.split, scope)
          yield* emit({ type: "nodeStarted", node: state.name, endpointId: state.identity.endpointId })
          yield* Effect.forkIn(watch(state, receiver), scope)
          yield* Effect.forkIn(
            Effect.gen(function*() {
              yield* topic.joined
              state.joinedAt = yield* now
              const neighbours = (yield* topic.neighbors).map(nameFor)
              yield* emit({ type: "joined", node: state.name, afterMs: state.joinedAt - state.startedAt, neighbours })
              yield* chatter(state, sender)
            }).pipe(Effect.ignore),
            scope
          )
        })

      const main = Effect.gen(function*() {
        const staggerMs = Duration.toMillis(Duration.decode(options.stagger ?? "300 millis"))
        for (let i = 0; i < options.nodes; i++) {
          yield* startNode(i)
          if (i < options.nodes - 1) yield* Effect.sleep(Duration.millis(staggerMs))
        }
        yield* Effect.forkScoped(Effect.forever(Effect.zipRight(Effect.sleep(Duration.millis(statusEveryMs)), status)))
        const left = t0 + durationMs - (yield* now)
        if (left > 0) yield* Effect.sleep(Duration.millis(left))
        yield* status
        const result = yield* summary(false)
        yield* printSummary(result)
        return result
      })

      // Ctrl-C: print what happened so far before everything closes.
      return yield* main.pipe(
        Effect.onExit((exit) => Exit.isInterrupted(exit) ? Effect.flatMap(summary(true), printSummary) : Effect.void)
      )
    })
  )
