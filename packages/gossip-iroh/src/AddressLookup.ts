/**
 * A way to find an endpoint's addresses from its id alone, and to make our own findable. The driver asks its
 * lookups when the address book has nothing for a peer it must dial, and publishes our addresses whenever they
 * change. `AddressLookup.dht` (below) stores them on the mainline DHT in iroh's own pkarr format.
 */
import type { Effect, Option } from "effect"
import type { DialAddr } from "./net/endpoint.js"
import type { EndpointId } from "@dtt/core"

export interface AddressLookup {
  readonly name: string
  readonly resolve: (id: EndpointId.EndpointId) => Effect.Effect<Option.Option<DialAddr>, unknown>
  readonly publish: (addr: DialAddr) => Effect.Effect<void, unknown>
}
