/**
 * A discrete-event simulator for the protocol core, after iroh-gossip's `proto/sim.rs`: many nodes in one
 * process, virtual time in milliseconds, a latency per node pair fixed at first use, events ordered by time then
 * FIFO. Used by the tests to check the protocol's delivery guarantees and efficiency (RMR, LDH) at scale.
 */
import type { EndpointId } from "@dtt/core"
import { Either, Option } from "effect"
import { encodeMessageFrame, FrameDecoder } from "../wire/frame.js"
import { decodeTopicMessage, type TopicMessage } from "../wire/messages.js"
import { defaultProtoConfig, type ProtoConfig } from "./config.js"
import type { Command, Event, InEvent, TopicId } from "./events.js"
import { type Rng, seededRng } from "./rng.js"
import { ProtoState } from "./state.js"
import { TimerMap } from "./util.js"

type Id = EndpointId.EndpointId

export type LatencyConfig =
  | { readonly _tag: "Static"; readonly ms: number }
  | { readonly _tag: "Dynamic"; readonly min: number; readonly max: number }

export const defaultLatency: LatencyConfig = { _tag: "Dynamic", min: 10, max: 100 }
export const staticLatency = (ms = 50): LatencyConfig => ({ _tag: "Static", ms })

const maxLatency = (l: LatencyConfig): number => (l._tag === "Static" ? l.ms : l.max)

/** Deterministic fake endpoint ids for simulated nodes; their string order is their numeric order. */
export const simPeerId = (n: number): Id => n.toString(16).padStart(64, "0") as Id

const connKey = (a: Id, b: Id): string => (a < b ? `${a}|${b}` : `${b}|${a}`)

export interface NetworkConfig {
  readonly latency: LatencyConfig
  readonly proto: ProtoConfig
  /**
   * Pass every message through the wire codec (encode, frame, decode) and fail loudly if that is not possible.
   * Needs real Ed25519 public keys as node ids.
   */
  readonly throughWire?: boolean
}

const viaWire = (message: TopicMessage, maxMessageSize: number): TopicMessage => {
  const frame = encodeMessageFrame(message, maxMessageSize)
  if (Either.isLeft(frame)) throw new Error(`unencodable message: ${frame.left._tag}`)
  const decoder = new FrameDecoder(maxMessageSize)
  decoder.push(frame.right)
  const payload = Either.getOrThrow(decoder.next())
  if (Option.isNone(payload)) throw new Error("frame did not decode")
  return Either.getOrThrow(decodeTopicMessage(payload.value))
}

export class Network {
  time = 0
  private readonly peers = new Map<Id, ProtoState>()
  private readonly conns = new Set<string>()
  private readonly latencies = new Map<string, number>()
  private readonly queue = new TimerMap<{ peer: Id; event: InEvent }>()
  /** Events emitted by nodes, oldest first; consumers drain it. */
  readonly events: Array<{ peer: Id; topic: TopicId; event: Event }> = []

  constructor(
    readonly config: NetworkConfig,
    readonly rng: Rng
  ) {}

  insert(peer: Id, proto: ProtoConfig = this.config.proto, meData?: Uint8Array): void {
    if (this.peers.has(peer)) throw new Error(`duplicate peer ${peer}`)
    this.peers.set(
      peer,
      new ProtoState({ me: peer, rng: this.rng.fork(), config: proto, ...(meData ? { meData } : {}) })
    )
  }

  insertAndJoin(peer: Id, topic: TopicId, bootstrap: ReadonlyArray<Id>): void {
    this.insert(peer)
    this.command(peer, topic, { _tag: "Join", peers: bootstrap })
  }

  command(peer: Id, topic: TopicId, command: Command): void {
    this.queue.insert(this.time, { peer, event: { _tag: "Command", topic, command } })
    this.tick()
  }

  /** Node ids in ascending order. */
  peerIds(): Array<Id> {
    return [...this.peers.keys()].sort()
  }

  peer(id: Id): ProtoState | undefined {
    return this.peers.get(id)
  }

  neighbors(peer: Id, topic: TopicId): ReadonlyArray<Id> | undefined {
    return this.peers.get(peer)?.state(topic)?.neighbors()
  }

  /** Connections that carried at least one message and were not closed since, as sorted pairs. */
  connections(): Array<[Id, Id]> {
    return [...this.conns].sort().map((k) => k.split("|") as [Id, Id])
  }

  drainEvents(): Array<{ peer: Id; topic: TopicId; event: Event }> {
    return this.events.splice(0, this.events.length)
  }

