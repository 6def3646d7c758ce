/**
 * The `Dht` service on the mainline BitTorrent DHT: BEP44 mutable items with exact 64-bit `seq`, a `get` that
 * returns the value of every storing node it reaches (not one cached value), and a `put` to the closest nodes
 * that handed out a write token. Optionally the node is also a storing node for others.
 *
 * `layer(options)` is what applications use. `makeNode(options)` gives the node itself (its address, id,
 * transport, storage) for testbeds and interop harnesses.
 */
import { type Crypto, Dht } from "@dtt/core"
import { Duration, Effect, Layer, type Scope } from "effect"
import type { Impairment } from "./Impairment.js"
import type { VerifyStrict } from "./internal/item.js"
import * as Node from "./internal/node.js"
import * as Rtt from "./internal/rtt.js"
import type { StoreRule } from "./internal/server.js"

export type { Address } from "./internal/address.js"
export type { VerifyStrict } from "./internal/item.js"
export type { Node as MainlineNode, NodeStats } from "./internal/node.js"
export type { StoreRule } from "./internal/server.js"

/** The routers a fresh Rust mainline 7 node contacts (spec wire.md §6.3). Tests must never use these. */
export const DEFAULT_BOOTSTRAP: ReadonlyArray<string> = [
  "router.bittorrent.com:6881",
  "dht.transmissionbt.com:6881",
  "dht.libtorrent.org:25401",
  "relay.pkarr.org:6881"
]

/** Default `softTimeoutFloor` (400 ms). */
export const DEFAULT_SOFT_TIMEOUT_FLOOR: Duration.Duration = Rtt.DEFAULT_SOFT_TIMEOUT_FLOOR

export interface StoringOptions {
  /** What an equal `seq` does to a stored item: overwrite (Rust mainline) or nothing (libtorrent, BEP44). */
  readonly rule: StoreRule
  /** Most items held; the least recently written is evicted beyond it. Default 10 000. */
  readonly maxItems?: number
}

export interface Options {
  /** "host:port" entries to start lookups from. Default: `DEFAULT_BOOTSTRAP`. */
  readonly bootstrap?: ReadonlyArray<string>
  /** Address to bind the UDP socket to. Default "0.0.0.0"; tests use "127.0.0.1". */
  readonly host?: string
  /** UDP port; 0 (the default) picks a free one. */
  readonly port?: number
  /** Act as a storing node (answer queries, store items) with this rule. Default: read-only client. */
  readonly storing?: StoringOptions
  /** Per-request timeout. Default 2 s, as Rust mainline. */
  readonly requestTimeout?: Duration.DurationInput
  /**
   * Least "soft" timeout: after `srtt + 4·rttvar` of this client's measured round trips, kept within this and
   * `requestTimeout`, a lookup or put stops waiting for a node that has not answered (its answer still counts
   * if it comes while the operation runs). Default 400 ms.
   */
  readonly softTimeoutFloor?: Duration.DurationInput
  /** Requests in flight per lookup. Default 16. */
  readonly concurrency?: number
  /** Requests in flight for the whole node. Default 256. */
  readonly maxInFlight?: number
  /** Fixed 20-byte node id; default random. */
  readonly nodeId?: Uint8Array
  /** Replace the signature check (default: the `Crypto` service's `verifyStrict`). */
  readonly verifyStrict?: VerifyStrict
  /** Token secret rotation period (storing nodes). Default 5 minutes. */
  readonly tokenRotation?: Duration.DurationInput
  /** Bootstrap (self-lookup) when the layer starts, in the background. Default true. */
  readonly bootstrapOnStart?: boolean
  /** Retry, timeout and bound policy of `getMutable`/`putMutable` (`Dht.make`). Default `Dht.defaultDhtConfig`. */
  readonly dht?: Partial<Dht.DhtConfig>
  /** A simulated bad network on this node's socket (testbeds; see `Impairment`). Default none. */
  readonly impairment?: Impairment
}

const nodeOptions = (options: Options): Node.NodeOptions => ({
  bootstrap: options.bootstrap ?? DEFAULT_BOOTSTRAP,
  host: options.host ?? "0.0.0.0",
  port: options.port ?? 0,
  storing: options.storing === undefined
    ? undefined
    : { rule: options.storing.rule, maxItems: options.storing.maxItems ?? 10_000 },
  requestTimeout: Duration.decode(options.requestTimeout ?? Duration.seconds(2)),
  softTimeoutFloor: Duration.decode(options.softTimeoutFloor ?? DEFAULT_SOFT_TIMEOUT_FLOOR),
  alpha: options.concurrency ?? 16,
  maxInFlight: options.maxInFlight ?? 256,
  nodeId: options.nodeId,
  verifyStrict: options.verifyStrict,
  tokenRotation: Duration.decode(options.tokenRotation ?? Duration.minutes(5)),
  impairment: options.impairment
})

/** A node in the current scope (socket bound, not yet bootstrapped: run `node.bootstrap` when needed). */
export const makeNode = (
  options: Options = {}
): Effect.Effect<Node.Node, Dht.DhtUnavailable, Scope.Scope | Crypto.Crypto> => Node.make(nodeOptions(options))

/** The `Dht` service of a node built from `options`, plus the node itself. */
export const makeService = (
  options: Options = {}
): Effect.Effect<
  { readonly dht: Dht.DhtService; readonly node: Node.Node },
  Dht.DhtUnavailable,
  Scope.Scope | Crypto.Crypto
> =>
  Effect.gen(function*() {
    const node = yield* makeNode(options)
    if (options.bootstrapOnStart !== false) yield* Effect.forkScoped(Node.refreshForever(node, Duration.minutes(10)))
    return { dht: Dht.make(node.transport, { ...Dht.defaultDhtConfig, ...options.dht }), node }
  })

/** The `Dht` service on the mainline DHT. The socket and every fiber close with the layer's scope. */
export const layer = (options: Options = {}): Layer.Layer<Dht.Dht, Dht.DhtUnavailable, Crypto.Crypto> =>
  Layer.scoped(Dht.Dht, Effect.map(makeService(options), ({ dht }) => dht))
