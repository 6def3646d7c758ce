/**
 * Strict Ed25519 verification for the memory DHT's storing nodes and lookups.
 *
 * Kept behind this one function so it can move to the core `Crypto` service (`verifyStrict`) without touching
 * the model. Strict (non-ZIP215) is what the Rust crate's storing nodes and readers effectively require.
 */
import { ed25519 } from "@noble/curves/ed25519.js"

export const verifyStrict = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}

export const sign = (secretKey: Uint8Array, message: Uint8Array): Uint8Array => ed25519.sign(message, secretKey)

export const publicKeyOf = (secretKey: Uint8Array): Uint8Array => ed25519.getPublicKey(secretKey)
