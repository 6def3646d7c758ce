/**
 * Bubble merge (behaviour.md §3.5) on the memory network, in virtual time, with the default timers: a node
 * with fewer than `minNeighbors` neighbours joins a random ≤ `maxJoinPeers` of the peers the DHT records of
 * minutes m-1 and m advertise, at its first tick 30 s after joining and then every 60–180 s; with enough
 * neighbours, or with the strategy disabled, it never asks the gossip layer to join anyone.
 *
 * Setup shared by the tests: two pairs of nodes that cannot see each other's DHT records while they bootstrap
 * (each pair reaches only half of the storing nodes), so each pair joins only itself. Then the DHT is healed:
 * from now on every node reads every record, and only a merge actor can connect the pairs (bootstrap is over
 * and message-overlap merge is off).
 */
import {
  Bootstrap,
  Config,
  Crypto,
  type EndpointId,
  Gossip,
  MessageOverlapMerge,
  Publisher,
  Topic,
  type TopicContext
} from "@dtt/core"
import { MemoryDht, MemoryGossip, SimNetwork } from "@dtt/testkit"
import { Clock, Effect, Layer } from "effect"
import { describe, expect, it } from "vitest"
import { components, SECRET, TOPIC } from "./support/sim.js"
import * as VT from "./support/virtualTime.js"

interface JoinCall {
  readonly at: number
  readonly peers: ReadonlyArray<EndpointId.EndpointId>
}

interface Watched {
  readonly topic: Topic.Topic
  /** Every `joinPeers` the topic asked the gossip layer for, with the (virtual) time. */
  readonly calls: Array<JoinCall>
  /** When the node got its first neighbour. */
  joinedAt: number
}

/** The node's gossip service, recording every `joinPeers` of its subscriptions. */
const recordingGossip = (calls: Array<JoinCall>) =>
  Layer.effect(
    Gossip.Gossip,
    Effect.map(Gossip.Gossip, (gossip): Gossip.GossipService => ({
      ...gossip,
      subscribe: (topic, peers) =>
        Effect.map(gossip.subscribe(topic, peers), (handle): Gossip.GossipTopic => ({
          ...handle,
          joinPeers: (ids) =>
            Effect.zipRight(
              Effect.flatMap(Clock.currentTimeMillis, (at) => Effect.sync(() => calls.push({ at, peers: [...ids] }))),
              handle.joinPeers(ids)
            )
        }))
    }))
  )

const start = (sim: SimNetwork.SimNetwork, index: number, config: Config.Config, actors?: TopicContext.Actor) =>
  Effect.gen(function*() {
    const calls: Array<JoinCall> = []
    const context = yield* Layer.build(
      Layer.merge(Layer.provideMerge(recordingGossip(calls), sim.node(index)), Crypto.layerNode)
    )
    const topic = yield* Effect.provide(
      Topic.joinNoWait(TOPIC, { secret: SECRET, config, ...(actors ? { actors } : {}) }),
      context
    )
    const watched: Watched = { topic, calls, joinedAt: -1 }
    yield* Effect.forkScoped(
      Effect.zipRight(topic.joined, Effect.map(Clock.currentTimeMillis, (now) => (watched.joinedAt = now)))
    )
    return watched
  })

const graph = (nodes: ReadonlyArray<Watched>) =>
  Effect.gen(function*() {
    const g = new Map<string, ReadonlyArray<string>>()
    for (const n of nodes) g.set(n.topic.endpointId, yield* n.topic.neighbors)
    return g
  })

const componentCount = (nodes: ReadonlyArray<Watched>) => Effect.map(graph(nodes), (g) => components(g).length)

