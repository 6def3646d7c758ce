import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Scope } from "effect"
import * as GossipIroh from "../src/GossipIroh.js"
import { collect, eventually, eventuallyEffect, introduce, spawnNode, text, topicOf } from "./netHelpers.js"

describe("GossipIroh on real loopback endpoints", () => {
  it.live("3 nodes: chain join, a broadcast reaches both others", () =>
    Effect.gen(function*() {
      const [n1, n2, n3] = yield* Effect.all([spawnNode(), spawnNode(), spawnNode()])
      yield* introduce(n2, n1)
      yield* introduce(n3, n2)
      const topic = topicOf("smoke")
      const subs = yield* Scope.make()
      const t1 = yield* n1.service.subscribe(topic, []).pipe(Scope.extend(subs))
      const t2 = yield* n2.service.subscribe(topic, [n1.id]).pipe(Scope.extend(subs))
      const t3 = yield* n3.service.subscribe(topic, [n2.id]).pipe(Scope.extend(subs))
      const c2 = yield* collect(t2, subs)
      const c3 = yield* collect(t3, subs)
      yield* t2.joined
      yield* t3.joined
      yield* t1.joined
      yield* t1.broadcast(text("hi0"))
      yield* t1.broadcast(text("hi1"))
      yield* eventually("n2 and n3 got both", () => c2.received.length === 2 && c3.received.length === 2)
      expect([...c2.received].sort()).toEqual(["hi0", "hi1"])
      expect([...c3.received].sort()).toEqual(["hi0", "hi1"])
      yield* Scope.close(subs, Exit.void)
      yield* Effect.all([n1.kill, n2.kill, n3.kill], { concurrency: "unbounded" })
    }))
})

/**
 * Two nodes, b knowing a's address; a subscribed to topic `name` with no peers (in `subs`, which the test closes) and
 * its events collected in `ca`.
 */
const aListensForB = (name: string, options?: GossipIroh.GossipIrohOptions) =>
  Effect.gen(function*() {
    const [a, b] = yield* Effect.all([spawnNode(options), spawnNode(options)])
    yield* introduce(b, a)
    const topic = topicOf(name)
    const subs = yield* Scope.make()
    const ta = yield* a.service.subscribe(topic, []).pipe(Scope.extend(subs))
    const ca = yield* collect(ta, subs)
    return { a, b, ca, subs, ta, topic }
  })

describe("connections nobody uses any more", () => {
  it.live("are closed on both sides once a peer left the topic; the peer still sees NeighborDown first", () =>
    Effect.gen(function*() {
      const { a, b, ca, subs, ta, topic } = yield* aListensForB("linger", { idleConnectionTimeout: 300 })
      const scopeB = yield* Scope.make()
      const tb = yield* b.service.subscribe(topic, [a.id]).pipe(Scope.extend(scopeB))
      yield* tb.joined
      yield* ta.joined
      // Neighbours: the connection is in use and stays open well past the idle timeout.
      yield* Effect.sleep("1 second")
      expect(yield* a.service.openConnections).toBeGreaterThan(0)
      expect(a.service.stats.idleConnectionsClosed + b.service.stats.idleConnectionsClosed).toBe(0)
      yield* Scope.close(scopeB, Exit.void)
      yield* eventually("a sees b down", () => ca.events.some((e) => e._tag === "NeighborDown" && e.peer === b.id))
      yield* eventuallyEffect(
        "both sides closed the unused connection",
        Effect.map(Effect.all([a.service.openConnections, b.service.openConnections]), ([x, y]) => x === 0 && y === 0),
        "5 seconds"
      )
      yield* Scope.close(subs, Exit.void)
      yield* Effect.all([a.kill, b.kill], { concurrency: "unbounded" })
    }))
})

describe("connections nobody uses any more, default options", () => {
  // iroh-gossip keeps them until the peer goes away; long-lived nodes piled them up (issue 10's soak).
  it.live("are closed within 30-45 s although both nodes keep running", () =>
    Effect.gen(function*() {
      const { a, b, subs, ta, topic } = yield* aListensForB("linger-default")
      const scopeB = yield* Scope.make()
      const tb = yield* b.service.subscribe(topic, [a.id]).pipe(Scope.extend(scopeB))
      yield* tb.joined
      yield* ta.joined
      yield* Scope.close(scopeB, Exit.void)
      yield* eventuallyEffect(
        "both sides closed the unused connection",
        Effect.map(Effect.all([a.service.openConnections, b.service.openConnections]), ([x, y]) => x === 0 && y === 0),
        "55 seconds"
      )
      expect(a.service.stats.idleConnectionsClosed + b.service.stats.idleConnectionsClosed).toBeGreaterThan(0)
      yield* Scope.close(subs, Exit.void)
      yield* Effect.all([a.kill, b.kill], { concurrency: "unbounded" })
    }), 70_000)
})

describe("leaving a topic while a join is in flight", () => {
  it.live("the contact that accepted the join hears Disconnect once its Neighbor reaches the leaver", () =>
    Effect.gen(function*() {
      const { a, b, ca, subs, ta, topic } = yield* aListensForB("left-early")
      // b sends Join and leaves before any answer: its active view is empty, so Quit tells nobody.
      const scopeB = yield* Scope.make()
      yield* b.service.subscribe(topic, [a.id]).pipe(Scope.extend(scopeB))
      yield* Scope.close(scopeB, Exit.void)
      yield* eventually("a accepted b's join", () => ca.events.some((e) => e._tag === "NeighborUp" && e.peer === b.id))
      yield* eventually(
        "a dropped b again",
        () => ca.events.some((e) => e._tag === "NeighborDown" && e.peer === b.id),
        "5 seconds"
      )
      expect(yield* ta.neighbors).toEqual([])
      yield* Scope.close(subs, Exit.void)
      yield* Effect.all([a.kill, b.kill], { concurrency: "unbounded" })
    }))
})

describe("PeerAddresses (what a peer cache stores)", () => {
  it.live("a neighbour's address comes back as a ticket another node can learn and dial; junk is refused", () =>
    Effect.gen(function*() {
      const [a, b, c] = yield* Effect.all([spawnNode(), spawnNode(), spawnNode()])
      const addressesOf = (node: typeof a) => GossipIroh.peerAddresses(node.service)
      expect(yield* addressesOf(b).addressOf(a.id)).toEqual(Option.none())
      yield* introduce(b, a)
      const ticket = yield* addressesOf(b).addressOf(a.id)
      expect(Option.isSome(ticket)).toBe(true)
      // c learns a's address only from b's ticket, then joins through a.
      expect(yield* addressesOf(c).learn(Option.getOrThrow(ticket))).toBe(true)
      expect(yield* addressesOf(c).learn("not a ticket")).toBe(false)
      const topic = topicOf("peer-addresses")
      const subs = yield* Scope.make()
      yield* a.service.subscribe(topic, []).pipe(Scope.extend(subs))
      const tc = yield* c.service.subscribe(topic, [a.id]).pipe(Scope.extend(subs))
      yield* tc.joined
      expect(yield* tc.neighbors).toContain(a.id)
      yield* Scope.close(subs, Exit.void)
      yield* Effect.all([a.kill, b.kill, c.kill], { concurrency: "unbounded" })
    }))
})
