/**
 * What a record publisher derives and remembers (issue 14): each minute's keys are derived once and handed to
 * every operation of that minute (both slots, every value read or sealed), and the memo of opened values belongs
 * to one publisher, not to the process. Derivations are counted through a `Crypto` service and a
 * `SecretRotation` that record every call with its input.
 */
import {
  Bep44,
  Crypto,
  type Dht,
  EncryptedRecord,
  GossipRecordContent,
  Keys,
  PrivateSlot,
  Record,
  RecordPublisher,
  SecretRotation
} from "@dtt/core"
import { MemoryDht, SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { toHex } from "../src/internal/bytes.js"
import { SECRET, TOPIC } from "./support/sim.js"

const MINUTE = 29_100_000n
const SECRET_HASH = Keys.initialSecretHash(SECRET)
const node = Crypto.make("node")

/** A `Crypto` service and a rotation that count each derivation by function and input. */
const counting = () => {
  const calls = new Map<string, number>()
  const count = (what: string, input: string) => calls.set(`${what}:${input}`, (calls.get(`${what}:${input}`) ?? 0) + 1)
  const crypto: Crypto.CryptoService = {
    ...node,
    ed25519PublicKey: (seed) => (count("ed25519PublicKey", toHex(seed)), node.ed25519PublicKey(seed)),
    x25519PublicFromSeed: (seed) => (count("x25519PublicFromSeed", toHex(seed)), node.x25519PublicFromSeed(seed)),
    x25519SecretFromSeed: (seed) => (count("x25519SecretFromSeed", toHex(seed)), node.x25519SecretFromSeed(seed)),
    hpkeOpen: (secret, sealed, info, aad) => (count("hpkeOpen", "any"), node.hpkeOpen(secret, sealed, info, aad))
  }
  const rotation = SecretRotation.make((topic, minute, secretHash) => {
    count("derive", String(minute))
    return SecretRotation.defaultRotation.derive(topic, minute, secretHash)
  })
  return {
    crypto,
    rotation,
    times: (what: string, input: Uint8Array | string) =>
      calls.get(`${what}:${typeof input === "string" ? input : toHex(input)}`) ?? 0,
    /** Every derivation that ran more than once. */
    repeated: () => [...calls].filter(([key, n]) => n > 1 && !key.startsWith("hpkeOpen")),
    reset: () => calls.clear()
  }
}

const network = SimNetwork.make({ dht: { requestTimeout: Duration.zero } })

/** A record publisher for node `index` on `crypto`, with both slots. */
const publisherOf = (
  sim: SimNetwork.SimNetwork,
  index: number,
  crypto: Crypto.CryptoService,
  rotation?: SecretRotation.SecretRotation
) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(Layer.merge(sim.node(index), Layer.succeed(Crypto.Crypto, crypto)))
    return yield* Effect.provide(
      RecordPublisher.make({
        topicId: TOPIC,
        secretKey: SimNetwork.secretKey(index),
        initialSecret: SECRET,
        maxBootstrapRecords: 5,
        privateSlots: true,
        ...(rotation === undefined ? {} : { rotation })
      }),
      context
    )
  })

/** A genuine value of node `index` for `minute`, written into `slot` at one storing node only. */
const injectRecord = (sim: SimNetwork.SimNetwork, slot: Keys.Slot, index: number, storingNode: number) =>
  Effect.gen(function*() {
    const record = yield* Record.sign({
      topic: TOPIC.hash,
      unixMinute: slot.minute,
      content: GossipRecordContent.encode(GossipRecordContent.empty),
      secretKey: SimNetwork.secretKey(index)
    })
    const value = yield* EncryptedRecord.sealRecord(record, TOPIC, SECRET_HASH)
    const seq = Bep44.SEQ_I64_MAX
    const item: Dht.MutableItem = {
      publicKey: slot.publicKey,
      salt: slot.salt,
      seq,
      value,
      signature: node.sign(slot.signingSeed, Bep44.signable(slot.salt, seq, value))
    }
    yield* MemoryDht.inject(sim.dht, item, { nodes: [storingNode] })
  }).pipe(Effect.provideService(Crypto.Crypto, node))

/** Three nodes' records in each slot of `minute`, each at a different storing node (three values per get). */
const fillBothSlots = (sim: SimNetwork.SimNetwork, minute: bigint) =>
  Effect.gen(function*() {
    for (const slot of [Keys.slot(TOPIC.hash, minute), PrivateSlot.slot(TOPIC.hash, minute, SECRET_HASH)]) {
      const storing = yield* MemoryDht.storingNodes(sim.dht, slot.publicKey, slot.salt)
      for (const index of [1, 2, 3]) yield* injectRecord(sim, slot, index, storing[index]!)
    }
  })

