import { describe, expect, it } from "@effect/vitest"
import { SimNetwork } from "@dtt/testkit"
import { Effect } from "effect"
import { advanceUntil, startNode } from "./support/sim.js"

describe("Topic on the memory network", () => {
  it.scoped("two nodes with the default config join each other", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const a = yield* startNode(sim, 0)
      const b = yield* startNode(sim, 1)
      const took = yield* advanceUntil(Effect.zipWith(a.isJoined, b.isJoined, (x, y) => x && y), "60 seconds")
      expect(took).toBeGreaterThanOrEqual(0)
      expect(yield* a.neighbors).toContain(b.endpointId)
      expect(yield* b.neighbors).toContain(a.endpointId)
    }))
})