  remove(peer: Id): void {
    for (const k of [...this.conns]) {
      const [a, b] = k.split("|") as [Id, Id]
      if (a === peer) this.killConnection(peer, b)
      else if (b === peer) this.killConnection(peer, a)
    }
    this.peers.delete(peer)
  }

  runTrips(n: number): void {
    this.runDuration(maxLatency(this.config.latency) * n)
  }

  runDuration(duration: number): void {
    const end = this.time + duration
    while (this.nextBefore(end)) this.tick()
    this.time = end
  }

  /** Runs until `f` returns false or `timeout` of virtual time has passed. */
  runWhileWithTimeout(timeout: number, f: (peer: Id, topic: TopicId, event: Event) => boolean): void {
    const end = this.time + timeout
    for (;;) {
      while (this.events.length > 0) {
        const e = this.events.shift()!
        if (!f(e.peer, e.topic, e.event)) return
      }
      if (this.nextBefore(end)) this.tick()
      else break
    }
    this.time = end
  }

  private nextBefore(end: number): boolean {
    const next = this.queue.first()
    return next !== undefined && next <= end
  }

  private latencyBetween(a: Id, b: Id): number {
    const k = connKey(a, b)
    let l = this.latencies.get(k)
    if (l === undefined) {
      const c = this.config.latency
      l = c._tag === "Static" ? c.ms : c.min + this.rng.float() * (c.max - c.min)
      this.latencies.set(k, l)
    }
    return l
  }

  private tick(): void {
    const next = this.queue.popBefore(Number.POSITIVE_INFINITY)
    if (next === undefined) return
    this.time = next.time
    const { peer, event } = next.item
    const state = this.peers.get(peer)
    if (state === undefined) return // event for a removed node
    if (event._tag === "RecvMessage") this.conns.add(connKey(event.from, peer))
    const kill: Array<Id> = []
    for (const out of state.handle(event, this.time)) {
      switch (out._tag) {
        case "SendMessage": {
          const message = this.config.throughWire ? viaWire(out.message, this.config.proto.maxMessageSize) : out.message
          this.queue.insert(this.time + this.latencyBetween(peer, out.to), {
            peer: out.to,
            event: { _tag: "RecvMessage", from: peer, topic: out.topic, message }
          })
          break
        }
        case "ScheduleTimer":
          this.queue.insert(this.time + out.delay, { peer, event: { _tag: "TimerExpired", timer: out.timer } })
          break
        case "DisconnectPeer":
          kill.push(out.peer)
          break
        case "EmitEvent":
          this.events.push({ peer, topic: out.topic, event: out.event })
          break
        case "PeerData":
          break
      }
    }
    for (const to of kill) this.killConnection(peer, to)
  }

  private killConnection(from: Id, to: Id): void {
    if (!this.conns.delete(connKey(from, to))) return
    // One microsecond after the pair latency, so messages sent before the close arrive first.
    this.queue.insert(this.time + this.latencyBetween(from, to) + 0.001, {
      peer: to,
      event: { _tag: "PeerDisconnected", peer: from }
    })
  }

  /** Every active-view and every eager relation is symmetric. */
  checkSynchronicity(): boolean {
    for (const [me, node] of this.peers) {
      for (const topic of node.topicIds()) {
        const state = node.state(topic)!
        for (const other of state.swarm.activeView.values()) {
          if (!this.peers.get(other)?.state(topic)?.swarm.activeView.has(me)) return false
        }
        for (const other of state.gossip.eagerPushPeers) {
          if (!this.peers.get(other)?.state(topic)?.gossip.eagerPushPeers.has(me)) return false
        }
      }
    }
    return true
  }

  report(topic: TopicId): NetworkReport {
    const histogram = () => new Map<number, number>()
    const h = { active: histogram(), passive: histogram(), eager: histogram(), lazy: histogram() }
    const add = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1)
    const peersWithoutNeighbors: Array<Id> = []
    for (const id of this.peerIds()) {
      const s = this.peers.get(id)!.state(topic)
      if (s === undefined) continue
      add(h.active, s.swarm.activeView.size)
      add(h.passive, s.swarm.passiveView.size)
      add(h.eager, s.gossip.eagerPushPeers.size)
      add(h.lazy, s.gossip.lazyPushPeers.size)
      if (s.swarm.activeView.size === 0) peersWithoutNeighbors.push(id)
    }
    return { peerCount: this.peers.size, peersWithoutNeighbors, histograms: h }
  }
}

