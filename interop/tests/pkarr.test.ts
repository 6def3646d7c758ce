// pkarr endpoint-record interop: `AddressLookup.dht`'s codec (@dtt/gossip-iroh, internal/pkarr) against iroh's
// own (iroh-dns 1.x via interop/pkarr). Rust-signed records are decoded and re-encoded byte for byte by us;
// our signed records are verified and read by Rust; hostile variations are accepted or refused alike.
// The same records through a DHT of Rust storing nodes: pkarrDht.test.ts.
import { Bep44, Crypto, NodeIdentity } from "@dtt/core"
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import * as DnsPacket from "../../packages/gossip-iroh/src/internal/dnsPacket.js"
import * as Pkarr from "../../packages/gossip-iroh/src/internal/pkarr.js"
import * as ZBase32 from "../../packages/gossip-iroh/src/internal/zbase32.js"
import { fromHex, toHex } from "./jsonLines.js"
import { crypto, parseRequest, rust, seedOf } from "./pkarrSupport.js"

const ascii = (s: string) => new TextEncoder().encode(s)

interface Case {
  readonly relays: ReadonlyArray<string>
  readonly addrs: ReadonlyArray<string>
  readonly userData?: string
  readonly ttl: number
}

const random = Crypto.deterministicRandom("dtt-interop-pkarr-v1")
const randomInt = (bound: number) => (random(4).reduce((n, b) => n * 256 + b, 0) >>> 0) % bound
const randomAddr = () =>
  randomInt(2) === 0
    ? `${[...random(4)].join(".")}:${randomInt(65536)}`
    : `[${Array.from({ length: 8 }, () => randomInt(4) === 0 ? "0" : randomInt(65536).toString(16)).join(":")}]:${
      randomInt(65536)
    }`

const cases: ReadonlyArray<Case> = [
  { relays: ["https://relay.example/"], addrs: ["127.0.0.1:4433", "[::1]:4433"], ttl: 30 },
  { relays: [], addrs: ["192.168.1.20:11204"], ttl: 30 },
  { relays: ["https://euw1-1.relay.n0.iroh-canary.iroh.link./"], addrs: [], ttl: 0 },
  { relays: [], addrs: ["10.0.0.1:1"], userData: "hello=world", ttl: 4294967295 },
  ...Array.from({ length: 20 }, (): Case => ({
    relays: randomInt(2) === 0 ? [] : [`https://r${randomInt(1000)}.example.org/`],
    addrs: Array.from({ length: 1 + randomInt(6) }, randomAddr),
    ttl: randomInt(100000)
  }))
]

/** Record types whose data simple-dns 0.12 parses (and may refuse); TXT (16) excluded. */
const SIMPLE_DNS_TYPES: ReadonlySet<number> = new Set([
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  11,
  12,
  13,
  14,
  15,
  17,
  18,
  20,
  21,
  22,
  23,
  28,
  29,
  33,
  35,
  36,
  37,
  41,
  43,
  45,
  46,
  47,
  48,
  49,
  63,
  64,
  65,
  108,
  109,
  257
])
const hasOtherKnownType = (packet: Uint8Array) =>
  Either.match(DnsPacket.decode(packet), {
    onLeft: () => false,
    onRight: (p) => [...p.answers, ...p.authorities, ...p.additionals].some((r) => SIMPLE_DNS_TYPES.has(r.type))
  })

