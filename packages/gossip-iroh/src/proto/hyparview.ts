/**
 * HyParView swarm membership for one topic, as in iroh-gossip 0.101 (spec iroh-gossip.md §3.3): a small active
 * view of connected neighbours kept symmetric through the Neighbor handshake, a larger passive view of known peers
 * refreshed by shuffles, and refills from the passive view when neighbours go away.
 *
 * Deviations from the paper are iroh's, kept on purpose for wire-level equivalence: a ForwardJoin target is only
 * asked to become a neighbour (not added until it answers), and a Disconnect is preceded by a ShuffleReply.
 */
import type { EndpointId } from "@dtt/core"
import type { PeerData, PeerInfo, Priority, SwarmMessage } from "../wire/messages.js"
import type { HyParViewConfig } from "./config.js"
import type { TopicOutEvent, TopicTimer } from "./events.js"
import type { Rng } from "./rng.js"
import { IndexSet } from "./util.js"

export type HyParViewIn =
  | { readonly _tag: "RecvMessage"; readonly from: EndpointId.EndpointId; readonly message: SwarmMessage }
  | { readonly _tag: "TimerExpired"; readonly timer: TopicTimer }
  | { readonly _tag: "PeerDisconnected"; readonly peer: EndpointId.EndpointId }
  | { readonly _tag: "RequestJoin"; readonly peer: EndpointId.EndpointId }
  | { readonly _tag: "UpdatePeerData"; readonly data: PeerData }
  | { readonly _tag: "Quit" }

type RemovalReason =
  | { readonly _tag: "ConnectionClosed" }
  | { readonly _tag: "DisconnectReceived"; readonly alive: boolean }
  | { readonly _tag: "Random" }

const samePeerData = (a: PeerData | undefined, b: PeerData): boolean =>
  a !== undefined && a.length === b.length && a.every((x, i) => x === b[i])

export class HyParView {
  readonly activeView = new IndexSet<EndpointId.EndpointId>()
  readonly passiveView = new IndexSet<EndpointId.EndpointId>()
  private shuffleScheduled = false
  /** Neighbor requests we sent and have not seen answered (iroh never clears the entry of an accepted reply). */
  readonly pendingNeighborRequests = new Set<EndpointId.EndpointId>()
  private readonly peerData = new Map<EndpointId.EndpointId, PeerData>()
  /** Peers that told us they stay alive; kept in the passive view when their connection closes. */
  private readonly aliveDisconnectPeers = new Set<EndpointId.EndpointId>()

  constructor(
    readonly me: EndpointId.EndpointId,
    private meData: PeerData | undefined,
    private readonly config: HyParViewConfig,
    private readonly rng: Rng
  ) {}

  handle(event: HyParViewIn, out: Array<TopicOutEvent>): void {
    switch (event._tag) {
      case "RecvMessage":
        this.handleMessage(event.from, event.message, out)
        break
      case "TimerExpired":
        if (event.timer._tag === "DoShuffle") this.onShuffleTimer(out)
        else if (event.timer._tag === "PendingNeighborRequest") this.onPendingNeighborTimer(event.timer.peer, out)
        break
      case "PeerDisconnected":
        this.onConnectionClosed(event.peer, out)
        break
      case "RequestJoin":
        this.send(out, event.peer, { _tag: "Join", data: this.meData })
        break
      case "UpdatePeerData":
        this.meData = event.data
        break
      case "Quit":
        this.onQuit(out)
        break
    }
    // The shuffle timer is started by the first event, whatever it is.
    if (!this.shuffleScheduled) {
      out.push({ _tag: "ScheduleTimer", delay: this.config.shuffleInterval, timer: { _tag: "DoShuffle" } })
      this.shuffleScheduled = true
    }
  }

  /** The data last seen for a peer. */
  dataOf(peer: EndpointId.EndpointId): PeerData | undefined {
    return this.peerData.get(peer)
  }

  private send(out: Array<TopicOutEvent>, to: EndpointId.EndpointId, message: SwarmMessage): void {
    out.push({ _tag: "SendMessage", to, message: { _tag: "Swarm", message } })
  }

