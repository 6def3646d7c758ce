/**
 * Signed BEP44 items for tests: what a writer would put, built from a 32-byte Ed25519 seed.
 */
import { Bep44, type Dht } from "@dtt/core"
import { sha256 } from "@noble/hashes/sha2.js"
import { publicKeyOf, sign } from "./internal/ed25519.js"

export interface ItemSpec {
  readonly secretKey: Uint8Array
  readonly salt: Uint8Array
  readonly value: Uint8Array
  /** Defaults to i64::MAX, what distributed-topic-tracker writes. */
  readonly seq?: bigint
}

export const signedItem = (spec: ItemSpec): Dht.MutableItem => {
  const seq = spec.seq ?? Bep44.SEQ_I64_MAX
  return {
    publicKey: publicKeyOf(spec.secretKey),
    salt: Uint8Array.from(spec.salt),
    seq,
    value: Uint8Array.from(spec.value),
    signature: sign(spec.secretKey, Bep44.signable(spec.salt, seq, spec.value))
  }
}

/** A deterministic 32-byte seed from a label (SHA-256 of it). */
export const seedOf = (label: string): Uint8Array => sha256(new TextEncoder().encode(label))
