/**
 * BEP44 mutable items: the signable bytes and the target. The sequence number is a 64-bit integer and is kept
 * as a `bigint` end to end: it is part of what is signed, so a lossy `number` breaks every signature
 * (spec wire.md §8.4).
 */
import { sha1 } from "@noble/hashes/legacy.js"
import { concat } from "./internal/bytes.js"

/** The constant `seq` (and `cas`) distributed-topic-tracker 0.3 writes: i64::MAX. */
export const SEQ_I64_MAX = 9223372036854775807n

/** BEP44 limits that storing nodes enforce. */
export const MAX_VALUE_BYTES = 1000
export const MAX_SALT_BYTES = 64

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s)

/**
 * The bytes a mutable item's signature covers: the bencoded dictionary `{salt?, seq, v}` without its outer
 * `d`/`e`. An empty salt is left out, as BEP44 says.
 */
export const signable = (salt: Uint8Array, seq: bigint, value: Uint8Array): Uint8Array =>
  concat(
    ...(salt.length > 0 ? [ascii(`4:salt${salt.length}:`), salt] : []),
    ascii(`3:seqi${seq.toString()}e1:v${value.length}:`),
    value
  )

/** The DHT key of a mutable item: SHA-1(public key ‖ salt). */
export const target = (publicKey: Uint8Array, salt: Uint8Array): Uint8Array => sha1(concat(publicKey, salt))