  private handleMessage(from: EndpointId.EndpointId, message: SwarmMessage, out: Array<TopicOutEvent>): void {
    switch (message._tag) {
      case "Join":
        this.onJoin(from, message.data, out)
        break
      case "ForwardJoin":
        this.onForwardJoin(from, message.peer, message.ttl, out)
        break
      case "Shuffle":
        this.onShuffle(from, message.origin, message.nodes, message.ttl, out)
        break
      case "ShuffleReply":
        for (const node of message.nodes) this.addPassive(node.id, node.data, out)
        this.refillActiveFromPassive([], out)
        break
      case "Neighbor":
        this.onNeighbor(from, message.priority, message.data, out)
        break
      case "Disconnect":
        this.onDisconnect(from, message.alive, out)
        return
    }
    // A peer that is not (or no longer) our neighbour gets its connection released right away.
    if (!this.activeView.has(from)) out.push({ _tag: "DisconnectPeer", peer: from })
  }

  private onDisconnect(peer: EndpointId.EndpointId, alive: boolean, out: Array<TopicOutEvent>): void {
    this.pendingNeighborRequests.delete(peer)
    if (this.activeView.has(peer)) this.removeActive(peer, { _tag: "DisconnectReceived", alive }, out)
    else if (alive && this.passiveView.has(peer)) this.aliveDisconnectPeers.add(peer)
  }

  private onConnectionClosed(peer: EndpointId.EndpointId, out: Array<TopicOutEvent>): void {
    this.pendingNeighborRequests.delete(peer)
    if (this.activeView.has(peer)) this.removeActive(peer, { _tag: "ConnectionClosed" }, out)
    else if (!this.aliveDisconnectPeers.delete(peer)) {
      this.passiveView.remove(peer)
      this.peerData.delete(peer)
    }
  }

  private onQuit(out: Array<TopicOutEvent>): void {
    for (const peer of [...this.activeView.values()]) {
      this.activeView.remove(peer)
      this.sendDisconnect(peer, false, out)
    }
  }

  private sendDisconnect(peer: EndpointId.EndpointId, alive: boolean, out: Array<TopicOutEvent>): void {
    // Hand over some contacts first so a peer that just joined through us does not starve.
    this.sendShuffleReply(peer, this.config.shuffleActiveViewCount + this.config.shufflePassiveViewCount, out)
    this.send(out, peer, { _tag: "Disconnect", alive, respond: false })
    out.push({ _tag: "DisconnectPeer", peer })
  }

  private onJoin(peer: EndpointId.EndpointId, data: PeerData | undefined, out: Array<TopicOutEvent>): void {
    this.addActive(peer, data, "High", true, out)
    const info: PeerInfo = { id: peer, data }
    for (const node of this.activeView.values()) {
      if (node === peer) continue
      this.send(out, node, { _tag: "ForwardJoin", peer: info, ttl: this.config.activeRandomWalkLength })
    }
  }

  private onForwardJoin(sender: EndpointId.EndpointId, peer: PeerInfo, ttl: number, out: Array<TopicOutEvent>): void {
    if (this.activeView.has(peer.id)) {
      this.insertPeerInfo(peer.id, peer.data, out)
      this.sendNeighbor(peer.id, "High", out)
    } else if (ttl === 0 || this.activeView.size <= 1) {
      // Ask the joiner to become our neighbour; it enters the active view only when it answers.
      this.insertPeerInfo(peer.id, peer.data, out)
      this.sendNeighbor(peer.id, "High", out)
    } else {
      if (ttl === this.config.passiveRandomWalkLength) this.addPassive(peer.id, peer.data, out)
      if (!this.activeView.has(peer.id) && !this.pendingNeighborRequests.has(peer.id)) {
        // Two or more neighbours here, so one other than the sender exists.
        const next = this.activeView.pickRandomWithout([sender], this.rng)
        if (next !== undefined) {
          this.send(out, next, { _tag: "ForwardJoin", peer, ttl: Math.max(0, ttl - 1) })
        }
      }
    }
  }

