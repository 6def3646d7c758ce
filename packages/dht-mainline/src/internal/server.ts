/**
 * Storing-node mode: answers `ping`, `find_node`, `get_peers` (nodes and a token, no peer store), BEP44 `get`
 * and mutable `put` for other nodes. Two storage rules, because deployed nodes differ (spec wire.md §6.4):
 *
 * - "last-writer-wins" (Rust mainline servers): an equal `seq` overwrites.
 * - "first-writer-wins" (libtorrent, the BEP44 text): an equal `seq` is acknowledged but not stored.
 *
 * Write tokens are a hash of a secret and the requester's IP; the secret rotates and the previous one stays
 * valid, so a token lives between one and two rotation periods (BEP5). Storage is bounded: beyond `maxItems`
 * the least recently written item is evicted.
 */
import { Bep44, Bytes, type Dht } from "@dtt/core"
import { sha1 } from "@noble/hashes/legacy.js"
import * as Bencode from "../Bencode.js"
import * as Krpc from "../Krpc.js"
import { type Address, encodeNodes, ID_BYTES } from "./address.js"
import * as Item from "./item.js"
import type { RoutingTable } from "./routingTable.js"
import type { Reply } from "./rpc.js"

export type StoreRule = "last-writer-wins" | "first-writer-wins"

export interface ServerOptions {
  readonly localId: Uint8Array
  readonly table: RoutingTable
  readonly rule: StoreRule
  readonly maxItems: number
  readonly k: number
  readonly verify: Item.VerifyStrict
  readonly secret: Uint8Array
}

export interface Server {
  readonly handle: (query: Krpc.Query, from: Address) => Reply
  readonly rotateSecret: (secret: Uint8Array) => void
  /** The item stored for a target (for tests and the Testbed's inspection). */
  readonly stored: (target: Uint8Array) => Dht.MutableItem | undefined
  readonly size: () => number
}

const TOKEN_BYTES = 8

const error = (code: number, message: string): Reply => ({ _tag: "Error", code, message })
const protocolError = (message: string) => error(Krpc.ErrorCode.Protocol, message)

export const make = (options: ServerOptions): Server => {
  let secret = options.secret
  let previousSecret = options.secret
  const items = new Map<string, Dht.MutableItem>()

  const tokenFor = (s: Uint8Array, host: string) =>
    sha1(new Uint8Array([...s, ...new TextEncoder().encode(host)])).slice(0, TOKEN_BYTES)
  const validToken = (token: Uint8Array, host: string) =>
    Bytes.equal(token, tokenFor(secret, host)) || Bytes.equal(token, tokenFor(previousSecret, host))

  const nodesNear = (target: Uint8Array) => encodeNodes(options.table.closest(target, options.k))
  const ok = (body: Record<string, Bencode.Value | undefined>): Reply => ({
    _tag: "Response",
    body: Bencode.dict({ id: options.localId, ...body })
  })

  const get = (args: Bencode.Dict, from: Address): Reply => {
    const target = Krpc.fixedBytes(args, "target", ID_BYTES)
    if (target === undefined) return protocolError("target must be 20 bytes")
    const common = { token: tokenFor(secret, from.host), nodes: nodesNear(target) }
    const item = items.get(Bytes.toHex(target))
    if (item === undefined) return ok(common)
    const newerThan = Krpc.i64(args, "seq")
    if (newerThan !== undefined && item.seq <= newerThan) return ok({ ...common, seq: item.seq })
    return ok({ ...common, k: item.publicKey, seq: item.seq, sig: item.signature, v: item.value })
  }

  const put = (args: Bencode.Dict, from: Address): Reply => {
    const token = Krpc.bytes(args, "token")
    if (token === undefined || !validToken(token, from.host)) return protocolError("Bad token")
    const publicKey = Krpc.bytes(args, "k")
    if (publicKey === undefined) return protocolError("immutable items are not stored by this node")
    const value = args.get("v")
    if (value === undefined) return protocolError("missing v")
    // A non-string `v` is legal BEP44, but neither Rust mainline nor distributed-topic-tracker produces one.
    if (!(value instanceof Uint8Array)) return protocolError("v must be a byte string")
    if (value.length > Bep44.MAX_VALUE_BYTES) return error(Krpc.ErrorCode.ValueTooBig, "Message (v field) too big.")
    const salt = Krpc.bytes(args, "salt") ?? new Uint8Array(0)
    if (salt.length > Bep44.MAX_SALT_BYTES) return error(Krpc.ErrorCode.SaltTooBig, "salt (salt field) too big.")
    const seq = Krpc.i64(args, "seq")
    const signature = Krpc.bytes(args, "sig")
    if (seq === undefined || signature === undefined || publicKey.length !== Item.PUBLIC_KEY_BYTES) {
      return protocolError("k, seq and sig are required")
    }
    const item: Dht.MutableItem = { publicKey, salt, seq, value, signature }
    const target = Bep44.target(publicKey, salt)
    // Verify before comparing with what is stored, so an unsigned put learns nothing about the slot.
    if (Item.check(item, target, options.verify) !== undefined) {
      return error(Krpc.ErrorCode.InvalidSignature, "Invalid signature")
    }
    const key = Bytes.toHex(target)
    const previous = items.get(key)
    if (previous !== undefined) {
      const cas = Krpc.i64(args, "cas")
      if (cas !== undefined && cas !== previous.seq) {
        return error(Krpc.ErrorCode.CasMismatch, "CAS mismatched, re-read value and try again.")
      }
      if (seq < previous.seq) return error(Krpc.ErrorCode.SeqTooLow, "Sequence number less than current.")
      if (seq === previous.seq && options.rule === "first-writer-wins") return ok({})
    }
    items.delete(key)
    items.set(key, item)
    if (items.size > options.maxItems) items.delete(items.keys().next().value!)
    return ok({})
  }

  const handle = (query: Krpc.Query, from: Address): Reply => {
    if (Krpc.fixedBytes(query.args, "id", ID_BYTES) === undefined) return protocolError("id must be 20 bytes")
    switch (query.method) {
      case "ping":
        return ok({})
      case "find_node": {
        const target = Krpc.fixedBytes(query.args, "target", ID_BYTES)
        return target === undefined ? protocolError("target must be 20 bytes") : ok({ nodes: nodesNear(target) })
      }
      case "get_peers": {
        const infoHash = Krpc.fixedBytes(query.args, "info_hash", ID_BYTES)
        if (infoHash === undefined) return protocolError("info_hash must be 20 bytes")
        return ok({ token: tokenFor(secret, from.host), nodes: nodesNear(infoHash) })
      }
      case "get":
        return get(query.args, from)
      case "put":
        return put(query.args, from)
      default:
        return error(Krpc.ErrorCode.MethodUnknown, "Method Unknown")
    }
  }

  return {
    handle,
    rotateSecret: (next) => {
      previousSecret = secret
      secret = next
    },
    stored: (target) => items.get(Bytes.toHex(target)),
    size: () => items.size
  }
}
