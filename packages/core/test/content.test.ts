import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { randomBytes } from "node:crypto"
import * as GossipRecordContent from "../src/GossipRecordContent.js"
import { toHex } from "../src/internal/bytes.js"

const entry = (b: number) => new Uint8Array(32).fill(b)

describe("GossipRecordContent", () => {
  it("is 320 bytes: peers at 32·i, hashes at 160 + 32·i, zero-filled", () => {
    const c = Either.getOrThrow(
      GossipRecordContent.make({ activePeers: [entry(1), entry(2)], lastMessageHashes: [entry(9)] })
    )
    const bytes = GossipRecordContent.encode(c)
    expect(bytes.length).toBe(320)
    expect(bytes[0]).toBe(1)
    expect(bytes[32]).toBe(2)
    expect(bytes[64]).toBe(0)
    expect(bytes[160]).toBe(9)
    expect(bytes[192]).toBe(0)
    expect(toHex(GossipRecordContent.encode(GossipRecordContent.empty))).toBe("00".repeat(320))
  })

  it("round trips and reads back only the non-zero entries, in order", () => {
    const peers = [entry(5), entry(6), entry(7), entry(8), entry(9)]
    const c = Either.getOrThrow(
      GossipRecordContent.make({ activePeers: peers, lastMessageHashes: [entry(1), entry(2)] })
    )
    const back = Either.getOrThrow(GossipRecordContent.decode(GossipRecordContent.encode(c)))
    expect(GossipRecordContent.peers(back).map(toHex)).toEqual(peers.map(toHex))
    expect(GossipRecordContent.messageHashes(back).map(toHex)).toEqual([entry(1), entry(2)].map(toHex))
    // An empty slot between full ones is skipped, not read as a peer.
    const gap = Either.getOrThrow(GossipRecordContent.make({ activePeers: [entry(1), entry(0), entry(3)] }))
    expect(GossipRecordContent.peers(gap).length).toBe(2)
  })

  it("make refuses more than 5 entries or entries that are not 32 bytes", () => {
    const six = Array.from({ length: 6 }, (_, i) => entry(i + 1))
    expect(Either.isLeft(GossipRecordContent.make({ activePeers: six }))).toBe(true)
    expect(Either.isLeft(GossipRecordContent.make({ lastMessageHashes: six }))).toBe(true)
    const bad = GossipRecordContent.make({ activePeers: [new Uint8Array(31)] })
    expect(Either.isLeft(bad) && bad.left._tag).toBe("MalformedContent")
  })

  it("decode ignores trailing bytes (postcard) and rejects short input", () => {
    const bytes = new Uint8Array(400).fill(7)
    const c = Either.getOrThrow(GossipRecordContent.decode(bytes))
    expect(GossipRecordContent.encode(c).length).toBe(320)
    expect(Either.isLeft(GossipRecordContent.decode(bytes.subarray(0, 319)))).toBe(true)
    expect(Either.isLeft(GossipRecordContent.decode(new Uint8Array(0)))).toBe(true)
  })

  it("the Schema decodes bytes and reports short input as a parse error", () => {
    const decode = Schema.decodeUnknownEither(GossipRecordContent.GossipRecordContentFromBytes)
    expect(Either.isRight(decode(new Uint8Array(320)))).toBe(true)
    expect(Either.isLeft(decode(new Uint8Array(10)))).toBe(true)
    expect(Either.isLeft(decode("not bytes"))).toBe(true)
  })

  it("decode never throws for random byte strings of every length 0..2000", () => {
    for (let n = 0; n <= 2000; n++) {
      const bytes = randomBytes(n)
      expect(Either.isRight(GossipRecordContent.decode(bytes))).toBe(n >= 320)
    }
  })
})
