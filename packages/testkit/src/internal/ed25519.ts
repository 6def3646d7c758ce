/**
 * Ed25519 for the memory DHT's storing nodes and for test items, through the core `Crypto` implementation
 * (node:crypto with ed25519-dalek's strict checks) used directly, so the memory layers need no `Crypto` in
 * their environment. Strict verification: a slightly stricter reader than mainline's, which only matters for
 * deliberately malformed keys or signatures.
 */
import { Crypto } from "@dtt/core"

let shared: Crypto.CryptoService | undefined
const crypto = (): Crypto.CryptoService => (shared ??= Crypto.make("node"))

export const verifyStrict = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean =>
  publicKey.length === 32 && signature.length === 64 && crypto().verifyStrict(publicKey, message, signature)

export const sign = (secretKey: Uint8Array, message: Uint8Array): Uint8Array => crypto().sign(secretKey, message)

export const publicKeyOf = (secretKey: Uint8Array): Uint8Array => crypto().ed25519PublicKey(secretKey)
