/**
 * The routing table: k-bucket's binary tree of K-buckets (K = 20, as Rust mainline), holding nodes that have
 * answered us or queried us without the read-only flag. A full bucket that cannot split ignores newcomers; nodes
 * that stop answering are removed by the lookups that notice.
 */
import { Bytes } from "@dtt/core"
import KBucket from "k-bucket"
import { type Address, addressKey, compareDistance, ID_BYTES, type NodeInfo } from "./address.js"

export const K = 20

interface Contact extends KBucket.Contact {
  readonly id: Uint8Array
  readonly host: string
  readonly port: number
}

export interface RoutingTable {
  readonly add: (node: NodeInfo) => void
  readonly remove: (id: Uint8Array) => void
  /** The `n` known nodes closest to `target`, exactly ordered by XOR distance. */
  readonly closest: (target: Uint8Array, n: number) => ReadonlyArray<NodeInfo>
  readonly size: () => number
}

export const make = (localId: Uint8Array, self: Address): RoutingTable => {
  const bucket = new KBucket<Contact>({ localNodeId: localId, numberOfNodesPerKBucket: K })
  // One id per address: a single host:port claiming many ids (a cheap Sybil trick) gets one entry only.
  const idByAddress = new Map<string, string>()
  return {
    add: (node) => {
      if (node.id.length !== ID_BYTES || (node.host === self.host && node.port === self.port)) return
      if (compareDistance(localId, node.id, localId) === 0) return
      const key = addressKey(node)
      const idHex = Bytes.toHex(node.id)
      const known = idByAddress.get(key)
      if (known !== undefined && known !== idHex) return
      bucket.add({ id: node.id, host: node.host, port: node.port })
      if (known === undefined && bucket.get(node.id) !== null) idByAddress.set(key, idHex)
    },
    remove: (id) => {
      if (id.length !== ID_BYTES) return
      const contact = bucket.get(id)
      if (contact !== null) idByAddress.delete(addressKey(contact))
      bucket.remove(id)
    },
    closest: (target, n) =>
      // k-bucket ranks by a double built from 160 bits; take a margin and re-rank exactly.
      bucket
        .closest(target, n * 2)
        .sort((a, b) => compareDistance(target, a.id, b.id))
        .slice(0, n)
        .map(({ id, host, port }) => ({ id, host, port })),
    size: () => bucket.count()
  }
}
