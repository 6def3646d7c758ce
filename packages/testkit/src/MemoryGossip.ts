/**
 * An in-memory gossip network with the API semantics of iroh-gossip (spec iroh-gossip.md §4): one
 * `MemoryGossipNetwork` per test, each simulated node getting the core `Gossip` service through `layer`.
 *
 * Per topic each node keeps a HyParView-like active view of at most 5 neighbours (a join to a full node evicts
 * one of its neighbours, which sees `NeighborDown`), a passive view it refills from, and floods broadcasts over
 * the neighbour graph with de-duplication by message id (blake3 of the content, as iroh). Joins to unknown,
 * crashed or unreachable nodes fail quietly. Links can be cut and healed, nodes crashed and restarted, and
 * every message can be delayed or lost.
 *
 * Time passes only through `Effect.sleep` (message latency, failure detection, neighbour-request timeouts),
 * so tests run under `TestClock`; choices come from the network's seed.
 */
import { Bytes, type EndpointId, Gossip, NodeIdentity } from "@dtt/core"
import { Deferred, type Duration, Effect, FiberSet, Layer, type Scope, Stream } from "effect"
import { defaultMemoryGossipConfig, type MemoryGossipConfig } from "./internal/gossipConfig.js"
import { type GossipCounters, GossipNode, MemoryGossipNetwork } from "./internal/gossipNetwork.js"
import type { Subscription } from "./internal/gossipSubscription.js"
import { TopicState } from "./internal/gossipTopic.js"
import * as Impairment from "./internal/impairment.js"

export { defaultMemoryGossipConfig, MemoryGossipNetwork }
export type { GossipCounters, MemoryGossipConfig }

type Id = EndpointId.EndpointId

/**
 * A new network, alive for the enclosing scope (message delivery and timers are fibers of that scope).
 * Build it inside the test's effect so it uses the test's `Clock`.
 */
export const make = (
  config: Partial<MemoryGossipConfig> = {}
): Effect.Effect<MemoryGossipNetwork, never, Scope.Scope> =>
  Effect.gen(function*() {
    const run = yield* FiberSet.makeRuntime<never>()
    const clock = yield* Effect.clock
    return new MemoryGossipNetwork({ ...defaultMemoryGossipConfig, ...config }, clock, run)
  })

const closed = (reason: string) => new Gossip.GossipClosed({ reason })

const topicHandle = (state: TopicState, sub: Subscription): Gossip.GossipTopic => {
  const maxMessageSize = state.node.network.config.maxMessageSize
  const whileOpen = <A>(f: () => A): Effect.Effect<A, Gossip.GossipClosed> =>
    Effect.suspend(() => (sub.closed ? Effect.fail(closed("subscription closed")) : Effect.sync(f)))
  const send = (content: Uint8Array, scope: "swarm" | "neighbors") =>
    content.length > maxMessageSize
      ? Effect.fail(new Gossip.GossipMessageTooLarge({ size: content.length, max: maxMessageSize }))
      : whileOpen(() => state.broadcast(Uint8Array.from(content), scope))
  return {
    broadcast: (content) => send(content, "swarm"),
    broadcastNeighbors: (content) => send(content, "neighbors"),
    joinPeers: (peers) => whileOpen(() => state.joinPeers(peers)),
    neighbors: Effect.sync(() => (sub.closed ? [] : [...state.active])),
    isJoined: Effect.sync(() => !sub.closed && state.active.length > 0),
    joined: Effect.suspend(() => {
      if (sub.closed) return Effect.fail(closed("subscription closed"))
      if (state.active.length > 0) return Effect.void
      return Effect.flatMap(Deferred.make<void, Gossip.GossipClosed>(), (waiter) => {
        sub.joinWaiters.add(waiter)
        return Deferred.await(waiter).pipe(Effect.ensuring(Effect.sync(() => sub.joinWaiters.delete(waiter))))
      })
    }),
    events: Stream.repeatEffectOption(sub.buffer.take)
  }
}

