// pkarr endpoint records: z-base-32, the DNS packet and the signed BEP44 item (known answers derived by hand from
// iroh-dns 1.x / simple-dns 0.11 sources) and decoder totality. `AddressLookup.dht` itself: addressLookup.test.ts.
import { Bep44, Bytes, Crypto, type Dht, NodeIdentity } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import * as DnsPacket from "../src/internal/dnsPacket.js"
import * as Pkarr from "../src/internal/pkarr.js"
import * as ZBase32 from "../src/internal/zbase32.js"

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"))
const toHex = Bytes.toHex
const ascii = (s: string) => new TextEncoder().encode(s)

// pkarr's own key test vector (pubky/pkarr `types/keys.rs`, test `from_string`).
const PKARR_Z32 = "yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no"
const PKARR_KEY = Uint8Array.from([
  1,
  180,
  103,
  163,
  183,
  145,
  58,
  178,
  122,
  4,
  168,
  237,
  242,
  243,
  251,
  7,
  76,
  254,
  14,
  207,
  75,
  171,
  225,
  8,
  214,
  123,
  227,
  133,
  59,
  15,
  38,
  197
])

const INFO: Pkarr.EndpointInfo = {
  relayUrls: ["https://relay.example/"],
  directAddresses: ["127.0.0.1:4433", "[::1]:4433"]
}

// What iroh writes for INFO under PKARR_KEY with TTL 30, byte by byte:
const EXPECTED_PACKET = hex(`
  0000 8000 0000 0003 0000 0000
  05 5f69726f68
  34 796734677865377a3172376d72366f72696473396668393579376778686473786a7169366e6e6773787874616b71617872356e6f
  00
  0010 0001 0000001e 001d
  1c 72656c61793d68747470733a2f2f72656c61792e6578616d706c652f
  c00c 0010 0001 0000001e 0014
  13 616464723d3132372e302e302e313a34343333
  c00c 0010 0001 0000001e 0010
  0f 616464723d5b3a3a315d3a34343333
`)
// header: id 0, flags QR, 0 questions, 3 answers | "_iroh" | the 52-char z32 key | root
// TXT IN ttl 30, rdlength 29 = 1 + 28 | "relay=https://relay.example/"
// pointer to offset 12, TXT IN 30, rdlength 20 | "addr=127.0.0.1:4433"
// pointer, TXT IN 30, rdlength 16 | "addr=[::1]:4433"

const txtPacket = (name: ReadonlyArray<string>, values: ReadonlyArray<string>) =>
  Either.getOrThrow(DnsPacket.encodeTxtReply(name, 30, values.map(ascii)))

describe("z-base-32", () => {
  it("encodes pkarr's key vector and decodes it back", () => {
    expect(ZBase32.encode(PKARR_KEY)).toBe(PKARR_Z32)
    expect(Either.getOrThrow(ZBase32.decode(PKARR_Z32))).toEqual(PKARR_KEY)
  })

  it("known short answers (alphabet order, MSB-first bit groups)", () => {
    expect(ZBase32.encode(new Uint8Array(0))).toBe("")
    expect(ZBase32.encode(Uint8Array.of(0))).toBe("yy")
    expect(ZBase32.encode(Uint8Array.of(0xff))).toBe("9h") // 11111 111(00)
    expect(ZBase32.encode(Uint8Array.of(0x00, 0x44, 0x32, 0x14, 0xc7))).toBe("ybndrfg8") // 0..7
  })

  it("decoding is strict and total", () => {
    expect(Either.isLeft(ZBase32.decode(PKARR_Z32.toUpperCase()))).toBe(true)
    expect(Either.isLeft(ZBase32.decode(PKARR_Z32.slice(0, 51)))).toBe(true)
    expect(Either.isLeft(ZBase32.decode("9b"))).toBe(true) // padding bits set
    expect(Either.isLeft(ZBase32.decode("yv"))).toBe(true) // 'v' is not in the alphabet
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(Either.getOrThrow(ZBase32.decode(ZBase32.encode(bytes)))).toEqual(bytes)
      })
    )
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => void ZBase32.decode(s)))
  })
})

