/**
 * The private slot (PROTOCOL.md "Private slots"): known-answer vectors of its derivation, and the two-slot
 * record publisher on the memory DHT — Rust-style readers still find our records in the compatible slot, and a
 * name-only attacker's junk there neither fails the merged read nor fills the private slot.
 *
 * The vectors were computed with a standalone script (node:crypto SHA-512/SHA-1 and @noble's ed25519 only) and
 * are recomputed here the same independent way, never through the code under test.
 */
import { Bep44, Dht, GossipRecordContent, Keys, PrivateSlot, RecordPublisher, SecretRotation, TopicId } from "@dtt/core"
import { MemoryDht, SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { ed25519 } from "@noble/curves/ed25519.js"
import { Duration, Effect, Either, Layer, Metric } from "effect"
import { createHash } from "node:crypto"
import { toHex as hex } from "../src/internal/bytes.js"
import * as Records from "./support/records.js"

const sha512 = (...parts: ReadonlyArray<Uint8Array>) => {
  const h = createHash("sha512")
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
const h32 = (...parts: ReadonlyArray<Uint8Array>) => sha512(...parts).slice(0, 32)
const ascii = (s: string) => new Uint8Array(Buffer.from(s, "utf8"))
const le8 = (m: bigint) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(m)
  return new Uint8Array(b)
}
const be8 = (m: bigint) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(m)
  return new Uint8Array(b)
}

/** The derivation written out from PROTOCOL.md, with the default rotation. */
const independent = (name: string, secret: string, minute: bigint) => {
  const topic = h32(ascii(name))
  const encryptionSeed = h32(topic, be8(minute), h32(ascii(secret)))
  const signingSeed = h32(ascii("dtt/private-slot/v1/signing-seed"), topic, le8(minute), encryptionSeed)
  const salt = h32(ascii("dtt/private-slot/v1/salt"), topic, le8(minute), encryptionSeed)
  const publicKey = ed25519.getPublicKey(signingSeed)
  const target = new Uint8Array(createHash("sha1").update(publicKey).update(salt).digest())
  return { encryptionSeed, signingSeed, salt, publicKey, target }
}

const VECTORS = [
  {
    name: "my-iroh-gossip-topic",
    secret: "my-initial-secret",
    minute: 29000000n,
    encryptionSeed: "efb6019cd980ba61cab4efa1be5811f47e9d93fb83b6546a41648d2b0002eef7",
    signingSeed: "9a18ee9d10e9f593a95d08c84425b9bdead4288d65e8252d45832605e94de839",
    salt: "d9663380401fa4350736221d46b2a001d072a9674b40539cf6d32efd974e1027",
    publicKey: "fbe7b66da541ab6656a51204dc933eb98c2b64f32f8123bdb0f58e52dc492b6a",
    target: "f153e0a3c5ae0718570c63d16f996b9ec6866f00"
  },
  {
    name: "dtt-sim-topic",
    secret: "dtt-sim-secret",
    minute: 0n,
    encryptionSeed: "2141abcdc5d22d0e74fee8cb4bddd62876418682496d1e6bcf91028efd458818",
    signingSeed: "b638541ae97dfe52c54ece420782e8adff3cd28487da6b09233b3f48d337f44b",
    salt: "cf6dc1674c12277fd224768d2848b4267b05b8fecba45e88936dad90797d904f",
    publicKey: "cf0409c5238dfe26671c9a109f4c96702fea39ed1ac274b01821204524d338f0",
    target: "640fb2643d25cd0c0bfa6009fd5322981c9bfb01"
  },
  {
    name: "t",
    secret: "",
    minute: 18446744073709551615n,
    encryptionSeed: "c264cb56ff1e2ba6e2b077aa394c2ece5d929689bf8c4f6e6096d03e7c60735e",
    signingSeed: "4abfc6d015b2016e3bff8111a77e454ac6162cfe20c3f0d85eeffb9bb0fea8de",
    salt: "53ec7f6eeda8238430e6bff5b466b87cfc7b1d875b76c42943c531026cfbef84",
    publicKey: "60de553a0ae4d05d6bba67b3427ffe21ec32092e958403d45fb0e5747a812e82",
    target: "cf02bdfcde657b1768af43ba72987ef046efa4c3"
  }
] as const

