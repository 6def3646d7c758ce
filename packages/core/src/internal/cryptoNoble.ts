/** The portable Crypto implementation: pure noble, no platform API except `crypto.getRandomValues`. */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js"
import { ed25519, x25519 } from "@noble/curves/ed25519.js"
import { hmac } from "@noble/hashes/hmac.js"
import { sha256, sha512 } from "@noble/hashes/sha2.js"
import { randomBytes } from "@noble/hashes/utils.js"
import type { CryptoPrimitives } from "./cryptoShared.js"
import { verifyStrict } from "./ed25519Strict.js"
import * as Hpke from "./hpke.js"

const Fp = ed25519.Point.Fp
const L = ed25519.Point.Fn.ORDER

const numberToBytesLE32 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn)
  return out
}

/** The Montgomery u of an Edwards point, u = (1 + y) / (1 - y); undefined for the identity (y = 1). */
const montgomeryU = (point: InstanceType<typeof ed25519.Point>): Uint8Array | undefined => {
  const y = point.y
  return y === 1n ? undefined : numberToBytesLE32(Fp.div(Fp.add(1n, y), Fp.sub(1n, y)))
}

/**
 * X25519(k, 9) computed on the Edwards curve: the base point u = 9 is the image of the Ed25519 base point, so
 * the result is the u of [clamp(k) mod L]B. noble's fixed-base Edwards multiplication (precomputed table) is
 * several times faster than its Montgomery ladder. Falls back to the ladder in the impossible-in-practice
 * degenerate cases.
 */
const x25519Base = (secret: Uint8Array): Uint8Array => {
  if (secret.length !== 32) throw new RangeError("X25519 secret must be 32 bytes")
  const clamped = Uint8Array.from(secret)
  clamped[0]! &= 248
  clamped[31]! &= 127
  clamped[31]! |= 64
  let k = 0n
  for (let i = 31; i >= 0; i--) k = (k << 8n) | BigInt(clamped[i]!)
  const reduced = k % L
  const u = reduced === 0n ? undefined : montgomeryU(ed25519.Point.BASE.multiply(reduced))
  return u ?? x25519.getPublicKey(secret)
}

export const hpkePrimitives: Hpke.HpkePrimitives = {
  x25519Base,
  x25519: (secret, publicKey) => x25519.getSharedSecret(secret, publicKey),
  hmacSha256: (key, data) => hmac(sha256, key, data),
  aeadSeal: (key, nonce, aad, plaintext) => chacha20poly1305(key, nonce, aad).encrypt(plaintext),
  aeadOpen: (key, nonce, aad, sealed) => chacha20poly1305(key, nonce, aad).decrypt(sealed)
}

export const primitives: CryptoPrimitives = {
  sha512: (data) => sha512(data),
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  x25519PublicFromSeed: (seed) => x25519Base(sha512(seed).subarray(0, 32)),
  sign: (seed, message) => ed25519.sign(message, seed),
  verifyStrict,
  hpke: Hpke.make(hpkePrimitives),
  randomBytes: (n) => randomBytes(n)
}
