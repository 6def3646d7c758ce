// Testbed impairments on real UDP (127.0.0.1): loss, silent nodes, latency. Behaviour only: who answers, and
// that a delayed answer is not early (lower bounds; no upper bound on a loaded machine).
import { Bep44, Crypto } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Either } from "effect"
import { Bencode, DhtMainline, Testbed } from "../src/index.js"
import * as Rpc from "../src/internal/rpc.js"
import { bytesOf, seedOf, signItem } from "./helpers.js"

const pinger = (timeout: Duration.DurationInput) =>
  Rpc.make({
    host: "127.0.0.1",
    port: 0,
    readOnly: true,
    requestTimeout: Duration.decode(timeout),
    maxInFlight: 64,
    inboxCapacity: 256,
    onQuery: () => undefined
  })

const ping = (rpc: Rpc.Rpc, node: DhtMainline.MainlineNode) =>
  Effect.either(rpc.request(node.address, "ping", Bencode.dict({ id: new Uint8Array(20).fill(7) })))

/** How many of `tries` pings each node answers. */
const answered = (rpc: Rpc.Rpc, nodes: ReadonlyArray<DhtMainline.MainlineNode>, tries: number) =>
  Effect.forEach(
    nodes,
    (node) =>
      Effect.forEach(Array.from({ length: tries }), () => ping(rpc, node), { concurrency: "unbounded" }).pipe(
        Effect.map((rs) => rs.filter(Either.isRight).length)
      ),
    { concurrency: "unbounded" }
  )

/** Silent nodes cost a full request timeout each time someone asks them: keep it short. */
const quick = { requestTimeout: "300 millis" } as const

describe("Testbed impairments", () => {
  // Total loss on one node, either way: inbound never reaches its server; outbound is read and answered, then lost.
  const totalLoss = [
    {
      title: "inbound loss 1.0 on one node: it never answers, the others always do",
      impairment: { inbound: { loss: 1 } },
      size: 4,
      lossy: 2,
      answers: [5, 5, 0, 5],
      queriesAnswered: 0
    },
    {
      title: "outbound loss 1.0: the node reads every query and answers into the void",
      impairment: { outbound: { loss: 1 } },
      size: 2,
      lossy: 1,
      answers: [5, 0],
      queriesAnswered: 5
    }
  ] as const
  for (const c of totalLoss) {
    it.scopedLive(c.title, () =>
      Effect.gen(function*() {
        const bed = yield* Testbed.make({
          size: c.size,
          bootstrapRounds: 0,
          impairment: (i) => (i === c.lossy ? c.impairment : undefined)
        })
        const rpc = yield* pinger("400 millis")
        expect(yield* answered(rpc, bed.nodes, 5)).toEqual(c.answers)
        expect(bed.nodes[c.lossy]!.stats.impairedDrops).toBe(5)
        expect(bed.nodes[c.lossy]!.stats.queriesAnswered).toBe(c.queriesAnswered)
      }).pipe(Effect.provide(Crypto.layer)))
  }

  it.scopedLive("loss 0.5 drops some and passes some (seeded)", () =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({ size: 1, bootstrapRounds: 0, seed: 3, impairment: { inbound: { loss: 0.5 } } })
      const rpc = yield* pinger("400 millis")
      const [got] = yield* answered(rpc, bed.nodes, 40)
      expect(got).toBeGreaterThan(5)
      expect(got).toBeLessThan(35)
      expect(bed.nodes[0]!.stats.impairedDrops).toBe(40 - got!)
    }).pipe(Effect.provide(Crypto.layer)))

  it.scopedLive("silentShare 0.3 of 10: exactly 3 nodes never answer, not the first, not in bootstrap; same seed, same set", () =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({ size: 10, silentShare: 0.3, seed: 11, bootstrapRounds: 1, node: quick })
      expect(bed.silent).toHaveLength(3)
      expect(bed.silent).not.toContain(0)
      const rpc = yield* pinger("400 millis")
      const counts = yield* answered(rpc, bed.nodes, 2)
      expect(counts.flatMap((c, i) => (c === 0 ? [i] : []))).toEqual(bed.silent)
      expect(counts.filter((c) => c === 2)).toHaveLength(7)
      const silentAddresses = bed.silent.map((i) => `127.0.0.1:${bed.nodes[i]!.address.port}`)
      expect(bed.bootstrap.some((b) => silentAddresses.includes(b))).toBe(false)
      // Silent, not absent: they ran their own lookups, so the others learn them (and wait for them in vain).
      for (const i of bed.silent) expect(bed.nodes[i]!.stats.requestsSent).toBeGreaterThan(0)
      for (const i of bed.silent) expect(bed.nodes[i]!.stats.queriesAnswered).toBe(0)
      const again = yield* Testbed.make({ size: 10, silentShare: 0.3, seed: 11, bootstrapRounds: 0, node: quick })
      expect(again.silent).toEqual(bed.silent)
    }).pipe(Effect.provide(Crypto.layer)))

  it.scopedLive("a put and a get still work on a testbed with 30 % silent nodes", () =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({ size: 12, silentShare: 0.3, seed: 5, bootstrapRounds: 1, node: quick })
      const item = signItem(seedOf(9), bytesOf("salt"), bytesOf("value under silence"), 1n)
      const fast = { retries: 0, putTimeout: Duration.seconds(15), getTimeout: Duration.seconds(15) }
      const { dht } = yield* DhtMainline.makeService(bed.clientOptions({ dht: fast, requestTimeout: "500 millis" }))
      const receipt = yield* dht.putMutable(item)
      expect(receipt.storedAt).toBeGreaterThanOrEqual(1)
      // A node that never answers hands out no write token, so it never stores.
      const target = Bep44.target(item.publicKey, item.salt)
      expect(bed.silent.filter((i) => bed.nodes[i]!.stored(target) !== undefined)).toEqual([])
      const got = yield* dht.getMutable(item.publicKey, item.salt)
      expect(got.map((i) => Buffer.from(i.value).toString())).toContain("value under silence")
    }).pipe(Effect.provide(Crypto.layer)))

  it.scopedLive("latency 100 ms in and 100 ms out: no answer comes back sooner than 200 ms", () =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({
        size: 2,
        bootstrapRounds: 0,
        impairment: (i) =>
          i === 1
            ? { inbound: { latency: "100 millis", jitter: "20 millis" }, outbound: { latency: "100 millis" } }
            : undefined
      })
      const rpc = yield* pinger("5 seconds")
      const rtt = (node: DhtMainline.MainlineNode) =>
        Effect.gen(function*() {
          const start = yield* Clock.currentTimeMillis
          const r = yield* ping(rpc, node)
          expect(Either.isRight(r)).toBe(true)
          return (yield* Clock.currentTimeMillis) - start
        })
      const delayed = yield* Effect.forEach(Array.from({ length: 5 }), () => rtt(bed.nodes[1]!), {
        concurrency: "unbounded"
      })
      // 100 + (100 - 20) is the least a ping can take.
      for (const ms of delayed) expect(ms).toBeGreaterThanOrEqual(180)
      expect(bed.nodes[1]!.stats.queriesAnswered).toBe(5)
    }).pipe(Effect.provide(Crypto.layer)))
})
