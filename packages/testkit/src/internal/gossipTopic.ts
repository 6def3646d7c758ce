/**
 * One topic on one simulated node of the `MemoryGossip` model: a small HyParView (active view with eviction,
 * passive view, join / forward-join / neighbor / disconnect, refill from the passive view, periodic shuffle) with
 * flooding broadcast on the active-view graph (spec iroh-gossip.md §3.3).
 *
 * Simplifications, on purpose: no Plumtree lazy push (every neighbour gets the payload, duplicates are dropped
 * by message id), disconnects carry a few peers for the passive view instead of a ShuffleReply. All handlers are
 * synchronous; time only passes in link delivery and timers on the network's scheduler, so the model runs under
 * `TestClock`; choices come from the network's seeded generator, so runs repeat.
 */
import { Bytes, type EndpointId, type Gossip } from "@dtt/core"
import { blake3 } from "@noble/hashes/blake3.js"
import { Deferred, Duration, Exit } from "effect"
import type { MemoryGossipConfig } from "./gossipConfig.js"
import type { GossipNode, MemoryGossipNetwork } from "./gossipNetwork.js"
import { Subscription } from "./gossipSubscription.js"
import type { Wire } from "./gossipWire.js"

type Id = EndpointId.EndpointId

type RemovalReason = "evicted" | "disconnected" | "connection-closed"

export class TopicState {
  readonly active: Array<Id> = []
  readonly passive: Array<Id> = []
  readonly pending = new Set<Id>()
  /** Message id -> expiry (ms); insertion order = expiry order, so pruning looks at the front only. */
  private readonly received = new Map<string, number>()
  readonly subscriptions = new Set<Subscription>()
  closed = false
  private readonly network: MemoryGossipNetwork
  private readonly config: MemoryGossipConfig

  constructor(
    readonly node: GossipNode,
    readonly topic: string
  ) {
    this.network = node.network
    this.config = node.network.config
    this.scheduleShuffle()
  }

  private scheduleShuffle(): void {
    const interval = Duration.decode(this.config.shuffleInterval)
    if (!Duration.isFinite(interval)) return
    this.network.schedule(interval, () => {
      if (this.closed) return
      this.shuffle()
      this.scheduleShuffle()
    })
  }

  /** Draw up to `n` distinct random elements. */
  private sample<A>(items: ReadonlyArray<A>, n: number): Array<A> {
    const pool = [...items]
    const out: Array<A> = []
    while (pool.length > 0 && out.length < n) out.push(pool.splice(this.network.rng.int(pool.length), 1)[0]!)
    return out
  }

  private shuffle(): void {
    const target = this.pick(this.active)
    if (target === undefined) return
    const peers = [
      ...this.sample(this.active.filter((p) => p !== target), 3),
      ...this.sample(this.passive.filter((p) => p !== target), 4),
      this.me
    ]
    this.send(target, { _tag: "Shuffle", origin: this.me, peers, ttl: this.config.activeRandomWalkLength })
  }

  private onShuffle(from: Id, origin: Id, peers: ReadonlyArray<Id>, ttl: number): void {
    if (ttl === 0 || this.active.length <= 1) {
      const reply = [
        ...this.sample(this.passive, peers.length),
        ...this.sample(this.active, peers.length)
      ].slice(0, peers.length)
      for (const p of peers) this.addPassive(p)
      // the origin may be a stranger: the reply opens a connection just for it
      this.send(origin, { _tag: "ShuffleReply", peers: reply })
      return
    }
    const next = this.pick(this.active.filter((p) => p !== origin && p !== from))
    if (next !== undefined) this.send(next, { _tag: "Shuffle", origin, peers, ttl: ttl - 1 })
  }

  private get me(): Id {
    return this.node.id
  }

  private send(to: Id, wire: Wire): void {
    this.network.send(this.me, to, this.topic, wire)
  }

  private emit(event: Gossip.GossipEvent): void {
    for (const sub of this.subscriptions) sub.buffer.offer(event)
  }

  private pick<A>(items: ReadonlyArray<A>): A | undefined {
    return items.length === 0 ? undefined : items[this.network.rng.int(items.length)]
  }

  // --- subscriptions ------------------------------------------------------------------------------------------