describe("pkarr records: TypeScript <-> iroh-dns", () => {
  it("Rust-signed records: we rebuild the DNS packet byte for byte, verify the signature and read the same info", () => {
    const replies = rust(
      cases.map((c, i) => ({
        op: "sign",
        seed: toHex(seedOf(i)),
        relays: c.relays,
        addrs: c.addrs,
        user_data: c.userData,
        ttl: c.ttl
      }))
    )
    replies.forEach((reply, i) => {
      const c = cases[i]!
      expect(reply.error).toBeUndefined()
      const identity = NodeIdentity.fromSecretKey(seedOf(i))
      expect(reply.public_key).toBe(toHex(identity.publicKey))
      expect(reply.z32).toBe(ZBase32.encode(identity.publicKey))
      const packet = fromHex(reply.packet as string)
      // Rust's SocketAddr display is the canonical spelling our decoder produces.
      const info = Either.getOrThrow(Pkarr.decodePacket(identity.publicKey, packet))
      expect(info.relayUrls).toEqual(c.relays)
      // iroh reads a value up to a second '=' (so user data "hello=world" comes back as "hello"); so do we.
      expect(info.userData).toEqual(c.userData?.split("=")[0])
      const written = { ...info, userData: c.userData }
      expect(Pkarr.txtStrings(written)).toEqual(reply.txt)
      const ours = Either.getOrThrow(Pkarr.encodePacket(identity.publicKey, written, c.ttl))
      expect(toHex(ours)).toBe(reply.packet)
      const seq = BigInt(reply.timestamp as string)
      const signable = Bep44.signable(new Uint8Array(0), seq, packet)
      expect(crypto.verifyStrict(identity.publicKey, signable, fromHex(reply.signature as string))).toBe(true)
      // Ed25519 is deterministic: signing the same item ourselves gives Rust's signature.
      const item = Pkarr.signedItem((m) => crypto.sign(identity.secretKey, m), identity.publicKey, seq, ours)
      expect(toHex(item.signature)).toBe(reply.signature)
    })
  })

  it("iroh reads its own user data only up to a second '=' (the quirk our decoder mirrors)", () => {
    const [signed] = rust([{
      op: "sign",
      seed: toHex(seedOf(1)),
      relays: [],
      addrs: ["10.0.0.1:1"],
      user_data: "a=b=c",
      ttl: 30
    }])
    const [read] = rust([
      {
        op: "parse",
        public_key: signed!.public_key,
        timestamp: signed!.timestamp,
        signature: signed!.signature,
        packet: signed!.packet
      }
    ])
    expect(read).toMatchObject({ verified: true, user_data: "a", addrs: ["10.0.0.1:1"] })
    const ours = Either.getOrThrow(
      Pkarr.decodePacket(fromHex(signed!.public_key as string), fromHex(signed!.packet as string))
    )
    expect(ours.userData).toBe("a")
  })

  it("our signed records verify in Rust and read back as the same info", () => {
    const items = cases.map((c, i) => {
      const identity = NodeIdentity.fromSecretKey(seedOf(100 + i))
      const packet = Either.getOrThrow(
        Pkarr.encodePacket(
          identity.publicKey,
          { relayUrls: c.relays, directAddresses: c.addrs, userData: c.userData },
          c.ttl
        )
      )
      const seq = 1_700_000_000_000_000n + BigInt(i)
      return {
        identity,
        item: Pkarr.signedItem((m) => crypto.sign(identity.secretKey, m), identity.publicKey, seq, packet)
      }
    })
    const replies = rust(
      items.map(({ item }) => ({
        op: "parse",
        public_key: toHex(item.publicKey),
        timestamp: item.seq.toString(),
        signature: toHex(item.signature),
        packet: toHex(item.value)
      }))
    )
    replies.forEach((reply, i) => {
      const ours = Either.getOrThrow(Pkarr.decodePacket(items[i]!.identity.publicKey, items[i]!.item.value))
      expect(reply).toMatchObject({ verified: true, relays: ours.relayUrls, addrs: ours.directAddresses })
      expect(reply.user_data ?? undefined).toEqual(ours.userData)
      expect(reply.endpoint_id).toBe(toHex(items[i]!.identity.publicKey))
    })
  })

  it("hostile and odd packets: Rust and we accept and refuse the same ones", () => {
    const identity = NodeIdentity.fromSecretKey(seedOf(7))
    const z = ZBase32.encode(identity.publicKey)
    const txt = (values: ReadonlyArray<string>, name: ReadonlyArray<string> = ["_iroh", z]) =>
      Either.getOrThrow(DnsPacket.encodeTxtReply(name, 30, values.map(ascii)))
    const valid = txt(["addr=1.2.3.4:5"])
    const packets: ReadonlyArray<Uint8Array> = [
      valid,
      txt(["addr=1.2.3.4:5", "color=blue"]), // unknown attribute
      txt(["addr"]), // no '='
      txt(["relay=https://r.example/?a=b", "addr=not-an-addr", "addr=1.2.3.4:5"]),
      txt(["addr=[0:0:0:0:0:0:0:1]:7", "addr=[::1]:7"]),
      txt(["addr=1.2.3.4:5"], ["_iroh", ZBase32.encode(new Uint8Array(32).fill(9))]), // another key's name
      txt(["addr=1.2.3.4:5"], ["_other", z]),
      Uint8Array.from([...valid.slice(0, 3), valid[3]! | 0x40, ...valid.slice(4)]), // reserved header bit
      valid.slice(0, valid.length - 3), // truncated
      fromHex("000080000000000100000000c00c001000010000001e0000"), // pointer loop
      new Uint8Array(1001) // too large
    ]
    const replies = rust(packets.map((packet) => parseRequest(identity, packet)))
    replies.forEach((reply, i) => {
      const ours = Pkarr.decodePacket(identity.publicKey, packets[i]!)
      const rustAccepts = reply.error === undefined
      expect([i, Either.isRight(ours)]).toEqual([i, rustAccepts])
      if (Either.isRight(ours)) {
        expect([i, reply.addrs, reply.relays]).toEqual([i, ours.right.directAddresses, ours.right.relayUrls])
      }
    })
  })

  it("mutated packets (random byte edits and cuts): Rust and we agree on accept/refuse and on what is read", () => {
    const identity = NodeIdentity.fromSecretKey(seedOf(8))
    const base = Either.getOrThrow(
      Pkarr.encodePacket(identity.publicKey, {
        relayUrls: ["https://relay.example/"],
        directAddresses: ["127.0.0.1:4433", "[::1]:4433"]
      })
    )
    const packets = Array.from({ length: 2000 }, () => {
      const bytes = base.slice(0, Math.max(12, base.length - (randomInt(3) === 0 ? randomInt(base.length) : 0)))
      const edits = 1 + randomInt(3)
      for (let e = 0; e < edits; e++) bytes[randomInt(bytes.length)] = random(1)[0]!
      return bytes
    })
    const replies = rust(packets.map((packet) => parseRequest(identity, packet)))
    let excused = 0
    const disagreements = replies.flatMap((reply, i) => {
      const ours = Pkarr.decodePacket(identity.publicKey, packets[i]!)
      const rustView = reply.error === undefined ? JSON.stringify([reply.addrs, reply.relays]) : "refused"
      const ourView = Either.isRight(ours)
        ? JSON.stringify([ours.right.directAddresses, ours.right.relayUrls])
        : "refused"
      if (rustView === ourView) return []
      // The one known difference: simple-dns also validates the data of record types it knows (a mutated type
      // field turning a TXT record into, say, an SRV record); we never read those types and keep them raw.
      if (rustView === "refused" && hasOtherKnownType(packets[i]!)) {
        excused++
        return []
      }
      return [{
        packet: toHex(packets[i]!),
        rust: reply.error ?? rustView,
        ours: Either.isLeft(ours) ? ours.left.reason : ourView
      }]
    })
    expect(disagreements).toEqual([])
    expect(excused).toBeLessThan(packets.length / 100)
  })
})
