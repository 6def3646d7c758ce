/**
 * The private slot of a minute: a second BEP44 mutable slot, beside the Rust-compatible one of `Keys.slot`,
 * whose key pair and salt also depend on the shared secret. This derivation is OURS (the Rust crate 0.3.5 has no
 * such slot); Rust nodes neither read nor write it, and they do not need to: we keep reading and writing the
 * compatible slot too.
 *
 * Why: the compatible slot's signing key is derived from the topic name alone, so anyone who knows the name can
 * sign into it, and storing nodes keep one value per target. A name-only attacker who rewrites that slot
 * continuously (last-writer-wins nodes) or fills it first (first-writer-wins nodes) starves discovery. The
 * private slot's target and signing key both need the minute's encryption seed, so such an attacker can neither
 * find the slot nor sign into it.
 *
 *   seed = H32("dtt/private-slot/v1/signing-seed" ‖ topic_hash ‖ LE8(minute) ‖ encryption_seed)
 *   salt = H32("dtt/private-slot/v1/salt"         ‖ topic_hash ‖ LE8(minute) ‖ encryption_seed)
 *
 * `encryption_seed` is the rotation's output for the minute (`Keys.encryptionSeed`), so a custom
 * `SecretRotation` rotates the private slot as well, and whoever can decrypt a minute's records (and nobody
 * else) can locate its private slot. The ASCII prefixes separate these hashes from every other derivation
 * (the compatible seed hashes 40 bytes, its salt starts with "salt", the default rotation hashes 72 bytes).
 */
import { ed25519 } from "@noble/curves/ed25519.js"
import { sha512 } from "@noble/hashes/sha2.js"
import * as Bep44 from "./Bep44.js"
import { concat, u64le, utf8 } from "./internal/bytes.js"
import * as Keys from "./Keys.js"
import { defaultRotation, type SecretRotation } from "./SecretRotation.js"

const SIGNING_SEED_PREFIX = utf8("dtt/private-slot/v1/signing-seed")
const SALT_PREFIX = utf8("dtt/private-slot/v1/salt")

const h32 = (data: Uint8Array): Uint8Array => sha512(data).slice(0, 32)

/** The Ed25519 seed of the private slot's BEP44 key. Secret: it needs the minute's encryption seed. */
export const signingSeed = (topicHash: Uint8Array, minute: bigint, encryptionSeed: Uint8Array): Uint8Array =>
  h32(concat(SIGNING_SEED_PREFIX, topicHash, u64le(minute), encryptionSeed))

/** The BEP44 salt of the private slot (32 bytes). */
export const salt = (topicHash: Uint8Array, minute: bigint, encryptionSeed: Uint8Array): Uint8Array =>
  h32(concat(SALT_PREFIX, topicHash, u64le(minute), encryptionSeed))

/** Everything needed to address and write one minute's private slot (pure JS; hot paths use `Crypto`). */
export const slot = (
  topicHash: Uint8Array,
  minute: bigint,
  initialSecretHash: Uint8Array,
  rotation: SecretRotation = defaultRotation
): Keys.Slot => {
  const encryptionSeed = Keys.encryptionSeed(topicHash, minute, initialSecretHash, rotation)
  const seed = signingSeed(topicHash, minute, encryptionSeed)
  const publicKey = ed25519.getPublicKey(seed)
  const s = salt(topicHash, minute, encryptionSeed)
  return { minute, signingSeed: seed, publicKey, salt: s, target: Bep44.target(publicKey, s) }
}
