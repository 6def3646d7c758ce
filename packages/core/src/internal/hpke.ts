/**
 * RFC 9180 HPKE, exactly one profile: mode Base, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305,
 * single-shot (one seal per context, so the nonce is the base nonce). This is the profile the Rust crate's
 * `ed25519-dalek-hpke` wrapper uses (spec wire.md §5.1).
 *
 * The arithmetic is injected (`HpkePrimitives`) so the same key schedule runs on noble (portable) and on
 * node:crypto (fast); both are checked against RFC 9180 A.2.1.
 */
import { concat, utf8 } from "./bytes.js"

export interface HpkePrimitives {
  /** X25519(scalar, 9): the public key of a (clamped at use) secret scalar. */
  readonly x25519Base: (secret: Uint8Array) => Uint8Array
  /** X25519(scalar, u). Throws when the result is all zero (a low-order peer key). */
  readonly x25519: (secret: Uint8Array, publicKey: Uint8Array) => Uint8Array
  readonly hmacSha256: (key: Uint8Array, data: Uint8Array) => Uint8Array
  /** ChaCha20-Poly1305 seal; returns ciphertext ‖ 16-byte tag. */
  readonly aeadSeal: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array) => Uint8Array
  /** ChaCha20-Poly1305 open; throws when the tag does not verify. */
  readonly aeadOpen: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array) => Uint8Array
}

export const ENC_LENGTH = 32
export const TAG_LENGTH = 16

const KEM_ID = Uint8Array.of(0x00, 0x20)
const KDF_ID = Uint8Array.of(0x00, 0x01)
const AEAD_ID = Uint8Array.of(0x00, 0x03)
const KEM_SUITE = concat(utf8("KEM"), KEM_ID)
const HPKE_SUITE = concat(utf8("HPKE"), KEM_ID, KDF_ID, AEAD_ID)
const VERSION = utf8("HPKE-v1")
const MODE_BASE = Uint8Array.of(0x00)
const EMPTY = new Uint8Array(0)
const SHA256_LENGTH = 32

const LABEL = {
  dkpPrk: utf8("dkp_prk"),
  sk: utf8("sk"),
  eaePrk: utf8("eae_prk"),
  sharedSecret: utf8("shared_secret"),
  pskIdHash: utf8("psk_id_hash"),
  infoHash: utf8("info_hash"),
  secret: utf8("secret"),
  key: utf8("key"),
  baseNonce: utf8("base_nonce")
}

export interface KeySchedule {
  readonly key: Uint8Array
  readonly baseNonce: Uint8Array
}

export interface Hpke {
  /** RFC 9180 DeriveKeyPair for X25519: the secret scalar and public key for 32 bytes of input keying material. */
  readonly deriveKeyPair: (ikm: Uint8Array) => { readonly secretKey: Uint8Array; readonly publicKey: Uint8Array }
  /** The KEM shared secret and the AEAD key/nonce a sender with ephemeral `ikmE` would use. Exposed for vectors. */
  readonly senderContext: (
    recipientPublicKey: Uint8Array,
    info: Uint8Array,
    ikmE: Uint8Array
  ) => { readonly enc: Uint8Array; readonly sharedSecret: Uint8Array } & KeySchedule
  /** Seal with explicit ephemeral ikm; returns enc (32) ‖ ciphertext ‖ tag. */
  readonly seal: (
    recipientPublicKey: Uint8Array,
    plaintext: Uint8Array,
    info: Uint8Array,
    aad: Uint8Array,
    ikmE: Uint8Array
  ) => Uint8Array
  /** Open enc ‖ ciphertext ‖ tag; throws on any failure (callers wrap it). */
  readonly open: (recipientSecretKey: Uint8Array, sealed: Uint8Array, info: Uint8Array, aad: Uint8Array) => Uint8Array
}