/** Two pairs, 0–1 and 2–3, each joined only within itself; then every node reaches every storing node. */
const twoPairs = (configOf: Config.Config | ((index: number) => Config.Config), actors?: TopicContext.Actor) =>
  Effect.gen(function*() {
    const sim = yield* SimNetwork.make()
    const pool = Array.from({ length: MemoryDht.defaultMemoryDhtConfig.poolSize }, (_, i) => i)
    for (let i = 0; i < 4; i++) {
      yield* MemoryDht.setReachable(sim.dht, sim.identity(i).endpointId, i < 2 ? pool.slice(0, 32) : pool.slice(32))
    }
    const nodes: Array<Watched> = []
    for (let i = 0; i < 4; i++) {
      nodes.push(yield* start(sim, i, typeof configOf === "function" ? configOf(i) : configOf, actors))
    }
    const took = yield* VT.until(Effect.sync(() => nodes.every((n) => n.joinedAt >= 0)), "1 minute")
    expect(took).toBeGreaterThanOrEqual(0)
    const comps = components(yield* graph(nodes))
    expect(comps.map((c) => [...c].sort())).toEqual(
      [[nodes[0]!, nodes[1]!], [nodes[2]!, nodes[3]!]].map((pair) => pair.map((n) => n.topic.endpointId).sort())
    )
    for (let i = 0; i < 4; i++) yield* MemoryDht.setReachable(sim.dht, sim.identity(i).endpointId, "all")
    // Bootstrap is done: whatever joins from here on is the merge actor's.
    const mark = yield* Clock.currentTimeMillis
    return { sim, nodes, mark }
  })

const callsSince = (node: Watched, since: number) => node.calls.filter((c) => c.at >= since)

const noOverlapMerge = { messageOverlap: { enabled: false } }

