// The soft timeout: silent nodes must not cost a lookup or a store the full request timeout each.
// Counts, not wall-clock: a request that waited to its hard timeout is in `stats.timeouts`.
import { Crypto } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Either, Fiber, Stream, TestClock } from "effect"
import { DhtMainline, Testbed } from "../src/index.js"
import { settleWithPatience } from "../src/internal/patience.js"
import type * as Rpc from "../src/internal/rpc.js"
import * as Rtt from "../src/internal/rtt.js"
import { bytesOf, seedOf, signItem } from "./helpers.js"

describe("RTT estimator", () => {
  const bounds = { floor: 400, ceiling: 2000, initial: 1000 }

  it("starts at the initial value, then follows srtt + 4·rttvar within floor and ceiling", () => {
    const rtt = Rtt.make(bounds)
    expect(rtt.softTimeout()).toBe(1000)
    expect(rtt.smoothed()).toBeUndefined()
    rtt.sample(150) // srtt 150, rttvar 75: 450
    expect(rtt.softTimeout()).toBe(450)
    for (let i = 0; i < 50; i++) rtt.sample(150) // variance decays: the floor holds
    expect(rtt.smoothed()).toBeCloseTo(150, 5)
    expect(rtt.softTimeout()).toBe(400)
  })

  it("widens with scattered round trips and never passes the ceiling; ignores nonsense samples", () => {
    const rtt = Rtt.make(bounds)
    for (let i = 0; i < 40; i++) rtt.sample(i % 2 === 0 ? 50 : 500) // public DHT spread
    const scattered = rtt.softTimeout()
    expect(scattered).toBeGreaterThan(700)
    expect(scattered).toBeLessThan(2000)
    for (let i = 0; i < 40; i++) rtt.sample(5000)
    expect(rtt.softTimeout()).toBe(2000)
    const before = rtt.smoothed()
    rtt.sample(Number.NaN)
    rtt.sample(-1)
    expect(rtt.smoothed()).toBe(before)
  })
})

const fakeRpc = (softTimeoutMillis: number): Rpc.Rpc =>
  ({
    softTimeout: () => softTimeoutMillis,
    stats: { stalledRequests: 0 }
  }) as unknown as Rpc.Rpc

describe("settleWithPatience (virtual time)", () => {
  it.effect("one answered, one silent: returns after the soft timeout with the silent one unanswered", () =>
    Effect.gen(function*() {
      const rpc = fakeRpc(300)
      const fiber = yield* Effect.fork(
        settleWithPatience(rpc, [
          Effect.succeed("ack"),
          Effect.never,
          Effect.fail("refused").pipe(Effect.delay("50 millis"))
        ])
      )
      yield* TestClock.adjust("299 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const results = yield* Fiber.join(fiber)
      expect(results).toEqual([Either.right("ack"), undefined, Either.left("refused")])
      expect(rpc.stats.stalledRequests).toBe(1)
    }))

  it.effect("nothing answered yet: stalled requests are still waited for", () =>
    Effect.gen(function*() {
      const rpc = fakeRpc(300)
      const fiber = yield* Effect.fork(
        settleWithPatience(rpc, [Effect.succeed("late").pipe(Effect.delay("1500 millis")), Effect.never])
      )
      yield* TestClock.adjust("1 second")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("500 millis")
      expect(yield* Fiber.join(fiber)).toEqual([Either.right("late"), undefined])
      expect(rpc.stats.stalledRequests).toBe(1)
    }))
})

describe("lookups over silent nodes (loopback Testbed)", () => {
  // A hard timeout far above the soft one: a lookup that waits for a silent node shows up in `timeouts`.
  const patient = { requestTimeout: "4 seconds" } as const

  it.scopedLive("30 % silent: get and put wait for no request timeout, yet find and store the item", () =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({
        size: 14,
        silentShare: 0.3,
        seed: 7,
        bootstrapRounds: 1,
        node: { requestTimeout: "300 millis" }
      })
      expect(bed.silent).toHaveLength(4)
      const client = yield* DhtMainline.makeNode(bed.clientOptions(patient))
      yield* client.bootstrap
      const item = signItem(seedOf(21), bytesOf("slot"), bytesOf("past the silent ones"), 1n)

      const before = { ...client.stats }
      const receipt = yield* client.transport.store(item, undefined)
      const found = yield* Stream.runCollect(client.transport.lookup(item.publicKey, item.salt))

      // No lookup waited for a silent node to time out (before the soft timeout: one per silent node asked)...
      expect(client.stats.timeouts - before.timeouts).toBe(0)
      // ...though silent nodes were asked (the routing table holds them): they stopped holding the lookups up.
      expect(client.stats.stalledRequests - before.stalledRequests).toBeGreaterThanOrEqual(2)
      expect(receipt.storedAt).toBeGreaterThanOrEqual(bed.nodes.length - bed.silent.length - 2)
      expect(Chunk.toArray(found).map((i) => Buffer.from(i.value).toString())).toContain("past the silent ones")
    }).pipe(Effect.provide(Crypto.layer)))

  it.scopedLive("every node silent: the lookup still waits the request timeout and reports that nobody answered", () =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({ size: 3, bootstrapRounds: 0, impairment: { silent: true } })
      const client = yield* DhtMainline.makeNode(bed.clientOptions({ requestTimeout: "600 millis" }))
      const item = signItem(seedOf(22), bytesOf("slot"), bytesOf("nobody"), 1n)
      const result = yield* Effect.either(client.transport.store(item, undefined))
      expect(Either.isLeft(result) && result.left._tag).toBe("DhtUnavailable")
      expect(client.stats.timeouts).toBe(client.stats.requestsSent)
    }).pipe(Effect.provide(Crypto.layer)))
})
