/**
 * One real node, as every command runs it: the facade's `NodeLayer` (identity, node:crypto, a mainline DHT client
 * on public routers or a private testbed, iroh-gossip dialling peers by id through pkarr records on that DHT),
 * with the DHT client wrapped to count requests, so the commands can show what the node costs the DHT.
 */
import { Dht, type NodeIdentity } from "@dtt/core"
import type { DhtMainline } from "@dtt/dht-mainline"
import type { GossipIroh } from "@dtt/gossip-iroh"
import { NodeLayer } from "distributed-topic-tracker"
import { Data, Effect, Layer } from "effect"

/** DHT requests of one node. Topic records live under a salt (the minute slot); pkarr address records have none. */
export interface DhtCounters {
  recordGets: number
  recordPuts: number
  addressGets: number
  addressPuts: number
  /** Requests that succeeded (some node answered) and that failed. */
  answered: number
  failed: number
}

export const makeCounters = (): DhtCounters => ({
  recordGets: 0,
  recordPuts: 0,
  addressGets: 0,
  addressPuts: 0,
  answered: 0,
  failed: 0
})

export const totalGets = (c: DhtCounters): number => c.recordGets + c.addressGets
export const totalPuts = (c: DhtCounters): number => c.recordPuts + c.addressPuts

export class NodeStartError extends Data.TaggedError("NodeStartError")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

export interface PeerNodeOptions {
  readonly identity: NodeIdentity.NodeIdentity
  /** Where the DHT client binds and whom it bootstraps from. */
  readonly dht: DhtMainline.Options
  /** Bind address, relay and preset of the iroh endpoint (the DHT address lookup is added here). */
  readonly gossip: Omit<GossipIroh.GossipIrohOptions, "lookups">
}

export type Services = NodeLayer.Services

const tally = <A, E>(request: Effect.Effect<A, E>, counters: DhtCounters): Effect.Effect<A, E> =>
  request.pipe(
    Effect.tapBoth({
      onFailure: () => Effect.sync(() => void counters.failed++),
      onSuccess: () => Effect.sync(() => void counters.answered++)
    })
  )

const counted = (service: Dht.DhtService, counters: DhtCounters): Dht.DhtService => ({
  getMutable: (publicKey, salt) =>
    Effect.suspend(() => {
      if (salt.length === 0) counters.addressGets++
      else counters.recordGets++
      return tally(service.getMutable(publicKey, salt), counters)
    }),
  findMutable: (publicKey, salt, accept) =>
    Effect.suspend(() => {
      if (salt.length === 0) counters.addressGets++
      else counters.recordGets++
      return tally(Dht.firstMutable(service, publicKey, salt, accept), counters)
    }),
  putMutable: (item, options) =>
    Effect.suspend(() => {
      if (item.salt.length === 0) counters.addressPuts++
      else counters.recordPuts++
      return tally(service.putMutable(item, options), counters)
    })
})

/**
 * The facade's node stack (`NodeLayer.make`, the same as `createNode` runs), its DHT client counted; built in
 * the layer's scope (sockets and fibers close with it).
 */
export const layer = (options: PeerNodeOptions, counters: DhtCounters): Layer.Layer<Services, NodeStartError> =>
  NodeLayer.make({ ...options, instrumentDht: (service) => counted(service, counters) }).pipe(
    Layer.mapError((e) => new NodeStartError({ reason: `${e._tag}: ${"reason" in e ? e.reason : String(e)}` }))
  )
