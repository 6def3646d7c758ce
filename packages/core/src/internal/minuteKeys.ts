/**
 * The key material one record publisher derives per minute and hands down to every operation of that minute: the
 * encryption key (the secret rotation's output and its X25519 forms). Both slots of a minute (compatible and
 * private) and every value read from or sealed into them use the same one, so each derivation happens once per
 * minute. Owned by the publisher (no process-wide state), kept for the few live minutes only.
 */
import type { CryptoService } from "../Crypto.js"
import * as EncryptedRecord from "../EncryptedRecord.js"
import * as Keys from "../Keys.js"
import type { Options } from "../RecordPublisher.js"
import { defaultRotation, guard } from "../SecretRotation.js"

/** Minutes kept: the current one, the previous ones bootstrap still reads, and the next one near a boundary. */
const LIVE_MINUTES = 4

export interface MinuteKeys {
  readonly initialSecretHash: Uint8Array
  /**
   * The minute's encryption key, derived on its first use. Throws `RotationFailed` when the user's rotation does
   * (turned back into a typed failure by `recoverRotationFailure`); nothing is kept then, so a later call retries.
   */
  readonly encryptionKey: (minute: bigint) => EncryptedRecord.EncryptionKey
}

export const make = (options: Options, crypto: CryptoService): MinuteKeys => {
  const topicHash = options.topicId.hash
  const initialSecretHash = Keys.initialSecretHash(options.initialSecret)
  // User code: a throwing `derive` becomes a typed `RotationFailed` from getRecords / publishRecord.
  const rotation = guard(options.rotation ?? defaultRotation)
  const keys = new Map<bigint, EncryptedRecord.EncryptionKey>()
  return {
    initialSecretHash,
    encryptionKey: (minute) => {
      let key = keys.get(minute)
      if (key === undefined) {
        key = EncryptedRecord.encryptionKey(crypto, rotation.derive(topicHash, minute, initialSecretHash))
        keys.set(minute, key)
        if (keys.size > LIVE_MINUTES) keys.delete(keys.keys().next().value!)
      }
      return key
    }
  }
}