describe("bubble merge (behaviour.md §3.5)", () => {
  it(
    "a node below minNeighbors joins the peers the DHT records advertise at its first tick, 30 s after joining",
    () =>
      VT.run(Effect.gen(function*() {
        const { mark, nodes } = yield* twoPairs(Config.decodeSync({ merge: noOverlapMerge }))
        const firstTick = Math.min(...nodes.map((n) => n.joinedAt)) + 30_000
        // Nothing before the first tick of any node.
        yield* Effect.sleep(firstTick - 100 - (yield* Clock.currentTimeMillis))
        expect(nodes.flatMap((n) => callsSince(n, mark))).toEqual([])
        expect(yield* componentCount(nodes)).toBe(2)
        // Every node has 1 neighbour < 4; each one's first tick asks for the other pair (≤ maxJoinPeers = 2).
        yield* Effect.sleep(Math.max(...nodes.map((n) => n.joinedAt)) + 30_000 + 100 - (yield* Clock.currentTimeMillis))
        expect(yield* componentCount(nodes)).toBe(1)
        const ids = nodes.map((n) => n.topic.endpointId)
        const merged = nodes.filter((n) => callsSince(n, mark).length > 0)
        expect(merged.length).toBeGreaterThan(0)
        for (const node of merged) {
          const [first] = callsSince(node, mark)
          const self = ids.indexOf(node.topic.endpointId)
          const otherPair = self < 2 ? ids.slice(2) : ids.slice(0, 2)
          // At its first tick: 30 s after it joined (the bootstrap loop returns within a few ms of the join).
          expect(first!.at - node.joinedAt).toBeGreaterThanOrEqual(30_000)
          expect(first!.at - node.joinedAt).toBeLessThan(30_100)
          // Candidates: publishers of the other pair's records (not itself, not its neighbour), at most 2.
          expect(first!.peers.length).toBeGreaterThan(0)
          expect(first!.peers.length).toBeLessThanOrEqual(2)
          for (const peer of first!.peers) expect(otherPair).toContain(peer)
        }
      })),
    60_000
  )

  it(
    "while it stays below minNeighbors it tries again every 60–180 s after the first tick",
    () =>
      VT.run(Effect.gen(function*() {
        // Pair 0–1 does not publish after joining, so the slots of every minute hold the records of 2 and 3 (a
        // storing node keeps one value per target: the last writer's): each tick of 0 and 1 has candidates.
        const { mark, nodes, sim } = yield* twoPairs((i) =>
          Config.decodeSync({ merge: noOverlapMerge, publisher: { enabled: i >= 2 } })
        )
        // ...which it cannot reach over gossip: every join fails quietly and the node stays below minNeighbors.
        const ids = nodes.map((n) => n.topic.endpointId)
        yield* MemoryGossip.partition(sim.gossip, ids.slice(0, 2), ids.slice(2))
        yield* Effect.sleep("20 minutes")
        expect(yield* componentCount(nodes)).toBe(2)
        for (const node of nodes.slice(0, 2)) {
          const calls = callsSince(node, mark)
          const times = calls.map((c) => c.at)
          // 30 s, then 19.5 minutes of gaps averaging 120 s.
          expect(times.length).toBeGreaterThanOrEqual(7)
          expect(times[0]! - node.joinedAt).toBeGreaterThanOrEqual(30_000)
          expect(times[0]! - node.joinedAt).toBeLessThan(30_100)
          const gaps = times.slice(1).map((t, i) => t - times[i]!)
          for (const gap of gaps) {
            expect(gap).toBeGreaterThanOrEqual(60_000)
            expect(gap).toBeLessThan(180_000)
          }
          expect(new Set(gaps).size).toBeGreaterThan(1) // jittered, not a fixed period
          for (const call of calls) {
            expect(call.peers.length).toBe(2) // a random subset of maxJoinPeers = 2 of the two candidates
            expect([...call.peers].sort()).toEqual(ids.slice(2).sort())
          }
        }
      })),
    60_000
  )

  it("the peers a record advertises are candidates too, not only its publisher", () =>
    VT.run(Effect.gen(function*() {
      // Only node 2 ever writes after the pairs formed; node 3 never writes at all (it found 2 through 2's
      // start-up record). So the only way 0 and 1 can learn node 3 is as an active peer in 2's records.
      const { mark, nodes } = yield* twoPairs((i) =>
        Config.decodeSync({
          merge: noOverlapMerge,
          publisher: { enabled: i === 2 },
          bootstrap: { publishRecordOnStartup: i !== 3 }
        })
      )
      const ids = nodes.map((n) => n.topic.endpointId)
      yield* Effect.sleep(Math.max(...nodes.map((n) => n.joinedAt)) + 30_100 - (yield* Clock.currentTimeMillis))
      const calls = nodes.slice(0, 2).flatMap((n) => callsSince(n, mark))
      expect(calls.length).toBeGreaterThan(0)
      for (const call of calls) for (const peer of call.peers) expect([ids[2], ids[3]]).toContain(peer)
      expect(calls.some((call) => call.peers.includes(ids[3]!))).toBe(true)
      expect(yield* componentCount(nodes)).toBe(1)
    })), 60_000)

  it("with minNeighbors neighbours already, it never joins anyone", () =>
    VT.run(Effect.gen(function*() {
      const config = Config.decodeSync({ merge: { ...noOverlapMerge, bubble: { minNeighbors: 1 } } })
      const { mark, nodes } = yield* twoPairs(config)
      yield* Effect.sleep("10 minutes")
      expect(nodes.flatMap((n) => callsSince(n, mark))).toEqual([])
      expect(yield* componentCount(nodes)).toBe(2)
    })), 60_000)

  it("disabled, it never joins anyone", () =>
    VT.run(Effect.gen(function*() {
      const config = Config.decodeSync({ merge: { ...noOverlapMerge, bubble: { enabled: false } } })
      const { mark, nodes } = yield* twoPairs(config)
      yield* Effect.sleep("10 minutes")
      expect(nodes.flatMap((n) => callsSince(n, mark))).toEqual([])
      expect(yield* componentCount(nodes)).toBe(2)
    })), 60_000)

  it(
    "left out of the join's actor Layers (enabled in the config), it never joins anyone",
    () =>
      VT.run(Effect.gen(function*() {
        // The default set without BubbleMerge.layer; the config still enables bubble merge.
        const actors = Layer.mergeAll(Publisher.layer, Bootstrap.rediscoverLayer, MessageOverlapMerge.layer)
        const { mark, nodes } = yield* twoPairs(Config.decodeSync({ merge: noOverlapMerge }), actors)
        yield* Effect.sleep("10 minutes")
        expect(nodes.flatMap((n) => callsSince(n, mark))).toEqual([])
        expect(yield* componentCount(nodes)).toBe(2)
      })),
    60_000
  )
})