  private onNeighbor(
    from: EndpointId.EndpointId,
    priority: Priority,
    data: PeerData | undefined,
    out: Array<TopicOutEvent>
  ): void {
    const isReply = this.pendingNeighborRequests.delete(from)
    if (!this.addActive(from, data, priority, !isReply, out)) this.sendDisconnect(from, true, out)
  }

  private peerInfo(id: EndpointId.EndpointId): PeerInfo {
    return { id, data: this.peerData.get(id) }
  }

  private insertPeerInfo(id: EndpointId.EndpointId, data: PeerData | undefined, out: Array<TopicOutEvent>): void {
    if (data === undefined) return
    const old = this.peerData.get(id)
    if (!samePeerData(old, data) && data.length > 0) out.push({ _tag: "PeerData", peer: id, data })
    this.peerData.set(id, data)
  }

  private onShuffle(
    from: EndpointId.EndpointId,
    origin: EndpointId.EndpointId,
    nodes: ReadonlyArray<PeerInfo>,
    ttl: number,
    out: Array<TopicOutEvent>
  ): void {
    if (ttl === 0 || this.activeView.size <= 1) {
      for (const node of nodes) this.addPassive(node.id, node.data, out)
      this.sendShuffleReply(origin, nodes.length, out)
    } else {
      const next = this.activeView.pickRandomWithout([origin, from], this.rng)
      if (next !== undefined) this.send(out, next, { _tag: "Shuffle", origin, nodes, ttl: Math.max(0, ttl - 1) })
    }
  }

  private sendShuffleReply(to: EndpointId.EndpointId, len: number, out: Array<TopicOutEvent>): void {
    const ids = this.passiveView.shuffledAndCapped(len, this.rng)
    if (ids.length < len) ids.push(...this.activeView.shuffledAndCapped(len - ids.length, this.rng))
    this.send(out, to, { _tag: "ShuffleReply", nodes: ids.map((id) => this.peerInfo(id)) })
  }

  private onShuffleTimer(out: Array<TopicOutEvent>): void {
    const node = this.activeView.pickRandom(this.rng)
    if (node !== undefined) {
      const active = this.activeView.shuffledWithoutAndCapped([node], this.config.shuffleActiveViewCount, this.rng)
      const passive = this.passiveView.shuffledWithoutAndCapped([node], this.config.shufflePassiveViewCount, this.rng)
      const nodes = [...active, ...passive].map((id) => this.peerInfo(id))
      nodes.push({ id: this.me, data: this.meData })
      this.send(out, node, { _tag: "Shuffle", origin: this.me, nodes, ttl: this.config.shuffleRandomWalkLength })
    }
    this.forgetDataOfStrangers()
    out.push({ _tag: "ScheduleTimer", delay: this.config.shuffleInterval, timer: { _tag: "DoShuffle" } })
  }

  /**
   * Drops the data of peers in neither view and not asked to be a neighbour: it is only ever sent on about peers
   * in a view, and one that comes back brings its data again. iroh-gossip keeps every peer's data it ever saw;
   * in a swarm with churn that is a few hundred bytes for each node that ever passed by, for as long as the
   * topic lives. Runs on the shuffle timer, so the map holds the views plus one shuffle period of newcomers.
   */
  private forgetDataOfStrangers(): void {
    for (const peer of this.peerData.keys()) {
      if (!this.activeView.has(peer) && !this.passiveView.has(peer) && !this.pendingNeighborRequests.has(peer)) {
        this.peerData.delete(peer)
      }
    }
  }

  /** How many peers' data is kept (for tests of the bound above). */
  get peerDataSize(): number {
    return this.peerData.size
  }

  private addPassive(peer: EndpointId.EndpointId, data: PeerData | undefined, out: Array<TopicOutEvent>): void {
    this.insertPeerInfo(peer, data, out)
    if (this.activeView.has(peer) || this.passiveView.has(peer) || peer === this.me) return
    if (this.passiveView.size >= this.config.passiveViewCapacity) this.passiveView.removeRandom(this.rng)
    this.passiveView.insert(peer)
  }

