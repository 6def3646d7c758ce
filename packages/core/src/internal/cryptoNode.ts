/**
 * The fast Crypto implementation on node:crypto (OpenSSL). It gives byte-identical results to the noble one:
 * Ed25519 is deterministic, X25519/HKDF/ChaCha20-Poly1305 are fixed functions. The only place where OpenSSL's
 * accept-set differs from dalek's `verify_strict` is signature verification on adversarial inputs, so the
 * strict byte-level checks run first and the rare non-canonical public key goes to the explicit recipe.
 *
 * node:crypto is loaded when a service is made (`process.getBuiltinModule`, Node >= 20.16), not imported: core's
 * other modules, `Crypto.layerNoble` among them, then load where Node's built-ins do not exist (a browser bundle).
 * Each `makePrimitives()` owns its key caches and random pool, so two layers never share mutable state.
 */
import type * as NodeCrypto from "node:crypto"
import type { CryptoPrimitives } from "./cryptoShared.js"
import { hasValidLengths, precheck, verifyStrict as verifyStrictNoble } from "./ed25519Strict.js"
import * as Hpke from "./hpke.js"

type Curve = "Ed25519" | "X25519"

/** node:crypto, or a clear error where this runtime has no Node built-ins. */
const loadNodeCrypto = (): typeof NodeCrypto => {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  const loaded = runtime?.getBuiltinModule?.("node:crypto") as typeof NodeCrypto | undefined
  if (loaded === undefined) {
    throw new Error("Crypto.layerNode needs Node's built-in crypto module (Node >= 20.16); use Crypto.layerNoble")
  }
  return loaded
}

const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
const b64url = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url")

const checkLength = (bytes: Uint8Array, length: number, what: string): void => {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) throw new RangeError(`${what} must be ${length} bytes`)
}

// Raw keys go in through JWK: node imports OKP JWKs with EVP_PKEY_new_raw_*_key, several times faster than the
// DER/PKCS#8 decoder path. Importing a private key also derives its public key (a scalar multiplication), so
// imported keys are kept in small caches (oldest evicted first): signing keys recur (the node key, the slot
// keys), and each HPKE operation uses its X25519 secret twice in a row.
class KeyCache {
  private readonly keys = new Map<string, NodeCrypto.KeyObject>()
  constructor(
    private readonly importPrivate: (curve: Curve, d: string) => NodeCrypto.KeyObject,
    private readonly limit: number
  ) {}
  get(curve: Curve, secret: Uint8Array): NodeCrypto.KeyObject {
    checkLength(secret, 32, `${curve} secret key`)
    const d = b64url(secret)
    const cached = this.keys.get(d)
    if (cached !== undefined) return cached
    const key = this.importPrivate(curve, d)
    if (this.keys.size >= this.limit) this.keys.delete(this.keys.keys().next().value!)
    this.keys.set(d, key)
    return key
  }
}

/**
 * A fresh set of node:crypto primitives with their own key caches and random pool; `hpkePrimitives` are the raw
 * X25519/HMAC/AEAD steps under its HPKE (tests compare them with noble's).
 */
export const make = (): { readonly primitives: CryptoPrimitives; readonly hpkePrimitives: Hpke.HpkePrimitives } => {
  const nodeCrypto = loadNodeCrypto()

  // `x` must be a string for node's JWK parser but is unused for private keys; node derives it from `d`.
  const importPrivate = (curve: Curve, d: string): NodeCrypto.KeyObject =>
    nodeCrypto.createPrivateKey({ key: { kty: "OKP", crv: curve, d, x: "" }, format: "jwk" })

  const signingKeys = new KeyCache(importPrivate, 32)
  const x25519Keys = new KeyCache(importPrivate, 4)

  const privateKey = (curve: Curve, secret: Uint8Array): NodeCrypto.KeyObject => {
    checkLength(secret, 32, `${curve} secret key`)
    return importPrivate(curve, b64url(secret))
  }

  const publicKey = (curve: Curve, key: Uint8Array): NodeCrypto.KeyObject => {
    checkLength(key, 32, `${curve} public key`)
    return nodeCrypto.createPublicKey({ key: { kty: "OKP", crv: curve, x: b64url(key) }, format: "jwk" })
  }

  /** The raw public key of a private key object (its JWK export carries `x`, no extra key object needed). */
  const rawPublic = (key: NodeCrypto.KeyObject): Uint8Array =>
    view(Buffer.from(key.export({ format: "jwk" }).x ?? "", "base64url"))

  // Random bytes are cut from a pooled block: one call into OpenSSL's CSPRNG per 4 KiB instead of one per key.
  // Every byte is handed out once, as a copy, so callers never alias the pool.
  const RANDOM_POOL_SIZE = 4096
  let randomPool: Uint8Array = new Uint8Array(0)
  let randomAt = 0
  const randomBytes = (n: number): Uint8Array => {
    if (n > RANDOM_POOL_SIZE) return view(nodeCrypto.randomBytes(n))
    if (randomAt + n > randomPool.length) {
      randomPool = view(nodeCrypto.randomBytes(RANDOM_POOL_SIZE))
      randomAt = 0
    }
    const out = randomPool.slice(randomAt, randomAt + n)
    randomPool.fill(0, randomAt, randomAt + n)
    randomAt += n
    return out
  }

  const hpkePrimitives: Hpke.HpkePrimitives = {
    x25519Base: (secret) => rawPublic(x25519Keys.get("X25519", secret)),
    // OpenSSL refuses an all-zero shared secret (low-order peer key), as RFC 9180 requires: it throws here.
    x25519: (secret, peer) =>
      view(
        nodeCrypto.diffieHellman({
          privateKey: x25519Keys.get("X25519", secret),
          publicKey: publicKey("X25519", peer)
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
          return nodeCrypto.verify(null, message, publicKey("Ed25519", key), signature)
      }
    } catch {
      return false
    }
  }

  const primitives: CryptoPrimitives = {
    sha512: (data) => view(nodeCrypto.createHash("sha512").update(data).digest()),
    ed25519PublicKey: (seed) => rawPublic(signingKeys.get("Ed25519", seed)),
    x25519PublicFromSeed: (seed) =>
      rawPublic(privateKey("X25519", view(nodeCrypto.createHash("sha512").update(seed).digest()).subarray(0, 32))),
    sign: (seed, message) => view(nodeCrypto.sign(null, message, signingKeys.get("Ed25519", seed))),
    verifyStrict,
    hpke: Hpke.make(hpkePrimitives),
    randomBytes
  }
  return { primitives, hpkePrimitives }
}

export const makePrimitives = (): CryptoPrimitives => make().primitives
