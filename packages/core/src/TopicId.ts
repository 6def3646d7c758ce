/**
 * A topic's identity: 32 bytes. From a name it is H32(name) = SHA-512(raw bytes)[0..32], with no normalisation
 * and no prefix; the same 32 bytes are the iroh-gossip topic id (spec wire.md §1).
 */
import { sha512 } from "@noble/hashes/sha2.js"
import { Either, Equal, Hash, Inspectable, ParseResult, Schema } from "effect"
import { copy, equal, fromHex as hexToBytes, toHex, utf8 } from "./internal/bytes.js"
import { MalformedContent, WrongLength } from "./internal/recordErrors.js"

export const LENGTH = 32

const TypeId: unique symbol = Symbol.for("@dtt/core/TopicId")

export class TopicId implements Equal.Equal, Inspectable.Inspectable {
  readonly [TypeId] = TypeId
  /** @internal use `fromName`, `fromHash` or `fromHex`. */
  constructor(private readonly bytes: Uint8Array) {}
  /** The 32-byte topic hash (a copy: the id stays immutable). */
  get hash(): Uint8Array {
    return copy(this.bytes)
  }
  get hex(): string {
    return toHex(this.bytes)
  }
  [Equal.symbol](that: unknown): boolean {
    return isTopicId(that) && equal(this.bytes, that.bytes)
  }
  [Hash.symbol](): number {
    return Hash.cached(this, Hash.string(this.hex))
  }
  toString(): string {
    return `TopicId(${this.hex})`
  }
  toJSON(): unknown {
    return { _id: "TopicId", hash: this.hex }
  }
  [Inspectable.NodeInspectSymbol](): unknown {
    return this.toString()
  }
}

export const isTopicId = (u: unknown): u is TopicId => typeof u === "object" && u !== null && TypeId in u

/** H32 of the UTF-8 of a string, or of raw bytes (a byte vector is a name too, as in the Rust `From<Vec<u8>>`). */
export const fromName = (name: string | Uint8Array): TopicId =>
  new TopicId(sha512(typeof name === "string" ? utf8(name) : name).slice(0, LENGTH))

/** Alias of `fromName`, matching the Rust `TopicId::new`. @alias */
export const make = fromName

/** A precomputed 32-byte hash, stored unchanged. */
export const fromHash = (hash: Uint8Array): Either.Either<TopicId, WrongLength> =>
  hash instanceof Uint8Array && hash.length === LENGTH
    ? Either.right(new TopicId(copy(hash)))
    : Either.left(new WrongLength({ what: "topic hash", expected: "32", actual: hash?.length ?? 0 }))

/** 64 hex characters (either case) of a topic hash. */
export const fromHex = (hex: string): Either.Either<TopicId, WrongLength | MalformedContent> => {
  const bytes = typeof hex === "string" ? hexToBytes(hex) : undefined
  return bytes === undefined ? Either.left(new MalformedContent({ reason: "topic id is not hex" })) : fromHash(bytes)
}

export const equals = (a: TopicId, b: TopicId): boolean => Equal.equals(a, b)

/** The hash of a `TopicId`, or a raw hash passed through (many functions accept either). */
export const hashOf = (topic: TopicId | Uint8Array): Uint8Array => (isTopicId(topic) ? topic.hash : topic)

/** Schema of a `TopicId` value itself. */
export const TopicIdFromSelf: Schema.Schema<TopicId> = Schema.declare(isTopicId, { identifier: "TopicId" })

/** Schema between 64 hex characters and a `TopicId` (for config files and CLI flags holding a raw hash). */
export const TopicIdFromHex: Schema.Schema<TopicId, string> = Schema.transformOrFail(Schema.String, TopicIdFromSelf, {
  strict: true,
  decode: (hex, _, ast) => Either.mapLeft(fromHex(hex), (e) => new ParseResult.Type(ast, hex, e.message)),
  encode: (id) => ParseResult.succeed(id.hex)
})

/** Schema between a topic name and its `TopicId` (H32 of the name). Encoding is impossible: a hash has no name. */
export const TopicIdFromName: Schema.Schema<TopicId, string> = Schema.transformOrFail(Schema.String, TopicIdFromSelf, {
  strict: true,
  decode: (name) => ParseResult.succeed(fromName(name)),
  encode: (id, _, ast) =>
    ParseResult.fail(new ParseResult.Forbidden(ast, id, "a topic id cannot be turned back into its name"))
})
