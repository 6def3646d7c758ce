import { type EndpointId, Gossip, NodeIdentity } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Duration, Effect, Exit, Fiber, Layer, Option, Scope, Stream, TestClock } from "effect"
import { MemoryGossip, SimNetwork } from "../src/index.js"

const topicId = new Uint8Array(32).fill(3)
const text = (s: string) => new TextEncoder().encode(s)
const decode = (b: Uint8Array) => new TextDecoder().decode(b)

/** `n` gossip nodes on one network, each alive for the enclosing scope. */
const nodes = (network: MemoryGossip.MemoryGossipNetwork, n: number, firstIndex = 0) =>
  Effect.forEach(Array.from({ length: n }, (_, i) => i + firstIndex), (i) =>
    Layer.build(
      MemoryGossip.layer(network).pipe(
        Layer.provide(Layer.succeed(NodeIdentity.NodeIdentity, NodeIdentity.fromSecretKey(SimNetwork.secretKey(i))))
      )
    ).pipe(Effect.map((ctx) => Context.get(ctx, Gossip.Gossip))))

/** Two nodes on the topic: a first, then b with a as its bootstrap (not waited for). */
const pair = (network: MemoryGossip.MemoryGossipNetwork) =>
  Effect.gen(function*() {
    const [a, b] = yield* nodes(network, 2)
    const ta = yield* a.subscribe(topicId, [])
    const tb = yield* b.subscribe(topicId, [a.endpointId])
    return { a: a!, b: b!, ta, tb }
  })

/** Let queued deliveries and zero-delay timers run (simulated time, no real waiting). */
const settle = (millis = 1000) => TestClock.adjust(Duration.millis(millis))

/** Take exactly `n` events (fails the test by timing out in simulated time if they never come). */
const take = (topic: Gossip.GossipTopic, n: number) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Stream.runCollect(Stream.take(topic.events, n)))
    yield* settle(10_000)
    const exit = yield* Fiber.poll(fiber)
    if (Option.isNone(exit)) yield* Fiber.interrupt(fiber)
    return Option.flatMap(exit, (e) => (Exit.isSuccess(e) ? Option.some(Chunk.toArray(e.value)) : Option.none()))
  })

/** Every event buffered now (after letting pending deliveries run). */
const available = (topic: Gossip.GossipTopic) =>
  Effect.gen(function*() {
    yield* settle()
    const fiber = yield* Effect.fork(Stream.runCollect(Stream.interruptAfter(topic.events, Duration.millis(1))))
    yield* TestClock.adjust(Duration.millis(1))
    return Chunk.toArray(yield* Fiber.join(fiber))
  })

const tags = (events: ReadonlyArray<Gossip.GossipEvent>) =>
  events.map((e) =>
    e._tag === "Received"
      ? `Received:${decode(e.content)}`
      : e._tag === "Lagged"
      ? "Lagged"
      : `${e._tag}:${e.peer.slice(0, 4)}`
  )

