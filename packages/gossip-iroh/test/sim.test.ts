import { describe, expect, it } from "vitest"
import { makeProtoConfig } from "../src/proto/index.js"
import { seededRng } from "../src/proto/rng.js"
import {
  defaultLatency,
  defaultSimulatorConfig,
  Network,
  SIM_TOPIC as T,
  simPeerId as p,
  Simulator,
  staticLatency
} from "../src/proto/sim.js"
import { bigBurst, bigHyparview, bigMultipleSender, bigSingleSender } from "./simScenarios.js"

const bytes = (s: string) => new TextEncoder().encode(s)

const eventsSorted = (n: Network) =>
  n
    .drainEvents()
    .map((e) =>
      `${parseInt(e.peer, 16)} ${e.event._tag} ${e.event._tag === "Received" ? "" : parseInt(e.event.peer, 16)}`
    )
    .sort()

const pairs = (n: Network) => n.connections().map(([a, b]) => [parseInt(a, 16), parseInt(b, 16)])

describe("simulator smoke tests (ported from iroh-gossip src/proto.rs)", () => {
  for (const seed of [0, 1, 2, 3]) {
    it(`hyparview_smoke, seed ${seed}`, () => {
      const net = new Network({
        latency: staticLatency(),
        proto: makeProtoConfig({ membership: { activeViewCapacity: 2 } })
      }, seededRng(seed))
      for (let i = 0; i < 4; i++) net.insert(p(i))
      net.command(p(0), T, { _tag: "Join", peers: [p(1), p(2)] })
      net.command(p(1), T, { _tag: "Join", peers: [p(2)] })
      net.command(p(2), T, { _tag: "Join", peers: [] })
      net.runTrips(3)
      expect(eventsSorted(net)).toEqual(
        ["0 NeighborUp 1", "0 NeighborUp 2", "1 NeighborUp 2", "1 NeighborUp 0", "2 NeighborUp 0", "2 NeighborUp 1"]
          .sort()
      )
      expect(pairs(net)).toEqual([[0, 1], [0, 2], [1, 2]])

      net.command(p(3), T, { _tag: "Join", peers: [p(0)] })
      net.runTrips(2)
      const actual = eventsSorted(net)
      const expected1 = ["3 NeighborUp 0", "0 NeighborUp 3", "0 NeighborDown 1", "1 NeighborDown 0"].sort()
      const expected2 = ["3 NeighborUp 0", "0 NeighborUp 3", "0 NeighborDown 2", "2 NeighborDown 0"].sort()
      expect([expected1, expected2]).toContainEqual(actual)
      if (actual.join() === expected1.join()) expect(pairs(net)).toEqual([[0, 2], [0, 3], [1, 2]])
      else expect(pairs(net)).toEqual([[0, 1], [0, 3], [1, 2]])
      expect(net.checkSynchronicity()).toBe(true)
    })

    it(`plumtree_smoke, seed ${seed}`, () => {
      const net = new Network({ latency: staticLatency(), proto: makeProtoConfig() }, seededRng(seed))
      for (let i = 0; i < 6; i++) net.insert(p(i))
      net.command(p(0), T, { _tag: "Join", peers: [] })
      for (const i of [1, 2]) net.command(p(i), T, { _tag: "Join", peers: [p(0)] })
      net.command(p(3), T, { _tag: "Join", peers: [] })
      for (const i of [4, 5]) net.command(p(i), T, { _tag: "Join", peers: [p(3)] })
      net.runTrips(4)
      net.drainEvents()
      expect(net.checkSynchronicity()).toBe(true)

      net.command(p(1), T, { _tag: "Broadcast", content: bytes("hi1"), scope: "Swarm" })
      net.runTrips(4)
      expect(net.drainEvents().filter((e) => e.event._tag === "Received")).toHaveLength(2)
      expect(net.checkSynchronicity()).toBe(true)

      net.command(p(2), T, { _tag: "Join", peers: [p(5)] })
      net.runTrips(3)
      net.drainEvents()
      net.command(p(1), T, { _tag: "Broadcast", content: bytes("hi2"), scope: "Swarm" })
      net.runTrips(5)
      const received = net.drainEvents().filter((e) => e.event._tag === "Received")
      expect(received.map((e) => parseInt(e.peer, 16)).sort()).toEqual([0, 2, 3, 4, 5])
      expect(net.checkSynchronicity()).toBe(true)
    })

    it(`quit, seed ${seed}`, () => {
      const net = new Network({
        latency: defaultLatency,
        proto: makeProtoConfig({ membership: { activeViewCapacity: 2 } })
      }, seededRng(seed))
      for (let i = 0; i < 4; i++) net.insert(p(i))
      net.command(p(0), T, { _tag: "Join", peers: [] })
      net.command(p(1), T, { _tag: "Join", peers: [p(0)] })
      net.command(p(2), T, { _tag: "Join", peers: [p(1)] })
      net.command(p(3), T, { _tag: "Join", peers: [p(2)] })
      net.runTrips(2)
      const union = () =>
        new Set([0, 1, 2, 3].flatMap((i) => (net.neighbors(p(i), T) ?? []).map((x) => parseInt(x, 16))))
      expect(union()).toEqual(new Set([0, 1, 2, 3]))
      expect(net.checkSynchronicity()).toBe(true)
      net.command(p(3), T, { _tag: "Quit" })
      net.runTrips(4)
      expect(net.peer(p(3))!.state(T)).toBeUndefined()
      expect(union()).toEqual(new Set([0, 1, 2]))
      expect(net.checkSynchronicity()).toBe(true)
    })
  }

  it("is deterministic for a seed", () => {
    const run = () => {
      const sim = new Simulator({ ...defaultSimulatorConfig, peers: 30, seed: 5 })
      sim.bootstrap()
      const from = sim.randomPeer()
      for (let i = 0; i < 3; i++) sim.gossipRound([[from, bytes(`m${i}`)]])
      return sim.roundStats
    }
    expect(run()).toEqual(run())
  })
})

