/**
 * Per-topic, per-minute key material (spec wire.md §2). Minutes are u64 `bigint`s.
 *
 * Byte order is mixed, as in the Rust crate: the DHT signing seed and the salt hash the minute LITTLE-endian,
 * the default encryption rotation hashes it BIG-endian (see `SecretRotation.defaultRotation`).
 *
 * Everything here is pure (noble); the per-record hot path goes through the `Crypto` service instead.
 */
import { ed25519 } from "@noble/curves/ed25519.js"
import { sha512 } from "@noble/hashes/sha2.js"
import { Clock, Effect } from "effect"
import * as Bep44 from "./Bep44.js"
import { concat, u64le, utf8 } from "./internal/bytes.js"
import { defaultRotation, type SecretRotation } from "./SecretRotation.js"

const h32 = (data: Uint8Array): Uint8Array => sha512(data).slice(0, 32)
const SALT_PREFIX = utf8("salt")

/** H32(raw secret bytes): what the rotation receives. A string is taken as its UTF-8 bytes. */
export const initialSecretHash = (secret: string | Uint8Array): Uint8Array =>
  h32(typeof secret === "string" ? utf8(secret) : secret)

/** The unix minute of a millisecond timestamp: floor(ms / 60000). */
export const unixMinuteOf = (millis: number): bigint => BigInt(Math.floor(millis / 60_000))

/** The current unix minute from the Effect `Clock` (so it follows `TestClock` in tests). */
export const currentUnixMinute: Effect.Effect<bigint> = Effect.map(Clock.currentTimeMillis, unixMinuteOf)

/** H32(topic_hash ‖ LE8(minute)): the seed of the slot's BEP44 signing key. Public knowledge. */
export const signingSeed = (topicHash: Uint8Array, minute: bigint): Uint8Array => h32(concat(topicHash, u64le(minute)))

/** H32("salt" ‖ topic_hash ‖ LE8(minute)): the BEP44 salt of the slot. */
export const salt = (topicHash: Uint8Array, minute: bigint): Uint8Array =>
  h32(concat(SALT_PREFIX, topicHash, u64le(minute)))

/** Everything needed to address and write one minute's DHT slot. */
export interface Slot {
  readonly minute: bigint
  readonly signingSeed: Uint8Array
  readonly publicKey: Uint8Array
  readonly salt: Uint8Array
  /** SHA-1(publicKey ‖ salt), 20 bytes. */
  readonly target: Uint8Array
}

export const slot = (topicHash: Uint8Array, minute: bigint): Slot => {
  const seed = signingSeed(topicHash, minute)
  const publicKey = ed25519.getPublicKey(seed)
  const s = salt(topicHash, minute)
  return { minute, signingSeed: seed, publicKey, salt: s, target: Bep44.target(publicKey, s) }
}

/** The Ed25519 seed of the minute's encryption key (the rotation's output). */
export const encryptionSeed = (
  topicHash: Uint8Array,
  minute: bigint,
  initialSecretHash: Uint8Array,
  rotation: SecretRotation = defaultRotation
): Uint8Array => rotation.derive(topicHash, minute, initialSecretHash)

/** The Ed25519 public key of the minute's encryption key. */
export const encryptionPublicKey = (
  topicHash: Uint8Array,
  minute: bigint,
  initialSecretHash: Uint8Array,
  rotation: SecretRotation = defaultRotation
): Uint8Array => ed25519.getPublicKey(encryptionSeed(topicHash, minute, initialSecretHash, rotation))

/**
 * Ed25519 public key -> X25519 public key, u = (1+y)/(1-y) (dalek `to_montgomery`). Returns undefined when the
 * bytes are not a valid point.
 */
export const x25519PublicFromEd25519 = (publicKey: Uint8Array): Uint8Array | undefined => {
  try {
    return ed25519.utils.toMontgomery(publicKey)
  } catch {
    return undefined
  }
}

/**
 * Ed25519 seed -> X25519 secret: SHA-512(seed)[0..32], unclamped (dalek `to_scalar_bytes`). X25519 clamps at
 * use, so this and the clamped form give the same shared secrets. Never the seed itself.
 */
export const x25519SecretFromSeed = (seed: Uint8Array): Uint8Array => sha512(seed).slice(0, 32)