describe("MemoryGossip membership", () => {
  it.scoped("two nodes join and both see NeighborUp", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make()
      const { a, b, ta, tb } = yield* pair(network)
      yield* tb.joined
      yield* ta.joined
      expect(yield* ta.neighbors).toEqual([b.endpointId])
      expect(yield* tb.neighbors).toEqual([a.endpointId])
      expect(Option.getOrThrow(yield* take(ta, 1))).toEqual([{ _tag: "NeighborUp", peer: b.endpointId }])
      expect(Option.getOrThrow(yield* take(tb, 1))).toEqual([{ _tag: "NeighborUp", peer: a.endpointId }])
    }))

  it.scoped("a join to an unknown or unsubscribed node fails quietly", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make()
      const [a, b] = yield* nodes(network, 2)
      const stranger = NodeIdentity.fromSecretKey(SimNetwork.secretKey(99)).endpointId
      const tb = yield* b.subscribe(topicId, [stranger, a.endpointId]) // a has not subscribed
      yield* settle()
      expect(yield* tb.isJoined).toBe(false)
      expect(yield* tb.neighbors).toEqual([])
    }))

  it.scoped("the active view holds at most 5; an evicted peer gets NeighborDown", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make()
      const all = yield* nodes(network, 9)
      const hub = all[0]!
      const topics = [yield* hub.subscribe(topicId, [])]
      for (const node of all.slice(1)) {
        topics.push(yield* node.subscribe(topicId, [hub.endpointId]))
        yield* settle()
      }
      const ids = all.map((n) => n.endpointId)
      const views = yield* Effect.forEach(ids, (id) => MemoryGossip.views(network, id, topicId))
      for (const [i, view] of views.entries()) {
        expect(view.active.length).toBeLessThanOrEqual(5)
        expect(view.active.length).toBeGreaterThan(0)
        // neighbour relations are symmetric once the network is quiet
        for (const peer of view.active) expect(views[ids.indexOf(peer)]!.active).toContain(ids[i])
      }
      expect(views[0]!.active).toHaveLength(5)
      // every joiner was taken in by the hub (a join is never refused); those no longer there were evicted
      // and saw the hub go, and the hub saw them go
      const hubEvents = yield* available(topics[0]!)
      const evicted = ids.slice(1).filter((id) => !views[0]!.active.includes(id))
      expect(evicted.length).toBe(3)
      for (const id of evicted) {
        expect(hubEvents).toContainEqual({ _tag: "NeighborUp", peer: id })
        expect(hubEvents).toContainEqual({ _tag: "NeighborDown", peer: id })
        expect(yield* available(topics[ids.indexOf(id)]!)).toContainEqual({ _tag: "NeighborDown", peer: ids[0] })
      }
    }))

  it.scoped("NeighborDown when a neighbour leaves, and the view refills from the passive view", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make()
      const [a, b, c] = yield* nodes(network, 3)
      const ta = yield* a.subscribe(topicId, [])
      const scopeB = yield* Scope.make()
      yield* b.subscribe(topicId, [a.endpointId]).pipe(Scope.extend(scopeB))
      yield* settle()
      yield* c!.subscribe(topicId, [b.endpointId])
      yield* settle()
      // b's forward join made a and c neighbours too (a's view had one peer)
      expect([...(yield* ta.neighbors)].sort()).toEqual([b.endpointId, c!.endpointId].sort())
      yield* Scope.close(scopeB, Exit.void)
      yield* settle()
      expect(yield* ta.neighbors).toEqual([c!.endpointId])
      const events = Option.getOrThrow(yield* take(ta, 3))
      expect(events).toContainEqual({ _tag: "NeighborDown", peer: b.endpointId })
    }))
})

describe("MemoryGossip broadcast", () => {
  it.scoped("a chain relays with hop counts and previous-hop senders; the author never hears itself", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make()
      const chain = yield* nodes(network, 4)
      const ids = chain.map((n) => n.endpointId)
      for (let i = 0; i < 4; i++) for (let j = i + 2; j < 4; j++) yield* MemoryGossip.cut(network, ids[i]!, ids[j]!)
      const topics: Array<Gossip.GossipTopic> = []
      for (const [i, node] of chain.entries()) {
        topics.push(yield* node.subscribe(topicId, i === 0 ? [] : [ids[i - 1]!]))
        yield* settle()
      }
      yield* topics[0]!.broadcast(text("hello"))
      const last = Option.getOrThrow(yield* take(topics[3]!, 2))
      expect(last[1]).toEqual({
        _tag: "Received",
        content: text("hello"),
        deliveredFrom: ids[2],
        scope: { _tag: "Swarm", hops: 2 }
      })
      // the author's own stream holds only its NeighborUp
      const own = yield* take(topics[0]!, 2)
      expect(Option.isNone(own)).toBe(true)
    }))

  it.scoped("broadcastNeighbors reaches direct neighbours only", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make()
      const chain = yield* nodes(network, 3)
      const ids = chain.map((n) => n.endpointId)
      yield* MemoryGossip.cut(network, ids[0]!, ids[2]!)
      const t0 = yield* chain[0]!.subscribe(topicId, [])
      const t1 = yield* chain[1]!.subscribe(topicId, [ids[0]!])
      yield* settle()
      const t2 = yield* chain[2]!.subscribe(topicId, [ids[1]!])
      yield* settle()
      yield* t1.broadcastNeighbors(text("near"))
      yield* t0.broadcastNeighbors(text("only b"))
      const at2 = Option.getOrThrow(yield* take(t2, 2))
      expect(at2[1]).toEqual({
        _tag: "Received",
        content: text("near"),
        deliveredFrom: ids[1],
        scope: { _tag: "Neighbors" }
      })
      expect(tags(Option.getOrThrow(yield* take(t1, 3)))).toEqual([
        `NeighborUp:${ids[0]!.slice(0, 4)}`,
        `NeighborUp:${ids[2]!.slice(0, 4)}`,
        "Received:only b"
      ])
      expect(Option.isNone(yield* take(t2, 3))).toBe(true)
    }))

  it.scoped("a slow subscriber gets Lagged, loses the oldest events, and keeps receiving", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make({ eventBufferCapacity: 4 })
      const { ta, tb } = yield* pair(network)
      yield* tb.joined
      for (let i = 0; i < 10; i++) yield* tb.broadcast(text(`m${i}`))
      yield* settle()
      expect(tags(Option.getOrThrow(yield* take(ta, 5)))).toEqual([
        "Lagged",
        "Received:m6",
        "Received:m7",
        "Received:m8",
        "Received:m9"
      ])
      yield* tb.broadcast(text("after"))
      expect(tags(Option.getOrThrow(yield* take(ta, 1)))).toEqual(["Received:after"])
    }))

  it.scoped("messages over too large a size are refused", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make({ maxMessageSize: 600 })
      const [a] = yield* nodes(network, 1)
      const ta = yield* a.subscribe(topicId, [])
      expect(yield* Effect.flip(ta.broadcast(new Uint8Array(601)))).toEqual(
        new Gossip.GossipMessageTooLarge({ size: 601, max: 600 })
      )
    }))
})