  private removeActive(peer: EndpointId.EndpointId, reason: RemovalReason, out: Array<TopicOutEvent>): void {
    const index = this.activeView.indexOf(peer)
    if (index === undefined) return
    const removed = this.removeActiveByIndex(index, reason, out)
    if (removed !== undefined) this.refillActiveFromPassive([removed], out)
  }

  private refillActiveFromPassive(skip: ReadonlyArray<EndpointId.EndpointId>, out: Array<TopicOutEvent>): void {
    if (this.activeView.size + this.pendingNeighborRequests.size >= this.config.activeViewCapacity) return
    const node = this.passiveView.pickRandomWithout([...skip, ...this.pendingNeighborRequests], this.rng)
    if (node === undefined) return
    this.sendNeighbor(node, this.activeView.size === 0 ? "High" : "Low", out)
    // If it does not answer in time, it is dropped and the next candidate is tried.
    out.push({
      _tag: "ScheduleTimer",
      delay: this.config.neighborRequestTimeout,
      timer: { _tag: "PendingNeighborRequest", peer: node }
    })
  }

  private onPendingNeighborTimer(peer: EndpointId.EndpointId, out: Array<TopicOutEvent>): void {
    if (this.pendingNeighborRequests.delete(peer)) {
      this.passiveView.remove(peer)
      this.refillActiveFromPassive([], out)
    }
  }

  private removeActiveByIndex(
    index: number,
    reason: RemovalReason,
    out: Array<TopicOutEvent>
  ): EndpointId.EndpointId | undefined {
    const peer = this.activeView.removeIndex(index)
    if (peer === undefined) return undefined
    out.push({ _tag: "EmitEvent", event: { _tag: "NeighborDown", peer } })
    if (reason._tag === "Random") this.sendDisconnect(peer, true, out)
    else out.push({ _tag: "DisconnectPeer", peer })

    const keepAsPassive = reason._tag === "ConnectionClosed"
      ? this.aliveDisconnectPeers.delete(peer)
      : reason._tag === "DisconnectReceived"
      ? reason.alive
      : true
    if (keepAsPassive) {
      const data = this.peerData.get(peer)
      this.peerData.delete(peer)
      this.addPassive(peer, data, out)
      if (reason._tag !== "ConnectionClosed") this.aliveDisconnectPeers.add(peer)
    }
    return peer
  }

  private addActive(
    peer: EndpointId.EndpointId,
    data: PeerData | undefined,
    priority: Priority,
    reply: boolean,
    out: Array<TopicOutEvent>
  ): boolean {
    if (peer === this.me) return false
    this.insertPeerInfo(peer, data, out)
    if (this.activeView.has(peer)) {
      if (reply) this.sendNeighbor(peer, priority, out)
      return true
    }
    const full = this.activeView.size >= this.config.activeViewCapacity
    if (priority === "High") {
      if (full) {
        const index = this.activeView.pickRandomIndex(this.rng)
        if (index !== undefined) this.removeActiveByIndex(index, { _tag: "Random" }, out)
      }
      this.addActiveUnchecked(peer, priority, reply, out)
      return true
    }
    if (!full) {
      this.addActiveUnchecked(peer, priority, reply, out)
      return true
    }
    return false
  }

  private addActiveUnchecked(
    peer: EndpointId.EndpointId,
    priority: Priority,
    reply: boolean,
    out: Array<TopicOutEvent>
  ): void {
    this.passiveView.remove(peer)
    if (this.activeView.insert(peer)) {
      out.push({ _tag: "EmitEvent", event: { _tag: "NeighborUp", peer } })
      if (reply) this.sendNeighbor(peer, priority, out)
    }
  }

  private sendNeighbor(peer: EndpointId.EndpointId, priority: Priority, out: Array<TopicOutEvent>): void {
    if (this.pendingNeighborRequests.has(peer)) return
    this.pendingNeighborRequests.add(peer)
    this.send(out, peer, { _tag: "Neighbor", priority, data: this.meData })
  }
}
