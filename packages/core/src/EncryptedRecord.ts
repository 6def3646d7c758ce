/**
 * The DHT value: a record encrypted so that only holders of the topic secret can read it (spec wire.md §5).
 *
 * Sealing a record:
 *  1. draw a fresh one-time Ed25519 seed `ot`;
 *  2. HPKE-seal the record bytes to X25519(ot's public key)             -> encrypted_record (len(record) + 56);
 *  3. HPKE-seal `ot` itself to X25519(the minute's encryption pub key)  -> encrypted_decryption_key (88 bytes);
 *  4. value = LE4(len(encrypted_record)) ‖ encrypted_record ‖ encrypted_decryption_key.
 *
 * Each HPKE output is framed as ed25519-dalek-hpke frames it: LE8(32) ‖ enc (32) ‖ ciphertext ‖ tag (16).
 * A gossip record (456 bytes) gives 512 + 88 + 4 = 604 bytes.
 */
import { Effect, Either, ParseResult, Schema } from "effect"
import { Crypto, type CryptoService, HPKE_AAD, HPKE_INFO } from "./Crypto.js"
import { concat, readU32le, readU64le, u32le, u64le } from "./internal/bytes.js"
import { CannotDecrypt, MalformedContent, type RecordError, WrongLength } from "./internal/recordErrors.js"
import * as Keys from "./Keys.js"
import * as Record from "./Record.js"
import { defaultRotation, type SecretRotation } from "./SecretRotation.js"
import * as TopicId from "./TopicId.js"

/** Largest value `encode` produces (the Rust `MAX_SIZE`). `decode` bounds the inner length by it instead. */
export const MAX_SIZE = 2048
/** The hard-coded length of the wrapped one-time key: 8 + 32 + 32 + 16. */
export const WRAPPED_KEY_LENGTH = 88
/** The HPKE framing overhead: LE8 key length + enc + tag. */
export const HPKE_OVERHEAD = 8 + 32 + 16
/** Bytes a value adds to the record it carries: 4 + 56 + 88. */
export const VALUE_OVERHEAD = 4 + HPKE_OVERHEAD + WRAPPED_KEY_LENGTH

/** The two parts of a DHT value. */
export interface EncryptedRecord {
  readonly encryptedRecord: Uint8Array
  readonly encryptedDecryptionKey: Uint8Array
}

/** Serialize; fails when the total would exceed 2048 bytes or the wrapped key is not 88 bytes. */
export const encode = (value: EncryptedRecord): Either.Either<Uint8Array, WrongLength> => {
  if (value.encryptedDecryptionKey.length !== WRAPPED_KEY_LENGTH) {
    return Either.left(
      new WrongLength({ what: "encrypted decryption key", expected: "88", actual: value.encryptedDecryptionKey.length })
    )
  }
  const total = 4 + value.encryptedRecord.length + WRAPPED_KEY_LENGTH
  if (total > MAX_SIZE) {
    return Either.left(new WrongLength({ what: "encrypted record value", expected: `<= ${MAX_SIZE}`, actual: total }))
  }
  return Either.right(concat(u32le(value.encryptedRecord.length), value.encryptedRecord, value.encryptedDecryptionKey))
}

/**
 * Parse, with the Rust rules: at least 4 bytes, inner length <= 2048, and exactly inner length + 88 bytes after
 * the length prefix (nothing missing, nothing trailing).
 */
export const decode = (bytes: Uint8Array): Either.Either<EncryptedRecord, WrongLength> => {
  if (!(bytes instanceof Uint8Array) || bytes.length < 4) {
    return Either.left(
      new WrongLength({ what: "encrypted record value", expected: ">= 4", actual: bytes?.length ?? 0 })
    )
  }
  const inner = readU32le(bytes, 0)
  if (inner > MAX_SIZE) {
    return Either.left(
      new WrongLength({ what: "encrypted record length prefix", expected: `<= ${MAX_SIZE}`, actual: inner })
    )
  }
  if (bytes.length - 4 !== inner + WRAPPED_KEY_LENGTH) {
    return Either.left(
      new WrongLength({
        what: "encrypted record value",
        expected: `${4 + inner + WRAPPED_KEY_LENGTH}`,
        actual: bytes.length
      })
    )
  }
  return Either.right({
    encryptedRecord: bytes.slice(4, 4 + inner),
    encryptedDecryptionKey: bytes.slice(4 + inner)
  })
}

