import { Bep44, Bytes, type Dht } from "@dtt/core"
import { ed25519 } from "@noble/curves/ed25519.js"
import { readFileSync } from "node:fs"

/** The spec's known answers (wire-vectors.json), from the copy the core tests read. */
export const wireVectors = JSON.parse(
  readFileSync(new URL("../../core/test/vectors.wire.json", import.meta.url), "utf8")
)

/** A signed mutable item from a 32-byte seed (tests only: noble signs directly). */
export const signItem = (
  seed: Uint8Array,
  salt: Uint8Array,
  value: Uint8Array,
  seq: bigint = Bep44.SEQ_I64_MAX
): Dht.MutableItem => ({
  publicKey: ed25519.getPublicKey(seed),
  salt,
  seq,
  value,
  signature: ed25519.sign(Bep44.signable(salt, seq, value), seed)
})

export const bytesOf = Bytes.utf8
export const hex = Bytes.toHex
export const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"))
export const seedOf = (n: number): Uint8Array => new Uint8Array(32).fill(n)