describe("pkarr DNS packet", () => {
  it("encodes iroh's records byte for byte", () => {
    const packet = Either.getOrThrow(Pkarr.encodePacket(PKARR_KEY, INFO))
    expect(toHex(packet)).toBe(toHex(EXPECTED_PACKET))
  })

  it("decodes the known packet", () => {
    const decoded = Either.getOrThrow(DnsPacket.decode(EXPECTED_PACKET))
    expect(decoded.flags).toBe(0x8000)
    expect(decoded.answers.map((a) => a.name)).toEqual(Array(3).fill(["_iroh", PKARR_Z32]))
    expect(decoded.answers.every((a) => a.type === 16 && a.class === 1 && a.ttl === 30)).toBe(true)
    expect(Either.getOrThrow(Pkarr.decodePacket(PKARR_KEY, EXPECTED_PACKET))).toEqual({ ...INFO, userData: undefined })
  })

  it("user data comes last; an empty info is a header only", () => {
    const packet = Either.getOrThrow(
      Pkarr.encodePacket(PKARR_KEY, { relayUrls: [], directAddresses: ["1.2.3.4:5"], userData: "hi" })
    )
    const values = Either.getOrThrow(DnsPacket.decode(packet)).answers.map((a) => Buffer.concat(a.txt!).toString())
    expect(values).toEqual(["addr=1.2.3.4:5", "user-data=hi"])
    expect(toHex(Either.getOrThrow(Pkarr.encodePacket(PKARR_KEY, { relayUrls: [], directAddresses: [] })))).toBe(
      "000080000000000000000000"
    )
    expect(
      Either.isLeft(Pkarr.encodePacket(PKARR_KEY, { relayUrls: [], directAddresses: [], userData: "x".repeat(246) }))
    ).toBe(true)
  })

  it("refuses to encode what does not fit (255-byte strings, 1000-byte packets)", () => {
    expect(Either.isLeft(DnsPacket.encodeTxtReply(["a"], 30, [new Uint8Array(256)]))).toBe(true)
    const many = Array.from({ length: 60 }, (_, i) => `10.0.${i}.1:65000`)
    expect(Either.isLeft(Pkarr.encodePacket(PKARR_KEY, { relayUrls: [], directAddresses: many }))).toBe(true)
  })

  it("reads packets other writers may produce: questions, other types, other names, pointers into labels", () => {
    // 1 question (_iroh.<z32> TXT IN), then: an A record, a TXT under another name, a TXT whose name is
    // "_iroh" + a pointer to the z32 label inside the question, and a TXT split into two character strings.
    const z = ascii(PKARR_Z32)
    const parts = [
      hex("1234 8400 0001 0004 0000 0000"),
      Uint8Array.of(5),
      ascii("_iroh"),
      Uint8Array.of(52),
      z,
      Uint8Array.of(0),
      hex("0010 0001"),
      hex("c00c 0001 0001 00000e10 0004 7f000001"),
      hex("04"),
      ascii("_foo"),
      hex("c012 0010 0001 0000001e 0006 05"),
      ascii("hello"),
      hex("05"),
      ascii("_iroh"),
      hex("c012 0010 0001 0000001e 0014 13"),
      ascii("addr=127.0.0.1:1234"),
      hex("c00c 0010 0001 0000001e 0015 08"),
      ascii("addr=10."),
      hex("0b"),
      ascii("0.0.1:44444")
    ]
    const packet = Uint8Array.from(Buffer.concat(parts))
    const info = Either.getOrThrow(Pkarr.decodePacket(PKARR_KEY, packet))
    expect(info).toEqual({ relayUrls: [], directAddresses: ["127.0.0.1:1234", "10.0.0.1:44444"], userData: undefined })
  })

  it("Rust's attribute rules: unknown key or missing '=' spoil the record; bad values are dropped", () => {
    const name = ["_iroh", PKARR_Z32]
    const decode = (values: ReadonlyArray<string>) => Pkarr.decodePacket(PKARR_KEY, txtPacket(name, values))
    expect(Either.isLeft(decode(["addr=1.2.3.4:5", "color=blue"]))).toBe(true)
    expect(Either.isLeft(decode(["addr"]))).toBe(true)
    // The value is what lies between the first and a second '=' (Rust `split('=')`).
    expect(Either.getOrThrow(decode(["relay=https://r.example/?a=b", "addr=not-an-addr", "addr=1.2.3.4:5"]))).toEqual({
      relayUrls: ["https://r.example/?a"],
      directAddresses: ["1.2.3.4:5"],
      userData: undefined
    })
    // Addresses come back in Rust's display form, duplicates merged.
    expect(Either.getOrThrow(decode(["addr=[0:0:0:0:0:0:0:1]:7", "addr=[::1]:7"])).directAddresses).toEqual(["[::1]:7"])
    // Relay URLs come back as Rust's url crate prints them.
    expect(Either.getOrThrow(decode(["relay=https://Relay.Example"])).relayUrls).toEqual(["https://relay.example/"])
    // The name is compared as written (iroh does not fold case).
    expect(
      Either.getOrThrow(
        Pkarr.decodePacket(PKARR_KEY, txtPacket(["_iroh", PKARR_Z32.toUpperCase()], ["addr=1.2.3.4:5"]))
      ).directAddresses
    ).toEqual([])
    // Records under another key's name are not ours.
    const other = ZBase32.encode(new Uint8Array(32).fill(7))
    expect(Either.getOrThrow(Pkarr.decodePacket(PKARR_KEY, txtPacket(["_iroh", other], ["addr=1.2.3.4:5"])))).toEqual({
      relayUrls: [],
      directAddresses: [],
      userData: undefined
    })
  })

  it("hostile packets give typed errors", () => {
    const problem = (bytes: Uint8Array) =>
      Either.match(DnsPacket.decode(bytes), { onLeft: (e) => e.problem, onRight: () => "ok" })
    expect(problem(hex("0000 8000 0000"))).toBe("Truncated")
    expect(problem(hex("0000 8040 0000 0000 0000 0000"))).toBe("ReservedFlag")
    expect(problem(hex("0000 8000 0000 ffff 0000 0000"))).toBe("Truncated")
    // A name pointing at itself, and one pointing forwards.
    expect(problem(hex("0000 8000 0000 0001 0000 0000 c00c 0010 0001 0000001e 0000"))).toBe("BadPointer")
    expect(problem(hex("0000 8000 0000 0001 0000 0000 c00e 0010 0001 0000001e 0000"))).toBe("BadPointer")
    expect(problem(hex("0000 8000 0000 0001 0000 0000 40 0010 0001 0000001e 0000 00"))).toBe("BadLabelType")
    // Classes simple-dns does not know (the mDNS cache-flush bit is ignored).
    expect(problem(hex("0000 8000 0000 0001 0000 0000 00 0010 0005 0000001e 0000"))).toBe("UnknownClass")
    expect(problem(hex("0000 8000 0000 0001 0000 0000 00 0010 8001 0000001e 0000"))).toBe("ok")
    expect(problem(hex("0000 8000 0001 0000 0000 0000 00 0010 00ff"))).toBe("ok")
    // TXT data whose character string runs past rdlength.
    expect(problem(hex("0000 8000 0000 0001 0000 0000 00 0010 0001 0000001e 0002 05 61"))).toBe("BadCharacterString")
    // A name of 5 × 63-byte labels is longer than 255 bytes.
    const longName = Buffer.concat([
      hex("0000 8000 0000 0001 0000 0000"),
      ...Array(5).fill(Buffer.concat([hex("3f"), Buffer.alloc(63, 97)])),
      hex("00 0010 0001 0000001e 0000")
    ])
    expect(problem(Uint8Array.from(longName))).toBe("NameTooLong")
    expect(Either.isLeft(Pkarr.decodePacket(PKARR_KEY, new Uint8Array(1001)))).toBe(true)
  })

  it("decoding is total: random bytes and mutations of a valid packet never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1100 }), (bytes) => {
        DnsPacket.decode(bytes)
        Pkarr.decodePacket(PKARR_KEY, bytes)
      }),
      { numRuns: 2000 }
    )
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(EXPECTED_PACKET.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6
        }),
        fc.nat(EXPECTED_PACKET.length),
        (edits, cut) => {
          const bytes = EXPECTED_PACKET.slice(0, Math.max(cut, 12))
          for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value
          const result = Pkarr.decodePacket(PKARR_KEY, bytes)
          if (Either.isLeft(result)) expect(result.left._tag).toBe("PkarrDecodeError")
        }
      ),
      { numRuns: 3000 }
    )
  })
})

