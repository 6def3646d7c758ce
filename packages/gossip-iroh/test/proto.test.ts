// The sans-IO protocol core: its utilities, the ported Plumtree unit tests and node state. HyParView: hyparview.test.ts.
import type { EndpointId } from "@dtt/core"
import { describe, expect, it } from "vitest"
import {
  defaultPlumtreeConfig,
  defaultProtoConfig,
  ihaveChunkLength,
  makeProtoConfig,
  messageIdOf,
  type OutEvent,
  Plumtree,
  ProtoState,
  seededRng,
  TimeBoundCache,
  TimerMap,
  type TopicOutEvent
} from "../src/proto/index.js"
import { simPeerId } from "../src/proto/sim.js"
import * as Wire from "../src/wire/index.js"

const p = simPeerId
const bytes = (s: string) => new TextEncoder().encode(s)
const T = "ab".repeat(32)

describe("proto util", () => {
  it("TimerMap pops by time, ties in insertion order, drainUntil is inclusive", () => {
    const m = new TimerMap<string>()
    m.insert(20, "c")
    m.insert(10, "a")
    m.insert(10, "b")
    m.insert(30, "d")
    m.insert(20, "c2")
    expect(m.first()).toBe(10)
    expect(m.drainUntil(20).map((e) => e.item)).toEqual(["a", "b", "c", "c2"])
    expect(m.popBefore(29)).toBeUndefined()
    expect(m.popBefore(30)?.item).toBe("d")
    expect(m.size).toBe(0)
  })

  it("TimeBoundCache expires inclusively and re-insertion extends", () => {
    const c = new TimeBoundCache<string, number>()
    c.insert("a", 1, 10)
    c.insert("b", 2, 20)
    c.insert("a", 3, 30)
    expect(c.expireUntil(10)).toBe(0) // "a" was re-inserted with a later expiry
    expect(c.get("a")).toBe(3)
    expect(c.expireUntil(20)).toBe(1)
    expect(c.has("b")).toBe(false)
    expect(c.expireUntil(29)).toBe(0)
    expect(c.expireUntil(30)).toBe(1)
    expect(c.size).toBe(0)
  })

  it("seeded randomness is reproducible and forks independently", () => {
    const a = seededRng(42)
    const b = seededRng(42)
    const xs = Array.from({ length: 20 }, () => a.int(1000))
    expect(Array.from({ length: 20 }, () => b.int(1000))).toEqual(xs)
    expect(Array.from({ length: 20 }, () => seededRng(43).int(1000))).not.toEqual(xs)
    const counts = [0, 0, 0]
    const r = seededRng(1)
    for (let i = 0; i < 3000; i++) counts[r.int(3)]!++
    for (const c of counts) expect(c).toBeGreaterThan(900)
  })
})