describe("private slot derivation (known answers)", () => {
  it.each(VECTORS)("topic $name, minute $minute", (v) => {
    const topic = TopicId.fromName(v.name).hash
    const slot = PrivateSlot.slot(topic, v.minute, Keys.initialSecretHash(v.secret))
    const actual = {
      signingSeed: hex(slot.signingSeed),
      salt: hex(slot.salt),
      publicKey: hex(slot.publicKey),
      target: hex(slot.target)
    }
    const expected = { signingSeed: v.signingSeed, salt: v.salt, publicKey: v.publicKey, target: v.target }
    expect(actual).toEqual(expected)
    // The stored answers are what the independent derivation gives (guards the table itself).
    const again = independent(v.name, v.secret, v.minute)
    expect({
      signingSeed: hex(again.signingSeed),
      salt: hex(again.salt),
      publicKey: hex(again.publicKey),
      target: hex(again.target)
    })
      .toEqual(expected)
    expect(hex(again.encryptionSeed)).toBe(v.encryptionSeed)
    expect(hex(PrivateSlot.signingSeed(topic, v.minute, again.encryptionSeed))).toBe(v.signingSeed)
    expect(hex(PrivateSlot.salt(topic, v.minute, again.encryptionSeed))).toBe(v.salt)
  })

  it("differs from the compatible slot, and from one secret to another", () => {
    const topic = TopicId.fromName("my-iroh-gossip-topic").hash
    const mine = PrivateSlot.slot(topic, 29000000n, Keys.initialSecretHash("my-initial-secret"))
    const other = PrivateSlot.slot(topic, 29000000n, Keys.initialSecretHash("another secret"))
    const compatible = Keys.slot(topic, 29000000n)
    expect(hex(mine.target)).not.toBe(hex(compatible.target))
    expect(hex(mine.target)).not.toBe(hex(other.target))
    expect(hex(mine.signingSeed)).not.toBe(hex(compatible.signingSeed))
  })

  it("a custom rotation moves the private slot with it (the slot hashes the rotation's output)", () => {
    const topic = TopicId.fromName("my-iroh-gossip-topic").hash
    const seed = new Uint8Array(32).fill(9)
    const rotation = SecretRotation.make(() => seed)
    const slot = PrivateSlot.slot(topic, 29000000n, Keys.initialSecretHash("my-initial-secret"), rotation)
    expect(hex(slot.signingSeed)).toBe(hex(h32(ascii("dtt/private-slot/v1/signing-seed"), topic, le8(29000000n), seed)))
    expect(hex(slot.salt)).toBe(hex(h32(ascii("dtt/private-slot/v1/salt"), topic, le8(29000000n), seed)))
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The two-slot publisher on the memory DHT

const TOPIC = TopicId.fromName("dtt-private-slot-topic")
const SECRET = "dtt-private-slot-secret"
const MINUTE = 29_000_000n
const withPeer = Either.getOrThrow(GossipRecordContent.make({ activePeers: [new Uint8Array(32).fill(7)] }))

const network = SimNetwork.make({ dht: { requestTimeout: Duration.zero, rules: "first-writer-wins" } })

/** Node `index`'s publisher; `failCompatibleGets` makes every get of a compatible slot fail (DhtUnavailable). */
const publisherOf = (
  sim: SimNetwork.SimNetwork,
  index: number,
  privateSlots: boolean,
  failCompatibleGets: boolean | (() => boolean) = false
) => {
  const failing = Layer.effect(
    Dht.Dht,
    Effect.map(Dht.Dht, (dht): Dht.DhtService => ({
      ...dht,
      getMutable: (publicKey, salt) => {
        const compatible = hex(Keys.slot(TOPIC.hash, MINUTE).publicKey) === hex(publicKey)
        const fail = typeof failCompatibleGets === "function" ? failCompatibleGets() : failCompatibleGets
        return compatible && fail
          ? Effect.fail(new Dht.DhtUnavailable({ reason: "test: compatible get fails" }))
          : dht.getMutable(publicKey, salt)
      }
    }))
  )
  return Records.publisherOf(sim, index, { topicId: TOPIC, initialSecret: SECRET, privateSlots }, failing)
}

/** Signed junk in the compatible slot of `minute`, as anyone who knows only the topic name can write it. */
const junkItem = (minute: bigint, fill: number) =>
  Records.signedSlotItem(Keys.slot(TOPIC.hash, minute), new Uint8Array(600).fill(fill))

const publish = (p: RecordPublisher.RecordPublisher, content: GossipRecordContent.GossipRecordContent) =>
  Effect.flatMap(p.newRecord(MINUTE, content), (record) => p.publishRecord(record))

/** [compatible gets, private gets, compatible puts, private puts] counted by the `dtt_record_dht_*` metrics. */
const metrics = Effect.all(
  [
    [RecordPublisher.dhtGets, "compatible"],
    [RecordPublisher.dhtGets, "private"],
    [RecordPublisher.dhtPuts, "compatible"],
    [RecordPublisher.dhtPuts, "private"]
  ].map(([metric, slot]) =>
    Effect.map(
      Metric.value(Metric.tagged(metric as typeof RecordPublisher.dhtGets, "slot", slot as string)),
      (s) => s.count
    )
  )
)

const targetHex = (slot: Keys.Slot) => hex(slot.target)

describe("two-slot record publisher", () => {
  it.scoped("writes the compatible slot exactly as before, so a compatible-only (Rust-style) reader finds us", () =>
    Effect.gen(function*() {
      const sim = yield* network
      const ours = yield* publisherOf(sim, 0, true)
      const rustStyle = yield* publisherOf(sim, 1, false)
      const metricsBefore = yield* metrics
      expect((yield* publish(ours, withPeer))._tag).toBe("Published")
      const found = yield* rustStyle.getRecords(MINUTE)
      expect(found.map((r) => r.publisher)).toEqual([ours.endpointId])
      // One put per slot kind, into the compatible target and the private one.
      const stats = yield* MemoryDht.stats(sim.dht)
      const compatible = targetHex(Keys.slot(TOPIC.hash, MINUTE))
      const hidden = targetHex(PrivateSlot.slot(TOPIC.hash, MINUTE, Keys.initialSecretHash(SECRET)))
      expect(stats.byTarget.get(compatible)?.puts).toBe(1)
      expect(stats.byTarget.get(hidden)?.puts).toBe(1)
      expect(stats.totals.puts).toBe(2)
      expect(ours.stats().puts).toBe(2)
      // The process-wide metrics by slot kind: our publish (a get and a put per slot), the Rust-style read.
      const metricsAfter = yield* metrics
      expect(metricsAfter.map((n, i) => n - metricsBefore[i]!)).toEqual([2, 1, 1, 1])
      // ...and our node finds a Rust-style writer through the compatible slot.
      const sim2 = yield* network
      const rustWriter = yield* publisherOf(sim2, 2, false)
      const reader = yield* publisherOf(sim2, 3, true)
      expect((yield* publish(rustWriter, withPeer))._tag).toBe("Published")
      expect((yield* reader.getRecords(MINUTE)).map((r) => r.publisher)).toEqual([rustWriter.endpointId])
    }))

  it.scoped("junk held in the compatible slot: the merged read still succeeds, the private slot is not full", () =>
    Effect.gen(function*() {
      const sim = yield* network
      // A name-only rogue wrote first; first-writer-wins storing nodes keep its junk whatever comes after.
      const rogue = Dht.make(MemoryDht.transport(sim.dht, "rogue"))
      yield* rogue.putMutable(junkItem(MINUTE, 0xaa), { cas: Bep44.SEQ_I64_MAX })
      const a = yield* publisherOf(sim, 0, true)
      const b = yield* publisherOf(sim, 1, true)
      expect(yield* a.getRecords(MINUTE)).toEqual([])
      // a's record lands in the private slot (the compatible put is acknowledged but not stored).
      expect((yield* publish(a, GossipRecordContent.empty))._tag).toBe("Published")
      expect((yield* b.getRecords(MINUTE)).map((r) => r.publisher)).toEqual([a.endpointId])
      // b too: junk counts towards neither slot's cap nor fullness (the private slot shows 1 record, not joined).
      expect((yield* publish(b, withPeer))._tag).toBe("Published")
      expect(b.stats()).toMatchObject({ gets: 4, puts: 2, skipped: 0, failedGets: 0, failedPuts: 0 })
      // The compatible slot still holds nothing but the junk.
      const slot = Keys.slot(TOPIC.hash, MINUTE)
      const held = yield* MemoryDht.held(sim.dht, slot.publicKey, slot.salt)
      expect(held.length).toBe(20)
      for (const h of held) expect(h.item.value[0]).toBe(0xaa)
    }))

  it.scoped("a failing compatible read costs only that slot's records; both failing is an error", () =>
    Effect.gen(function*() {
      const sim = yield* network
      const writer = yield* publisherOf(sim, 0, true)
      expect((yield* publish(writer, GossipRecordContent.empty))._tag).toBe("Published")
      const reader = yield* publisherOf(sim, 1, true, true)
      expect((yield* reader.getRecords(MINUTE)).map((r) => r.publisher)).toEqual([writer.endpointId])
      const compatibleOnly = yield* publisherOf(sim, 2, false, true)
      const failed = yield* Effect.either(compatibleOnly.getRecords(MINUTE))
      expect(Either.isLeft(failed) && failed.left._tag).toBe("DhtUnavailable")
    }))
})
