/** Larger overlays on the memory gossip network: shape of the views, flooding, partitions, churn. */
import { type EndpointId, Gossip, NodeIdentity } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Duration, Effect, Fiber, Layer, Stream, TestClock } from "effect"
import { MemoryGossip, Overlay, SimNetwork } from "../src/index.js"

type Id = EndpointId.EndpointId
const topicId = new Uint8Array(32).fill(9)
const text = (s: string) => new TextEncoder().encode(s)

const startNodes = (network: MemoryGossip.MemoryGossipNetwork, n: number) =>
  Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) =>
    Layer.build(
      MemoryGossip.layer(network).pipe(
        Layer.provide(Layer.succeed(NodeIdentity.NodeIdentity, NodeIdentity.fromSecretKey(SimNetwork.secretKey(i, 5))))
      )
    ).pipe(Effect.map((ctx) => Context.get(ctx, Gossip.Gossip))))

/** Everything the subscription has buffered, after letting deliveries run. */
const drain = (topic: Gossip.GossipTopic) =>
  Effect.gen(function*() {
    yield* TestClock.adjust(Duration.seconds(1))
    const fiber = yield* Effect.fork(Stream.runCollect(Stream.interruptAfter(topic.events, Duration.millis(1))))
    yield* TestClock.adjust(Duration.millis(1))
    return Chunk.toArray(yield* Fiber.join(fiber))
  })

const graph = (network: MemoryGossip.MemoryGossipNetwork, ids: ReadonlyArray<Id>) =>
  Effect.forEach(ids, (id) => Effect.map(MemoryGossip.views(network, id, topicId), (v) => [id, v] as const)).pipe(
    Effect.map((entries) => new Map(entries))
  )

/** The nodes `start` reaches along active views. */
const componentOf = (views: ReadonlyMap<Id, MemoryGossip.Views>, start: Id) =>
  Overlay.reachable(new Map([...views].map(([id, v]) => [id, v.active])), start)

/** n nodes, each joining through a random earlier one (seeded by index), one at a time. */
const swarm = (network: MemoryGossip.MemoryGossipNetwork, n: number) =>
  Effect.gen(function*() {
    const nodes = yield* startNodes(network, n)
    const ids = nodes.map((x) => x.endpointId)
    const topics: Array<Gossip.GossipTopic> = []
    for (const [i, node] of nodes.entries()) {
      topics.push(yield* node.subscribe(topicId, i === 0 ? [] : [ids[(i * 7919) % i]!]))
      yield* TestClock.adjust(Duration.millis(100))
    }
    yield* TestClock.adjust(Duration.seconds(2))
    return { nodes, ids, topics }
  })

describe("MemoryGossip swarm", () => {
  it.scoped("40 nodes: bounded symmetric views, one component, every broadcast reaches everyone once", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make({
        latency: Duration.millis(20),
        latencyJitter: Duration.millis(10),
        timeQuantum: 10
      })
      const { ids, topics } = yield* swarm(network, 40)
      const views = yield* graph(network, ids)
      for (const [id, view] of views) {
        expect(view.active.length).toBeGreaterThanOrEqual(1)
        expect(view.active.length).toBeLessThanOrEqual(5)
        for (const peer of view.active) expect(views.get(peer)!.active).toContain(id)
      }
      expect(componentOf(views, ids[0]!).size).toBe(40)
      yield* Effect.forEach(topics, drain) // forget the membership events
      yield* topics[17]!.broadcast(text("to all"))
      yield* TestClock.adjust(Duration.seconds(5))
      for (const [i, t] of topics.entries()) {
        const got = (yield* drain(t)).filter((e) => e._tag === "Received")
        expect(got).toHaveLength(i === 17 ? 0 : 1)
      }
    }))

  it.scoped("a partition splits the swarm; healing plus joins merges it again", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make({ failureDetection: Duration.seconds(3) })
      const { ids, topics } = yield* swarm(network, 20)
      const left = ids.slice(0, 10)
      const right = ids.slice(10)
      yield* MemoryGossip.partition(network, left, right)
      yield* TestClock.adjust(Duration.seconds(10))
      let views = yield* graph(network, ids)
      for (const id of left) for (const peer of views.get(id)!.active) expect(left).toContain(peer)
      for (const t of topics) yield* drain(t)
      yield* topics[0]!.broadcast(text("left only"))
      yield* TestClock.adjust(Duration.seconds(1))
      const reached = componentOf(views, ids[0]!)
      for (const [i, t] of topics.entries()) {
        const got = (yield* drain(t)).filter((e) => e._tag === "Received")
        expect(got).toHaveLength(i !== 0 && reached.has(ids[i]!) ? 1 : 0)
        if (i >= 10) expect(got).toEqual([])
      }
      // Healing alone reconnects nobody (the broken connections are gone); nodes left alone rejoin, as the
      // tracker's bubble merge would make them, and one join bridges the two sides.
      yield* MemoryGossip.healAll(network)
      for (const [i, t] of topics.entries()) if (!(yield* t.isJoined)) yield* t.joinPeers([ids[i < 10 ? 0 : 10]!])
      yield* topics[3]!.joinPeers([ids[15]!])
      yield* TestClock.adjust(Duration.seconds(2))
      views = yield* graph(network, ids)
      expect(componentOf(views, ids[0]!).size).toBe(20)
    }))

  it.scoped("when neighbours crash, views refill from the passive view", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make({ failureDetection: Duration.seconds(1) })
      const { ids } = yield* swarm(network, 30)
      const victim = ids[5]!
      const before = yield* MemoryGossip.views(network, victim, topicId)
      for (const peer of before.active) yield* MemoryGossip.crash(network, peer)
      yield* TestClock.adjust(Duration.seconds(5))
      const after = yield* MemoryGossip.views(network, victim, topicId)
      expect(after.active.length).toBeGreaterThan(0)
      for (const peer of after.active) expect(before.active).not.toContain(peer)
      const alive = ids.filter((id) => !before.active.includes(id))
      const views = yield* graph(network, alive)
      expect(componentOf(views, victim).size).toBeGreaterThan(alive.length / 2)
    }))

  it.scoped("shuffles spread peers into passive views over time; off when the interval is infinite", () =>
    Effect.gen(function*() {
      const passiveTotal = (network: MemoryGossip.MemoryGossipNetwork, ids: ReadonlyArray<Id>) =>
        Effect.map(graph(network, ids), (views) => [...views.values()].reduce((n, v) => n + v.passive.length, 0))
      const run = (shuffleInterval: Duration.DurationInput) =>
        Effect.scoped(
          Effect.gen(function*() {
            const network = yield* MemoryGossip.make({ shuffleInterval })
            const { ids } = yield* swarm(network, 16)
            const before = yield* passiveTotal(network, ids)
            const sentBefore = (yield* MemoryGossip.stats(network)).sent
            yield* TestClock.adjust(Duration.minutes(5))
            return {
              before,
              after: yield* passiveTotal(network, ids),
              sent: (yield* MemoryGossip.stats(network)).sent - sentBefore
            }
          })
        )
      const shuffling = yield* run(Duration.seconds(60))
      expect(shuffling.after).toBeGreaterThan(shuffling.before)
      expect(shuffling.sent).toBeGreaterThan(0)
      const still = yield* run(Duration.infinity)
      expect(still.after).toBe(still.before)
      expect(still.sent).toBe(0)
    }))
})