describe("record publisher key derivation", () => {
  it.scoped("a minute's read and publish derive its encryption key and slot keys once, for both slots", () =>
    Effect.gen(function*() {
      const sim = yield* network
      yield* fillBothSlots(sim, MINUTE)
      const counts = counting()
      const reader = yield* publisherOf(sim, 0, counts.crypto, counts.rotation)
      counts.reset()

      const found = yield* reader.getRecords(MINUTE)
      expect(found.map((r) => r.publisher).sort()).toEqual(
        [1, 2, 3].map((i) => toHex(node.ed25519PublicKey(SimNetwork.secretKey(i)))).sort()
      )
      // Six values opened (three per slot), each with two HPKE opens.
      expect(counts.times("hpkeOpen", "any")).toBe(12)
      const record = yield* reader.newRecord(MINUTE, GossipRecordContent.empty)
      expect((yield* reader.publishRecord(record, found))._tag).toBe("Published")

      const encryptionSeed = Keys.encryptionSeed(TOPIC.hash, MINUTE, SECRET_HASH)
      expect(counts.times("derive", String(MINUTE))).toBe(1)
      expect(counts.times("x25519SecretFromSeed", encryptionSeed)).toBe(1)
      expect(counts.times("x25519PublicFromSeed", encryptionSeed)).toBe(1)
      expect(counts.times("ed25519PublicKey", Keys.slot(TOPIC.hash, MINUTE).signingSeed)).toBe(1)
      const hidden = PrivateSlot.slot(TOPIC.hash, MINUTE, SECRET_HASH)
      expect(counts.times("ed25519PublicKey", hidden.signingSeed)).toBe(1)
      expect(counts.repeated()).toEqual([])

      // Later operations on the same minute reuse what was derived.
      yield* reader.getRecords(MINUTE)
      expect(counts.times("derive", String(MINUTE))).toBe(1)
      expect(counts.repeated()).toEqual([])
    }))

  it.scoped("a publish into a minute not read before derives its keys once too", () =>
    Effect.gen(function*() {
      const sim = yield* network
      const counts = counting()
      const writer = yield* publisherOf(sim, 0, counts.crypto, counts.rotation)
      counts.reset()
      const record = yield* writer.newRecord(MINUTE + 1n, GossipRecordContent.empty)
      expect((yield* writer.publishRecord(record))._tag).toBe("Published")
      expect(counts.times("derive", String(MINUTE + 1n))).toBe(1)
      expect(counts.repeated()).toEqual([])
    }))
})

describe("record publisher caches", () => {
  it.scoped("two publishers in one process do not share their memo of opened values", () =>
    Effect.gen(function*() {
      const sim = yield* network
      yield* fillBothSlots(sim, MINUTE)
      const first = counting()
      const second = counting()
      const a = yield* publisherOf(sim, 4, first.crypto)
      const b = yield* publisherOf(sim, 5, second.crypto)

      expect(yield* a.getRecords(MINUTE)).toHaveLength(3)
      expect(first.times("hpkeOpen", "any")).toBe(12)
      // Its own memo answers a repeated read: nothing is opened again.
      expect(yield* a.getRecords(MINUTE)).toHaveLength(3)
      expect(first.times("hpkeOpen", "any")).toBe(12)
      // The other publisher opens the same values itself (a process-wide memo would have answered for it).
      expect(yield* b.getRecords(MINUTE)).toHaveLength(3)
      expect(second.times("hpkeOpen", "any")).toBe(12)
    }))

  it.scoped("the outcomes of a minute leave with its slot: a long-lived node keeps only the live minutes'", () =>
    Effect.gen(function*() {
      const sim = yield* network
      yield* fillBothSlots(sim, MINUTE)
      const counts = counting()
      const reader = yield* publisherOf(sim, 4, counts.crypto)
      expect(yield* reader.getRecords(MINUTE)).toHaveLength(3)
      expect(counts.times("hpkeOpen", "any")).toBe(12)
      // Four later minutes push MINUTE out of the slot cache (their slots are empty: nothing to open).
      for (const later of [1n, 2n, 3n, 4n]) yield* reader.getRecords(MINUTE + later)
      expect(counts.times("hpkeOpen", "any")).toBe(12)
      // Its values are opened again: their outcomes went with the slot. Before, one memo shared by all minutes
      // still answered, and kept dead minutes' records for as long as it took 512 newer ones to push them out.
      expect(yield* reader.getRecords(MINUTE)).toHaveLength(3)
      expect(counts.times("hpkeOpen", "any")).toBe(24)
    }))
})
