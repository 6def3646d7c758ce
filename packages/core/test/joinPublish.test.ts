/**
 * A joiner's empty startup record replaces the swarm's record in the slot (the storing nodes keep the last writer,
 * as the public DHT's do), and it names nobody but the joiner. Found tracing late joins: when that joiner left
 * before its publisher's first tick (10 s after its join), the next joiner read only its dead id and needed
 * seconds (a failed round, the poll interval, another round) instead of ~100 ms. A join now publishes once at once
 * with the neighbour it got, so the slot points into the swarm again.
 */
import { Config, Dht } from "@dtt/core"
import { SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Context, Effect, Exit, Scope, Stream } from "effect"
import { advance, advanceUntil, hasNeighbor, joinOn, nodeContext, startNode } from "./support/sim.js"

describe("the record a join leaves in the slot", () => {
  it.scoped("a joiner that leaves at once does not hide the swarm from the next joiner", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const anchor = yield* startNode(sim, 0)
      // The anchor is alone and has written its startup record; the joiner's lands in the same minute's slot.
      yield* advance("3 seconds")
      const leaving = yield* Scope.make()
      const brief = yield* Scope.extend(startNode(sim, 1), leaving)
      expect(yield* advanceUntil(brief.isJoined, "10 seconds"), "the first joiner never joined").toBeGreaterThanOrEqual(
        0
      )
      yield* advance("1 second")
      yield* Scope.close(leaving, Exit.void)
      const next = yield* startNode(sim, 2)
      const took = yield* advanceUntil(
        hasNeighbor(next, anchor.endpointId),
        "30 seconds",
        "50 millis"
      )
      expect(took, "the next joiner never reached the anchor").toBeGreaterThanOrEqual(0)
      // One bootstrap round: read both slots, dial the candidates (100 ms each), confirm.
      expect(took).toBeLessThan(1500)
    }))
})

/** The joiner's DHT calls, each delayed by 100 ms and logged with its start time (TestClock ms). */
const loggedJoiner = (sim: SimNetwork.SimNetwork, config: Config.Config) =>
  Effect.gen(function*() {
    const context = yield* nodeContext(sim, 1)
    const dht = Context.get(context, Dht.Dht)
    const calls: Array<{ readonly op: "get" | "put"; readonly at: number }> = []
    /** Logs the call's start, waits 100 ms, then makes it. */
    const logged = (op: "get" | "put") => <A, E>(call: Effect.Effect<A, E>) =>
      Clock.currentTimeMillis.pipe(
        Effect.tap((at) => calls.push({ op, at })),
        Effect.zipRight(Effect.sleep("100 millis")),
        Effect.zipRight(call)
      )
    const slow: Dht.DhtService = {
      getMutable: (publicKey, salt) => logged("get")(dht.getMutable(publicKey, salt)),
      putMutable: (item, options) => logged("put")(dht.putMutable(item, options))
    }
    const topic = yield* joinOn(Context.add(context, Dht.Dht, slow), { config })
    const writes: Array<string> = []
    yield* Effect.forkScoped(Stream.runForEach(topic.discovery, (e) =>
      Effect.sync(() => {
        if ((e._tag === "Published" || e._tag === "PublishSkipped") && e.record === "bootstrap") writes.push(e._tag)
      })))
    return { calls, topic, writes }
  })

describe("the start-up record of a late joiner", () => {
  const withPublisher = (enabled: boolean) => Config.decodeSync({ publisher: { enabled } })

  it.scoped("waits for the first round's reads: until the first neighbour the joiner only reads its four slots", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      yield* startNode(sim, 0)
      yield* advance("3 seconds")
      const start = yield* Clock.currentTimeMillis
      const { calls, topic, writes } = yield* loggedJoiner(sim, withPublisher(true))
      const took = yield* advanceUntil(topic.isJoined, "5 seconds", "10 millis")
      expect(took, "the joiner never joined").toBeGreaterThanOrEqual(0)
      // Its start-up record's get and puts used to run beside these reads (six gets at once, a put before the
      // dial): on one thread that doubled a late joiner's time to its first neighbour.
      const beforeJoin = calls.filter((c) => c.at - start < took - 10)
      expect(beforeJoin).toEqual(Array.from({ length: 4 }, () => ({ op: "get", at: start })))
      // The join publish stands in for the start-up record (here the cap skips it: the anchor, joined by our
      // dial, has just published a record naming us both).
      yield* advance("1 second")
      expect(writes.length).toBe(1)
    }))

  it.scoped("is still written after a first-round join when the publisher is off", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      yield* startNode(sim, 0)
      yield* advance("3 seconds")
      const { calls, topic, writes } = yield* loggedJoiner(sim, withPublisher(false))
      expect(yield* advanceUntil(topic.isJoined, "5 seconds", "10 millis")).toBeGreaterThanOrEqual(0)
      expect(calls.filter((c) => c.op === "put")).toEqual([])
      expect(writes).toEqual([])
      yield* advance("1 second")
      expect(writes.length).toBe(1)
    }))
})
