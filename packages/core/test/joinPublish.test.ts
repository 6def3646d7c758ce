/**
 * A joiner's empty startup record replaces the swarm's record in the slot (the storing nodes keep the last writer,
 * as the public DHT's do), and it names nobody but the joiner. Found tracing late joins: when that joiner left
 * before its publisher's first tick (10 s after its join), the next joiner read only its dead id and needed
 * seconds (a failed round, the poll interval, another round) instead of ~100 ms. A join now publishes once at once
 * with the neighbour it got, so the slot points into the swarm again.
 */
import { SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import { advance, advanceUntil, startNode } from "./support/sim.js"

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
        Effect.map(next.neighbors, (ns) => ns.includes(anchor.endpointId)),
        "30 seconds",
        "50 millis"
      )
      expect(took, "the next joiner never reached the anchor").toBeGreaterThanOrEqual(0)
      // One bootstrap round: read both slots, dial the candidates (100 ms each), confirm.
      expect(took).toBeLessThan(1500)
    }))
})