export const make = (p: HpkePrimitives): Hpke => {
  const extract = (salt: Uint8Array, ikm: Uint8Array): Uint8Array =>
    p.hmacSha256(salt.length === 0 ? new Uint8Array(SHA256_LENGTH) : salt, ikm)

  // HKDF-Expand; every length used here fits in one or two SHA-256 blocks.
  const expand = (prk: Uint8Array, info: Uint8Array, length: number): Uint8Array => {
    const out = new Uint8Array(length)
    let previous: Uint8Array = EMPTY
    for (let i = 0, at = 0; at < length; i++) {
      previous = p.hmacSha256(prk, concat(previous, info, Uint8Array.of(i + 1)))
      out.set(previous.subarray(0, Math.min(previous.length, length - at)), at)
      at += previous.length
    }
    return out
  }

  const labeledExtract = (suite: Uint8Array, salt: Uint8Array, label: Uint8Array, ikm: Uint8Array) =>
    extract(salt, concat(VERSION, suite, label, ikm))

  const labeledExpand = (suite: Uint8Array, prk: Uint8Array, label: Uint8Array, info: Uint8Array, length: number) =>
    expand(prk, concat(Uint8Array.of(length >> 8, length & 0xff), VERSION, suite, label, info), length)

  const deriveKeyPair = (ikm: Uint8Array) => {
    const prk = labeledExtract(KEM_SUITE, EMPTY, LABEL.dkpPrk, ikm)
    const secretKey = labeledExpand(KEM_SUITE, prk, LABEL.sk, EMPTY, 32)
    return { secretKey, publicKey: p.x25519Base(secretKey) }
  }

  const kemSharedSecret = (dh: Uint8Array, enc: Uint8Array, recipientPublicKey: Uint8Array) => {
    const prk = labeledExtract(KEM_SUITE, EMPTY, LABEL.eaePrk, dh)
    return labeledExpand(KEM_SUITE, prk, LABEL.sharedSecret, concat(enc, recipientPublicKey), 32)
  }

  // psk_id_hash is constant in Base mode; info_hash is cached for the last info seen (always the same one here).
  const pskIdHash = labeledExtract(HPKE_SUITE, EMPTY, LABEL.pskIdHash, EMPTY)
  let lastInfo: Uint8Array | undefined
  let lastContext: Uint8Array = EMPTY
  const keyScheduleContext = (info: Uint8Array): Uint8Array => {
    if (lastInfo === undefined || lastInfo.length !== info.length || !lastInfo.every((b, i) => b === info[i])) {
      lastContext = concat(MODE_BASE, pskIdHash, labeledExtract(HPKE_SUITE, EMPTY, LABEL.infoHash, info))
      lastInfo = Uint8Array.from(info)
    }
    return lastContext
  }

  const keySchedule = (sharedSecret: Uint8Array, info: Uint8Array): KeySchedule => {
    const context = keyScheduleContext(info)
    const secret = labeledExtract(HPKE_SUITE, sharedSecret, LABEL.secret, EMPTY)
    return {
      key: labeledExpand(HPKE_SUITE, secret, LABEL.key, context, 32),
      baseNonce: labeledExpand(HPKE_SUITE, secret, LABEL.baseNonce, context, 12)
    }
  }

  const senderContext = (recipientPublicKey: Uint8Array, info: Uint8Array, ikmE: Uint8Array) => {
    const ephemeral = deriveKeyPair(ikmE)
    const enc = ephemeral.publicKey
    const sharedSecret = kemSharedSecret(p.x25519(ephemeral.secretKey, recipientPublicKey), enc, recipientPublicKey)
    return { enc, sharedSecret, ...keySchedule(sharedSecret, info) }
  }

  return {
    deriveKeyPair,
    senderContext,
    seal: (recipientPublicKey, plaintext, info, aad, ikmE) => {
      const ctx = senderContext(recipientPublicKey, info, ikmE)
      return concat(ctx.enc, p.aeadSeal(ctx.key, ctx.baseNonce, aad, plaintext))
    },
    open: (recipientSecretKey, sealed, info, aad) => {
      if (recipientSecretKey.length !== 32) throw new Error("recipient secret key must be 32 bytes")
      if (sealed.length < ENC_LENGTH + TAG_LENGTH) throw new Error("sealed message too short")
      const enc = sealed.subarray(0, ENC_LENGTH)
      const recipientPublicKey = p.x25519Base(recipientSecretKey)
      const sharedSecret = kemSharedSecret(p.x25519(recipientSecretKey, enc), enc, recipientPublicKey)
      const { key, baseNonce } = keySchedule(sharedSecret, info)
      return p.aeadOpen(key, baseNonce, aad, sealed.subarray(ENC_LENGTH))
    }
  }
}