describe("plumtree (ported unit tests)", () => {
  const cfg = defaultPlumtreeConfig
  const recv = (s: Plumtree, from: EndpointId.EndpointId, message: Wire.BroadcastMessage, now = 0) => {
    const out: Array<TopicOutEvent> = []
    s.handle({ _tag: "RecvMessage", from, message }, now, out)
    return out
  }
  const gossipMsg = (content: Uint8Array, round: number, id = messageIdOf(content)): Wire.BroadcastMessage => ({
    _tag: "Gossip",
    id,
    content,
    scope: { _tag: "Swarm", round }
  })

  it("optimize_tree: a lazy path 7+ hops shorter is grafted and the slow sender pruned", () => {
    const s = new Plumtree(p(1), cfg, 1024)
    const hi = bytes("hi")
    recv(s, p(2), { _tag: "IHave", entries: [{ id: messageIdOf(hi), round: 2 }] })
    expect(recv(s, p(3), gossipMsg(hi, 6))).toEqual([
      { _tag: "ScheduleTimer", delay: 5, timer: { _tag: "DispatchLazyPush" } },
      {
        _tag: "EmitEvent",
        event: { _tag: "Received", content: hi, deliveredFrom: p(3), scope: { _tag: "Swarm", round: 6 } }
      }
    ])
    const hi2 = bytes("hi2")
    recv(s, p(2), { _tag: "IHave", entries: [{ id: messageIdOf(hi2), round: 2 }] })
    expect(recv(s, p(3), gossipMsg(hi2, 9))).toEqual([
      { _tag: "SendMessage", to: p(2), message: Wire.gossip({ _tag: "Graft", id: undefined, round: 2 }) },
      { _tag: "SendMessage", to: p(3), message: Wire.gossip({ _tag: "Prune" }) },
      {
        _tag: "EmitEvent",
        event: { _tag: "Received", content: hi2, deliveredFrom: p(3), scope: { _tag: "Swarm", round: 9 } }
      }
    ])
    expect([...s.eagerPushPeers]).toEqual([p(2)])
    expect([...s.lazyPushPeers]).toEqual([p(3)])
  })

  it("spoofed_messages_are_ignored", () => {
    const s = new Plumtree(p(1), cfg, 1024)
    const c = bytes("hello1")
    expect(recv(s, p(2), gossipMsg(c, 1))).toEqual([
      { _tag: "ScheduleTimer", delay: 1000, timer: { _tag: "EvictCache" } },
      { _tag: "ScheduleTimer", delay: 5, timer: { _tag: "DispatchLazyPush" } },
      {
        _tag: "EmitEvent",
        event: { _tag: "Received", content: c, deliveredFrom: p(2), scope: { _tag: "Swarm", round: 1 } }
      }
    ])
    expect(recv(s, p(2), gossipMsg(bytes("hello2"), 1, messageIdOf(bytes("foo"))))).toEqual([])
  })

  it("cache_is_evicted", () => {
    const s = new Plumtree(p(1), cfg, 1024)
    recv(s, p(2), gossipMsg(bytes("hello1"), 1), 0)
    expect(s.cacheSize).toBe(1)
    s.handle({ _tag: "TimerExpired", timer: { _tag: "EvictCache" } }, 1000, [])
    expect(s.cacheSize).toBe(1)
    s.handle({ _tag: "TimerExpired", timer: { _tag: "EvictCache" } }, 1000 + 30_000, [])
    expect(s.cacheSize).toBe(0)
  })

  it("duplicates are pruned; grafts are answered from the cache with our forward round", () => {
    const s = new Plumtree(p(1), cfg, 4096)
    s.handle({ _tag: "NeighborUp", peer: p(2) }, 0, [])
    s.handle({ _tag: "NeighborUp", peer: p(3) }, 0, [])
    const c = bytes("x")
    const first = recv(s, p(2), gossipMsg(c, 4))
    expect(first).toContainEqual({ _tag: "SendMessage", to: p(3), message: Wire.gossip(gossipMsg(c, 5)) })
    expect(recv(s, p(3), gossipMsg(c, 4))).toEqual([{
      _tag: "SendMessage",
      to: p(3),
      message: Wire.gossip({ _tag: "Prune" })
    }])
    expect([...s.lazyPushPeers]).toEqual([p(3)])
    expect(recv(s, p(4), { _tag: "Graft", id: messageIdOf(c), round: 0 })).toEqual([
      { _tag: "SendMessage", to: p(4), message: Wire.gossip(gossipMsg(c, 5)) }
    ])
    expect(s.eagerPushPeers.has(p(4))).toBe(true)
  })

  it("IHave timeouts graft the first announcer, then the next after graft_timeout_2", () => {
    const s = new Plumtree(p(1), cfg, 4096)
    const id = messageIdOf(bytes("m"))
    const o1 = recv(s, p(2), { _tag: "IHave", entries: [{ id, round: 3 }] })
    expect(o1).toContainEqual({ _tag: "ScheduleTimer", delay: 80, timer: { _tag: "SendGraft", id } })
    expect(recv(s, p(3), { _tag: "IHave", entries: [{ id, round: 1 }] })).toEqual([]) // timer already set
    const fire = () => {
      const out: Array<TopicOutEvent> = []
      s.handle({ _tag: "TimerExpired", timer: { _tag: "SendGraft", id } }, 80, out)
      return out
    }
    expect(fire()).toEqual([
      { _tag: "SendMessage", to: p(2), message: Wire.gossip({ _tag: "Graft", id, round: 3 }) },
      { _tag: "ScheduleTimer", delay: 40, timer: { _tag: "SendGraft", id } }
    ])
    expect(fire()[0]).toEqual({ _tag: "SendMessage", to: p(3), message: Wire.gossip({ _tag: "Graft", id, round: 1 }) })
    expect(fire()).toEqual([])
  })

  it("IHaves are dispatched in chunks of 116 (max message size 4096)", () => {
    expect(ihaveChunkLength(4096)).toBe(116)
    const s = new Plumtree(p(1), cfg, 4096)
    s.handle({ _tag: "NeighborUp", peer: p(2) }, 0, [])
    recv(s, p(2), { _tag: "Prune" })
    for (let i = 0; i < 250; i++) s.handle({ _tag: "Broadcast", content: bytes(`m${i}`), scope: "Swarm" }, 0, [])
    const out: Array<TopicOutEvent> = []
    s.handle({ _tag: "TimerExpired", timer: { _tag: "DispatchLazyPush" } }, 5, out)
    const sizes = out.map((
      e
    ) => (e._tag === "SendMessage" && e.message.message._tag === "IHave" ? e.message.message.entries.length : -1))
    expect(sizes).toEqual([116, 116, 18])
    // A full chunk still fits a frame for a Rust peer.
    const full = out[0]!
    if (full._tag !== "SendMessage") throw new Error("expected a send")
    const frame = Wire.encodeMessageFrame(full.message)
    expect(frame._tag).toBe("Right")
  })

  it("Neighbors-scope broadcasts go to eager peers only and are not cached", () => {
    const s = new Plumtree(p(1), cfg, 4096)
    s.handle({ _tag: "NeighborUp", peer: p(2) }, 0, [])
    s.handle({ _tag: "NeighborUp", peer: p(3) }, 0, [])
    recv(s, p(3), { _tag: "Prune" })
    const out: Array<TopicOutEvent> = []
    s.handle({ _tag: "Broadcast", content: bytes("n"), scope: "Neighbors" }, 0, out)
    expect(out.filter((e) => e._tag === "SendMessage").map((e) => e._tag === "SendMessage" && e.to)).toEqual([p(2)])
    expect(out.some((e) => e._tag === "ScheduleTimer" && e.timer._tag === "DispatchLazyPush")).toBe(false)
    expect(s.cacheSize).toBe(0)
  })
})

