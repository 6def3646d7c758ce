/**
 * The cooperative cap of `RecordPublisher.publishRecord` (PROTOCOL.md "Cooperative cap"): the Rust rule (no
 * write when 5 records of other nodes show) plus ours (no write when the slot shows a record of a joined node,
 * i.e. one advertising a peer, ours included). Memory DHT with zero latency, and storing nodes a client
 * cannot reach cost no waiting either (request timeout 0), so no clock is involved.
 */
import { GossipRecordContent, Keys, type RecordPublisher } from "@dtt/core"
import { MemoryDht, SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either } from "effect"
import { publisherOf } from "./support/records.js"
import { TOPIC } from "./support/sim.js"

const MINUTE = 29_000_000n

const network = SimNetwork.make({ dht: { requestTimeout: Duration.zero } })

/** Content naming one neighbour (what a joined node's publisher writes). */
const withPeer = Either.getOrThrow(
  GossipRecordContent.make({ activePeers: [new Uint8Array(32).fill(7)] })
)

const publish = (
  p: RecordPublisher.RecordPublisher,
  minute: bigint,
  content: GossipRecordContent.GossipRecordContent
) => Effect.flatMap(p.newRecord(minute, content), (record) => p.publishRecord(record))

/** The K storing nodes of `minute`'s slot, so writers can be confined to disjoint parts of them. */
const storingNodesOf = (sim: SimNetwork.SimNetwork, minute: bigint) => {
  const slot = Keys.slot(TOPIC.hash, minute)
  return MemoryDht.storingNodes(sim.dht, slot.publicKey, slot.salt)
}

describe("cooperative cap", () => {
  it.scoped("on a DHT that shows one value per slot, the first record of a joined node fills the slot", () =>
    Effect.gen(function*() {
      const sim = yield* network
      const [a, b, c] = [yield* publisherOf(sim, 0), yield* publisherOf(sim, 1), yield* publisherOf(sim, 2)]
      expect((yield* publish(a, MINUTE, withPeer))._tag).toBe("Published")
      // The Rust rule alone would let both write (1 record < 5) and replace each other's record forever.
      expect(yield* publish(b, MINUTE, withPeer)).toEqual({ _tag: "Skipped", seen: 1 })
      expect(yield* publish(c, MINUTE, withPeer)).toEqual({ _tag: "Skipped", seen: 1 })
      // Our own record counts as well: no rewriting of it every tick.
      expect(yield* publish(a, MINUTE, withPeer)).toEqual({ _tag: "Skipped", seen: 0 })
      const stats = yield* MemoryDht.stats(sim.dht)
      expect(stats.totals.puts).toBe(1)
      // A fresh minute is a fresh slot.
      expect((yield* publish(b, MINUTE + 1n, withPeer))._tag).toBe("Published")
    }))

  it.scoped("a record without peers (a node still bootstrapping) does not fill the slot", () =>
    Effect.gen(function*() {
      const sim = yield* network
      const [a, b, c] = [yield* publisherOf(sim, 0), yield* publisherOf(sim, 1), yield* publisherOf(sim, 2)]
      expect((yield* publish(a, MINUTE, GossipRecordContent.empty))._tag).toBe("Published")
      expect((yield* publish(b, MINUTE, GossipRecordContent.empty))._tag).toBe("Published")
      // A joined node replaces it with a record naming its neighbours; after that the slot is full.
      expect((yield* publish(c, MINUTE, withPeer))._tag).toBe("Published")
      expect((yield* publish(a, MINUTE, GossipRecordContent.empty))._tag).toBe("Skipped")
    }))

  it.scoped("where storing nodes hold different values, one joined record among them fills the slot", () =>
    Effect.gen(function*() {
      const sim = yield* network
      const current = yield* storingNodesOf(sim, MINUTE)
      const [a, b, c] = [yield* publisherOf(sim, 0), yield* publisherOf(sim, 1), yield* publisherOf(sim, 2)]
      // Each of a and b reaches its own third of the slot's storing nodes, so each sees an empty slot and writes:
      // a a bootstrap record, b a record naming a neighbour.
      yield* MemoryDht.setReachable(sim.dht, a.endpointId, current.filter((_, k) => k % 3 === 0))
      yield* MemoryDht.setReachable(sim.dht, b.endpointId, current.filter((_, k) => k % 3 === 1))
      expect((yield* publish(a, MINUTE, GossipRecordContent.empty))._tag).toBe("Published")
      expect((yield* publish(b, MINUTE, withPeer))._tag).toBe("Published")
      // c reaches every storing node: two records, 2 < 5, but one is a joined node's: full.
      expect((yield* c.getRecords(MINUTE)).length).toBe(2)
      expect(yield* publish(c, MINUTE, withPeer)).toEqual({ _tag: "Skipped", seen: 2 })
      // a still reaches only its own third, where it sees nothing of b's: by what it knows, it may write.
      expect((yield* publish(a, MINUTE, withPeer))._tag).toBe("Published")
    }))

  it.scoped("five records of other nodes stop every writer (the Rust rule), whatever else was seen", () =>
    Effect.gen(function*() {
      const sim = yield* network
      const current = yield* storingNodesOf(sim, MINUTE)
      for (let i = 0; i < 5; i++) {
        const w = yield* publisherOf(sim, i)
        yield* MemoryDht.setReachable(sim.dht, w.endpointId, current.filter((_, k) => k % 5 === i))
        expect((yield* publish(w, MINUTE, GossipRecordContent.empty))._tag).toBe("Published")
      }
      const reader = yield* publisherOf(sim, 5)
      // Empty records fill nothing by our rule, but they are 5 records: the Rust rule applies.
      expect(yield* publish(reader, MINUTE, withPeer)).toEqual({ _tag: "Skipped", seen: 5 })
    }))
})
