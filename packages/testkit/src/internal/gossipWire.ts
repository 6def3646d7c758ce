/** The messages simulated nodes exchange over a link (a reduced iroh-gossip vocabulary, no bytes on a wire). */
import type { EndpointId, Gossip } from "@dtt/core"

type Id = EndpointId.EndpointId

export type Wire =
  | { readonly _tag: "Join" }
  | { readonly _tag: "ForwardJoin"; readonly peer: Id; readonly ttl: number }
  | { readonly _tag: "Neighbor"; readonly high: boolean }
  | { readonly _tag: "Disconnect"; readonly alive: boolean; readonly peers: ReadonlyArray<Id> }
  | { readonly _tag: "Shuffle"; readonly origin: Id; readonly peers: ReadonlyArray<Id>; readonly ttl: number }
  | { readonly _tag: "ShuffleReply"; readonly peers: ReadonlyArray<Id> }
  | {
    readonly _tag: "Gossip"
    readonly id: string
    readonly content: Uint8Array
    readonly scope: Gossip.DeliveryScope
  }
