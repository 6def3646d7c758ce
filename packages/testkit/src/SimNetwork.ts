/**
 * Many simulated nodes in one process: one memory DHT and one memory gossip network shared by every node, and
 * per node a layer stack `NodeIdentity + Dht + Gossip` (the caller adds `Crypto` and whatever else its code
 * needs). Node identities are derived from the node index and the seed, so runs repeat.
 */
import { type Dht, type Gossip, NodeIdentity } from "@dtt/core"
import { sha256 } from "@noble/hashes/sha2.js"
import { Effect, Layer, type Scope } from "effect"
import * as MemoryDht from "./MemoryDht.js"
import * as MemoryGossip from "./MemoryGossip.js"

export interface SimNetworkConfig {
  readonly dht?: Partial<MemoryDht.MemoryDhtConfig>
  readonly gossip?: Partial<MemoryGossip.MemoryGossipConfig>
  /** The get/put policy every node's `Dht` uses. Defaults to the Rust crate's. */
  readonly dhtConfig?: Dht.DhtConfig
  /** Seeds node identities (the networks have their own seeds in `dht` / `gossip`). */
  readonly seed?: number
}

export interface SimNetwork {
  readonly dht: MemoryDht.MemoryDhtNetwork
  readonly gossip: MemoryGossip.MemoryGossipNetwork
  /** The deterministic identity of node `index`. */
  readonly identity: (index: number) => NodeIdentity.NodeIdentity
  /** Node `index`'s services; building the layer starts the node, releasing it shuts it down. */
  readonly node: (
    index: number,
    options?: { readonly dhtConfig?: Dht.DhtConfig }
  ) => Layer.Layer<NodeIdentity.NodeIdentity | Dht.Dht | Gossip.Gossip>
}

/** The secret key of simulated node `index`: SHA-256 of a label, a valid Ed25519 seed. */
export const secretKey = (index: number, seed = 0): Uint8Array =>
  sha256(new TextEncoder().encode(`dtt-sim-node:${seed}:${index}`))

/** Build the shared networks; alive for the enclosing scope. */
export const make = (config: SimNetworkConfig = {}): Effect.Effect<SimNetwork, never, Scope.Scope> =>
  Effect.gen(function*() {
    const dht = yield* MemoryDht.make(config.dht)
    const gossip = yield* MemoryGossip.make(config.gossip)
    const identities = new Map<number, NodeIdentity.NodeIdentity>()
    const identity = (index: number) => {
      let id = identities.get(index)
      if (id === undefined) {
        id = NodeIdentity.fromSecretKey(secretKey(index, config.seed))
        identities.set(index, id)
      }
      return id
    }
    const node: SimNetwork["node"] = (index, options) => {
      const identityLayer = Layer.succeed(NodeIdentity.NodeIdentity, identity(index))
      const services = Layer.mergeAll(
        MemoryDht.layerWithIdentity(dht, { dhtConfig: options?.dhtConfig ?? config.dhtConfig }),
        MemoryGossip.layer(gossip)
      )
      return Layer.provideMerge(services, identityLayer)
    }
    return { dht, gossip, identity, node }
  })
