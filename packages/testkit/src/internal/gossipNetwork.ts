/**
 * The network of the in-memory gossip model: nodes, directed FIFO links with latency and loss, cut links and
 * crashed nodes, and the counters tests read. What a node does with a message is `TopicState`'s business.
 */
import type { EndpointId } from "@dtt/core"
import { type Clock, Duration, type Effect, type Fiber } from "effect"
import type { MemoryGossipConfig } from "./gossipConfig.js"
import type { TopicState } from "./gossipTopic.js"
import type { Wire } from "./gossipWire.js"
import { makePrng, type Prng } from "./prng.js"
import { Scheduler } from "./scheduler.js"

type Id = EndpointId.EndpointId

export interface GossipCounters {
  /** Messages handed to a link (control and payload). */
  sent: number
  /** Messages that reached a live node's topic. */
  delivered: number
  /** Messages lost, sent over a cut link, or addressed to a node/topic that is not there. */
  dropped: number
  /** Payload (broadcast) messages handed to a link, duplicates included. */
  payloadSent: number
  /** `Received` events emitted. */
  received: number
}

const pairKey = (a: Id, b: Id): string => (a < b ? `${a}|${b}` : `${b}|${a}`)

export class MemoryGossipNetwork {
  /** @internal */
  readonly nodes = new Map<Id, GossipNode>()
  readonly cuts = new Set<string>()
  /** Per directed link, the last delivery deadline: links are FIFO, like a QUIC stream. */
  private readonly lastDelivery = new Map<string, number>()
  private readonly scheduler: Scheduler
  /** @internal */
  readonly rng: Prng
  latencyMillis: number
  jitterMillis: number
  loss: number
  readonly counters: GossipCounters = { sent: 0, delivered: 0, dropped: 0, payloadSent: 0, received: 0 }

  constructor(
    readonly config: MemoryGossipConfig,
    clock: Clock.Clock,
    fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>
  ) {
    this.scheduler = new Scheduler(clock, fork, config.timeQuantum)
    this.rng = makePrng(config.seed)
    this.latencyMillis = Duration.toMillis(config.latency)
    this.jitterMillis = Duration.toMillis(config.latencyJitter)
    this.loss = config.loss
  }

  now(): number {
    return this.scheduler.now()
  }

  /** Run `f` after `delay` on the network's timeline (it stops with the network's scope). */
  schedule(delay: Duration.DurationInput, f: () => void): void {
    this.scheduler.runAfter(delay, f)
  }

  linkUp(a: Id, b: Id): boolean {
    return this.nodes.get(a)?.up === true && this.nodes.get(b)?.up === true && !this.cuts.has(pairKey(a, b))
  }

  /** @internal */
  send(from: Id, to: Id, topic: string, wire: Wire): void {
    this.counters.sent++
    if (wire._tag === "Gossip") this.counters.payloadSent++
    if (from === to || !this.linkUp(from, to) || (this.loss > 0 && this.rng.next() < this.loss)) {
      this.counters.dropped++
      return
    }
    const key = `${from}>${to}`
    const delay = this.latencyMillis + (this.jitterMillis > 0 ? this.rng.next() * this.jitterMillis : 0)
    const at = Math.max(this.now() + delay, this.lastDelivery.get(key) ?? 0)
    this.lastDelivery.set(key, this.scheduler.runAt(at, () => this.deliver(from, to, topic, wire)))
  }

  private deliver(from: Id, to: Id, topic: string, wire: Wire): void {
    const up = this.linkUp(from, to)
    const state = up ? this.nodes.get(to)?.topics.get(topic) : undefined
    if (state === undefined) {
      this.counters.dropped++
      // Someone takes us for a neighbour on a topic we have left (its Neighbor crossed our Quit): a node
      // without the topic drops the connection, which the sender sees as a disconnect.
      if (up && wire._tag === "Neighbor") this.send(to, from, topic, { _tag: "Disconnect", alive: false, peers: [] })
      return
    }
    this.counters.delivered++
    state.handle(from, wire)
  }

  /** After `failureDetection`, both ends of a connection that is still broken drop each other. */
  watchConnection(a: Id, b: Id, stillBroken: () => boolean): void {
    this.schedule(this.config.failureDetection, () => {
      if (!stillBroken()) return
      for (const [x, y] of [[a, b], [b, a]] as const) {
        const node = this.nodes.get(x)
        if (node?.up !== true) continue
        for (const state of [...node.topics.values()]) state.connectionClosed(y)
      }
    })
  }

  cut(a: Id, b: Id): void {
    const key = pairKey(a, b)
    if (this.cuts.has(key)) return
    this.cuts.add(key)
    this.watchConnection(a, b, () => this.cuts.has(key))
  }

  heal(a: Id, b: Id): void {
    this.cuts.delete(pairKey(a, b))
  }

  crash(id: Id): void {
    const node = this.nodes.get(id)
    if (node === undefined || !node.up) return
    node.up = false
    for (const state of [...node.topics.values()]) state.close("node crashed")
    node.topics.clear()
    for (const other of this.nodes.keys()) if (other !== id) this.watchConnection(id, other, () => true)
  }

  restart(id: Id): void {
    const node = this.nodes.get(id)
    if (node !== undefined) node.up = true
  }
}

export class GossipNode {
  up = true
  readonly topics = new Map<string, TopicState>()
  constructor(
    readonly network: MemoryGossipNetwork,
    readonly id: Id
  ) {}
}
