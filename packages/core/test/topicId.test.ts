import { describe, expect, it } from "@effect/vitest"
import { Either, Equal, Hash, HashSet, Schema } from "effect"
import { toHex } from "../src/internal/bytes.js"
import * as TopicId from "../src/TopicId.js"

describe("TopicId", () => {
  it("hashes names with no normalisation: a string and its UTF-8 bytes give the same id", () => {
    expect(TopicId.fromName("héllo").hex).toBe(TopicId.fromName(new TextEncoder().encode("héllo")).hex)
    expect(TopicId.fromName(" a").hex).not.toBe(TopicId.fromName("a").hex)
    expect(TopicId.make("x").hex).toBe(TopicId.fromName("x").hex)
  })

  it("fromHash keeps the 32 bytes unchanged and fails with WrongLength otherwise", () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => i)
    const id = Either.getOrThrow(TopicId.fromHash(bytes))
    expect(toHex(id.hash)).toBe(toHex(bytes))
    bytes[0] = 99 // the id holds its own copy
    expect(id.hash[0]).toBe(0)
    id.hash[1] = 99 // and hands out copies
    expect(id.hash[1]).toBe(1)
    for (const n of [0, 31, 33, 64]) {
      const r = TopicId.fromHash(new Uint8Array(n))
      expect(Either.isLeft(r) && r.left._tag === "WrongLength" && r.left.actual === n).toBe(true)
    }
  })

  it("fromHex parses either case and rejects non-hex and wrong lengths", () => {
    const id = TopicId.fromName("my-iroh-gossip-topic")
    expect(Either.getOrThrow(TopicId.fromHex(id.hex.toUpperCase())).hex).toBe(id.hex)
    expect(Either.getOrThrow(Either.flip(TopicId.fromHex("zz".repeat(32))))._tag).toBe("MalformedContent")
    expect(Either.getOrThrow(Either.flip(TopicId.fromHex("ab".repeat(31))))._tag).toBe("WrongLength")
    expect(Either.getOrThrow(Either.flip(TopicId.fromHex("abc")))._tag).toBe("MalformedContent")
  })

  it("equality and hashing follow the bytes", () => {
    const a = TopicId.fromName("t")
    const b = Either.getOrThrow(TopicId.fromHash(a.hash))
    expect(TopicId.equals(a, b)).toBe(true)
    expect(Equal.equals(a, TopicId.fromName("u"))).toBe(false)
    expect(Hash.hash(a)).toBe(Hash.hash(b))
    expect(HashSet.size(HashSet.make(a, b, TopicId.fromName("u")))).toBe(2)
    expect(TopicId.isTopicId(a)).toBe(true)
    expect(TopicId.isTopicId({ hash: a.hash })).toBe(false)
    expect(toHex(TopicId.hashOf(a))).toBe(a.hex)
  })

  it("schemas: from hex (both ways) and from a name", () => {
    const id = TopicId.fromName("my-iroh-gossip-topic")
    const fromHex = Schema.decodeUnknownEither(TopicId.TopicIdFromHex)
    expect(Either.getOrThrow(fromHex(id.hex)).hex).toBe(id.hex)
    expect(Either.isLeft(fromHex("00"))).toBe(true)
    expect(Either.isLeft(fromHex(42))).toBe(true)
    expect(Schema.encodeSync(TopicId.TopicIdFromHex)(id)).toBe(id.hex)
    expect(Schema.decodeSync(TopicId.TopicIdFromName)("my-iroh-gossip-topic").hex).toBe(id.hex)
    expect(Either.isLeft(Schema.encodeEither(TopicId.TopicIdFromName)(id))).toBe(true)
  })

  it("fromHash never throws on random input lengths 0..2000", () => {
    for (let n = 0; n <= 2000; n++) {
      const r = TopicId.fromHash(new Uint8Array(n).fill(n & 0xff))
      expect(Either.isRight(r)).toBe(n === 32)
    }
    expect(Either.isLeft(TopicId.fromHash(undefined as unknown as Uint8Array))).toBe(true)
  })
})
