// Reachability over directed active views: the check the real-endpoint tests and the gossip bench wait on.
import { describe, expect, it } from "@effect/vitest"
import { Overlay } from "../src/index.js"

const views = (edges: Record<string, ReadonlyArray<string>>) => new Map(Object.entries(edges))

describe("Overlay", () => {
  it("reachable follows edges one way only and includes the start", () => {
    const g = views({ a: ["b"], b: ["c"], c: [], d: ["a"] })
    expect([...Overlay.reachable(g, "a")].sort()).toEqual(["a", "b", "c"])
    expect([...Overlay.reachable(g, "c")]).toEqual(["c"])
    expect([...Overlay.reachable(g, "d")].sort()).toEqual(["a", "b", "c", "d"])
  })

  it("a ring and a symmetric star are connected", () => {
    expect(Overlay.connected(views({ a: ["b"], b: ["c"], c: ["a"] }))).toBe(true)
    expect(Overlay.connected(views({ hub: ["x", "y"], x: ["hub"], y: ["hub"] }))).toBe(true)
  })

  it("a one-sided edge leaves a node nobody reaches: not connected", () => {
    // c lists a, nobody lists c (the edge HyParView's crossing race can leave).
    expect(Overlay.connected(views({ a: ["b"], b: ["a"], c: ["a"] }))).toBe(false)
  })

  it("a node without neighbours, or listing a non-member, is not connected", () => {
    expect(Overlay.connected(views({ a: [] }))).toBe(false)
    expect(Overlay.connected(views({ a: ["b"], b: ["a", "gone"] }))).toBe(false)
  })

  it("two disjoint pairs are not connected", () => {
    expect(Overlay.connected(views({ a: ["b"], b: ["a"], c: ["d"], d: ["c"] }))).toBe(false)
  })
})