const isEncryptedRecord = (u: unknown): u is EncryptedRecord =>
  typeof u === "object" && u !== null && "encryptedRecord" in u && u.encryptedRecord instanceof Uint8Array &&
  "encryptedDecryptionKey" in u && u.encryptedDecryptionKey instanceof Uint8Array

/** Schema between a DHT value and its two (still encrypted) parts, with the `decode`/`encode` rules. */
export const EncryptedRecordFromBytes: Schema.Schema<EncryptedRecord, Uint8Array> = Schema.transformOrFail(
  Schema.Uint8ArrayFromSelf,
  Schema.declare(isEncryptedRecord, { identifier: "EncryptedRecord" }),
  {
    strict: true,
    decode: (bytes, _, ast) => Either.mapLeft(decode(bytes), (e) => new ParseResult.Type(ast, bytes, e.message)),
    encode: (value, _, ast) => Either.mapLeft(encode(value), (e) => new ParseResult.Type(ast, value, e.message))
  }
)

// ed25519-dalek-hpke framing around one HPKE seal: LE8(enc length = 32) ‖ enc ‖ ciphertext ‖ tag.
const ENC_LENGTH_PREFIX = u64le(32n)

const wrapSeal = (crypto: CryptoService, recipientX25519: Uint8Array, plaintext: Uint8Array) =>
  crypto.hpkeSeal(recipientX25519, plaintext, HPKE_INFO, HPKE_AAD).pipe(
    Effect.map((sealed) => concat(ENC_LENGTH_PREFIX, sealed)),
    Effect.mapError((e) => new MalformedContent({ reason: e.reason }))
  )

/** Steps 1–4 with the recipient (the minute's encryption key) already in X25519 form. */
const sealToX25519 = (
  crypto: CryptoService,
  recordBytes: Uint8Array,
  encryptionX25519: Uint8Array
): Effect.Effect<Uint8Array, WrongLength | MalformedContent> =>
  Effect.gen(function*() {
    if (recordBytes.length + VALUE_OVERHEAD > MAX_SIZE) {
      return yield* new WrongLength({
        what: "encrypted record value",
        expected: `<= ${MAX_SIZE}`,
        actual: recordBytes.length + VALUE_OVERHEAD
      })
    }
    const oneTimeSeed = yield* crypto.randomBytes(32)
    // The X25519 form of the one-time Ed25519 key, as the Rust side gets it from to_montgomery.
    const encryptedRecord = yield* wrapSeal(crypto, crypto.x25519PublicFromSeed(oneTimeSeed), recordBytes)
    const encryptedDecryptionKey = yield* wrapSeal(crypto, encryptionX25519, oneTimeSeed)
    return yield* encode({ encryptedRecord, encryptedDecryptionKey })
  })

const wrapOpen = (crypto: CryptoService, recipientSecret: Uint8Array, framed: Uint8Array, what: string) => {
  // The Rust wrapper accepts only a 32-byte enc (longer lengths fail there as a bad encapped key).
  if (framed.length < 8 || readU64le(framed, 0) !== 32n || framed.length < 8 + 32 + 16) {
    return Effect.fail(new CannotDecrypt({ reason: `${what}: bad HPKE framing` }))
  }
  return crypto.hpkeOpen(recipientSecret, framed.subarray(8), HPKE_INFO, HPKE_AAD).pipe(
    Effect.mapError(() => new CannotDecrypt({ reason: `${what} does not open with this key` }))
  )
}

/** Steps 4–1 backwards with the minute's encryption key already in X25519 secret form. */
const openWithX25519 = (
  crypto: CryptoService,
  value: Uint8Array,
  encryptionX25519Secret: Uint8Array
): Effect.Effect<Uint8Array, WrongLength | CannotDecrypt> =>
  Effect.gen(function*() {
    const parts = yield* decode(value)
    const oneTimeSeed = yield* wrapOpen(crypto, encryptionX25519Secret, parts.encryptedDecryptionKey, "wrapped key")
    if (oneTimeSeed.length !== 32) {
      return yield* new CannotDecrypt({ reason: `wrapped key holds ${oneTimeSeed.length} bytes, not a 32-byte seed` })
    }
    return yield* wrapOpen(crypto, crypto.x25519SecretFromSeed(oneTimeSeed), parts.encryptedRecord, "record")
  })

/**
 * Encrypt record bytes for holders of the encryption key whose Ed25519 public key is given; returns the DHT value.
 */
