import { blake3 } from "@noble/hashes/blake3.js"
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import * as Wire from "../src/wire/index.js"
import { addr36, addr36hex, dec, enc, hex, hiId, hiIdHex, K1, K2, toHex, vectors } from "./wireVectors.js"

describe("wire: spec §2.4 worked examples", () => {
  it("blake3 sanity", () => {
    expect(toHex(hiId)).toBe(hiIdHex)
    expect(toHex(blake3(new Uint8Array(0)))).toMatch(/^af1349b9.*3262$/)
  })

  it("the spec keys are valid public keys", () => {
    expect(Wire.isValidEndpointId(K1)).toBe(true)
    expect(Wire.isValidEndpointId(K2)).toBe(true)
  })

  for (const [name, message, bytes, len] of vectors) {
    it(`${name} encodes and decodes byte-exact`, () => {
      expect(bytes.length / 2).toBe(len)
      expect(enc(message)).toBe(bytes)
      expect(dec(bytes)).toEqual(message)
    })
  }

  it("message frames: BE length prefix", () => {
    expect(toHex(Either.getOrThrow(Wire.encodeMessageFrame(vectors[0]![1])))).toBe("0000000400000100")
    const g = Either.getOrThrow(Wire.encodeMessageFrame(vectors[10]![1]))
    expect(g.length).toBe(43)
    expect(toHex(g)).toBe("00000027" + vectors[10]![2])
  })

  it("stream header frame for topic [0x17;32]", () => {
    const topic = new Uint8Array(32).fill(0x17)
    expect(toHex(Either.getOrThrow(Wire.encodeStreamHeaderFrame(topic)))).toBe("00000020" + "17".repeat(32))
    expect(toHex(Either.getOrThrow(Wire.decodeStreamHeader(topic)))).toBe("17".repeat(32))
    expect(Either.isLeft(Wire.decodeStreamHeader(topic.subarray(0, 31)))).toBe(true)
    expect(Either.isLeft(Wire.encodeStreamHeader(new Uint8Array(31)))).toBe(true)
  })

  it("AddrInfo vectors", () => {
    const a1: Wire.AddrInfo = {
      relayUrl: undefined,
      // Given out of order on purpose: the encoder sorts like Rust's BTreeSet (V4 before V6).
      directAddresses: [Wire.parseSocketAddr("[::1]:11204")!, Wire.parseSocketAddr("192.168.1.10:11204")!]
    }
    const a1hex = "000200c0a8010ac45701" + "00000000000000000000000000000001" + "c457"
    expect(toHex(Wire.encodeAddrInfo(a1))).toBe(a1hex)
    expect(a1hex.length / 2).toBe(28)
    const back = Either.getOrThrow(Wire.decodeAddrInfo(hex(a1hex)))
    expect(back.relayUrl).toBeUndefined()
    expect(back.directAddresses.map(Wire.formatSocketAddr)).toEqual(["192.168.1.10:11204", "[::1]:11204"])

    expect(toHex(Wire.encodeAddrInfo(addr36))).toBe(addr36hex)
    expect(addr36hex.length / 2).toBe(36)
    expect(Either.getOrThrow(Wire.decodeAddrInfo(hex(addr36hex)))).toEqual(addr36)

    expect(toHex(Wire.encodeAddrInfo(Wire.emptyAddrInfo))).toBe("0000")
    expect(Either.getOrThrow(Wire.decodeAddrInfo(new Uint8Array(0)))).toEqual(Wire.emptyAddrInfo)
    expect(Either.getOrThrow(Wire.decodeAddrInfo(hex("0000")))).toEqual(Wire.emptyAddrInfo)
  })

  it("AddrInfo rejects an unparsable relay url and unknown address variants", () => {
    expect(Either.isLeft(Wire.decodeAddrInfo(hex("0103616263" + "00")))).toBe(true) // "abc"
    expect(Either.isLeft(Wire.decodeAddrInfo(hex("000102" + "7f000001" + "01")))).toBe(true)
  })
})

describe("wire: socket address text", () => {
  it("parses and prints like Rust", () => {
    for (
      const s of [
        "1.2.3.4:5",
        "[::1]:80",
        "[2001:db8::1]:443",
        "[::ffff:10.0.0.1]:9",
        "[fe80::1:2:3:4]:1",
        "[1:0:0:1::1]:2",
        "[1::1:0:0:1:1]:3"
      ]
    ) {
      expect(Wire.formatSocketAddr(Wire.parseSocketAddr(s)!)).toBe(s)
    }
    expect(Wire.formatSocketAddr(Wire.parseSocketAddr("[fe80::1%eth0]:7")!)).toBe("[fe80::1]:7")
    expect(Wire.formatSocketAddr(Wire.parseSocketAddr("[2001:DB8:0:0:0:0:0:1]:1")!)).toBe("[2001:db8::1]:1")
    for (
      const bad of [
        "1.2.3:4",
        "256.1.1.1:1",
        "1.2.3.4",
        "[::1]",
        "[1::2::3]:4",
        "1.2.3.4:65536",
        "[12345::]:1",
        "01.2.3.4:5"
      ]
    ) {
      expect(Wire.parseSocketAddr(bad)).toBeUndefined()
    }
  })
})