describe("pkarr BEP44 item", () => {
  it("k = key, no salt, seq = microseconds, signature over the BEP44 signable", () => {
    const crypto = Crypto.make("node")
    const identity = NodeIdentity.fromSecretKey(new Uint8Array(32).fill(1))
    const packet = Either.getOrThrow(Pkarr.encodePacket(identity.publicKey, INFO))
    const seq = 1_700_000_000_123_456n
    const item = Pkarr.signedItem((m) => crypto.sign(identity.secretKey, m), identity.publicKey, seq, packet)
    expect(item.salt.length).toBe(0)
    expect(item.publicKey).toEqual(identity.publicKey)
    // pkarr's `signable`: "3:seqi<µs>e1:v<len>:" ‖ packet.
    const signable = Buffer.concat([ascii(`3:seqi1700000000123456e1:v${packet.length}:`), packet])
    expect(Buffer.from(Bep44.signable(item.salt, item.seq, item.value)).equals(signable)).toBe(true)
    expect(crypto.verifyStrict(identity.publicKey, signable, item.signature)).toBe(true)
  })

  it("newest record wins (seq, then larger packet bytes); undecodable ones are passed over", () => {
    const base = { publicKey: PKARR_KEY, salt: new Uint8Array(0), signature: new Uint8Array(64) }
    const older: Dht.MutableItem = {
      ...base,
      seq: 1n,
      value: Either.getOrThrow(Pkarr.encodePacket(PKARR_KEY, { relayUrls: [], directAddresses: ["1.1.1.1:1"] }))
    }
    const newer: Dht.MutableItem = { ...base, seq: 2n, value: EXPECTED_PACKET }
    const garbage: Dht.MutableItem = { ...base, seq: 3n, value: ascii("not dns") }
    expect(Pkarr.newestInfo(PKARR_KEY, [older, garbage, newer])?.directAddresses).toEqual(INFO.directAddresses)
    const tieLow: Dht.MutableItem = { ...older, seq: 5n }
    const tieHigh: Dht.MutableItem = { ...newer, seq: 5n }
    expect(Pkarr.newestFirst([tieLow, tieHigh])[0]).toBe(Pkarr.newestFirst([tieHigh, tieLow])[0])
  })
})
