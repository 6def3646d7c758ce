/**
 * How a gossip implementation reaches peers, as opaque strings (for `@dtt/gossip-iroh`: iroh endpoint tickets).
 * Optional: a topic asks for it with `Effect.serviceOption`, so an implementation without dialable addresses
 * (the memory network of `@dtt/testkit`) simply does not provide it. The peer cache stores these strings beside
 * the peer ids so a restarted node can dial its old neighbours without any lookup.
 */
import { Context, type Effect, type Option } from "effect"
import type { EndpointId } from "./EndpointId.js"

export interface PeerAddressesService {
  /** The address we know for `peer` now, if any. */
  readonly addressOf: (peer: EndpointId) => Effect.Effect<Option.Option<string>>
  /**
   * Teach the implementation an address (one `addressOf` returned, maybe in an earlier process). False when the
   * string is not an address it understands: stored strings are not trusted.
   */
  readonly learn: (address: string) => Effect.Effect<boolean>
}

export class PeerAddresses extends Context.Tag("@dtt/core/PeerAddresses")<PeerAddresses, PeerAddressesService>() {}
