import { Config, Crypto, Topic } from "@dtt/core"
import { MemoryDht, SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { sha512 } from "@noble/hashes/sha2.js"
import { Cause, Effect, Exit, Fiber, Layer } from "effect"
import { advance, advanceUntil, SECRET, startNode, TOPIC } from "./support/sim.js"

const bytes = (s: string) => new TextEncoder().encode(s)
const bothJoined = (a: Topic.Topic, b: Topic.Topic) => Effect.zipWith(a.isJoined, b.isJoined, (x, y) => x && y)

/** Nodes 0 and 1 of a fresh network, with the TestClock advanced until both joined: `took` ms, or -1 after 60 s. */
const joinedPair = Effect.gen(function*() {
  const sim = yield* SimNetwork.make()
  const a = yield* startNode(sim, 0)
  const b = yield* startNode(sim, 1)
  const took = yield* advanceUntil(bothJoined(a, b), "60 seconds")
  return { sim, a, b, took }
})

describe("Topic on the memory network", () => {
  it.scoped("two nodes with the default config join each other", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const a = yield* startNode(sim, 0)
      const b = yield* startNode(sim, 1)
      const took = yield* advanceUntil(Effect.zipWith(a.isJoined, b.isJoined, (x, y) => x && y), "60 seconds")
      expect(took).toBeGreaterThanOrEqual(0)
      expect(yield* a.neighbors).toContain(b.endpointId)
      expect(yield* b.neighbors).toContain(a.endpointId)
    }))

  it.scoped("a late joiner joins a running topic", () =>
    Effect.gen(function*() {
      const { a, b, sim, took } = yield* joinedPair
      expect(took).toBeGreaterThanOrEqual(0)
      yield* advance("3 minutes", "1 second")
      const c = yield* startNode(sim, 2)
      expect(yield* advanceUntil(c.isJoined, "60 seconds")).toBeGreaterThanOrEqual(0)
      const ns = yield* c.neighbors
      expect(ns.some((n) => n === a.endpointId || n === b.endpointId)).toBe(true)
    }))

  it.scoped("join (blocking) resolves only once joined, then the sender reaches the other node's receivers", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const a = yield* startNode(sim, 0)
      const context = yield* Layer.build(Layer.merge(sim.node(1), Crypto.layerNode))
      const joining = yield* Effect.fork(Effect.provide(Topic.join(TOPIC, { secret: SECRET }), context))
      yield* Effect.yieldNow()
      expect(joining.unsafePoll()).toBeNull()
      yield* advanceUntil(Effect.sync(() => joining.unsafePoll() !== null), "60 seconds")
      const b = yield* Fiber.join(joining)
      expect(yield* b.isJoined).toBe(true)
      // Three receivers on `a`, each its own cursor: all see the message.
      const r1 = yield* a.receiver
      const r2 = yield* a.receiver
      const r3 = yield* r1.clone
      const [sender] = yield* b.split
      yield* sender.broadcast(bytes("hello"))
      yield* advance("1 second")
      for (const r of [r1, r2, r3]) {
        let event = yield* r.next
        while (event._tag !== "Received") event = yield* r.next
        expect(new TextDecoder().decode(event.content)).toBe("hello")
        expect(event.deliveredFrom).toBe(b.endpointId)
      }
      // lastMessageHashes = SHA-512/32 of the payload, on the receiving side only.
      expect(yield* a.lastMessageHashes).toEqual([sha512(bytes("hello")).slice(0, 32)])
      expect(yield* b.lastMessageHashes).toEqual([])
    }))

  it.scoped("lastMessageHashes keeps the last 5, oldest first", () =>
    Effect.gen(function*() {
      const { a, b } = yield* joinedPair
      const [sender] = yield* b.split
      for (let i = 0; i < 8; i++) yield* sender.broadcast(bytes(`m${i}`))
      yield* advance("1 second")
      const expected = [3, 4, 5, 6, 7].map((i) => sha512(bytes(`m${i}`)).slice(0, 32))
      expect(yield* a.lastMessageHashes).toEqual(expected)
    }))

  it.scoped("a slow receiver gets Lagged and keeps going", () =>
    Effect.gen(function*() {
      const { a, b } = yield* joinedPair
      const slow = yield* a.receiver
      const [sender] = yield* b.split
      for (let i = 0; i < 100; i++) yield* sender.broadcast(bytes(`m${i}`))
      yield* advance("1 second")
      const first = yield* slow.next
      expect(first._tag).toBe("Lagged")
      if (first._tag === "Lagged") expect(first.missed).toBe(36)
      const next = yield* slow.next
      expect(next._tag === "Received" && new TextDecoder().decode(next.content)).toBe("m36")
    }))

  it.scoped("join with a timeout fails with JoinTimeout when nobody is there, and the topic is closed", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const context = yield* Layer.build(Layer.merge(sim.node(0), Crypto.layerNode))
      const joining = yield* Effect.fork(
        Effect.provide(Topic.join(TOPIC, { secret: SECRET, timeout: "20 seconds" }), context)
      )
      yield* advance("19 seconds", "1 second")
      expect(joining.unsafePoll()).toBeNull()
      yield* advance("2 seconds", "1 second")
      const exit = yield* Fiber.await(joining)
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        const failure = Cause.failureOption(exit.cause)
        expect(Option.map(failure, (e) => e._tag)).toEqual(Option.some("JoinTimeout"))
      }
      // The timed-out topic stopped: no more DHT gets from this node.
      const before = (yield* MemoryDht.stats(sim.dht)).totals.gets
      yield* advance("2 minutes", "1 second")
      expect((yield* MemoryDht.stats(sim.dht)).totals.gets).toBe(before)
    }))

  it.scoped("initialPeers: joins through the given peer without any DHT traffic", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const quiet = Config.decodeSync({ bootstrap: { publishRecordOnStartup: false } })
      const a = yield* startNode(sim, 0, { config: quiet })
      const config = Config.decodeSync({ bootstrap: { initialPeers: [a.endpointId], publishRecordOnStartup: false } })
      const b = yield* startNode(sim, 1, { config })
      const took = yield* advanceUntil(b.isJoined, "10 seconds", "10 millis")
      expect(took).toBeGreaterThanOrEqual(0)
      expect(took).toBeLessThan(1000)
      expect(b.recordPublisher.stats().gets).toBe(0)
    }))

  it.scoped("joinPeers with maxPeers hands the gossip layer a random subset of that size", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const nodes = []
      for (let i = 0; i < 6; i++) {
        nodes.push(yield* startNode(sim, i, { config: Config.decodeSync({ bootstrap: { maxBootstrapRecords: 0 } }) }))
      }
      const hub = yield* startNode(sim, 6, { config: Config.decodeSync({ bootstrap: { maxBootstrapRecords: 0 } }) })
      const [sender] = yield* hub.split
      yield* sender.joinPeers(nodes.map((n) => n.endpointId), 2)
      yield* advance("1 second")
      expect((yield* hub.neighbors).length).toBe(2)
    }))
})

