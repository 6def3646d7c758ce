// Two real iroh endpoints that publish an impairment relay's fronts instead of their own addresses: they dial
// each other there and QUIC runs through the relay both ways. (Not asserted here: that it stays there. On one
// shared loopback, where each can also reach the other's bound address, iroh found a direct path: gossip went
// on through a blackhole on the relay when we tried. e2e/impaired.mjs puts each node in its own network
// namespace where the peers' bound addresses cannot be reached, so only the relay remains.)
import { UdpRelay } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import * as dgram from "node:dgram"
import { collect, eventually, introduce, spawnNode, text, topicOf } from "./netHelpers.js"

/** A free UDP port on 127.0.0.1 (bound, read, released). */
const freePort = Effect.async<number>((resume) => {
  const s = dgram.createSocket("udp4")
  s.bind(0, "127.0.0.1", () => {
    const port = s.address().port
    s.close(() => resume(Effect.succeed(port)))
  })
})

describe("gossip through the UDP impairment relay", () => {
  it.live("nodes publish and dial each other's fronts, and their QUIC traffic crosses the relay both ways", () =>
    Effect.gen(function*() {
      const [portA, portB] = yield* Effect.all([freePort, freePort])
      const relayScope = yield* Scope.make()
      const relay = yield* UdpRelay.make({
        members: [
          { name: "a", front: "127.0.0.1:0", target: `127.0.0.1:${portA}` },
          { name: "b", front: "127.0.0.1:0", target: `127.0.0.1:${portB}` }
        ],
        link: { latency: "30 millis", jitter: "5 millis" }
      }).pipe(Scope.extend(relayScope))
      const a = yield* spawnNode({ bindAddr: `127.0.0.1:${portA}`, advertisedAddresses: [relay.fronts.get("a")!] })
      const b = yield* spawnNode({ bindAddr: `127.0.0.1:${portB}`, advertisedAddresses: [relay.fronts.get("b")!] })
      expect((yield* a.service.addr).directAddresses).toEqual([relay.fronts.get("a")])
      // b learns a's published address, which is a's front on the relay.
      yield* introduce(b, a)
      const topic = topicOf("relayed")
      const subs = yield* Scope.make()
      const ta = yield* a.service.subscribe(topic, []).pipe(Scope.extend(subs))
      const tb = yield* b.service.subscribe(topic, [a.id]).pipe(Scope.extend(subs))
      const ca = yield* collect(ta, subs)
      const cb = yield* collect(tb, subs)
      yield* tb.joined
      yield* ta.joined
      yield* ta.broadcast(text("a1"))
      yield* tb.broadcast(text("b1"))
      yield* eventually(
        "both got the other's first message",
        () => cb.received.includes("a1") && ca.received.includes("b1")
      )
      const counts = relay.linkCounts()
      expect(counts.get("a>b") ?? 0).toBeGreaterThan(0)
      expect(counts.get("b>a") ?? 0).toBeGreaterThan(0)
      expect(relay.stats.unknownSource).toBe(0)

      yield* Scope.close(subs, Exit.void)
      yield* Effect.all([a.kill, b.kill], { concurrency: "unbounded" })
      yield* Scope.close(relayScope, Exit.void)
    }))
})
