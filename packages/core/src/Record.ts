/**
 * A signed record, the plaintext a node publishes into a minute's DHT slot (spec wire.md §3):
 *
 *   offset 0   32 bytes  topic hash
 *   offset 32   8 bytes  unix minute, little-endian u64
 *   offset 40  32 bytes  publisher Ed25519 public key (the node's endpoint id)
 *   offset 72   C bytes  content (no length prefix)
 *   offset 72+C 64 bytes Ed25519 signature over bytes [0, 72+C)
 *
 * A `Record` is a view over its exact bytes; accessors copy nothing they do not need to.
 */
import { Effect, Either, ParseResult, Schema } from "effect"
import { Crypto } from "./Crypto.js"
import { concat, copy, equal, readU64le, toHex, u64le } from "./internal/bytes.js"
import { BadSignature, WrongLength, WrongMinute, WrongTopic } from "./internal/recordErrors.js"
import * as TopicId from "./TopicId.js"

export {
  BadSignature,
  CannotDecrypt,
  MalformedContent,
  type RecordError,
  WrongLength,
  WrongMinute,
  WrongTopic
} from "./internal/recordErrors.js"

export const HEADER_LENGTH = 72
export const SIGNATURE_LENGTH = 64
/** Header plus signature: the shortest record (empty content). */
export const MIN_LENGTH = HEADER_LENGTH + SIGNATURE_LENGTH

const TypeId: unique symbol = Symbol.for("@dtt/core/Record")

export class Record {
  readonly [TypeId] = TypeId
  /** @internal use `decode` or `sign`. */
  constructor(private readonly raw: Uint8Array) {}
  get topic(): Uint8Array {
    return this.raw.slice(0, 32)
  }
  get unixMinute(): bigint {
    return readU64le(this.raw, 32)
  }
  get publicKey(): Uint8Array {
    return this.raw.slice(40, 72)
  }
  get content(): Uint8Array {
    return this.raw.slice(HEADER_LENGTH, this.raw.length - SIGNATURE_LENGTH)
  }
  get signature(): Uint8Array {
    return this.raw.slice(this.raw.length - SIGNATURE_LENGTH)
  }
  /** The signed part: everything but the signature. */
  get signedBytes(): Uint8Array {
    return this.raw.slice(0, this.raw.length - SIGNATURE_LENGTH)
  }
  /** The exact wire bytes (a copy). */
  get bytes(): Uint8Array {
    return copy(this.raw)
  }
  get length(): number {
    return this.raw.length
  }
  toString(): string {
    return `Record(topic=${toHex(this.topic).slice(0, 10)}, minute=${this.unixMinute}, key=${
      toHex(this.publicKey).slice(0, 10)
    }, content=${this.length - MIN_LENGTH}B)`
  }
  toJSON(): unknown {
    return { _id: "Record", bytes: toHex(this.raw) }
  }
}

export const isRecord = (u: unknown): u is Record => typeof u === "object" && u !== null && TypeId in u

/**
 * Parse the wire bytes. The only rule (as in the Rust `from_bytes`) is length >= 136: the last 64 bytes are
 * the signature and whatever lies between header and signature is the content. Nothing is verified here.
 */
export const decode = (bytes: Uint8Array): Either.Either<Record, WrongLength> =>
  bytes instanceof Uint8Array && bytes.length >= MIN_LENGTH
    ? Either.right(new Record(copy(bytes)))
    : Either.left(new WrongLength({ what: "record", expected: `>= ${MIN_LENGTH}`, actual: bytes?.length ?? 0 }))

export const encode = (record: Record): Uint8Array => record.bytes

/** Schema between the wire bytes and a (not yet verified) `Record`. */
export const RecordFromSelf: Schema.Schema<Record> = Schema.declare(isRecord, { identifier: "Record" })

export const RecordFromBytes: Schema.Schema<Record, Uint8Array> = Schema.transformOrFail(
  Schema.Uint8ArrayFromSelf,
  RecordFromSelf,
  {
    strict: true,
    decode: (bytes, _, ast) => Either.mapLeft(decode(bytes), (e) => new ParseResult.Type(ast, bytes, e.message)),
    encode: (record) => ParseResult.succeed(record.bytes)
  }
)

export interface SignInput {
  readonly topic: TopicId.TopicId | Uint8Array
  readonly unixMinute: bigint
  readonly content: Uint8Array
  /** The node's 32-byte Ed25519 seed (its iroh secret key). */
  readonly secretKey: Uint8Array
}

/** Build and sign a record with the node key; `publicKey` is always the key of `secretKey`. */
export const sign = (input: SignInput): Effect.Effect<Record, WrongLength, Crypto> =>
  Effect.flatMap(Crypto, (crypto): Effect.Effect<Record, WrongLength> => {
    const topic = TopicId.hashOf(input.topic)
    if (topic.length !== 32) {
      return Effect.fail(new WrongLength({ what: "topic hash", expected: "32", actual: topic.length }))
    }
    if (input.secretKey.length !== 32) {
      return Effect.fail(new WrongLength({ what: "secret key", expected: "32", actual: input.secretKey.length }))
    }
    const signed = concat(topic, u64le(input.unixMinute), crypto.ed25519PublicKey(input.secretKey), input.content)
    return Effect.succeed(new Record(concat(signed, crypto.sign(input.secretKey, signed))))
  })

/**
 * The Rust `verify`, in its order: topic, then minute, then the key must decompress and the signature pass
 * dalek `verify_strict`. Content is not inspected. Succeeds with the same record.
 */
export const verify = (
  record: Record,
  expectedTopic: TopicId.TopicId | Uint8Array,
  expectedMinute: bigint
): Effect.Effect<Record, WrongTopic | WrongMinute | BadSignature, Crypto> =>
  Effect.flatMap(Crypto, (crypto): Effect.Effect<Record, WrongTopic | WrongMinute | BadSignature> => {
    const topic = TopicId.hashOf(expectedTopic)
    if (!equal(record.topic, topic)) {
      return Effect.fail(new WrongTopic({ expected: toHex(topic), actual: toHex(record.topic) }))
    }
    if (record.unixMinute !== expectedMinute) {
      return Effect.fail(new WrongMinute({ expected: expectedMinute, actual: record.unixMinute }))
    }
    if (!crypto.verifyStrict(record.publicKey, record.signedBytes, record.signature)) {
      return Effect.fail(new BadSignature({ reason: "verify_strict rejected the signature or public key" }))
    }
    return Effect.succeed(record)
  })