// Rust's tests/sim.rs, 100 peers, dynamic latency 10-100 ms, held over several seeds (our RNG is not ChaCha12,
// so one seed proves little). The wider sweep is `npm run sim:gossip`.
describe("simulator at scale (Rust tests/sim.rs thresholds)", () => {
  for (const seed of [0, 1, 2]) {
    it(`big_hyparview: nobody is left without neighbours, seed ${seed}`, () => {
      expect(bigHyparview(seed).peersWithoutNeighbors).toEqual([])
    })
    it(`big_single_sender: LDH < 15, RMR < 0.2, nothing missed, seed ${seed}`, () => {
      const { mean, emptyAfterBootstrap } = bigSingleSender(seed)
      expect(emptyAfterBootstrap).toBe(0)
      expect(mean.ldh).toBeLessThan(15)
      expect(mean.rmr).toBeLessThan(0.2)
      expect(mean.missed).toBe(0)
    })
    it(`big_multiple_sender: LDH < 18, RMR < 1, nothing missed, seed ${seed}`, () => {
      const { mean } = bigMultipleSender(seed)
      expect(mean.ldh).toBeLessThan(18)
      expect(mean.rmr).toBeLessThan(1)
      expect(mean.missed).toBe(0)
    })
  }
  // One seed here (a burst run takes seconds); `npm run sim:gossip` sweeps ten.
  for (const seed of [0]) {
    it(`big_burst: LDH < 30, RMR < 3, nothing missed, seed ${seed}`, () => {
      const { mean } = bigBurst(seed)
      expect(mean.ldh).toBeLessThan(30)
      expect(mean.rmr).toBeLessThan(3)
      expect(mean.missed).toBe(0)
    })
  }
})

describe("simulator with every message through the wire codec", () => {
  it("20 real-key nodes with addresses join, shuffle, broadcast (up to the max size) and quit", async () => {
    const { ed25519 } = await import("@noble/curves/ed25519.js")
    const Wire = await import("../src/wire/index.js")
    const ids = Array.from(
      { length: 20 },
      (_, i) => Buffer.from(ed25519.getPublicKey(new Uint8Array(32).fill(i + 1))).toString("hex")
    ) as Array<ReturnType<typeof p>>
    const net = new Network(
      {
        latency: defaultLatency,
        proto: makeProtoConfig({ membership: { shuffleInterval: 2_000 } }),
        throughWire: true
      },
      seededRng(9)
    )
    ids.forEach((id, i) =>
      net.insert(
        id,
        net.config.proto,
        Wire.encodeAddrInfo({ relayUrl: undefined, directAddresses: [Wire.parseSocketAddr(`10.0.0.${i + 1}:4433`)!] })
      )
    )
    net.command(ids[0]!, T, { _tag: "Join", peers: [] })
    for (const id of ids.slice(1)) net.command(id, T, { _tag: "Join", peers: [ids[0]!] })
    net.runDuration(10_000) // several shuffle rounds
    expect(ids.every((id) => (net.neighbors(id, T) ?? []).length > 0)).toBe(true)
    net.drainEvents()

    const big = new Uint8Array(4057).fill(7)
    net.command(ids[3]!, T, { _tag: "Broadcast", content: big, scope: "Swarm" })
    net.command(ids[5]!, T, { _tag: "Broadcast", content: bytes("small"), scope: "Swarm" })
    net.runTrips(20)
    const received = net.drainEvents().filter((e) => e.event._tag === "Received")
    expect(received).toHaveLength(2 * 19)

    net.command(ids[7]!, T, { _tag: "Quit" })
    net.runTrips(10)
    expect(net.peer(ids[7]!)!.state(T)).toBeUndefined()
    expect(ids.filter((id) => id !== ids[7]).every((id) => !(net.neighbors(id, T) ?? []).includes(ids[7]!))).toBe(true)
    expect(net.checkSynchronicity()).toBe(true)
  })
})
