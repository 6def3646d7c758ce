// HyParView membership rules of the sans-IO protocol core (ProtoState): joins, forward joins, neighbour requests,
// disconnects, the passive view and the shuffle, checked on the events it returns. Plumtree and node state: proto.test.ts.
import type { EndpointId } from "@dtt/core"
import { describe, expect, it } from "vitest"
import { makeProtoConfig, type OutEvent, ProtoState, seededRng } from "../src/proto/index.js"
import { simPeerId } from "../src/proto/sim.js"
import * as Wire from "../src/wire/index.js"

const p = simPeerId
const bytes = (s: string) => new TextEncoder().encode(s)
const T = "ab".repeat(32)

describe("hyparview membership rules", () => {
  type Out = ReadonlyArray<OutEvent>
  const join = (s: ProtoState, peers: Array<EndpointId.EndpointId> = []) =>
    s.handle({ _tag: "Command", topic: T, command: { _tag: "Join", peers } }, 0)
  const recv = (s: ProtoState, from: EndpointId.EndpointId, message: Wire.SwarmMessage, now = 0) =>
    s.handle({ _tag: "RecvMessage", from, topic: T, message: Wire.swarm(message) }, now)
  const swarmSends = (out: Out) =>
    out.flatMap((e) =>
      e._tag === "SendMessage" && e.message._tag === "Swarm" ? [{ to: e.to, message: e.message.message }] : []
    )
  const tags = (out: Out) =>
    out.map((e) =>
      e._tag === "SendMessage"
        ? `send ${e.message.message._tag} ${parseInt(e.to, 16)}`
        : e._tag === "EmitEvent"
        ? `${e.event._tag} ${e.event._tag === "Received" ? "" : parseInt(e.event.peer, 16)}`
        : e._tag === "DisconnectPeer"
        ? `disconnect ${parseInt(e.peer, 16)}`
        : e._tag === "ScheduleTimer"
        ? `timer ${e.timer.timer._tag} ${e.delay}`
        : e._tag
    )
  const small = (seed = 1) =>
    new ProtoState({
      me: p(1),
      rng: seededRng(seed),
      config: makeProtoConfig({ membership: { activeViewCapacity: 2 } })
    })

  it("a Join to a full node evicts a random neighbour (ShuffleReply, Disconnect alive) and forwards the joiner", () => {
    for (const seed of [1, 2, 3, 4]) {
      const s = small(seed)
      join(s)
      recv(s, p(2), { _tag: "Join", data: undefined })
      recv(s, p(3), { _tag: "Join", data: undefined })
      const out = recv(s, p(4), { _tag: "Join", data: undefined })
      const down = out.find((e) => e._tag === "EmitEvent" && e.event._tag === "NeighborDown")
      if (down?._tag !== "EmitEvent" || down.event._tag !== "NeighborDown") throw new Error("no eviction")
      const evicted = parseInt(down.event.peer, 16)
      const kept = evicted === 2 ? 3 : 2
      expect(tags(out)).toEqual([
        `NeighborDown ${evicted}`,
        `send ShuffleReply ${evicted}`,
        `send Disconnect ${evicted}`,
        `disconnect ${evicted}`,
        "NeighborUp 4",
        "send Neighbor 4",
        `send ForwardJoin ${kept}`
      ])
      expect(swarmSends(out)[1]!.message).toEqual({ _tag: "Disconnect", alive: true, respond: false })
      expect(swarmSends(out)[3]!.message).toEqual({ _tag: "ForwardJoin", peer: { id: p(4), data: undefined }, ttl: 6 })
      // The evicted peer stays known as passive.
      expect(s.state(T)!.swarm.passiveView.has(p(evicted))).toBe(true)
    }
  })

  it("a Low Neighbor request to a full node is refused with ShuffleReply + Disconnect{alive}", () => {
    const s = small()
    join(s)
    recv(s, p(2), { _tag: "Join", data: undefined })
    recv(s, p(3), { _tag: "Join", data: undefined })
    const out = recv(s, p(4), { _tag: "Neighbor", priority: "Low", data: undefined })
    expect(tags(out)).toEqual(["send ShuffleReply 4", "send Disconnect 4", "disconnect 4"])
    expect(s.neighbors(T)).toEqual([p(2), p(3)])
  })

  it("a lost neighbour is replaced from the passive view; an unanswered request times out after 500 ms", () => {
    const s = new ProtoState({ me: p(1), rng: seededRng(3) })
    join(s)
    recv(s, p(2), { _tag: "Join", data: undefined })
    const o1 = recv(s, p(2), {
      _tag: "ShuffleReply",
      nodes: [{ id: p(5), data: undefined }, { id: p(6), data: undefined }]
    })
    // Refill while we still have a neighbour: Low priority.
    const first = swarmSends(o1)[0]!
    expect(first.message).toEqual({ _tag: "Neighbor", priority: "Low", data: new Uint8Array(0) })
    expect(tags(o1)).toContain("timer PendingNeighborRequest 500")
    const q = first.to
    const r = q === p(5) ? p(6) : p(5)

    const o2 = s.handle({ _tag: "PeerDisconnected", peer: p(2) }, 10)
    expect(tags(o2).slice(0, 2)).toEqual(["NeighborDown 2", "disconnect 2"])
    // No neighbour left: the next candidate is asked with High priority.
    expect(swarmSends(o2)).toEqual([{
      to: r,
      message: { _tag: "Neighbor", priority: "High", data: new Uint8Array(0) }
    }])
    // A peer whose connection closed without an alive Disconnect is forgotten.
    expect(s.state(T)!.swarm.passiveView.has(p(2))).toBe(false)

    const o3 = s.handle({
      _tag: "TimerExpired",
      timer: { topic: T, timer: { _tag: "PendingNeighborRequest", peer: q } }
    }, 500)
    expect(swarmSends(o3)).toEqual([])
    expect([...s.state(T)!.swarm.passiveView.values()]).toEqual([r])

    // r answers: it becomes a neighbour without a reply (it answered our request).
    const o4 = recv(s, r, { _tag: "Neighbor", priority: "High", data: undefined }, 600)
    expect(tags(o4)).toEqual([`NeighborUp ${parseInt(r, 16)}`])
    expect(s.neighbors(T)).toEqual([r])
  })

  it("Disconnect{alive} keeps the peer passive across the following connection close", () => {
    const s = new ProtoState({ me: p(1), rng: seededRng(4) })
    join(s)
    recv(s, p(2), { _tag: "Join", data: undefined })
    const out = recv(s, p(2), { _tag: "Disconnect", alive: true, respond: false })
    expect(tags(out)).toEqual(["NeighborDown 2", "disconnect 2"])
    expect(s.state(T)!.swarm.passiveView.has(p(2))).toBe(true)
    s.handle({ _tag: "PeerDisconnected", peer: p(2) }, 1)
    expect(s.state(T)!.swarm.passiveView.has(p(2))).toBe(true)
    s.handle({ _tag: "PeerDisconnected", peer: p(2) }, 2)
    expect(s.state(T)!.swarm.passiveView.has(p(2))).toBe(false)
  })

  it("Disconnect{alive:false} forgets the peer", () => {
    const s = new ProtoState({ me: p(1), rng: seededRng(4) })
    join(s)
    recv(s, p(2), { _tag: "Join", data: undefined })
    recv(s, p(2), { _tag: "Disconnect", alive: false, respond: false })
    expect(s.state(T)!.swarm.passiveView.has(p(2))).toBe(false)
    expect(s.neighbors(T)).toEqual([])
  })

  it("ForwardJoin: stored as passive at ttl == PRWL and walked on with ttl - 1 to a neighbour other than the sender", () => {
    const s = new ProtoState({ me: p(1), rng: seededRng(5) })
    join(s)
    for (const i of [2, 3, 4]) recv(s, p(i), { _tag: "Join", data: undefined })
    const out = recv(s, p(2), { _tag: "ForwardJoin", peer: { id: p(9), data: bytes("nine") }, ttl: 3 })
    expect(out).toContainEqual({ _tag: "PeerData", peer: p(9), data: bytes("nine") })
    const fwd = swarmSends(out)
    expect(fwd).toHaveLength(1)
    expect([p(3), p(4)]).toContain(fwd[0]!.to)
    expect(fwd[0]!.message).toEqual({ _tag: "ForwardJoin", peer: { id: p(9), data: bytes("nine") }, ttl: 2 })
    expect(s.state(T)!.swarm.passiveView.has(p(9))).toBe(true)
    // ttl 0 ends the walk: the joiner is asked to become a neighbour.
    const end = recv(s, p(2), { _tag: "ForwardJoin", peer: { id: p(8), data: undefined }, ttl: 0 })
    expect(swarmSends(end)).toEqual([{
      to: p(8),
      message: { _tag: "Neighbor", priority: "High", data: new Uint8Array(0) }
    }])
  })

  it("the first membership event schedules the shuffle; a shuffle goes to a neighbour with us last and is rescheduled", () => {
    const s = new ProtoState({ me: p(1), rng: seededRng(6), meData: bytes("me") })
    // As in iroh, a Join with no peers reaches no membership handler, so nothing is scheduled yet.
    expect(tags(join(s))).toEqual([])
    expect(tags(recv(s, p(2), { _tag: "Join", data: undefined }))).toContain("timer DoShuffle 60000")
    recv(s, p(3), { _tag: "Join", data: undefined })
    const out = s.handle({ _tag: "TimerExpired", timer: { topic: T, timer: { _tag: "DoShuffle" } } }, 60_000)
    const sh = swarmSends(out)
    expect(sh).toHaveLength(1)
    const m = sh[0]!.message
    if (m._tag !== "Shuffle") throw new Error("expected a Shuffle")
    expect(m.origin).toBe(p(1))
    expect(m.ttl).toBe(6)
    expect(m.nodes.at(-1)).toEqual({ id: p(1), data: bytes("me") })
    expect(m.nodes.map((n) => n.id)).not.toContain(sh[0]!.to)
    expect(tags(out).at(-1)).toBe("timer DoShuffle 60000")
  })

  it("the data of peers that left both views is forgotten at the next shuffle, not kept for the topic's life", () => {
    const s = new ProtoState({
      me: p(1),
      rng: seededRng(7),
      config: makeProtoConfig({ membership: { passiveViewCapacity: 5 } })
    })
    join(s)
    recv(s, p(2), { _tag: "Join", data: undefined })
    // Churn: 200 passers-by, each with its addresses, reach us in shuffles through our one neighbour.
    for (let n = 0; n < 200; n++) {
      const id = p(100 + n)
      recv(s, p(2), { _tag: "Shuffle", origin: id, nodes: [{ id, data: bytes(`addresses of ${n}`) }], ttl: 0 }, n)
    }
    const swarm = s.state(T)!.swarm
    expect(swarm.passiveView.size).toBe(5)
    s.handle({ _tag: "TimerExpired", timer: { topic: T, timer: { _tag: "DoShuffle" } } }, 60_000)
    // What is left: the five in the passive view (their data is still sent in shuffles). Before, all 200.
    expect(swarm.peerDataSize).toBeLessThanOrEqual(6)
    for (const id of swarm.passiveView.values()) expect(swarm.dataOf(id)).toBeDefined()
    expect(swarm.dataOf(p(100))).toBeUndefined()
  })
})