const makeService = (network: MemoryGossipNetwork, id: Id): Effect.Effect<Gossip.GossipService, never, Scope.Scope> =>
  Effect.gen(function*() {
    const existing = network.nodes.get(id)
    if (existing?.up === true) return yield* Effect.dieMessage(`memory gossip node ${id} is already running`)
    const node = new GossipNode(network, id)
    network.nodes.set(id, node)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const state of [...node.topics.values()]) state.quit()
        if (network.nodes.get(id) === node) network.nodes.delete(id)
      })
    )
    return {
      endpointId: id,
      maxMessageSize: network.config.maxMessageSize,
      subscribe: (topic, bootstrap) =>
        Effect.gen(function*() {
          if (!node.up || network.nodes.get(id) !== node) return yield* Effect.fail(closed("node is down"))
          const key = Bytes.toHex(topic)
          let state = node.topics.get(key)
          if (state === undefined) {
            state = new TopicState(node, key)
            node.topics.set(key, state)
          }
          const sub = state.subscribe()
          const owner = state
          yield* Effect.addFinalizer(() => Effect.sync(() => owner.unsubscribe(sub)))
          state.joinPeers(bootstrap)
          return topicHandle(state, sub)
        })
    }
  })

/** The core `Gossip` service for the node whose `NodeIdentity` is provided. Releasing the layer shuts it down. */
export const layer = (network: MemoryGossipNetwork): Layer.Layer<Gossip.Gossip, never, NodeIdentity.NodeIdentity> =>
  Layer.scoped(
    Gossip.Gossip,
    Effect.flatMap(NodeIdentity.NodeIdentity, (identity) => makeService(network, identity.endpointId))
  )

// ---------------------------------------------------------------------------------------------------------------
// Control

/** Cut the link between two nodes: messages are dropped; after `failureDetection` both ends drop each other. */
export const cut = (network: MemoryGossipNetwork, a: Id, b: Id): Effect.Effect<void> =>
  Effect.sync(() => network.cut(a, b))

/** Heal a link. Nodes that dropped each other do not reconnect by themselves (they need a join or a refill). */
export const heal = (network: MemoryGossipNetwork, a: Id, b: Id): Effect.Effect<void> =>
  Effect.sync(() => network.heal(a, b))

/** Cut every link between the two groups. */
export const partition = (
  network: MemoryGossipNetwork,
  left: ReadonlyArray<Id>,
  right: ReadonlyArray<Id>
): Effect.Effect<void> =>
  Effect.sync(() => {
    for (const a of left) for (const b of right) network.cut(a, b)
  })

export const healAll = (network: MemoryGossipNetwork): Effect.Effect<void> => Effect.sync(() => network.cuts.clear())

/** The node stops: its subscriptions end, its neighbours notice after `failureDetection`. */
export const crash = (network: MemoryGossipNetwork, id: Id): Effect.Effect<void> => Effect.sync(() => network.crash(id))

/** A crashed node comes back with no topic state; it can subscribe again. */
export const restart = (network: MemoryGossipNetwork, id: Id): Effect.Effect<void> =>
  Effect.sync(() => network.restart(id))

export const setLatency: (
  network: MemoryGossipNetwork,
  latency: Duration.DurationInput,
  jitter?: Duration.DurationInput
) => Effect.Effect<void> = Impairment.setLatency

export const setLoss: (network: MemoryGossipNetwork, loss: number) => Effect.Effect<void> = Impairment.setLoss

// ---------------------------------------------------------------------------------------------------------------
// Inspection

export interface Views {
  readonly active: ReadonlyArray<Id>
  readonly passive: ReadonlyArray<Id>
}

/** A node's views for a topic (empty when it is not subscribed). */
export const views = (network: MemoryGossipNetwork, id: Id, topic: Uint8Array): Effect.Effect<Views> =>
  Effect.sync(() => {
    const state = network.nodes.get(id)?.topics.get(Bytes.toHex(topic))
    return { active: [...(state?.active ?? [])], passive: [...(state?.passive ?? [])] }
  })

export const stats = (network: MemoryGossipNetwork): Effect.Effect<GossipCounters> =>
  Effect.sync(() => ({ ...network.counters }))