import { Option } from "effect"
import * as Fanout from "../src/internal/fanout.js"

describe("receiver fan-out (tokio broadcast semantics)", () => {
  const values = <A>(reader: Fanout.Reader<A>, n: number) =>
    Effect.gen(function*() {
      const out: Array<Fanout.Item<A>> = []
      for (let i = 0; i < n; i++) out.push(Option.getOrThrow(yield* reader.next))
      return out
    })

  it.effect("every reader sees every value, in order", () =>
    Effect.gen(function*() {
      const f = Fanout.make<number>(64)
      const a = f.subscribe()
      const b = f.subscribe()
      for (let i = 0; i < 10; i++) f.publish(i)
      const expected = Array.from({ length: 10 }, (_, i) => ({ _tag: "Value", value: i }))
      expect(yield* values(a, 10)).toEqual(expected)
      expect(yield* values(b, 10)).toEqual(expected)
    }))

  it.effect("a slow reader gets Lagged(n) for what it lost, then keeps going; the fast one loses nothing", () =>
    Effect.gen(function*() {
      const f = Fanout.make<number>(64)
      const slow = f.subscribe()
      const fast = f.subscribe()
      for (let i = 0; i < 100; i++) {
        f.publish(i)
        expect(Option.getOrThrow(yield* fast.next)).toEqual({ _tag: "Value", value: i })
      }
      expect(Option.getOrThrow(yield* slow.next)).toEqual({ _tag: "Lagged", missed: 36 })
      expect(Option.getOrThrow(yield* slow.next)).toEqual({ _tag: "Value", value: 36 })
      f.publish(100)
      const rest = yield* values(slow, 64)
      expect(rest.at(-1)).toEqual({ _tag: "Value", value: 100 })
    }))

  it.effect("a waiting reader wakes on publish; after close buffered values drain, then None", () =>
    Effect.gen(function*() {
      const f = Fanout.make<string>(4)
      const r = f.subscribe()
      const waiting = yield* Effect.fork(r.next)
      yield* Effect.yieldNow()
      f.publish("x")
      expect(Option.getOrThrow(yield* waiting.await.pipe(Effect.flatten))).toEqual({ _tag: "Value", value: "x" })
      f.publish("y")
      f.close()
      expect(Option.getOrThrow(yield* r.next)).toEqual({ _tag: "Value", value: "y" })
      expect(Option.isNone(yield* r.next)).toBe(true)
      // A reader made after close is closed at once.
      expect(Option.isNone(yield* f.subscribe().next)).toBe(true)
      expect(f.readers()).toBe(0)
    }))

  it.effect("a blocked reader ends when the channel closes; released readers are forgotten", () =>
    Effect.gen(function*() {
      const f = Fanout.make<string>(4)
      const r = f.subscribe()
      const other = f.subscribe()
      const waiting = yield* Effect.fork(r.next)
      yield* Effect.yieldNow()
      other.release()
      expect(f.readers()).toBe(1)
      f.close()
      expect(Option.isNone(yield* Effect.flatten(waiting.await))).toBe(true)
    }))
})
