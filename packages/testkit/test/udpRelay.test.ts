// The impairment relay on real UDP (127.0.0.1) between two plain sockets standing in for endpoints.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import * as dgram from "node:dgram"
import { UdpRelay } from "../src/index.js"

interface Got {
  readonly text: string
  readonly from: string
  readonly at: number
}

const endpoint = Effect.acquireRelease(
  Effect.async<{ socket: dgram.Socket; address: string; got: Array<Got> }>((resume) => {
    const socket = dgram.createSocket("udp4")
    const got: Array<Got> = []
    socket.on("message", (m, r) => got.push({ text: m.toString(), from: `${r.address}:${r.port}`, at: Date.now() }))
    socket.bind(
      0,
      "127.0.0.1",
      () => resume(Effect.succeed({ socket, address: `127.0.0.1:${socket.address().port}`, got }))
    )
  }),
  ({ socket }) => Effect.sync(() => socket.close())
)

const sendTo = (socket: dgram.Socket, to: string, text: string) =>
  Effect.async<void>((resume) => {
    const [host, port] = to.split(":")
    socket.send(text, Number(port), host, () => resume(Effect.void))
  })

const until = (cond: () => boolean, ms = 3000) =>
  Effect.gen(function*() {
    const end = (yield* Clock.currentTimeMillis) + ms
    while (!cond() && (yield* Clock.currentTimeMillis) < end) yield* Effect.sleep("10 millis")
    return cond()
  })

const pair = (options: Partial<UdpRelay.RelayOptions> = {}) =>
  Effect.gen(function*() {
    const a = yield* endpoint
    const b = yield* endpoint
    const relay = yield* UdpRelay.make({
      ...options,
      members: [
        { name: "a", front: "127.0.0.1:0", target: a.address },
        { name: "b", front: "127.0.0.1:0", target: b.address }
      ]
    })
    return { a, b, relay, frontA: relay.fronts.get("a")!, frontB: relay.fronts.get("b")! }
  })

describe("UdpRelay", () => {
  it.scopedLive("forwards both ways; each side sees the other at its front", () =>
    Effect.gen(function*() {
      const { a, b, relay, frontA, frontB } = yield* pair()
      yield* sendTo(a.socket, frontB, "hello b")
      expect(yield* until(() => b.got.length === 1)).toBe(true)
      expect(b.got[0]).toMatchObject({ text: "hello b", from: frontA })
      // b answers where the datagram came from, and it reaches a from b's front.
      yield* sendTo(b.socket, b.got[0]!.from, "hello a")
      expect(yield* until(() => a.got.length === 1)).toBe(true)
      expect(a.got[0]).toMatchObject({ text: "hello a", from: frontB })
      expect(Object.fromEntries(relay.linkCounts())).toEqual({ "a>b": 1, "b>a": 1 })
    }))

  it.scopedLive("drops datagrams from an address that is no member's", () =>
    Effect.gen(function*() {
      const { b, relay, frontB } = yield* pair()
      const stranger = yield* endpoint
      yield* sendTo(stranger.socket, frontB, "let me in")
      expect(yield* until(() => relay.stats.unknownSource === 1)).toBe(true)
      expect(b.got).toEqual([])
    }))

  it.scopedLive("latency: nothing arrives sooner than the set delay", () =>
    Effect.gen(function*() {
      const { a, b, frontB } = yield* pair({ link: { latency: "150 millis", jitter: "20 millis" } })
      const sentAt = Date.now()
      for (let i = 0; i < 5; i++) yield* sendTo(a.socket, frontB, `d${i}`)
      expect(yield* until(() => b.got.length === 5)).toBe(true)
      for (const g of b.got) expect(g.at - sentAt).toBeGreaterThanOrEqual(125)
    }))

  it.scopedLive("loss 1.0 drops all; loss 0.3 drops some of 200 and passes most", () =>
    Effect.gen(function*() {
      const { a, b, relay, frontB } = yield* pair({ link: (from) => ({ loss: from === "a" ? 1 : 0 }) })
      for (let i = 0; i < 20; i++) yield* sendTo(a.socket, frontB, `x${i}`)
      expect(yield* until(() => relay.stats.lost === 20)).toBe(true)
      expect(b.got).toEqual([])
      relay.set({ loss: 0.3 })
      for (let i = 0; i < 200; i++) yield* sendTo(a.socket, frontB, `y${i}`)
      expect(yield* until(() => relay.stats.lost + b.got.length === 220)).toBe(true)
      expect(b.got.length).toBeGreaterThan(100)
      expect(b.got.length).toBeLessThan(180)
    }))

  it.scopedLive("reorder: all arrive, not in the order sent", () =>
    Effect.gen(function*() {
      const { a, b, relay, frontB } = yield* pair({ link: { reorder: 0.3, reorderDelay: "40 millis" }, seed: 7 })
      for (let i = 0; i < 50; i++) yield* sendTo(a.socket, frontB, String(i))
      expect(yield* until(() => b.got.length === 50)).toBe(true)
      const order = b.got.map((g) => Number(g.text))
      expect([...order].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i))
      expect(order).not.toEqual([...order].sort((x, y) => x - y))
      expect(relay.stats.reordered).toBeGreaterThan(0)
    }))

  it.scopedLive("blackhole toggled at runtime cuts both directions, and lifting it restores them", () =>
    Effect.gen(function*() {
      const { a, b, relay, frontA, frontB } = yield* pair()
      relay.blackhole(["a"], ["b"], true)
      yield* sendTo(a.socket, frontB, "lost 1")
      yield* sendTo(b.socket, frontA, "lost 2")
      expect(yield* until(() => relay.stats.blackholed === 2)).toBe(true)
      relay.blackhole(["a"], ["b"], false)
      yield* sendTo(a.socket, frontB, "back 1")
      yield* sendTo(b.socket, frontA, "back 2")
      expect(yield* until(() => a.got.length === 1 && b.got.length === 1)).toBe(true)
      expect([a.got[0]!.text, b.got[0]!.text]).toEqual(["back 2", "back 1"])
    }))
})
