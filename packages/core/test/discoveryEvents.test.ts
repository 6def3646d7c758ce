/**
 * `Topic.discovery`: the typed story of a join on the memory network (TestClock), of a node left alone, and of a
 * DHT that never answers (told within 15 s; discovery then backs off instead of reading every 1.5 s).
 */
import { Config, Crypto, type DiscoveryEvent, Topic } from "@dtt/core"
import { MemoryDht, SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber, Layer, Option, Scope, Stream } from "effect"
import { advance, advanceUntil, SECRET, startNode, TOPIC } from "./support/sim.js"

type Event = DiscoveryEvent.DiscoveryEvent

/** Every discovery event of `topic` (replayed history first), collected for the ambient scope. */
const collect = (topic: Topic.Topic) =>
  Effect.gen(function*() {
    const seen: Array<Event> = []
    yield* Effect.forkScoped(Stream.runForEach(topic.discovery, (e) => Effect.sync(() => seen.push(e))))
    return seen
  })

const tags = (events: ReadonlyArray<Event>) => events.map((e) => e._tag)

/** Index of the first `tag` at or after `from`, -1 if none. */
const indexOf = (events: ReadonlyArray<Event>, tag: Event["_tag"], from = 0) =>
  events.findIndex((e, i) => i >= from && e._tag === tag)

describe("discovery events", () => {
  it.scoped("a join: DhtBootstrapped, RecordsFound, Dialing, Joined, in that order", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const a = yield* startNode(sim, 0)
      yield* advance("10 seconds", "1 second")
      const b = yield* startNode(sim, 1)
      const events = yield* collect(b)
      expect(yield* advanceUntil(b.isJoined, "30 seconds")).toBeGreaterThanOrEqual(0)
      yield* advance("1 second")
      const bootstrapped = indexOf(events, "DhtBootstrapped")
      const found = events.findIndex((e) => e._tag === "RecordsFound" && e.records > 0)
      const dialing = indexOf(events, "Dialing")
      const joined = indexOf(events, "Joined")
      expect(tags(events).slice(0, joined + 1)).toContain("Dialing")
      expect(bootstrapped).toBe(0)
      expect(found).toBeGreaterThan(bootstrapped)
      expect(dialing).toBeGreaterThan(found)
      expect(joined).toBeGreaterThan(dialing)
      const dial = events[dialing]!
      expect(dial._tag === "Dialing" && dial.peers).toContain(a.endpointId)
      const join = events[joined]!
      expect(join._tag === "Joined" && join.neighbor).toBe(a.endpointId)
      const read = events[found]!
      expect(read._tag === "RecordsFound" && read.opened).toBeGreaterThanOrEqual(read._tag === "RecordsFound" ? 1 : 0)
      // A reader that starts late is replayed the same history.
      const late = yield* collect(b)
      yield* advance("100 millis")
      expect(tags(late).slice(0, joined + 1)).toEqual(tags(events).slice(0, joined + 1))
    }))

  it.scoped("the only neighbour leaves: AloneAgain, then Rediscovering", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const lone = yield* startNode(sim, 0)
      const events = yield* collect(lone)
      const leaving = yield* Scope.make()
      const b = yield* Scope.extend(startNode(sim, 1), leaving)
      yield* advanceUntil(Effect.zipWith(lone.isJoined, b.isJoined, (x, y) => x && y), "60 seconds")
      yield* Scope.close(leaving, Exit.void)
      yield* advance("15 seconds", "500 millis")
      const joined = indexOf(events, "Joined")
      const alone = indexOf(events, "AloneAgain", joined)
      const rediscovering = indexOf(events, "Rediscovering", alone)
      expect(joined).toBeGreaterThanOrEqual(0)
      expect(alone).toBeGreaterThan(joined)
      expect(rediscovering).toBeGreaterThan(alone)
      const leftBy = events[alone]!
      expect(leftBy._tag === "AloneAgain" && leftBy.peer).toBe(b.endpointId)
      const again = events[rediscovering]!
      expect(again._tag === "Rediscovering" && Duration.toMillis(again.aloneFor)).toBeGreaterThanOrEqual(5000)
    }))

  it.scoped("a DHT whose gets all fail: DhtUnreachable within 15 s, then backed-off retries", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      yield* MemoryDht.setOnline(sim.dht, false)
      const node = yield* startNode(sim, 0)
      const events = yield* collect(node)
      const took = yield* advanceUntil(
        Effect.sync(() => indexOf(events, "DhtUnreachable") >= 0),
        "15 seconds",
        "500 millis"
      )
      expect(took, `no DhtUnreachable in 15 s; events: ${tags(events).join(", ")}`).toBeGreaterThanOrEqual(0)
      const said = events[indexOf(events, "DhtUnreachable")]!
      expect(said._tag === "DhtUnreachable" && said.reason).toBe("memory DHT is offline")
      expect(tags(events)).not.toContain("DhtBootstrapped")
      // Still trying, but not at bootstrap speed (1.5 s rounds, 4 gets each: ~160 a minute).
      yield* advance("2 minutes", "1 second")
      const before = node.recordPublisher.stats().gets
      yield* advance("5 minutes", "1 second")
      const perMinute = (node.recordPublisher.stats().gets - before) / 5
      expect(perMinute).toBeGreaterThan(0)
      expect(perMinute).toBeLessThanOrEqual(10)
      // Said once; the DHT answering again is told too.
      expect(tags(events).filter((t) => t === "DhtUnreachable")).toHaveLength(1)
      yield* MemoryDht.setOnline(sim.dht, true)
      yield* advance("40 seconds", "1 second")
      expect(tags(events).slice(indexOf(events, "DhtUnreachable"))).toContain("DhtBootstrapped")
    }))

  it.scoped("a join that times out says whether the DHT answered", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const joinOnce = (index: number) =>
        Effect.gen(function*() {
          const context = yield* Layer.build(Layer.merge(sim.node(index), Crypto.layerNode))
          const joining = yield* Effect.fork(
            Effect.provide(
              Topic.join(TOPIC, { secret: SECRET, config: Config.defaults, timeout: "20 seconds" }),
              context
            )
          )
          yield* advance("21 seconds", "1 second")
          const exit = yield* Fiber.await(joining)
          return Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
        })
      // Alone on a working DHT, then with the DHT offline: each timeout names its own cause.
      const diagnoses = [
        { online: true, dhtReachable: true, counted: "answeredGets", says: "no other node has announced this topic" },
        { online: false, dhtReachable: false, counted: "failedGets", says: "no DHT node answered" }
      ] as const
      for (const [index, expected] of diagnoses.entries()) {
        yield* MemoryDht.setOnline(sim.dht, expected.online)
        const error = yield* joinOnce(index)
        expect(error?._tag).toBe("JoinTimeout")
        if (error?._tag === "JoinTimeout") {
          expect(error.dhtReachable).toBe(expected.dhtReachable)
          expect(error[expected.counted]).toBeGreaterThan(0)
          expect(error.message).toContain(expected.says)
        }
      }
    }))
})