export const seal = (
  recordBytes: Uint8Array,
  encryptionPublicKeyEd25519: Uint8Array
): Effect.Effect<Uint8Array, WrongLength | MalformedContent, Crypto> =>
  Effect.flatMap(Crypto, (crypto) => {
    const recipient = Keys.x25519PublicFromEd25519(encryptionPublicKeyEd25519)
    return recipient === undefined
      ? Effect.fail(new MalformedContent({ reason: "encryption key is not an Ed25519 point" }))
      : sealToX25519(crypto, recordBytes, recipient)
  })

/** Decrypt a DHT value with the minute's encryption seed; returns the record bytes (not yet parsed or verified). */
export const open = (
  value: Uint8Array,
  encryptionSeed: Uint8Array
): Effect.Effect<Uint8Array, WrongLength | CannotDecrypt, Crypto> =>
  Effect.flatMap(Crypto, (crypto) => openWithX25519(crypto, value, crypto.x25519SecretFromSeed(encryptionSeed)))

/**
 * One minute's encryption key (the rotation's output) with the X25519 forms sealing and opening need. Each form
 * is computed on first use and then kept, so a caller that seals or opens several values of the minute derives
 * it once: make one per minute (`encryptionKey`) and pass it to `sealRecordWith` / `openRecordWith`.
 */
export interface EncryptionKey {
  /** The 32-byte Ed25519 seed `SecretRotation.derive` returned for the minute. */
  readonly seed: Uint8Array
  /** The X25519 public key values are sealed to (dalek `to_montgomery` of the seed's public key). */
  readonly x25519Public: () => Uint8Array
  /** The X25519 secret the wrapped one-time keys open with. */
  readonly x25519Secret: () => Uint8Array
}

const once = (compute: () => Uint8Array): () => Uint8Array => {
  let value: Uint8Array | undefined
  return () => (value ??= compute())
}

/** The `EncryptionKey` of an encryption seed, its X25519 forms computed lazily by `crypto`. */
export const encryptionKey = (crypto: CryptoService, seed: Uint8Array): EncryptionKey => ({
  seed,
  x25519Public: once(() => crypto.x25519PublicFromSeed(seed)),
  x25519Secret: once(() => crypto.x25519SecretFromSeed(seed))
})

/** Encrypt a signed record with `key`, which must be the encryption key of `record.unixMinute`. */
export const sealRecordWith = (
  record: Record.Record,
  key: EncryptionKey
): Effect.Effect<Uint8Array, RecordError, Crypto> =>
  Effect.flatMap(Crypto, (crypto) => sealToX25519(crypto, record.bytes, key.x25519Public()))

/** Decrypt, parse and verify a value of the slot of `minute` with that minute's encryption `key`. */
export const openRecordWith = (
  value: Uint8Array,
  topicHash: TopicId.TopicId | Uint8Array,
  minute: bigint,
  key: EncryptionKey
): Effect.Effect<Record.Record, RecordError, Crypto> =>
  Effect.gen(function*() {
    const crypto = yield* Crypto
    const bytes = yield* openWithX25519(crypto, value, key.x25519Secret())
    const record = yield* Record.decode(bytes)
    return yield* Record.verify(record, TopicId.hashOf(topicHash), minute)
  })

/**
 * Encrypt a signed record for its own minute (the encryption key is derived from `record.unixMinute`). Derives
 * the key on every call: a caller with many records of one minute uses `sealRecordWith`.
 */
export const sealRecord = (
  record: Record.Record,
  topicHash: TopicId.TopicId | Uint8Array,
  initialSecretHash: Uint8Array,
  rotation: SecretRotation = defaultRotation
): Effect.Effect<Uint8Array, RecordError, Crypto> =>
  Effect.flatMap(Crypto, (crypto) => {
    const seed = rotation.derive(TopicId.hashOf(topicHash), record.unixMinute, initialSecretHash)
    return sealRecordWith(record, encryptionKey(crypto, seed))
  })

/**
 * Decrypt, parse and verify a value fetched from the slot of `minute`: the result is a record for this topic
 * and minute whose signature passed verify_strict. Content is not inspected (decode it separately). Derives the
 * key on every call: a caller with many values of one minute uses `openRecordWith`.
 */
export const openRecord = (
  value: Uint8Array,
  topicHash: TopicId.TopicId | Uint8Array,
  minute: bigint,
  initialSecretHash: Uint8Array,
  rotation: SecretRotation = defaultRotation
): Effect.Effect<Record.Record, RecordError, Crypto> =>
  Effect.flatMap(Crypto, (crypto) => {
    const seed = rotation.derive(TopicId.hashOf(topicHash), minute, initialSecretHash)
    return openRecordWith(value, topicHash, minute, encryptionKey(crypto, seed))
  })
