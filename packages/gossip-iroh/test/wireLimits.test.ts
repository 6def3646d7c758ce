import type { EndpointId } from "@dtt/core"
import { blake3 } from "@noble/hashes/blake3.js"
import { Either, Option } from "effect"
import * as FastCheck from "effect/FastCheck"
import { describe, expect, it } from "vitest"
import * as Wire from "../src/wire/index.js"
import { hex, K1, K2, toHex, vectors } from "./wireVectors.js"

describe("wire: size limits", () => {
  const gossipOf = (n: number, scope: Wire.DeliveryScope = { _tag: "Swarm", round: 0 }) => {
    const content = new Uint8Array(n)
    return Wire.gossip({ _tag: "Gossip", id: blake3(content), content, scope })
  }

  it("max Swarm content is 4057 (frame 4095); 4058 is refused on encode", () => {
    expect(Wire.maxContentSize()).toBe(4057)
    expect(Wire.maxContentSize(4096, "Neighbors")).toBe(4058)
    const ok = Either.getOrThrow(Wire.encodeMessageFrame(gossipOf(4057)))
    expect(ok.length).toBe(4 + 4095)
    const tooBig = Wire.encodeMessageFrame(gossipOf(4058))
    expect(Either.isLeft(tooBig) && tooBig.left._tag).toBe("FrameTooLarge")
    expect(Either.isRight(Wire.encodeMessageFrame(gossipOf(4058, { _tag: "Neighbors" })))).toBe(true)
    expect(Either.isLeft(Wire.encodeMessageFrame(gossipOf(4059, { _tag: "Neighbors" })))).toBe(true)
    // maxContentSize follows the configured limit.
    expect(Wire.maxContentSize(512)).toBe(512 - 1 - 36 - 2)
  })

  it("the reader accepts 4096 and refuses 4097", () => {
    const at = (n: number) => {
      const d = new Wire.FrameDecoder()
      const b = new Uint8Array(4 + n)
      new DataView(b.buffer).setUint32(0, n)
      d.push(b)
      return d.next()
    }
    const ok = at(4096)
    expect(Either.isRight(ok) && Option.isSome(ok.right) && ok.right.value.length).toBe(4096)
    const bad = at(4097)
    expect(Either.isLeft(bad) && bad.left).toEqual(new Wire.FrameTooLarge({ size: 4097, max: 4096 }))
  })

  it("FrameDecoder reassembles chunks and tells clean from truncated ends", () => {
    const f1 = Either.getOrThrow(Wire.encodeMessageFrame(vectors[10]![1]))
    const f2 = Either.getOrThrow(Wire.encodeMessageFrame(vectors[13]![1]))
    const all = new Uint8Array([...f1, ...f2])
    const d = new Wire.FrameDecoder()
    const out: Array<string> = []
    for (let i = 0; i < all.length; i += 3) {
      d.push(all.subarray(i, i + 3))
      for (;;) {
        const n = Either.getOrThrow(d.next())
        if (Option.isNone(n)) break
        out.push(toHex(n.value))
      }
    }
    expect(out).toEqual([vectors[10]![2], vectors[13]![2]])
    expect(Either.isRight(d.end())).toBe(true)
    d.push(hex("0000")) // inside the length bytes: clean end
    expect(Either.isRight(d.end())).toBe(true)
    d.push(hex("000501")) // length 5, 1 payload byte: truncated
    expect(Either.isLeft(d.end())).toBe(true)
  })
})

