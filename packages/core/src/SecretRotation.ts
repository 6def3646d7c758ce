/**
 * How the per-minute encryption seed is derived from the (hashed) shared secret. A custom rotation replaces
 * only this formula; every member of a topic must use the same one. It receives H32(secret), never the raw
 * secret (spec wire.md §2).
 */
import { sha512 } from "@noble/hashes/sha2.js"
import { concat, u64be } from "./internal/bytes.js"

export interface SecretRotation {
  /** The 32-byte Ed25519 seed of the minute's encryption key. */
  readonly derive: (topicHash: Uint8Array, unixMinute: bigint, initialSecretHash: Uint8Array) => Uint8Array
}

/**
 * The Rust crate's default: H32(topic_hash ‖ BE8(minute) ‖ initial_secret_hash). Note BIG-endian here, while
 * the signing seed, the salt and the record header use little-endian minutes.
 */
export const defaultRotation: SecretRotation = {
  derive: (topicHash, unixMinute, initialSecretHash) =>
    sha512(concat(topicHash, u64be(unixMinute), initialSecretHash)).slice(0, 32)
}

export const make = (derive: SecretRotation["derive"]): SecretRotation => ({ derive })
