/**
 * How the per-minute encryption seed is derived from the (hashed) shared secret. A custom rotation replaces
 * only this formula; every member of a topic must use the same one. It receives H32(secret), never the raw
 * secret (spec wire.md §2).
 */
import { sha512 } from "@noble/hashes/sha2.js"
import { Data, Effect, Option } from "effect"
import { concat, u64be } from "./internal/bytes.js"

export interface SecretRotation {
  /** The 32-byte Ed25519 seed of the minute's encryption key. */
  readonly derive: (topicHash: Uint8Array, unixMinute: bigint, initialSecretHash: Uint8Array) => Uint8Array
}

/**
 * The Rust crate's default: H32(topic_hash ‖ BE8(minute) ‖ initial_secret_hash). Note BIG-endian here, while
 * the signing seed, the salt and the record header use little-endian minutes.
 */
export const defaultRotation: SecretRotation = {
  derive: (topicHash, unixMinute, initialSecretHash) =>
    sha512(concat(topicHash, u64be(unixMinute), initialSecretHash)).slice(0, 32)
}

export const make = (derive: SecretRotation["derive"]): SecretRotation => ({ derive })

/**
 * The rotation's `derive` threw, or returned something other than 32 bytes, for `unixMinute`. `derive` is user
 * code: its failure ends the join (or the operation that needed the key) with this error instead of a defect.
 */
export class RotationFailed extends Data.TaggedError("RotationFailed")<{
  readonly unixMinute: bigint
  readonly cause: unknown
}> {
  override get message() {
    return `the secret rotation's derive failed for minute ${this.unixMinute}`
  }
}

/**
 * `rotation` with its `derive` checked: a throw or a result that is not a 32-byte `Uint8Array` is re-thrown as
 * `RotationFailed`, which the record publisher turns back into a typed failure (`recoverRotationFailure`).
 * Thrown rather than returned because `derive` is called deep inside synchronous key derivation.
 */
export const guard = (rotation: SecretRotation): SecretRotation => ({
  derive: (topicHash, unixMinute, initialSecretHash) => {
    let seed: unknown
    try {
      seed = rotation.derive(topicHash, unixMinute, initialSecretHash)
    } catch (cause) {
      throw new RotationFailed({ unixMinute, cause })
    }
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new RotationFailed({ unixMinute, cause: new TypeError("derive must return a 32-byte Uint8Array") })
    }
    return seed
  }
})

/** Turn a `RotationFailed` thrown by a guarded `derive` (a defect by then) back into a typed failure. */
export const recoverRotationFailure = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | RotationFailed, R> =>
  Effect.catchSomeDefect(
    effect,
    (defect) => defect instanceof RotationFailed ? Option.some(Effect.fail(defect)) : Option.none()
  )
