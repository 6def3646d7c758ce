/**
 * The real stack of one node as a single Layer: its identity, node:crypto, a mainline DHT client, iroh-gossip
 * whose peers are dialled by bare endpoint id (their addresses found as pkarr records on that same DHT), and
 * optionally a peer cache. `createNode` and the `dtt` CLI both build their nodes with it, and Effect users
 * provide it to `Topic.join` from `@dtt/core` to get what `createNode` runs, with nothing to wire by hand:
 *
 * ```ts
 * import { Topic, TopicId } from "@dtt/core"
 * import { NodeLayer } from "distributed-topic-tracker"
 *
 * const program = Effect.scoped(Topic.join(TopicId.fromName("chat"), { secret }))
 * Effect.runPromise(program.pipe(Effect.provide(NodeLayer.layer({ bootstrap: ["127.0.0.1:6881"] }))))
 * ```
 *
 * Everything is built in the layer's scope: closing it releases the sockets, timers and fibers of the node.
 */
import { Crypto, Dht, NodeIdentity, type PeerAddresses, type Topic } from "@dtt/core"
import { DhtMainline } from "@dtt/dht-mainline"
import { AddressLookup, GossipIroh } from "@dtt/gossip-iroh"
import { Effect, Layer } from "effect"
import { isTopicTrackerError, TopicTrackerError } from "./Errors.js"
import { type ResolvedNodeOptions, resolveNodeOptions } from "./internal/options.js"
import * as PeerCacheDirectory from "./internal/peerCache.js"
import type { NodeOptions } from "./Options.js"

/**
 * What a node provides: everything `Topic.join` needs, the iroh endpoint's own service, and its address book
 * (with a peer cache path, also `PeerCache`, which `Topic.join` uses when present).
 */
export type { PeerCacheUnavailable } from "./internal/peerCache.js"

export type Services = Topic.Requirements | GossipIroh.GossipIroh | PeerAddresses.PeerAddresses

/**
 * Why a node could not start: the DHT socket or the iroh endpoint would not bind, or the peer cache directory
 * cannot be used.
 */
export type StartError =
  | Layer.Layer.Error<ReturnType<typeof DhtMainline.layer>>
  | Layer.Layer.Error<ReturnType<typeof GossipIroh.layer>>
  | PeerCacheDirectory.PeerCacheUnavailable

/** The node's parts, already checked (the facade's `NodeOptions` are resolved into these). */
export interface Parts {
  readonly identity: NodeIdentity.NodeIdentity
  /** Where the DHT client binds and whom it bootstraps from. */
  readonly dht: DhtMainline.Options
  /** The iroh endpoint: bind address, relay, preset, send queue (the DHT address lookup is added here). */
  readonly gossip: Omit<GossipIroh.GossipIrohOptions, "lookups">
  /** What our pkarr record holds: default `all` (relay URL and direct addresses). */
  readonly publishAddresses?: "all" | "relay-only"
  /** A directory for the peer cache (`@dtt/core`'s `PeerCache`); none by default. */
  readonly peerCachePath?: string
  /**
   * Wraps the DHT client that both the topic records and the address lookups use, e.g. to count its requests
   * (the CLI does). The identity by default.
   */
  readonly instrumentDht?: (service: Dht.DhtService) => Dht.DhtService
}

/** The node of `parts` as a Layer. */
export const make = (parts: Parts): Layer.Layer<Services, StartError> => {
  const base = Layer.mergeAll(Crypto.layerNode, Layer.succeed(NodeIdentity.NodeIdentity, parts.identity))
  const mainline = DhtMainline.layer(parts.dht)
  const instrument = parts.instrumentDht
  const dht = instrument === undefined
    ? mainline
    : Layer.effect(Dht.Dht, Effect.map(Dht.Dht, instrument)).pipe(Layer.provide(mainline))
  const gossip = Layer.unwrapScoped(
    Effect.map(
      AddressLookup.dht(parts.publishAddresses === undefined ? {} : { addresses: parts.publishAddresses }),
      (lookup) => GossipIroh.layer({ ...parts.gossip, lookups: [lookup] })
    )
  )
  // Typed as providing nothing: its service is optional to `Topic.join`, and absent without a path.
  const peerCache: Layer.Layer<never, PeerCacheDirectory.PeerCacheUnavailable> = parts.peerCachePath === undefined
    ? Layer.empty
    : PeerCacheDirectory.layer(parts.peerCachePath)
  return Layer.merge(Layer.provideMerge(gossip, Layer.provideMerge(dht, base)), peerCache)
}

/** @internal The parts of options that `resolveNodeOptions` has checked. */
export const partsOfResolved = (options: ResolvedNodeOptions): Parts => {
  const { bindAddress, preset, relay, publishAddresses, ...sendQueue } = options.gossip
  return {
    identity: options.identity,
    dht: options.dht,
    gossip: { bindAddr: bindAddress, preset, relay, ...sendQueue },
    publishAddresses,
    ...(options.peerCachePath === undefined ? {} : { peerCachePath: options.peerCachePath })
  }
}

/** The parts `createNode(options)` would start, or the `TopicTrackerError` saying why the options are bad. */
export const partsOf = (options?: NodeOptions): Effect.Effect<Parts, TopicTrackerError> =>
  Effect.try({
    try: () => partsOfResolved(resolveNodeOptions(options)),
    catch: (error) =>
      isTopicTrackerError(error) ? error : new TopicTrackerError("InvalidArgument", String(error), { cause: error })
  })

/**
 * The node `createNode(options)` starts, as a Layer. Bad options fail it with the `TopicTrackerError` that
 * `createNode` rejects with (`InvalidArgument`, `InvalidConfig`); the topic config in `options.config` is the
 * caller's to pass to `Topic.join`.
 */
export const layer = (options?: NodeOptions): Layer.Layer<Services, TopicTrackerError | StartError> =>
  Layer.unwrapEffect(Effect.map(partsOf(options), make))
