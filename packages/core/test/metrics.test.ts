/**
 * The `dtt_` metrics (`Metrics`) count exactly what happened in a scripted run on the memory network (TestClock):
 * record publishers' gets, puts, opened and rejected values and cap decisions; and two topics' joins, neighbours,
 * dials and messages. Metrics are process-wide, so each check compares a snapshot taken before the step with one
 * taken after it.
 */
import { Config, GossipRecordContent, Keys, Metrics, type RecordPublisher, Topic } from "@dtt/core"
import { MemoryDht, SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, Scope, TestClock } from "effect"
import { publisherOf, signedSlotItem } from "./support/records.js"
import { advance, advanceUntil, nodeContext, SECRET, startNode, TOPIC } from "./support/sim.js"

const MINUTE = 29_000_000n
const LATENCY_MS = 20

const keyOf = (s: Metrics.Sample) => `${s.name}${JSON.stringify(Object.entries(s.tags).sort())}`

/** Growth of every `dtt_` series between two snapshots: counters and gauges by value, histograms by count and sum. */
const diff = (before: ReadonlyArray<Metrics.Sample>, after: ReadonlyArray<Metrics.Sample>) => {
  const old = new Map(before.map((s) => [keyOf(s), s]))
  const out = new Map<string, number>()
  for (const s of after) {
    const was = old.get(keyOf(s))
    if (s.kind === "histogram") {
      const count = s.count - (was?.kind === "histogram" ? was.count : 0)
      const sum = s.sum - (was?.kind === "histogram" ? was.sum : 0)
      if (count !== 0) out.set(`${keyOf(s)}.count`, count)
      if (sum !== 0) out.set(`${keyOf(s)}.sum`, sum)
    } else {
      const grown = s.value - (was !== undefined && was.kind !== "histogram" ? was.value : 0)
      if (grown !== 0) out.set(keyOf(s), grown)
    }
  }
  return Object.fromEntries(out)
}

/** The growth of the `dtt_` metrics while `effect` runs. */
const measuring = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = yield* Metrics.snapshot
    const result = yield* effect
    return { result, grown: diff(before, yield* Metrics.snapshot) }
  })

/** Run `effect` while moving the TestClock on, so the memory DHT's latency elapses. */
const inVirtualTime = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust("1 second")
    return yield* Fiber.join(fiber)
  })

const series = (name: string, tags: { readonly [tag: string]: string } = {}) =>
  `${name}${JSON.stringify(Object.entries(tags).sort())}`

const withPeer = Either.getOrThrow(GossipRecordContent.make({ activePeers: [new Uint8Array(32).fill(7)] }))

const publish = (p: RecordPublisher.RecordPublisher, minute: bigint) =>
  Effect.flatMap(p.newRecord(minute, withPeer), (record) => p.publishRecord(record))

/** Signed junk in the compatible slot of `minute`: a valid BEP44 item whose value is no record. */
const junk = (minute: bigint) => signedSlotItem(Keys.slot(TOPIC.hash, minute), new Uint8Array(600).fill(7))

const slot = { slot: "compatible" }

/** The growth from `n` gets of the compatible slot that answered, each after the DHT's latency. */
const answeredGets = (n: number) => ({
  [series("dtt_dht_gets", { outcome: "ok", ...slot })]: n,
  [series("dtt_dht_get_duration_ms") + ".count"]: n,
  [series("dtt_dht_get_duration_ms") + ".sum"]: n * LATENCY_MS,
  [series("dtt_record_dht_gets", slot)]: n
})

