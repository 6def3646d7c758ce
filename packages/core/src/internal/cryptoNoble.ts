/** The portable Crypto implementation: pure noble, no platform API except `crypto.getRandomValues`. */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js"
import { ed25519, x25519 } from "@noble/curves/ed25519.js"
import { hmac } from "@noble/hashes/hmac.js"
import { sha256, sha512 } from "@noble/hashes/sha2.js"
import { randomBytes } from "@noble/hashes/utils.js"
import * as Hpke from "./hpke.js"
import { verifyStrict } from "./ed25519Strict.js"
import type { CryptoPrimitives } from "./cryptoShared.js"

export const hpkePrimitives: Hpke.HpkePrimitives = {
  x25519Base: (secret) => x25519.getPublicKey(secret),
  x25519: (secret, publicKey) => x25519.getSharedSecret(secret, publicKey),
  hmacSha256: (key, data) => hmac(sha256, key, data),
  aeadSeal: (key, nonce, aad, plaintext) => chacha20poly1305(key, nonce, aad).encrypt(plaintext),
  aeadOpen: (key, nonce, aad, sealed) => chacha20poly1305(key, nonce, aad).decrypt(sealed)
}

export const primitives: CryptoPrimitives = {
  sha512: (data) => sha512(data),
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  sign: (seed, message) => ed25519.sign(message, seed),
  verifyStrict,
  hpke: Hpke.make(hpkePrimitives),
  randomBytes: (n) => randomBytes(n)
}