  subscribe(): Subscription {
    const sub = new Subscription(this.config.eventBufferCapacity)
    // A late subscriber learns the current neighbours first, as in iroh.
    for (const peer of this.active) sub.buffer.offer({ _tag: "NeighborUp", peer })
    this.subscriptions.add(sub)
    return sub
  }

  /** The last subscription leaving quits the topic. */
  unsubscribe(sub: Subscription): void {
    sub.close("subscription closed")
    this.subscriptions.delete(sub)
    if (this.subscriptions.size === 0 && !this.closed) this.quit()
  }

  /** Leave: neighbours are told (Disconnect, not alive) and get NeighborDown; the state is dropped. */
  quit(): void {
    for (const peer of this.active) this.sendDisconnect(peer, false)
    this.active.length = 0
    this.close("topic left")
  }

  close(reason: string): void {
    this.closed = true
    for (const sub of this.subscriptions) sub.close(reason)
    if (this.node.topics.get(this.topic) === this) this.node.topics.delete(this.topic)
  }

  // --- commands -----------------------------------------------------------------------------------------------

  joinPeers(peers: ReadonlyArray<Id>): void {
    for (const peer of peers) if (peer !== this.me) this.send(peer, { _tag: "Join" })
  }

  broadcast(content: Uint8Array, scope: "swarm" | "neighbors"): void {
    const id = Bytes.toHex(blake3(content))
    if (scope === "swarm") {
      this.remember(id)
      for (const peer of this.active) {
        this.send(peer, { _tag: "Gossip", id, content, scope: { _tag: "Swarm", hops: 0 } })
      }
    } else {
      for (const peer of this.active) this.send(peer, { _tag: "Gossip", id, content, scope: { _tag: "Neighbors" } })
    }
  }

  // --- protocol -----------------------------------------------------------------------------------------------

  handle(from: Id, wire: Wire): void {
    if (this.closed) return
    switch (wire._tag) {
      case "Join":
        return this.onJoin(from)
      case "ForwardJoin":
        return this.onForwardJoin(from, wire.peer, wire.ttl)
      case "Neighbor":
        return this.onNeighbor(from, wire.high)
      case "Disconnect":
        return this.onDisconnect(from, wire.alive, wire.peers)
      case "Gossip":
        return this.onGossip(from, wire.id, wire.content, wire.scope)
      case "Shuffle":
        return this.onShuffle(from, wire.origin, wire.peers, wire.ttl)
      case "ShuffleReply":
        for (const p of wire.peers) this.addPassive(p)
        return this.refill()
    }
  }

  private onJoin(peer: Id): void {
    this.addActive(peer, true, true)
    for (const other of this.active) {
      if (other !== peer) this.send(other, { _tag: "ForwardJoin", peer, ttl: this.config.activeRandomWalkLength })
    }
  }

  private onForwardJoin(from: Id, peer: Id, ttl: number): void {
    if (peer === this.me) return
    if (this.active.includes(peer) || ttl === 0 || this.active.length <= 1) {
      // The walk ends here: offer ourselves as a neighbour (the paper adds the peer at once; iroh waits for its answer).
      this.sendNeighbor(peer, true)
      return
    }
    if (ttl === this.config.passiveRandomWalkLength) this.addPassive(peer)
    if (this.pending.has(peer)) return
    const next = this.pick(this.active.filter((p) => p !== from))
    if (next !== undefined) this.send(next, { _tag: "ForwardJoin", peer, ttl: Math.max(0, ttl - 1) })
  }

  private sendNeighbor(peer: Id, high: boolean): void {
    if (this.pending.has(peer)) return
    this.pending.add(peer)
    this.send(peer, { _tag: "Neighbor", high })
  }

  private onNeighbor(peer: Id, high: boolean): void {
    const isReply = this.pending.delete(peer)
    if (!this.addActive(peer, high, !isReply)) this.sendDisconnect(peer, true)
  }

