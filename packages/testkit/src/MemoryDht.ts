/**
 * A simulated mainline DHT for tests and benchmarks: one `MemoryDhtNetwork` per test, shared by every simulated
 * node, each node getting the core `Dht` service through `layer`.
 *
 * What it models (spec wire.md §6, behaviour.md §3.1):
 * - each target lives on K storing nodes (the K closest to it, by XOR, in a fixed pool), and each storing node
 *   holds ONE value per target, replaced according to its `StorageRule` (last writer wins on Rust mainline
 *   servers, first writer wins on libtorrent, equal seq rejected per BEP44). Several records per DTT slot exist
 *   only because different storing nodes ended up holding different writers' values;
 * - storing nodes check puts as real ones do: value ≤ 1000 bytes (bencoded on libtorrent nodes), salt ≤ 64,
 *   the signature over `Bep44.signable`, CAS (301) and seq (302) rules; 205/206/207 become `DhtInvalidItem`,
 *   301/302 `DhtPutRejected`;
 * - latency, loss, storing nodes that are down, a network that is offline, clients that reach only some
 *   storing nodes; a request that gets no answer costs `requestTimeout`, as over UDP;
 * - counters of gets and puts per target and per client, to measure the load a protocol puts on the DHT.
 *
 * Latency uses `Effect.sleep`, so the network runs under `TestClock` (then advance the clock to let requests
 * complete; with the default zero latency and no loss nothing sleeps).
 */
import { Bep44, Dht, NodeIdentity } from "@dtt/core"
import { type Duration, Effect, Layer } from "effect"
import * as Impairment from "./internal/impairment.js"
import {
  type Counts,
  defaultMemoryDhtConfig,
  type MemoryDhtConfig,
  MemoryDhtNetwork,
  type StorageRule
} from "./internal/memoryDht.js"

export { defaultMemoryDhtConfig, MemoryDhtNetwork }
export type { MemoryDhtConfig, StorageRule }

/** A new network. Pass a partial config; the rest comes from `defaultMemoryDhtConfig`. */
export const make = (config: Partial<MemoryDhtConfig> = {}): Effect.Effect<MemoryDhtNetwork> =>
  Effect.sync(() => unsafeMake(config))

export const unsafeMake = (config: Partial<MemoryDhtConfig> = {}): MemoryDhtNetwork =>
  new MemoryDhtNetwork({ ...defaultMemoryDhtConfig, ...config })

/** The raw transport of one client (`clientId` keys its counters and its reachability). */
export const transport = (network: MemoryDhtNetwork, clientId: string): Dht.DhtTransport => ({
  lookup: (publicKey, salt) => network.lookup(clientId, publicKey, salt),
  store: (item, cas) => network.store(clientId, item, cas)
})

export interface LayerOptions {
  /** Names this client in counters and reachability. Defaults to `client-<n>` in creation order. */
  readonly clientId?: string
  /** The get/put policy of `Dht.make`. Defaults to `Dht.defaultDhtConfig` (the Rust crate's). */
  readonly dhtConfig?: Dht.DhtConfig
}

let anonymousClients = 0

/** The core `Dht` service for one client of `network`. */
export const layer = (network: MemoryDhtNetwork, options: LayerOptions = {}): Layer.Layer<Dht.Dht> =>
  Layer.sync(
    Dht.Dht,
    () => Dht.make(transport(network, options.clientId ?? `client-${anonymousClients++}`), options.dhtConfig)
  )

/** Like `layer`, with the node's endpoint id as the client id. */
export const layerWithIdentity = (
  network: MemoryDhtNetwork,
  options: Omit<LayerOptions, "clientId"> = {}
): Layer.Layer<Dht.Dht, never, NodeIdentity.NodeIdentity> =>
  Layer.effect(
    Dht.Dht,
    Effect.map(NodeIdentity.NodeIdentity, (identity) =>
      Dht.make(transport(network, identity.endpointId), options.dhtConfig))
  )

// ---------------------------------------------------------------------------------------------------------------
// Control: faults and hostile content

/** Offline: every get and put fails at once with `DhtUnavailable` (no routing table, socket closed). */
export const setOnline = (network: MemoryDhtNetwork, online: boolean): Effect.Effect<void> =>
  Effect.sync(() => {
    network.online = online
  })

/** A storing node that is down never answers; its values come back when it is up again. */
export const setNodeUp = (network: MemoryDhtNetwork, node: number, up: boolean): Effect.Effect<void> =>
  Effect.sync(() => {
    const storing = network.nodes[node]
    if (storing === undefined) throw new RangeError(`no storing node ${node}`)
    storing.up = up
  })

/** Let `clientId` reach only these storing nodes (pool indexes), or all of them again with `"all"`. */
export const setReachable = (
  network: MemoryDhtNetwork,
  clientId: string,
  nodes: ReadonlyArray<number> | "all"
): Effect.Effect<void> =>
  Effect.sync(() => {
    if (nodes === "all") network.reachable.delete(clientId)
    else network.reachable.set(clientId, new Set(nodes))
  })

export const setLoss: (network: MemoryDhtNetwork, loss: number) => Effect.Effect<void> = Impairment.setLoss

export const setLatency: (
  network: MemoryDhtNetwork,
  latency: Duration.DurationInput,
  jitter?: Duration.DurationInput
) => Effect.Effect<void> = Impairment.setLatency

/**
 * Put an item straight into storing nodes, skipping every check (bad signatures, wrong sizes, garbage
 * values): what a hostile or buggy writer can leave in the DHT. `nodes` are pool indexes; default: all K
 * storing nodes of the item's target. Lookups still only return items whose signature verifies.
 */
export const inject = (
  network: MemoryDhtNetwork,
  item: Dht.MutableItem,
  options: { readonly nodes?: ReadonlyArray<number> } = {}
): Effect.Effect<void> => Effect.sync(() => network.inject(item, options.nodes))

// ---------------------------------------------------------------------------------------------------------------
// Inspection

/** The pool indexes of the K storing nodes of SHA-1(publicKey ‖ salt), nearest first. */
export const storingNodes = (network: MemoryDhtNetwork, publicKey: Uint8Array, salt: Uint8Array) =>
  Effect.sync(() => network.storingNodes(Bep44.target(publicKey, salt)))

/** What each storing node of the target currently holds (nodes holding nothing are left out). */
export const held = (network: MemoryDhtNetwork, publicKey: Uint8Array, salt: Uint8Array) =>
  Effect.sync(() => network.heldValues(publicKey, salt))

export interface DhtStats {
  /** Gets and put attempts made by clients (one per `lookup`/`store` call, so retries count). */
  readonly totals: Counts
  /** Requests that reached a storing node and were answered. */
  readonly nodeRequests: Counts
  /** Keyed by the target's hex. */
  readonly byTarget: ReadonlyMap<string, Counts>
  /** Keyed by client id. */
  readonly byClient: ReadonlyMap<string, Counts>
}

/** A snapshot of the counters. */
export const stats = (network: MemoryDhtNetwork): Effect.Effect<DhtStats> =>
  Effect.sync(() => ({
    totals: { ...network.totals },
    nodeRequests: { ...network.nodeRequests },
    byTarget: new Map([...network.byTarget].map(([k, v]) => [k, { ...v }])),
    byClient: new Map([...network.byClient].map(([k, v]) => [k, { ...v }]))
  }))

export const resetStats = (network: MemoryDhtNetwork): Effect.Effect<void> => Effect.sync(() => network.resetCounters())

export type { Counts }
