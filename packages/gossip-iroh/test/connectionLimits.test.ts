// Connection limits on real loopback endpoints: a rogue endpoint hoarding idle connections, and many endpoints
// together, get no more than the limits; an honest peer is still served.
import { NodeIdentity } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Metric, Scope } from "effect"
import * as ConnectionLimits from "../src/net/connectionLimits.js"
import * as NetEndpoint from "../src/net/endpoint.js"
import type * as Iroh from "../src/net/iroh.js"
import { collect, eventually, introduce, spawnNode, text, topicOf } from "./netHelpers.js"

/** A bare iroh endpoint speaking the gossip ALPN that opens `count` connections to `target` and never uses them. */
const hoard = (target: NetEndpoint.DialAddr, count: number, scope: Scope.Scope) =>
  Effect.gen(function*() {
    const rogue = yield* NetEndpoint.make({ secretKey: NodeIdentity.generate().secretKey }).pipe(Scope.extend(scope))
    const held: Array<Iroh.Connection> = [] // strong references: napi closes collected connections
    for (let i = 0; i < count; i++) held.push(yield* rogue.dial(target))
    return held
  })

describe("connection limits (real endpoints)", () => {
  it.live("a rogue's connections beyond the per-peer limit are closed, and an honest peer still gets messages", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const refusedBefore = (yield* Metric.value(ConnectionLimits.refusedConnections)).count
      const target = yield* spawnNode({ maxConnectionsPerPeer: 3 })
      const honest = yield* spawnNode()
      const held = yield* hoard(yield* target.service.addr, 10, scope)
      expect(held.length).toBe(10)
      yield* eventually("7 rogue connections refused", () => target.service.stats.connectionsRefused >= 7)
      expect(yield* target.service.openConnections).toBeLessThanOrEqual(3)
      expect((yield* Metric.value(ConnectionLimits.refusedConnections)).count - refusedBefore).toBeGreaterThanOrEqual(7)

      const topic = topicOf("limits-honest")
      const subs = yield* Scope.make()
      yield* introduce(honest, target)
      const t1 = yield* target.service.subscribe(topic, []).pipe(Scope.extend(subs))
      const t2 = yield* honest.service.subscribe(topic, [target.id]).pipe(Scope.extend(subs))
      const log = yield* collect(t1, subs)
      yield* t2.joined
      yield* t2.broadcast(text("still served"))
      yield* eventually("the honest message arrived", () => log.received.includes("still served"))
      yield* Scope.close(subs, Exit.void)
      yield* Effect.all([target.kill, honest.kill, Scope.close(scope, Exit.void)], { discard: true })
    }))

  it.live("connections beyond the total limit are closed, whoever opens them", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const target = yield* spawnNode({ maxConnections: 5 })
      const addr = yield* target.service.addr
      yield* Effect.forEach([0, 1, 2], () => hoard(addr, 3, scope), { discard: true })
      // Every one of the 9 is either accepted or refused. Not "4 refused": idle connections are reaped, and one
      // reaped before the last handshakes arrive frees a place, so how many are refused depends on timing.
      const stats = () => target.service.stats
      yield* eventually("all 9 connections accepted or refused", () =>
        stats().connectionsOpened + stats().connectionsRefused >= 9)
      expect(stats().connectionsRefused).toBeGreaterThanOrEqual(1)
      expect(yield* target.service.openConnections).toBeLessThanOrEqual(5)
      yield* Effect.all([target.kill, Scope.close(scope, Exit.void)], { discard: true })
    }))
})
