// Shared by the pkarr interop tests (pkarr.test.ts: the codec against iroh-dns; pkarrDht.test.ts: records through
// Rust mainline storing nodes): the iroh-dns harness (interop/pkarr) and the node seeds both files sign with.
import { Crypto, type NodeIdentity } from "@dtt/core"
import * as Pkarr from "../../packages/gossip-iroh/src/internal/pkarr.js"
import { harnessBinary } from "./harness.js"
import { type Json, runBatch, toHex } from "./jsonLines.js"

/** One batch of requests to the iroh-dns harness, answered in order. */
export const rust = (requests: ReadonlyArray<Json>) => runBatch(harnessBinary("pkarr"), [], requests)
export const crypto = Crypto.make("node")

/** A fixed secret key per test index, so failures name the same node every run. */
export const seedOf = (i: number) => Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7 + 1) & 0xff)

/** The harness's "parse" request for `packet`, signed by us as `identity`'s record at seq 1. */
export const parseRequest = (identity: NodeIdentity.NodeIdentity, packet: Uint8Array): Json => {
  const item = Pkarr.signedItem((m) => crypto.sign(identity.secretKey, m), identity.publicKey, 1n, packet)
  return {
    op: "parse",
    public_key: toHex(item.publicKey),
    timestamp: item.seq.toString(),
    signature: toHex(item.signature),
    packet: toHex(packet)
  }
}
