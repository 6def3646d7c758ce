/**
 * The topic's side of the peer cache: dial the remembered peers at join start, remember neighbours as they come
 * up. Both are no-ops without a `PeerCache` in the context.
 */
import { Effect, Option } from "effect"
import type { EndpointId } from "../EndpointId.js"
import type { PeerAddressesService } from "../PeerAddresses.js"
import type { CachedPeer, PeerCacheService } from "../PeerCache.js"
import { type Core, waitOrJoined } from "./core.js"

export interface TopicPeerCache {
  /**
   * Teach the gossip layer the recalled addresses, ask it to join through the recalled peers, and give them
   * `perPeerJoinSettleTime` to answer before returning (the DHT bootstrap starts after that). True when a
   * recalled peer is already a neighbour then.
   */
  readonly dialRecalled: (core: Core) => Effect.Effect<boolean>
  /** Record a neighbour that just came up (with its address, when the gossip layer knows one). */
  readonly neighborUp: (peer: EndpointId) => Effect.Effect<void>
}

export const make = (
  topicHash: Uint8Array,
  cache: PeerCacheService,
  addresses: Option.Option<PeerAddressesService>
): TopicPeerCache => ({
  dialRecalled: (core) =>
    Effect.gen(function*() {
      const recalled = (yield* cache.recall(topicHash)).filter((peer) => peer.id !== core.endpointId)
      if (recalled.length === 0) return false
      if (Option.isSome(addresses)) {
        for (const peer of recalled) {
          if (peer.address !== undefined) yield* addresses.value.learn(peer.address)
        }
      }
      yield* Effect.logDebug("topic: dialling cached peers", { count: recalled.length })
      yield* core.sender.joinPeers(recalled.map((peer) => peer.id)).pipe(
        Effect.catchAll((error) => Effect.logDebug("topic: join through cached peers failed", { error: error._tag }))
      )
      // A head start: the bootstrap's DHT reads and record decryption share this thread with the dials, and
      // delayed a live cached peer's handshake several-fold when they ran from the first instant.
      yield* waitOrJoined(core, core.config.bootstrap.perPeerJoinSettleTime)
      return yield* core.isJoined
    }),
  neighborUp: (peer) =>
    Effect.gen(function*() {
      const address = Option.isSome(addresses) ? yield* addresses.value.addressOf(peer) : Option.none()
      const entry: CachedPeer = Option.isSome(address) ? { id: peer, address: address.value } : { id: peer }
      yield* cache.seen(topicHash, [entry])
    })
})