  /** High priority is never refused (a random neighbour is evicted when full); low only fills free room. */
  private addActive(peer: Id, high: boolean, reply: boolean): boolean {
    if (peer === this.me) return false
    if (this.active.includes(peer)) {
      if (reply) this.sendNeighbor(peer, high)
      return true
    }
    if (this.active.length >= this.config.activeViewCapacity) {
      if (!high) return false
      const victim = this.pick(this.active)!
      this.removeActive(victim, "evicted", true)
    }
    this.removePassive(peer)
    this.active.push(peer)
    this.emit({ _tag: "NeighborUp", peer })
    for (const sub of this.subscriptions) {
      for (const waiter of sub.joinWaiters) Deferred.unsafeDone(waiter, Exit.void)
      sub.joinWaiters.clear()
    }
    if (reply) this.sendNeighbor(peer, high)
    return true
  }

  private removeActive(peer: Id, reason: RemovalReason, alive: boolean): void {
    const at = this.active.indexOf(peer)
    if (at < 0) return
    this.active.splice(at, 1)
    this.pending.delete(peer)
    this.emit({ _tag: "NeighborDown", peer })
    switch (reason) {
      case "evicted":
        this.sendDisconnect(peer, true)
        this.addPassive(peer)
        return
      case "disconnected":
        if (alive) this.addPassive(peer)
        else this.removePassive(peer)
        return this.refill(peer)
      case "connection-closed":
        this.removePassive(peer)
        return this.refill(peer)
    }
  }

  private sendDisconnect(peer: Id, alive: boolean): void {
    // A few peers travel with the disconnect so the peer we let go can refill (iroh sends a ShuffleReply first).
    const peers = this.sample([...this.active, ...this.passive].filter((p) => p !== peer), 7)
    this.send(peer, { _tag: "Disconnect", alive, peers })
  }

  private onDisconnect(peer: Id, alive: boolean, peers: ReadonlyArray<Id>): void {
    this.pending.delete(peer)
    for (const p of peers) this.addPassive(p)
    if (this.active.includes(peer)) this.removeActive(peer, "disconnected", alive)
    else if (!alive) this.removePassive(peer)
  }

  /** The connection to `peer` broke (cut link, crash): drop it and look for a replacement. */
  connectionClosed(peer: Id): void {
    if (this.closed) return
    this.pending.delete(peer)
    if (this.active.includes(peer)) this.removeActive(peer, "connection-closed", false)
    else this.removePassive(peer)
  }

  /** Ask one passive peer to become a neighbour; if it does not answer in time, forget it and try another. */
  private refill(skip?: Id): void {
    if (this.closed || this.active.length + this.pending.size >= this.config.activeViewCapacity) return
    const candidate = this.pick(this.passive.filter((p) => p !== skip && !this.pending.has(p)))
    if (candidate === undefined) return
    this.sendNeighbor(candidate, this.active.length === 0)
    this.network.schedule(this.config.neighborRequestTimeout, () => {
      if (this.closed || !this.pending.delete(candidate)) return
      this.removePassive(candidate)
      this.refill()
    })
  }

  private addPassive(peer: Id): void {
    if (peer === this.me || this.active.includes(peer) || this.passive.includes(peer)) return
    if (this.passive.length >= this.config.passiveViewCapacity) {
      this.passive.splice(this.network.rng.int(this.passive.length), 1)
    }
    this.passive.push(peer)
  }

  private removePassive(peer: Id): void {
    const at = this.passive.indexOf(peer)
    if (at >= 0) this.passive.splice(at, 1)
  }

  private remember(id: string): boolean {
    const now = this.network.now()
    for (const [key, expiry] of this.received) {
      if (expiry > now) break
      this.received.delete(key)
    }
    if (this.received.has(id)) return false
    this.received.set(id, now + Duration.toMillis(this.config.messageIdRetention))
    return true
  }

  private onGossip(from: Id, id: string, content: Uint8Array, scope: Gossip.DeliveryScope): void {
    if (scope._tag === "Swarm") {
      if (!this.remember(id)) return
      for (const peer of this.active) {
        if (peer !== from) {
          this.send(peer, { _tag: "Gossip", id, content, scope: { _tag: "Swarm", hops: scope.hops + 1 } })
        }
      }
    } else if (this.received.has(id)) {
      return // iroh treats a neighbour-scoped copy of a message it already has as a duplicate
    }
    this.network.counters.received++
    this.emit({ _tag: "Received", content, deliveredFrom: from, scope })
  }
}