export interface NetworkReport {
  readonly peerCount: number
  readonly peersWithoutNeighbors: ReadonlyArray<Id>
  /** view size -> number of nodes */
  readonly histograms: Record<"active" | "passive" | "eager" | "lazy", Map<number, number>>
}

export interface RoundStats {
  /** Virtual milliseconds until the last delivery (or the timeout). */
  readonly duration: number
  /** Relative message redundancy: payload frames received / (deliveries - 1) - 1. */
  readonly rmr: number
  /** Last delivery hop: the largest round among first-time swarm deliveries. */
  readonly ldh: number
  readonly missed: number
}

export const meanStats = (rounds: ReadonlyArray<RoundStats>): RoundStats => {
  const n = rounds.length
  const sum = (f: (r: RoundStats) => number) => rounds.reduce((a, r) => a + f(r), 0) / n
  return {
    duration: sum((r) => r.duration),
    rmr: sum((r) => r.rmr),
    ldh: sum((r) => r.ldh),
    missed: sum((r) => r.missed)
  }
}

export interface SimulatorConfig {
  readonly seed: number
  readonly peers: number
  /** Virtual ms a gossip round may take before the missing deliveries count as missed. */
  readonly gossipRoundTimeout: number
}

export const defaultSimulatorConfig: SimulatorConfig = { seed: 0, peers: 100, gossipRoundTimeout: 5_000 }

/** The topic every simulated node joins (32 zero bytes, as in Rust's simulator). */
export const SIM_TOPIC: TopicId = "00".repeat(32)

const contentKey = (c: Uint8Array): string => Buffer.from(c).toString("latin1")

export class Simulator {
  readonly network: Network
  readonly roundStats: Array<RoundStats> = []

  constructor(
    readonly config: SimulatorConfig = defaultSimulatorConfig,
    network: Partial<NetworkConfig> = {}
  ) {
    this.network = new Network(
      { latency: network.latency ?? defaultLatency, proto: network.proto ?? defaultProtoConfig },
      seededRng(config.seed)
    )
  }

  randomPeer(): Id {
    const ids = this.network.peerIds()
    return ids[this.network.rng.int(ids.length)]!
  }

  /** Node 0 joins alone, every other node joins through node 0, then 20 trips pass. */
  bootstrap(): NetworkReport {
    this.network.insertAndJoin(simPeerId(0), SIM_TOPIC, [])
    for (let i = 1; i < this.config.peers; i++) this.network.insertAndJoin(simPeerId(i), SIM_TOPIC, [simPeerId(0)])
    this.network.runTrips(20)
    return this.network.report(SIM_TOPIC)
  }

  /**
   * Broadcasts `messages` (sender, content) at once and runs until every other node received each exactly once, or
   * the round timeout. Throws on a duplicate delivery (the protocol must never deliver twice).
   */
  gossipRound(messages: ReadonlyArray<readonly [Id, Uint8Array]>): RoundStats {
    for (const id of this.network.peerIds()) this.network.peer(id)!.resetStats(SIM_TOPIC)
    const start = this.network.time
    const peerIds = this.network.peerIds()
    const expected = messages.length * (peerIds.length - 1)
    const missing = new Map<Id, Set<string>>()
    for (const [from, content] of messages) {
      for (const p of peerIds) {
        if (p === from) continue
        let set = missing.get(p)
        if (set === undefined) missing.set(p, set = new Set())
        set.add(contentKey(content))
      }
      this.network.command(from, SIM_TOPIC, { _tag: "Broadcast", content, scope: "Swarm" })
    }
    let received = 0
    this.network.runWhileWithTimeout(this.config.gossipRoundTimeout, (peer, _topic, event) => {
      if (event._tag === "Received") {
        const set = missing.get(peer)
        if (set === undefined || !set.delete(contentKey(event.content))) {
          throw new Error(`duplicate delivery at ${peer}`)
        }
        if (set.size === 0) missing.delete(peer)
        received++
      }
      return received !== expected
    })
    const missed = expected - received
    let payload = 0
    let ldh = 0
    for (const id of this.network.peerIds()) {
      const s = this.network.peer(id)!.state(SIM_TOPIC)
      if (s === undefined) continue
      payload += s.gossip.stats.payloadMessagesReceived
      ldh = Math.max(ldh, s.gossip.stats.maxLastDeliveryHop)
    }
    const stats: RoundStats = {
      duration: this.network.time - start,
      rmr: payload / (expected - missed - 1) - 1,
      ldh,
      missed
    }
    this.roundStats.push(stats)
    return stats
  }

  mean(): RoundStats {
    return meanStats(this.roundStats)
  }
}