describe("MemoryGossip faults", () => {
  it.scoped("latency delays delivery in simulated time", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make({ latency: Duration.millis(100) })
      const { ta, tb } = yield* pair(network)
      // Join -> Neighbor -> Neighbor: b is up at a after 100 ms, a at b after 200 ms
      yield* TestClock.adjust(Duration.millis(99))
      expect(yield* ta.isJoined).toBe(false)
      yield* TestClock.adjust(Duration.millis(1))
      expect(yield* ta.isJoined).toBe(true)
      expect(yield* tb.isJoined).toBe(false)
      yield* TestClock.adjust(Duration.millis(100))
      expect(yield* tb.isJoined).toBe(true)
    }))

  it.scoped("a cut link drops both neighbours after failure detection; healing plus a join reconnects", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make({ failureDetection: Duration.seconds(5) })
      const { a, b, ta, tb } = yield* pair(network)
      yield* tb.joined
      yield* MemoryGossip.cut(network, a.endpointId, b.endpointId)
      yield* tb.broadcast(text("lost"))
      yield* TestClock.adjust(Duration.millis(4999))
      expect(yield* ta.isJoined).toBe(true)
      yield* TestClock.adjust(Duration.millis(1))
      expect(yield* ta.isJoined).toBe(false)
      expect(yield* tb.isJoined).toBe(false)
      expect(tags(Option.getOrThrow(yield* take(ta, 2)))).toEqual([
        `NeighborUp:${b.endpointId.slice(0, 4)}`,
        `NeighborDown:${b.endpointId.slice(0, 4)}`
      ])
      yield* tb.joinPeers([a.endpointId])
      yield* settle()
      expect(yield* tb.isJoined).toBe(false) // still cut
      yield* MemoryGossip.heal(network, a.endpointId, b.endpointId)
      yield* tb.joinPeers([a.endpointId])
      yield* settle()
      expect(yield* ta.neighbors).toEqual([b.endpointId])
    }))

  it.scoped("a crashed node's subscriptions end, its neighbours see it go, and it can come back", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make()
      const { a, b, ta, tb } = yield* pair(network)
      yield* tb.joined
      yield* MemoryGossip.crash(network, b.endpointId)
      yield* settle()
      expect(yield* ta.isJoined).toBe(false)
      expect(tags(Chunk.toArray(yield* Stream.runCollect(tb.events)))).toEqual([
        `NeighborUp:${a.endpointId.slice(0, 4)}`
      ])
      expect((yield* Effect.flip(tb.broadcast(text("x"))))._tag).toBe("GossipClosed")
      expect((yield* Effect.flip(b.subscribe(topicId, [])))._tag).toBe("GossipClosed")
      yield* MemoryGossip.restart(network, b.endpointId)
      const again = yield* b.subscribe(topicId, [a.endpointId])
      yield* again.joined
      expect(yield* ta.neighbors).toEqual([b.endpointId])
    }))

  it.scoped("total loss: nobody joins", () =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make({ loss: 1 })
      const [a, b] = yield* nodes(network, 2)
      yield* a.subscribe(topicId, [])
      const tb = yield* b.subscribe(topicId, [a.endpointId])
      yield* settle()
      expect(yield* tb.isJoined).toBe(false)
      expect((yield* MemoryGossip.stats(network)).dropped).toBeGreaterThan(0)
    }))

  it.scoped("the same seed builds the same overlay", () =>
    Effect.gen(function*() {
      const overlay = (seed: number) =>
        Effect.scoped(
          Effect.gen(function*() {
            const network = yield* MemoryGossip.make({ seed })
            const all = yield* nodes(network, 12)
            yield* all[0]!.subscribe(topicId, [])
            for (const [i, node] of all.slice(1).entries()) {
              yield* node.subscribe(topicId, [all[i]!.endpointId, all[0]!.endpointId])
              yield* settle()
            }
            return yield* Effect.forEach(all, (n) => MemoryGossip.views(network, n.endpointId, topicId))
          })
        )
      expect(yield* overlay(7)).toEqual(yield* overlay(7))
    }))
})

export type { EndpointId }
