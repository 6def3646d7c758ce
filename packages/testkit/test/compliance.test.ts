/** The compliance suites, run against the memory implementations (as the real ones run them over loopback). */
import { NodeIdentity } from "@dtt/core"
import { Effect, Layer } from "effect"
import { dhtCompliance, gossipCompliance, MemoryDht, MemoryGossip, SimNetwork } from "../src/index.js"
import type { StorageRule } from "../src/MemoryDht.js"

const memoryDhtHarness =
  (rules: StorageRule | ReadonlyArray<StorageRule>): DhtHarnessMaker => ({ clients, dhtConfig }) =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ rules })
      return {
        clients: Array.from({ length: clients }, (_, i) => MemoryDht.layer(network, { clientId: `c${i}`, dhtConfig })),
        // item i on storing node i only: different nodes holding different writers' values
        storeOnDistinctNodes: (items) =>
          Effect.gen(function*() {
            const nodes = yield* MemoryDht.storingNodes(network, items[0]!.publicKey, items[0]!.salt)
            for (const [i, item] of items.entries()) yield* MemoryDht.inject(network, item, { nodes: [nodes[i]!] })
          })
      }
    })

type DhtHarnessMaker = Parameters<typeof dhtCompliance>[1]

dhtCompliance("memory, last writer wins", memoryDhtHarness("last-writer-wins"))
dhtCompliance("memory, first writer wins", memoryDhtHarness("first-writer-wins"))
dhtCompliance(
  "memory, mixed rules, no distinct-node hook",
  (options) =>
    Effect.map(memoryDhtHarness(["last-writer-wins", "first-writer-wins", "reject-equal-seq"])(options), (h) => ({
      clients: h.clients
    }))
)

gossipCompliance(
  "memory",
  ({ nodes, topology, subscriptionCapacity }) =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make(
        subscriptionCapacity === undefined ? {} : { eventBufferCapacity: subscriptionCapacity }
      )
      const ids = Array.from({ length: nodes }, (_, i) => NodeIdentity.fromSecretKey(SimNetwork.secretKey(i, 77)))
      if (topology === "chain") {
        for (let i = 0; i < nodes; i++) {
          for (let j = i + 2; j < nodes; j++) yield* MemoryGossip.cut(network, ids[i]!.endpointId, ids[j]!.endpointId)
        }
      }
      return ids.map((id) =>
        MemoryGossip.layer(network).pipe(Layer.provide(Layer.succeed(NodeIdentity.NodeIdentity, id)))
      )
    }),
  { chainTopology: true }
)

gossipCompliance(
  "memory with 20 ms latency, full topology",
  ({ nodes, subscriptionCapacity }) =>
    Effect.gen(function*() {
      const network = yield* MemoryGossip.make({
        latency: "20 millis",
        latencyJitter: "5 millis",
        ...(subscriptionCapacity === undefined ? {} : { eventBufferCapacity: subscriptionCapacity })
      })
      return Array.from({ length: nodes }, (_, i) =>
        MemoryGossip.layer(network).pipe(
          Layer.provide(
            Layer.succeed(NodeIdentity.NodeIdentity, NodeIdentity.fromSecretKey(SimNetwork.secretKey(i, 78)))
          )
        ))
    })
)
