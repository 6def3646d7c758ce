/**
 * The byte-exact vectors of spec iroh-gossip.md §2.4 and the helpers to read them, shared by the wire tests
 * (`wire.test.ts` checks the worked examples, `wireLimits.test.ts` the limits and hostile input around them).
 */
import { Bytes, type EndpointId } from "@dtt/core"
import { blake3 } from "@noble/hashes/blake3.js"
import { Either } from "effect"
import * as Wire from "../src/wire/index.js"

export const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"))
export const toHex = Bytes.toHex

// Spec iroh-gossip.md §2.4 keys: public keys of secret keys [1;32] and [2;32].
const K1hex = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
const K2hex = "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394"
export const K1 = K1hex as EndpointId.EndpointId
export const K2 = K2hex as EndpointId.EndpointId
export const hiId = blake3(new TextEncoder().encode("hi"))
export const hiIdHex = "85052e9aab1b67b6622d94a08441b09fd5b7aca61ee360416d70de5da67d86ca"
const hi = new TextEncoder().encode("hi")

export const addr36hex = "011a68747470733a2f2f72656c61792e6578616d706c652e636f6d2f01007f000001d122"
export const addr36: Wire.AddrInfo = {
  relayUrl: "https://relay.example.com/",
  directAddresses: [Wire.parseSocketAddr("127.0.0.1:4433")!]
}

export const enc = (m: Wire.TopicMessage): string => toHex(Either.getOrThrow(Wire.encodeTopicMessage(m)))
export const dec = (h: string): Wire.TopicMessage => Either.getOrThrow(Wire.decodeTopicMessage(hex(h)))

export const vectors: ReadonlyArray<readonly [string, Wire.TopicMessage, string, number]> = [
  ["Join(Some(empty))", Wire.swarm({ _tag: "Join", data: new Uint8Array(0) }), "00000100", 4],
  ["Join(None)", Wire.swarm({ _tag: "Join", data: undefined }), "000000", 3],
  ["Join(Some(addr))", Wire.swarm({ _tag: "Join", data: hex(addr36hex) }), "00000124" + addr36hex, 40],
  [
    "Neighbor High addr",
    Wire.swarm({ _tag: "Neighbor", priority: "High", data: hex(addr36hex) }),
    "0004000124" + addr36hex,
    41
  ],
  ["Neighbor Low None", Wire.swarm({ _tag: "Neighbor", priority: "Low", data: undefined }), "00040100", 4],
  ["Disconnect alive", Wire.swarm({ _tag: "Disconnect", alive: true, respond: false }), "00050100", 4],
  ["Disconnect dead", Wire.swarm({ _tag: "Disconnect", alive: false, respond: false }), "00050000", 4],
  [
    "ForwardJoin",
    Wire.swarm({ _tag: "ForwardJoin", peer: { id: K1, data: new Uint8Array(0) }, ttl: 6 }),
    "0001" + K1hex + "010006",
    37
  ],
  [
    "Shuffle",
    Wire.swarm({
      _tag: "Shuffle",
      origin: K1,
      nodes: [{ id: K2, data: undefined }, { id: K1, data: new Uint8Array(0) }],
      ttl: 6
    }),
    "0002" + K1hex + "02" + K2hex + "00" + K1hex + "0100" + "06",
    103
  ],
  [
    "ShuffleReply",
    Wire.swarm({ _tag: "ShuffleReply", nodes: [{ id: K2, data: undefined }] }),
    "000301" + K2hex + "00",
    36
  ],
  [
    "Gossip Swarm(0)",
    Wire.gossip({ _tag: "Gossip", id: hiId, content: hi, scope: { _tag: "Swarm", round: 0 } }),
    "0100" + hiIdHex + "026869" + "0000",
    39
  ],
  [
    "Gossip Neighbors",
    Wire.gossip({ _tag: "Gossip", id: hiId, content: hi, scope: { _tag: "Neighbors" } }),
    "0100" + hiIdHex + "026869" + "01",
    38
  ],
  [
    "Gossip Swarm(200)",
    Wire.gossip({ _tag: "Gossip", id: hiId, content: hi, scope: { _tag: "Swarm", round: 200 } }),
    "0100" + hiIdHex + "026869" + "00c801",
    40
  ],
  ["Prune", Wire.gossip({ _tag: "Prune" }), "0101", 2],
  ["Graft Some", Wire.gossip({ _tag: "Graft", id: hiId, round: 2 }), "010201" + hiIdHex + "02", 36],
  ["Graft None 300", Wire.gossip({ _tag: "Graft", id: undefined, round: 300 }), "010200ac02", 5],
  ["IHave", Wire.gossip({ _tag: "IHave", entries: [{ id: hiId, round: 1 }] }), "010301" + hiIdHex + "01", 36]
]