describe("node state", () => {
  const node = (i: number) => new ProtoState({ me: p(i), rng: seededRng(i), meData: bytes("addr" + i) })
  const sends = (out: ReadonlyArray<OutEvent>) =>
    out.flatMap((
      e
    ) => (e._tag === "SendMessage" ? [[e.to, e.message.message._tag + ":" + e.message.message._tag] as const] : []))
  /** A swarm (HyParView) message on topic `T`, as received from `from` and as sent to `to`. */
  const swarmFrom = (from: EndpointId.EndpointId, message: Parameters<typeof Wire.swarm>[0]) => ({
    _tag: "RecvMessage" as const,
    from,
    topic: T,
    message: Wire.swarm(message)
  })
  const swarmTo = (to: EndpointId.EndpointId, message: Parameters<typeof Wire.swarm>[0]) => ({
    _tag: "SendMessage" as const,
    to,
    topic: T,
    message: Wire.swarm(message)
  })
  const highNeighbor = (addr: string) => ({ _tag: "Neighbor" as const, priority: "High" as const, data: bytes(addr) })

  it("ignores everything for a topic it has not joined; Join creates the topic", () => {
    const a = node(1)
    expect(
      a.handle(swarmFrom(p(2), { _tag: "Join", data: undefined }), 0)
    ).toEqual([])
    expect(
      a.handle({ _tag: "Command", topic: T, command: { _tag: "Broadcast", content: bytes("x"), scope: "Swarm" } }, 0)
    ).toEqual([])
    expect(a.topicIds()).toEqual([])
    a.handle({ _tag: "Command", topic: T, command: { _tag: "Join", peers: [] } }, 0)
    expect(a.topicIds()).toEqual([T])
  })

  it("Join -> Neighbor -> Neighbor, with PeerData events and the joiner's data", () => {
    const a = node(1)
    const b = node(2)
    b.handle({ _tag: "Command", topic: T, command: { _tag: "Join", peers: [] } }, 0)
    const o1 = a.handle({ _tag: "Command", topic: T, command: { _tag: "Join", peers: [p(2)] } }, 0)
    expect(o1).toContainEqual(swarmTo(p(2), { _tag: "Join", data: bytes("addr1") }))
    const o2 = b.handle(swarmFrom(p(1), { _tag: "Join", data: bytes("addr1") }), 0)
    expect(o2).toContainEqual({ _tag: "PeerData", peer: p(1), data: bytes("addr1") })
    expect(o2).toContainEqual({ _tag: "EmitEvent", topic: T, event: { _tag: "NeighborUp", peer: p(1) } })
    const neighbor = swarmTo(p(1), highNeighbor("addr2"))
    expect(o2).toContainEqual(neighbor)
    const o3 = a.handle(swarmFrom(p(2), highNeighbor("addr2")), 0)
    expect(o3).toContainEqual({ _tag: "EmitEvent", topic: T, event: { _tag: "NeighborUp", peer: p(2) } })
    expect(o3).toContainEqual(swarmTo(p(2), highNeighbor("addr1")))
    const o4 = b.handle(swarmFrom(p(1), highNeighbor("addr1")), 0)
    expect(sends(o4)).toEqual([])
    expect(a.neighbors(T)).toEqual([p(2)])
    expect(b.neighbors(T)).toEqual([p(1)])
  })

  it("Quit sends ShuffleReply then Disconnect{alive:false} to each neighbour, no NeighborDown, and drops the topic", () => {
    const a = node(1)
    a.handle({ _tag: "Command", topic: T, command: { _tag: "Join", peers: [] } }, 0)
    a.handle(swarmFrom(p(2), { _tag: "Join", data: undefined }), 0)
    const out = a.handle({ _tag: "Command", topic: T, command: { _tag: "Quit" } }, 0)
    expect(out.map((e) => e._tag === "SendMessage" ? `${e.message.message._tag}` : e._tag)).toEqual([
      "ShuffleReply",
      "Disconnect",
      "DisconnectPeer"
    ])
    expect(out[1]).toEqual(swarmTo(p(2), { _tag: "Disconnect", alive: false, respond: false }))
    expect(a.topicIds()).toEqual([])
  })

  it("a message from a non-neighbour is answered by DisconnectPeer only if it was received on that topic", () => {
    const a = node(1)
    a.handle({ _tag: "Command", topic: T, command: { _tag: "Join", peers: [] } }, 0)
    const out = a.handle(swarmFrom(p(3), { _tag: "ShuffleReply", nodes: [{ id: p(5), data: undefined }] }), 0)
    expect(out.filter((e) => e._tag === "DisconnectPeer")).toEqual([{ _tag: "DisconnectPeer", peer: p(3) }])
  })

  it("refuses max message sizes below 512", () => {
    expect(() => makeProtoConfig({ maxMessageSize: 511 })).toThrow()
    expect(makeProtoConfig({ membership: { activeViewCapacity: 2 } }).membership.passiveViewCapacity).toBe(30)
    expect(defaultProtoConfig.membership.shuffleInterval).toBe(60_000)
  })
})
