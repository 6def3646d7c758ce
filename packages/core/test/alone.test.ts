/**
 * A joined node whose neighbours have all left must look again (iroh-gossip users hit this:
 * n0-computer/iroh-gossip#86, #152). Here the lone node is also absent from the slots (its publisher off, as when
 * the cap skips it because the slot shows records of departed nodes), so nobody will dial it: unless it reads the
 * slots itself, it stays alone however many nodes join after.
 */
import { Config } from "@dtt/core"
import { MemoryDht, SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import { advance, advanceUntil, hasNeighbor, startNode } from "./support/sim.js"

const silent = Config.decodeSync({
  publisher: { enabled: false },
  merge: { bubble: { enabled: false }, messageOverlap: { enabled: false } }
})

describe("a node left alone", () => {
  it.scoped("finds the next joiner by itself after its only neighbour left", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const lone = yield* startNode(sim, 0, { config: silent })
      const leaving = yield* Scope.make()
      const b = yield* Scope.extend(startNode(sim, 1), leaving)
      expect(yield* advanceUntil(Effect.zipWith(lone.isJoined, b.isJoined, (x, y) => x && y), "60 seconds"))
        .toBeGreaterThanOrEqual(0)
      yield* Scope.close(leaving, Exit.void)
      expect(yield* advanceUntil(Effect.map(lone.isJoined, (joined) => !joined), "30 seconds")).toBeGreaterThanOrEqual(
        0
      )
      // Let the lone node's own record of its join minute age out of the slots read (current and previous minute).
      yield* advance("3 minutes", "1 second")
      const c = yield* startNode(sim, 2)
      const took = yield* advanceUntil(
        hasNeighbor(lone, c.endpointId),
        "60 seconds",
        "500 millis"
      )
      expect(took, "the lone node never found the newcomer").toBeGreaterThanOrEqual(0)
    }))

  it.scoped("the last member of a topic looks again with growing rests, not at bootstrap speed", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const last = yield* startNode(sim, 0)
      const leaving = yield* Scope.make()
      yield* Scope.extend(startNode(sim, 1), leaving)
      yield* advanceUntil(last.isJoined, "60 seconds")
      yield* Scope.close(leaving, Exit.void)
      yield* advance("2 minutes", "1 second")
      const gets = Effect.map(MemoryDht.stats(sim.dht), (s) => s.byClient.get(last.endpointId)?.gets ?? 0)
      const before = yield* gets
      yield* advance("20 minutes", "1 second")
      // Every read gets the minute's compatible slot and, with privateSlots (the default), its private slot too:
      // count per slot kind.
      const slotKinds = Config.decodeSync({}).bootstrap.privateSlots ? 2 : 1
      const perMinute = ((yield* gets) - before) / 20 / slotKinds
      // Measured: 11 a minute per slot kind (3.7 of them the publisher, which is all there is with rediscoverAfter
      // 0); bootstrap speed would be ~60 (two minutes' slots every ~2 s).
      expect(perMinute).toBeLessThan(20)
      expect(perMinute).toBeGreaterThan(5) // it does keep looking
    }))
})
