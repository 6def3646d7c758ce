/**
 * A gossip swarm per topic, with the API semantics of iroh-gossip 0.101 (spec iroh-gossip.md §4). One contract,
 * two implementations: the memory network of `@dtt/testkit` and the iroh-gossip port of `@dtt/gossip-iroh`, both
 * held to `gossipCompliance` in `@dtt/testkit`.
 *
 * The node's identity (its endpoint id) is the `NodeIdentity` the implementation was built with.
 */
import { Context, Data, type Effect, type Scope, type Stream } from "effect"
import type { EndpointId } from "./EndpointId.js"

/** How far a received message travelled: sent to direct neighbours only, or flooded through the swarm. */
export type DeliveryScope =
  | { readonly _tag: "Neighbors" }
  | { readonly _tag: "Swarm"; readonly hops: number }

export type GossipEvent =
  | { readonly _tag: "NeighborUp"; readonly peer: EndpointId }
  | { readonly _tag: "NeighborDown"; readonly peer: EndpointId }
  | {
    readonly _tag: "Received"
    readonly content: Uint8Array
    /** The previous hop, not necessarily the author. */
    readonly deliveredFrom: EndpointId
    readonly scope: DeliveryScope
  }
  /**
   * This subscriber fell behind: the `missed` oldest events were dropped (undefined when an implementation cannot
   * count). It keeps receiving, newest events first after the gap.
   */
  | { readonly _tag: "Lagged"; readonly missed?: number | undefined }

/** The subscription (or the whole gossip node) has been closed. */
export class GossipClosed extends Data.TaggedError("GossipClosed")<{ readonly reason: string }> {}

/** A message larger than the swarm's maximum message size. */
export class GossipMessageTooLarge extends Data.TaggedError("GossipMessageTooLarge")<{
  readonly size: number
  readonly max: number
}> {}

export type GossipError = GossipClosed | GossipMessageTooLarge

export interface GossipTopic {
  /** Flood to the whole swarm. Resolves when queued, not when delivered. Our own messages never come back. */
  readonly broadcast: (content: Uint8Array) => Effect.Effect<void, GossipError>
  /** Send to direct neighbours only. */
  readonly broadcastNeighbors: (content: Uint8Array) => Effect.Effect<void, GossipError>
  /** Ask the swarm membership layer to join through these peers (iroh-gossip `join_peers`). */
  readonly joinPeers: (peers: ReadonlyArray<EndpointId>) => Effect.Effect<void, GossipError>
  /** The current neighbours (active view). */
  readonly neighbors: Effect.Effect<ReadonlyArray<EndpointId>>
  /** True while at least one neighbour is up. */
  readonly isJoined: Effect.Effect<boolean>
  /** Waits until at least one neighbour is up; fails with `GossipClosed` if the subscription ends first. */
  readonly joined: Effect.Effect<void, GossipClosed>
  /**
   * The subscription's events, for ONE consumer. The stream ends when the subscription is closed. If the
   * consumer is slow, it sees `Lagged` where events were dropped, then continues.
   */
  readonly events: Stream.Stream<GossipEvent, GossipClosed>
}

export interface GossipService {
  readonly endpointId: EndpointId
  /** Maximum payload of one message, in bytes. */
  readonly maxMessageSize: number
  /**
   * Subscribe to a topic (32-byte id) and start joining through `bootstrap` (may be empty: the node then
   * accepts incoming joins). Closing the scope leaves the topic: peers are told, state is dropped.
   */
  readonly subscribe: (
    topic: Uint8Array,
    bootstrap: ReadonlyArray<EndpointId>
  ) => Effect.Effect<GossipTopic, GossipClosed, Scope.Scope>
}

export class Gossip extends Context.Tag("@dtt/core/Gossip")<Gossip, GossipService>() {}
