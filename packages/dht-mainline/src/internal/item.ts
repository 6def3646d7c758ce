/**
 * Checking a BEP44 mutable item that came off the wire: the key must hash (with the salt) to the target we
 * asked for, and the Ed25519 signature must cover the exact signable rebuilt from the bigint `seq`.
 */
import { Bep44, Bytes, type Dht } from "@dtt/core"
import { ed25519 } from "@noble/curves/ed25519.js"
import type * as Bencode from "../Bencode.js"
import * as Krpc from "../Krpc.js"

/** Ed25519 strict verification, `false` for malformed input (never throws). Same shape as `Crypto.verifyStrict`. */
export type VerifyStrict = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean

/** Fallback used until the `Crypto` service is provided: noble in strict (non-ZIP-215) mode. */
export const nobleVerifyStrict: VerifyStrict = (publicKey, message, signature) => {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}

export const PUBLIC_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64

export type ItemProblem = "bad-fields" | "value-too-big" | "salt-too-big" | "wrong-target" | "bad-signature"

/** Why an item cannot be accepted, or `undefined` when it is valid for `target`. */
export const check = (
  item: Dht.MutableItem,
  target: Uint8Array,
  verify: VerifyStrict
): ItemProblem | undefined => {
  if (item.publicKey.length !== PUBLIC_KEY_BYTES || item.signature.length !== SIGNATURE_BYTES) return "bad-fields"
  if (item.seq < Krpc.I64_MIN || item.seq > Krpc.I64_MAX) return "bad-fields"
  if (item.value.length > Bep44.MAX_VALUE_BYTES) return "value-too-big"
  if (item.salt.length > Bep44.MAX_SALT_BYTES) return "salt-too-big"
  if (!Bytes.equal(Bep44.target(item.publicKey, item.salt), target)) return "wrong-target"
  if (!verify(item.publicKey, Bep44.signable(item.salt, item.seq, item.value), item.signature)) return "bad-signature"
  return undefined
}

/** Accepted items a `Checker` remembers: enough for the slots of a few joins, ~1 KB each. */
const CHECKED_ITEMS = 128

/** `check` for one client, remembering the items it accepted (see `checker`). */
export type Checker = (item: Dht.MutableItem, target: Uint8Array) => ItemProblem | undefined

/**
 * `check` with a bounded memo of the items it accepted (oldest forgotten first). The storing nodes of a slot
 * mostly return byte-identical items, about twenty per `get`, and a bootstrap round reads the same slots again:
 * without the memo a join spent about a tenth of its CPU verifying the same signature over and over. A hit needs
 * every field and the target byte-equal to an item that passed, so it accepts nothing `check` would refuse.
 */
export const checker = (verify: VerifyStrict, limit = CHECKED_ITEMS): Checker => {
  const accepted = new Map<string, { readonly item: Dht.MutableItem; readonly target: Uint8Array }>()
  return (item, target) => {
    const key = item.signature.length === SIGNATURE_BYTES ? Bytes.toHex(item.signature) : undefined
    const known = key === undefined ? undefined : accepted.get(key)
    if (known !== undefined && sameItem(known.item, item) && Bytes.equal(known.target, target)) return undefined
    const problem = check(item, target, verify)
    if (problem === undefined && key !== undefined) {
      if (accepted.size >= limit) accepted.delete(accepted.keys().next().value!)
      accepted.set(key, { item, target })
    }
    return problem
  }
}

const sameItem = (a: Dht.MutableItem, b: Dht.MutableItem): boolean =>
  a.seq === b.seq && Bytes.equal(a.publicKey, b.publicKey) && Bytes.equal(a.salt, b.salt) &&
  Bytes.equal(a.value, b.value) && Bytes.equal(a.signature, b.signature)

/** The item in a `get` reply body (fields `k`, `seq`, `sig`, `v`), if present and well-typed. Not yet verified. */
export const fromGetReply = (body: Bencode.Dict, salt: Uint8Array): Dht.MutableItem | undefined => {
  const publicKey = Krpc.fixedBytes(body, "k", PUBLIC_KEY_BYTES)
  const signature = Krpc.fixedBytes(body, "sig", SIGNATURE_BYTES)
  const seq = Krpc.i64(body, "seq")
  const value = Krpc.bytes(body, "v")
  if (publicKey === undefined || signature === undefined || seq === undefined || value === undefined) return undefined
  return { publicKey, salt, seq, value, signature }
}

/**
 * The BEP44 fields of a `put` query for `item` (`k`, `salt`, `seq`, `cas`, `sig`, `v`), to spread into the query's
 * arguments beside `id`, `target` and `token`. An empty salt (no salt) and a missing `cas` are left out:
 * `Bencode.dict` drops `undefined`. One place for the node's puts and the testbed's direct puts.
 */
export const putFields = (item: Dht.MutableItem, cas?: bigint) => ({
  k: item.publicKey,
  salt: item.salt.length > 0 ? item.salt : undefined,
  seq: item.seq,
  cas,
  sig: item.signature,
  v: item.value
})