describe("dtt_ metrics", () => {
  it.scoped("record publishers: gets, puts, latency, opened and rejected values, cap decisions", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Number(MINUTE) * 60_000)
      const sim = yield* SimNetwork.make({ dht: { latency: `${LATENCY_MS} millis` } })
      const a = yield* publisherOf(sim, 0)
      const b = yield* publisherOf(sim, 1)
      const stranger = yield* publisherOf(sim, 2, { initialSecret: "another secret" })

      // a publishes into an empty slot: one get (nothing there), the cap lets it write, one put.
      const first = yield* measuring(inVirtualTime(publish(a, MINUTE)))
      expect(first.result._tag).toBe("Published")
      expect(first.grown).toEqual({
        ...answeredGets(1),
        [series("dtt_dht_puts", { outcome: "ok", ...slot })]: 1,
        [series("dtt_dht_put_duration_ms") + ".count"]: 1,
        [series("dtt_dht_put_duration_ms") + ".sum"]: LATENCY_MS,
        [series("dtt_record_dht_puts", slot)]: 1,
        [series("dtt_publish_decisions", { decision: "published", ...slot })]: 1
      })

      // b reads a's record (it names a peer), so b's own publish is skipped: the slot is full.
      const second = yield* measuring(inVirtualTime(publish(b, MINUTE)))
      expect(second.result._tag).toBe("Skipped")
      expect(second.grown).toEqual({
        ...answeredGets(1),
        [series("dtt_records_seen", slot)]: 1,
        [series("dtt_records_opened", slot)]: 1,
        [series("dtt_publish_decisions", { decision: "slotFull", ...slot })]: 1
      })

      // A record sealed under another secret, then signed junk of the wrong size: both found, neither opens.
      expect((yield* inVirtualTime(publish(stranger, MINUTE + 1n)))._tag).toBe("Published")
      yield* MemoryDht.inject(sim.dht, junk(MINUTE + 2n))
      const rejected = yield* measuring(
        inVirtualTime(Effect.all([b.getRecords(MINUTE + 1n), b.getRecords(MINUTE + 2n)]))
      )
      expect(rejected.result).toEqual([[], []])
      expect(rejected.grown).toEqual({
        ...answeredGets(2),
        [series("dtt_records_seen", slot)]: 2,
        [series("dtt_records_rejected", { reason: "CannotDecrypt", ...slot })]: 1,
        [series("dtt_records_rejected", { reason: "WrongLength", ...slot })]: 1
      })

      // The DHT goes offline: the get fails at once (its latency, 0 ms, is still recorded), so the publish fails.
      yield* MemoryDht.setOnline(sim.dht, false)
      const offline = yield* measuring(inVirtualTime(Effect.exit(publish(a, MINUTE + 3n))))
      expect(Exit.isFailure(offline.result)).toBe(true)
      expect(offline.grown).toEqual({
        [series("dtt_dht_gets", { outcome: "error", ...slot })]: 1,
        [series("dtt_dht_get_duration_ms") + ".count"]: 1,
        [series("dtt_record_dht_gets", slot)]: 1,
        [series("dtt_publish_decisions", { decision: "failed", ...slot })]: 1
      })
    }))

  it.scoped("two topics: joins, join duration, neighbours, dials, messages and bytes in and out", () =>
    Effect.gen(function*() {
      const before = yield* Metrics.snapshot
      const sim = yield* SimNetwork.make()
      const nodes = yield* Scope.make()
      const config = Config.defaults
      const a = yield* Scope.extend(startNode(sim, 0, { config }), nodes)
      yield* advance("5 seconds")
      const b = yield* Scope.extend(startNode(sim, 1, { config }), nodes)
      expect(yield* advanceUntil(Effect.zipWith(a.isJoined, b.isJoined, (x, y) => x && y), "60 seconds"))
        .toBeGreaterThanOrEqual(0)
      const [sender] = yield* Scope.extend(a.split, nodes)
      const [, receiver] = yield* Scope.extend(b.split, nodes)
      const payload = new TextEncoder().encode("hello, metrics")
      yield* sender.broadcast(payload)
      const received = yield* Effect.fork(receiver.next)
      yield* advance("1 second")
      expect((yield* Fiber.join(received))._tag).toBe("Received")

      const joined = diff(before, yield* Metrics.snapshot)
      expect(joined[series("dtt_joins", { outcome: "joined" })]).toBe(2)
      expect(joined[series("dtt_join_duration_ms") + ".count"]).toBe(2)
      expect(joined[series("dtt_neighbors")]).toBe(2)
      expect(joined[series("dtt_neighbor_changes", { change: "up" })]).toBe(2)
      expect(joined[series("dtt_messages_out", { scope: "swarm" })]).toBe(1)
      expect(joined[series("dtt_bytes_out", { scope: "swarm" })]).toBe(payload.length)
      expect(joined[series("dtt_messages_in")]).toBe(1)
      expect(joined[series("dtt_bytes_in")]).toBe(payload.length)
      expect(joined[series("dtt_dials_attempted")]).toBeGreaterThanOrEqual(1)
      expect(joined[series("dtt_dials_failed")]).toBeUndefined()
      // Every get and put the memory DHT served was counted, under some outcome and slot.
      const dht = (yield* MemoryDht.stats(sim.dht)).totals
      const sum = (name: string) =>
        Object.entries(joined).filter(([k]) => k.startsWith(`${name}[`)).reduce((n, [, v]) => n + v, 0)
      expect(sum("dtt_dht_gets")).toBe(dht.gets)
      expect(sum("dtt_dht_puts")).toBe(dht.puts)

      // Closing both topics takes their neighbours off the gauge; the joins stay counted once.
      yield* Scope.close(nodes, Exit.void)
      const closed = diff(before, yield* Metrics.snapshot)
      expect(closed[series("dtt_neighbors")]).toBeUndefined()
      expect(closed[series("dtt_joins", { outcome: "joined" })]).toBe(2)
      expect(closed[series("dtt_joins", { outcome: "closed" })]).toBeUndefined()
    }))

  it.scoped("join outcomes other than joined, a receiver that falls behind, a failed dial", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      // A lone node's join times out; another's topic is closed before anyone came.
      const timedOut = yield* measuring(Effect.gen(function*() {
        const context = yield* nodeContext(sim, 0)
        const joining = yield* Effect.fork(
          Effect.provide(Topic.join(TOPIC, { secret: SECRET, config: Config.defaults, timeout: "5 seconds" }), context)
        )
        yield* advance("6 seconds", "1 second")
        return yield* Fiber.await(joining)
      }))
      expect(Exit.isFailure(timedOut.result)).toBe(true)
      expect(timedOut.grown[series("dtt_joins", { outcome: "timeout" })]).toBe(1)
      expect(timedOut.grown[series("dtt_joins", { outcome: "joined" })]).toBeUndefined()
      expect(timedOut.grown[series("dtt_join_duration_ms") + ".count"]).toBeUndefined()
      const closedEarly = yield* measuring(Effect.gen(function*() {
        const topic = yield* startNode(sim, 1)
        yield* advance("1 second")
        yield* topic.close
        yield* topic.close
      }))
      expect(closedEarly.grown[series("dtt_joins", { outcome: "closed" })]).toBe(1)

      // Two joined nodes; 70 messages to a receiver that reads nothing: it is told once that it lagged.
      const a = yield* startNode(sim, 2)
      const b = yield* startNode(sim, 3)
      yield* advanceUntil(Effect.zipWith(a.isJoined, b.isJoined, (x, y) => x && y), "60 seconds")
      const [sender] = yield* a.split
      const [, receiver] = yield* b.split
      const flood = yield* measuring(Effect.gen(function*() {
        for (let i = 0; i < 70; i++) yield* sender.broadcast(new Uint8Array([i]))
        yield* advance("1 second")
        return yield* receiver.next
      }))
      expect(flood.result._tag).toBe("Lagged")
      expect(flood.grown[series("dtt_messages_out", { scope: "swarm" })]).toBe(70)
      expect(flood.grown[series("dtt_messages_in")]).toBe(70)
      expect(flood.grown[series("dtt_bytes_in")]).toBe(70)
      expect(flood.grown[series("dtt_messages_lagged", { where: "receiver" })]).toBe(1)

      // A dial on a closed topic fails: attempted and failed, once each.
      yield* a.close
      const dial = yield* measuring(Effect.exit(sender.joinPeers([b.endpointId])))
      expect(Exit.isFailure(dial.result)).toBe(true)
      expect(dial.grown[series("dtt_dials_attempted")]).toBe(1)
      expect(dial.grown[series("dtt_dials_failed")]).toBe(1)
    }))
})
