/**
 * The fast Crypto implementation on node:crypto (OpenSSL). It gives byte-identical results to the noble one:
 * Ed25519 is deterministic, X25519/HKDF/ChaCha20-Poly1305 are fixed functions. The only place where OpenSSL's
 * accept-set differs from dalek's `verify_strict` is signature verification on adversarial inputs, so the
 * strict byte-level checks run first and the rare non-canonical public key goes to the explicit recipe.
 */
import * as nodeCrypto from "node:crypto"
import * as Hpke from "./hpke.js"
import { hasValidLengths, precheck, verifyStrict as verifyStrictNoble } from "./ed25519Strict.js"
import { concat } from "./bytes.js"
import type { CryptoPrimitives } from "./cryptoShared.js"

// DER prefixes of PKCS#8 private keys and SPKI public keys for the two curves (RFC 8410).
const ED25519_PKCS8 = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const ED25519_SPKI = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
const X25519_PKCS8 = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])
const X25519_SPKI = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])

const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

const checkLength = (bytes: Uint8Array, length: number, what: string): void => {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) throw new RangeError(`${what} must be ${length} bytes`)
}

const privateKey = (prefix: Uint8Array, secret: Uint8Array, what: string): nodeCrypto.KeyObject => {
  checkLength(secret, 32, what)
  return nodeCrypto.createPrivateKey({ key: Buffer.from(concat(prefix, secret)), format: "der", type: "pkcs8" })
}

const publicKey = (prefix: Uint8Array, key: Uint8Array, what: string): nodeCrypto.KeyObject => {
  checkLength(key, 32, what)
  return nodeCrypto.createPublicKey({ key: Buffer.from(concat(prefix, key)), format: "der", type: "spki" })
}

const rawPublic = (key: nodeCrypto.KeyObject): Uint8Array =>
  view(nodeCrypto.createPublicKey(key).export({ format: "der", type: "spki" })).slice(12)

export const hpkePrimitives: Hpke.HpkePrimitives = {
  x25519Base: (secret) => rawPublic(privateKey(X25519_PKCS8, secret, "X25519 secret")),
  // OpenSSL refuses an all-zero shared secret (low-order peer key), as RFC 9180 requires: it throws here.
  x25519: (secret, peer) =>
    view(
      nodeCrypto.diffieHellman({
        privateKey: privateKey(X25519_PKCS8, secret, "X25519 secret"),
        publicKey: publicKey(X25519_SPKI, peer, "X25519 public key")
      })
    ),
  hmacSha256: (key, data) => view(nodeCrypto.createHmac("sha256", key).update(data).digest()),
  aeadSeal: (key, nonce, aad, plaintext) => {
    const cipher = nodeCrypto.createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 })
    cipher.setAAD(aad, { plaintextLength: plaintext.length })
    return view(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]))
  },
  aeadOpen: (key, nonce, aad, sealed) => {
    if (sealed.length < 16) throw new Error("ciphertext shorter than the tag")
    const ciphertext = sealed.subarray(0, sealed.length - 16)
    const decipher = nodeCrypto.createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: 16 })
    decipher.setAAD(aad, { plaintextLength: ciphertext.length })
    decipher.setAuthTag(sealed.subarray(sealed.length - 16))
    return view(Buffer.concat([decipher.update(ciphertext), decipher.final()]))
  }
}

const verifyStrict = (key: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
  try {
    if (!hasValidLengths(key, signature) || !(message instanceof Uint8Array)) return false
    switch (precheck(key, signature)) {
      case "reject":
        return false
      case "nonCanonicalA":
        return verifyStrictNoble(key, message, signature)
      case "standard":
        // Canonical non-small-order A and R, S < L: OpenSSL's cofactorless check is the strict one.
        return nodeCrypto.verify(null, message, publicKey(ED25519_SPKI, key, "public key"), signature)
    }
  } catch {
    return false
  }
}

export const primitives: CryptoPrimitives = {
  sha512: (data) => view(nodeCrypto.createHash("sha512").update(data).digest()),
  ed25519PublicKey: (seed) => rawPublic(privateKey(ED25519_PKCS8, seed, "Ed25519 seed")),
  sign: (seed, message) => view(nodeCrypto.sign(null, message, privateKey(ED25519_PKCS8, seed, "Ed25519 seed"))),
  verifyStrict,
  hpke: Hpke.make(hpkePrimitives),
  randomBytes: (n) => view(nodeCrypto.randomBytes(n))
}