describe("wire: hostile input", () => {
  it("rejects invalid public keys, bad discriminants, bools, options and varints with typed errors", () => {
    const reason = (h: string) => {
      const r = Wire.decodeTopicMessage(hex(h))
      return Either.isLeft(r) ? r.left.reason : "ok"
    }
    expect(reason("0001" + "02" + "00".repeat(31) + "0006")).toBe("InvalidPublicKey")
    expect(reason("02")).toBe("BadDiscriminant")
    expect(reason("0006")).toBe("BadDiscriminant")
    expect(reason("0104")).toBe("BadDiscriminant")
    expect(reason("000402")).toBe("BadDiscriminant")
    expect(reason("00050200")).toBe("BadBool")
    expect(reason("000002")).toBe("BadOption")
    expect(reason("")).toBe("UnexpectedEnd")
    expect(reason("0000")).toBe("UnexpectedEnd")
    expect(reason("010200ffff03")).toBe("ok") // u16 65535: last byte 3 is the max
    expect(reason("010200ffff04")).toBe("BadVarint") // overflows u16
    expect(reason("010200ffffff00")).toBe("BadVarint") // 4-byte u16
    expect(reason("0102008000")).toBe("ok") // over-long but in range, postcard accepts it
    expect(reason("0101ff")).toBe("ok") // trailing bytes ignored
    expect(reason("0103ffffffffffffffffff01")).toBe("UnexpectedEnd") // huge seq length, no allocation
    expect(reason("0103ffffffffffffffffff02")).toBe("BadVarint")
  })

  it("refuses to encode what Rust would refuse to decode", () => {
    const badKey = ("02" + "00".repeat(31)) as EndpointId.EndpointId
    expect(Wire.isValidEndpointId(badKey)).toBe(false)
    expect(
      Either.isLeft(
        Wire.encodeTopicMessage(Wire.swarm({ _tag: "ShuffleReply", nodes: [{ id: badKey, data: undefined }] }))
      )
    ).toBe(true)
    expect(Either.isLeft(Wire.encodeTopicMessage(Wire.gossip({ _tag: "Graft", id: undefined, round: 65536 })))).toBe(
      true
    )
    expect(Either.isLeft(Wire.encodeTopicMessage(Wire.gossip({ _tag: "Graft", id: new Uint8Array(31), round: 1 }))))
      .toBe(true)
  })

  it("decoders are total over random bytes and round-trip what they accept", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = Wire.decodeTopicMessage(bytes)
        if (Either.isRight(r)) {
          // Canonical re-encoding decodes to the same value.
          const again = Either.getOrThrow(Wire.encodeTopicMessage(r.right))
          expect(Wire.decodeTopicMessage(again)).toEqual(r)
        }
        const a = Wire.decodeAddrInfo(bytes)
        if (Either.isRight(a)) expect(Wire.decodeAddrInfo(Wire.encodeAddrInfo(a.right))).toEqual(a)
        Wire.decodeStreamHeader(bytes)
      }),
      { numRuns: 3000, seed: 42 }
    )
  })

  it("decoders are total over mutated valid messages", () => {
    const seeds = vectors.map(([, , h]) => hex(h))
    FastCheck.assert(
      FastCheck.property(
        FastCheck.constantFrom(...seeds),
        FastCheck.array(FastCheck.tuple(FastCheck.nat(), FastCheck.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        FastCheck.nat(120),
        (base, flips, cut) => {
          const b = base.slice(0, Math.max(1, base.length - (cut % base.length)))
          for (const [i, v] of flips) b[i % b.length] = v
          const r = Wire.decodeTopicMessage(b)
          expect(Either.isLeft(r) || Either.isRight(Wire.encodeTopicMessage(r.right))).toBe(true)
        }
      ),
      { numRuns: 3000, seed: 7 }
    )
  })

  it("FrameDecoder is total over arbitrary streams and chunkings and loses no bytes", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.uint8Array({ maxLength: 600 }),
        FastCheck.array(FastCheck.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        FastCheck.boolean(),
        (junk, cuts, withValidPrefix) => {
          const stream = withValidPrefix
            ? new Uint8Array([...Either.getOrThrow(Wire.frame(junk.slice(0, 100), 512)), ...junk])
            : junk
          const d = new Wire.FrameDecoder(512)
          let pos = 0
          let consumed = 0
          let ci = 0
          for (;;) {
            if (pos < stream.length) {
              const n = cuts[ci++ % cuts.length]!
              d.push(stream.subarray(pos, pos + n))
              pos += n
            }
            const next = d.next()
            if (Either.isLeft(next)) {
              expect(next.left.size).toBeGreaterThan(512)
              return
            }
            if (Option.isSome(next.right)) {
              consumed += 4 + next.right.value.length
              continue
            }
            if (pos >= stream.length) break
          }
          expect(consumed + d.pending).toBe(stream.length)
          expect(Either.isLeft(d.end())).toBe(d.pending >= 4)
        }
      ),
      { numRuns: 3000, seed: 11 }
    )
  })

  it("round-trips arbitrary well-formed messages", () => {
    const id32 = FastCheck.uint8Array({ minLength: 32, maxLength: 32 })
    const u16 = FastCheck.integer({ min: 0, max: 0xffff })
    const data = FastCheck.option(FastCheck.uint8Array({ maxLength: 40 }), { nil: undefined })
    const key = FastCheck.constantFrom(K1, K2)
    const peer = FastCheck.record({ id: key, data })
    const swarmMsg: FastCheck.Arbitrary<Wire.SwarmMessage> = FastCheck.oneof(
      FastCheck.record({ _tag: FastCheck.constant("Join" as const), data }),
      FastCheck.record({ _tag: FastCheck.constant("ForwardJoin" as const), peer, ttl: u16 }),
      FastCheck.record({
        _tag: FastCheck.constant("Shuffle" as const),
        origin: key,
        nodes: FastCheck.array(peer, { maxLength: 8 }),
        ttl: u16
      }),
      FastCheck.record({
        _tag: FastCheck.constant("ShuffleReply" as const),
        nodes: FastCheck.array(peer, { maxLength: 8 })
      }),
      FastCheck.record({
        _tag: FastCheck.constant("Neighbor" as const),
        priority: FastCheck.constantFrom("High" as const, "Low" as const),
        data
      }),
      FastCheck.record({
        _tag: FastCheck.constant("Disconnect" as const),
        alive: FastCheck.boolean(),
        respond: FastCheck.boolean()
      })
    )
    const scope: FastCheck.Arbitrary<Wire.DeliveryScope> = FastCheck.oneof(
      FastCheck.record({ _tag: FastCheck.constant("Swarm" as const), round: u16 }),
      FastCheck.constant({ _tag: "Neighbors" as const })
    )
    const bcast: FastCheck.Arbitrary<Wire.BroadcastMessage> = FastCheck.oneof(
      FastCheck.record({
        _tag: FastCheck.constant("Gossip" as const),
        id: id32,
        content: FastCheck.uint8Array({ maxLength: 300 }),
        scope
      }),
      FastCheck.constant({ _tag: "Prune" as const }),
      FastCheck.record({
        _tag: FastCheck.constant("Graft" as const),
        id: FastCheck.option(id32, { nil: undefined }),
        round: u16
      }),
      FastCheck.record({
        _tag: FastCheck.constant("IHave" as const),
        entries: FastCheck.array(FastCheck.record({ id: id32, round: u16 }), { maxLength: 5 })
      })
    )
    const msg = FastCheck.oneof(swarmMsg.map(Wire.swarm), bcast.map(Wire.gossip))
    FastCheck.assert(
      FastCheck.property(msg, (m) => {
        const bytes = Either.getOrThrow(Wire.encodeTopicMessage(m))
        expect(Either.getOrThrow(Wire.decodeTopicMessage(bytes))).toEqual(m)
      }),
      { numRuns: 1000, seed: 3 }
    )
  })
})
