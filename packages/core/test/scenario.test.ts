/**
 * Whole-swarm scenarios on the testkit's memory network, in virtual time (see support/virtualTime.ts for why
 * not TestClock at this size). Every node runs the real actors with the default config.
 */
import { Config } from "@dtt/core"
import type { Topic } from "@dtt/core"
import { MemoryDht, SimNetwork } from "@dtt/testkit"
import { Effect } from "effect"
import { describe, expect } from "vitest"
import { components, startNode } from "./support/sim.js"
import * as VT from "./support/virtualTime.js"

const neighbourGraph = (topics: ReadonlyArray<Topic.Topic>) =>
  Effect.gen(function*() {
    const graph = new Map<string, ReadonlyArray<string>>()
    for (const t of topics) graph.set(t.endpointId, yield* t.neighbors)
    return graph
  })

describe("scenarios", () => {
  VT.test(
    "50 nodes started within 10 simulated seconds end in one connected component, none isolated",
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const topics: Array<Topic.Topic> = []
      for (let i = 0; i < 50; i++) {
        topics.push(yield* startNode(sim, i))
        yield* Effect.sleep("200 millis")
      }
      const took = yield* VT.until(
        Effect.map(
          neighbourGraph(topics),
          (g) => components(g).length === 1 && [...g.values()].every((n) => n.length > 0)
        ),
        "5 minutes",
        "1 second"
      )
      const graph = yield* neighbourGraph(topics)
      const comps = components(graph)
      expect(comps.map((c) => c.size)).toEqual([50])
      expect([...graph.values()].filter((n) => n.length === 0)).toEqual([])
      expect(took).toBeGreaterThanOrEqual(0)
      // Stays connected while the actors keep running.
      yield* Effect.sleep("5 minutes")
      expect(components(yield* neighbourGraph(topics)).length).toBe(1)
    }),
    120_000
  )

  VT.test(
    "message-overlap merge joins two clusters with disjoint traffic once their DHT views meet",
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      // Bubble merge off: only the message-overlap actor can connect the two swarms.
      const config = Config.decodeSync({ merge: { bubble: { enabled: false } } })
      const half = (i: number) => (i < 5 ? "left" : "right")
      const pool = Array.from({ length: 64 }, (_, i) => i)
      for (let i = 0; i < 10; i++) {
        const nodes = half(i) === "left" ? pool.slice(0, 32) : pool.slice(32)
        yield* MemoryDht.setReachable(sim.dht, sim.identity(i).endpointId, nodes)
      }
      const topics: Array<Topic.Topic> = []
      for (let i = 0; i < 10; i++) topics.push(yield* startNode(sim, i, { config }))
      yield* VT.until(
        Effect.map(neighbourGraph(topics), (g) => [...g.values()].every((n) => n.length > 0)),
        "2 minutes",
        "1 second"
      )
      const before = components(yield* neighbourGraph(topics))
      expect(before.length).toBe(2)
      for (const comp of before) {
        const sides = new Set([...comp].map((id) => half(topics.findIndex((t) => t.endpointId === id))))
        expect(sides.size).toBe(1)
      }
      // Disjoint traffic: one sender per cluster, every 5 s.
      for (const sender of [0, 5]) {
        const [tx] = yield* topics[sender]!.split
        yield* Effect.forkScoped(
          Effect.forever(
            Effect.zipRight(
              Effect.ignore(tx.broadcast(new TextEncoder().encode(`${sender}:${Math.random()}`))),
              Effect.sleep("5 seconds")
            )
          )
        )
      }
      yield* Effect.sleep("30 seconds")
      for (let i = 0; i < 10; i++) yield* MemoryDht.setReachable(sim.dht, sim.identity(i).endpointId, "all")
      // Default timers: first tick after 30 s, then every 60–180 s.
      const took = yield* VT.until(
        Effect.map(neighbourGraph(topics), (g) => components(g).length === 1),
        "8 minutes",
        "1 second"
      )
      expect(took).toBeGreaterThanOrEqual(0)
    }),
    120_000
  )
})
