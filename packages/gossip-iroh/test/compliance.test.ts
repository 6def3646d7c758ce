/**
 * The testkit's `gossipCompliance` suite against the real layer: every node is a `GossipIroh` on its own
 * `@number0/iroh` endpoint bound to 127.0.0.1 (relays off, minimal preset, so nothing leaves loopback).
 *
 * Harness adaptations (the assertions are untouched):
 * - The suite wants every node dialable by endpoint id alone. Ports are only known once an endpoint is bound,
 *   so the harness starts the services itself (in the test's scope), then gives every node the others' addresses,
 *   and hands the suite the already-running services as layers.
 * - No `chainTopology`: links between real endpoints cannot be cut, and peers learn each other's addresses from
 *   gossip (Join/ForwardJoin/Neighbor PeerData) anyway, so the relay test runs in its any-topology form.
 */
import { Gossip, NodeIdentity } from "@dtt/core"
import { gossipCompliance } from "@dtt/testkit"
import { Effect, Layer } from "effect"
import * as GossipIroh from "../src/GossipIroh.js"

gossipCompliance("iroh-gossip over loopback endpoints", ({ nodes, subscriptionCapacity }) =>
  Effect.gen(function*() {
    const services = yield* Effect.forEach(
      Array.from({ length: nodes }),
      () =>
        GossipIroh.make({
          bindAddr: "127.0.0.1:0",
          ...(subscriptionCapacity === undefined ? {} : { subscriptionCapacity })
        }).pipe(Effect.provideService(NodeIdentity.NodeIdentity, NodeIdentity.generate())),
      { concurrency: "unbounded" }
    )
    const addrs = yield* Effect.forEach(services, (s) => s.addr)
    for (const [i, s] of services.entries()) {
      for (const [j, addr] of addrs.entries()) if (i !== j) yield* s.addAddress(addr)
    }
    return services.map((s) => Layer.succeed(Gossip.Gossip, s))
  }))
