/**
 * Plumtree epidemic broadcast for one topic, as in iroh-gossip 0.101 (spec iroh-gossip.md §3.4): full payloads go
 * to eager peers (a spanning tree), message ids go to lazy peers in batched IHaves; a missing payload is grafted
 * from a lazy peer after a timeout, and duplicates prune the redundant edge.
 */
import { Bytes, type EndpointId } from "@dtt/core"
import { blake3 } from "@noble/hashes/blake3.js"
import type { BroadcastMessage, DeliveryScope, IHave } from "../wire/messages.js"
import { ihaveChunkLength, type PlumtreeConfig } from "./config.js"
import type { BroadcastScope, TopicOutEvent, TopicTimer } from "./events.js"
import { TimeBoundCache } from "./util.js"

/** A message id: BLAKE3 of the content, nothing else. */
export const messageIdOf = (content: Uint8Array): Uint8Array => blake3(content)

type Gossip = Extract<BroadcastMessage, { _tag: "Gossip" }>

export type PlumtreeIn =
  | { readonly _tag: "RecvMessage"; readonly from: EndpointId.EndpointId; readonly message: BroadcastMessage }
  | { readonly _tag: "Broadcast"; readonly content: Uint8Array; readonly scope: BroadcastScope }
  | { readonly _tag: "TimerExpired"; readonly timer: TopicTimer }
  | { readonly _tag: "NeighborUp"; readonly peer: EndpointId.EndpointId }
  | { readonly _tag: "NeighborDown"; readonly peer: EndpointId.EndpointId }

export interface PlumtreeStats {
  /** `Gossip` frames received, duplicates included. */
  payloadMessagesReceived: number
  /** Prune/Graft/IHave frames received. */
  controlMessagesReceived: number
  /** Largest round among first-time received swarm messages ("last delivery hop"). */
  maxLastDeliveryHop: number
}

const sorted = (peers: Iterable<EndpointId.EndpointId>): Array<EndpointId.EndpointId> => [...peers].sort()

export class Plumtree {
  readonly eagerPushPeers = new Set<EndpointId.EndpointId>()
  readonly lazyPushPeers = new Set<EndpointId.EndpointId>()
  private readonly lazyPushQueue = new Map<EndpointId.EndpointId, Array<IHave>>()
  /** Ids announced by IHave but not received yet, with who announced them (oldest first). */
  private readonly missingMessages = new Map<string, Array<{ peer: EndpointId.EndpointId; round: number }>>()
  private readonly receivedMessages = new TimeBoundCache<string, true>()
  private readonly cache = new TimeBoundCache<string, Gossip>()
  private readonly graftTimerScheduled = new Set<string>()
  private dispatchTimerScheduled = false
  private initialised = false
  private readonly chunkLength: number
  stats: PlumtreeStats = { payloadMessagesReceived: 0, controlMessagesReceived: 0, maxLastDeliveryHop: 0 }

  constructor(
    readonly me: EndpointId.EndpointId,
    private readonly config: PlumtreeConfig,
    maxMessageSize: number
  ) {
    this.chunkLength = Math.max(1, ihaveChunkLength(maxMessageSize))
  }

  /** Number of payloads kept to answer Grafts. */
  get cacheSize(): number {
    return this.cache.size
  }

  resetStats(): void {
    this.stats = { payloadMessagesReceived: 0, controlMessagesReceived: 0, maxLastDeliveryHop: 0 }
  }

  handle(event: PlumtreeIn, now: number, out: Array<TopicOutEvent>): void {
    if (!this.initialised) {
      this.initialised = true
      this.onEvictCacheTimer(now, out)
    }
    switch (event._tag) {
      case "RecvMessage":
        this.handleMessage(event.from, event.message, now, out)
        break
      case "Broadcast":
        this.broadcast(event.content, event.scope, now, out)
        break
      case "NeighborUp":
        this.addEager(event.peer)
        break
      case "NeighborDown":
        this.onNeighborDown(event.peer)
        break
      case "TimerExpired":
        switch (event.timer._tag) {
          case "DispatchLazyPush":
            this.onDispatchTimer(out)
            break
          case "SendGraft":
            this.onSendGraftTimer(event.timer.id, out)
            break
          case "EvictCache":
            this.onEvictCacheTimer(now, out)
            break
        }
        break
    }
  }

  private send(out: Array<TopicOutEvent>, to: EndpointId.EndpointId, message: BroadcastMessage): void {
    out.push({ _tag: "SendMessage", to, message: { _tag: "Gossip", message } })
  }

  private handleMessage(
    from: EndpointId.EndpointId,
    message: BroadcastMessage,
    now: number,
    out: Array<TopicOutEvent>
  ): void {
    if (message._tag === "Gossip") this.stats.payloadMessagesReceived++
    else this.stats.controlMessagesReceived++
    switch (message._tag) {
      case "Gossip":
        this.onGossip(from, message, now, out)
        break
      case "Prune":
        this.addLazy(from)
        break
      case "IHave":
        this.onIHave(from, message.entries, out)
        break
      case "Graft":
        this.onGraft(from, message.id, out)
        break
    }
  }

  private onDispatchTimer(out: Array<TopicOutEvent>): void {
    for (const peer of sorted(this.lazyPushQueue.keys())) {
      const list = this.lazyPushQueue.get(peer)!
      for (let i = 0; i < list.length; i += this.chunkLength) {
        this.send(out, peer, { _tag: "IHave", entries: list.slice(i, i + this.chunkLength) })
      }
    }
    this.lazyPushQueue.clear()
    this.dispatchTimerScheduled = false
  }

  private broadcast(content: Uint8Array, scope: BroadcastScope, now: number, out: Array<TopicOutEvent>): void {
    const id = messageIdOf(content)
    const deliveryScope: DeliveryScope = scope === "Swarm" ? { _tag: "Swarm", round: 0 } : { _tag: "Neighbors" }
    const message: Gossip = { _tag: "Gossip", id, content, scope: deliveryScope }
    if (deliveryScope._tag === "Swarm") {
      const k = Bytes.toHex(id)
      this.receivedMessages.insert(k, true, now + this.config.messageIdRetention)
      this.cache.insert(k, message, now + this.config.messageCacheRetention)
      this.lazyPush(message, this.me, out)
    }
    this.eagerPush(message, this.me, out)
  }

  private onGossip(sender: EndpointId.EndpointId, message: Gossip, now: number, out: Array<TopicOutEvent>): void {
    // A payload whose id is not its hash is dropped without a word.
    if (!Bytes.equal(messageIdOf(message.content), message.id)) return
    const k = Bytes.toHex(message.id)
    if (this.receivedMessages.has(k)) {
      this.addLazy(sender)
      this.send(out, sender, { _tag: "Prune" })
      return
    }
    if (message.scope._tag === "Swarm") {
      const prevRound = message.scope.round
      this.receivedMessages.insert(k, true, now + this.config.messageIdRetention)
      // The forwarded copy carries one more hop (u16 wraps like Rust release builds).
      const forward: Gossip = { ...message, scope: { _tag: "Swarm", round: (prevRound + 1) & 0xffff } }
      this.cache.insert(k, forward, now + this.config.messageCacheRetention)
      this.eagerPush(forward, sender, out)
      this.lazyPush(forward, sender, out)
      this.graftTimerScheduled.delete(k)
      const previousIHaves = this.missingMessages.get(k)
      this.missingMessages.delete(k)
      if (previousIHaves !== undefined) this.optimizeTree(sender, forward, previousIHaves, out)
      this.stats.maxLastDeliveryHop = Math.max(this.stats.maxLastDeliveryHop, prevRound)
    }
    out.push({
      _tag: "EmitEvent",
      event: { _tag: "Received", content: message.content, deliveredFrom: sender, scope: message.scope }
    })
  }

  /**
   * If a lazy peer announced this message many hops earlier than the eager copy arrived, make the lazy path eager
   * and prune the slow one.
   */
  private optimizeTree(
    gossipSender: EndpointId.EndpointId,
    message: Gossip,
    previousIHaves: ReadonlyArray<{ peer: EndpointId.EndpointId; round: number }>,
    out: Array<TopicOutEvent>
  ): void {
    if (message.scope._tag !== "Swarm") return
    const round = message.scope.round
    let best: { peer: EndpointId.EndpointId; round: number } | undefined
    for (const ihave of previousIHaves) if (best === undefined || ihave.round < best.round) best = ihave
    if (best === undefined) return
    if (best.round < round && round - best.round >= this.config.optimizationThreshold) {
      if (!this.eagerPushPeers.has(best.peer)) {
        this.addEager(best.peer)
        this.send(out, best.peer, { _tag: "Graft", id: undefined, round: best.round })
      }
      this.addLazy(gossipSender)
      this.send(out, gossipSender, { _tag: "Prune" })
    }
  }

  private onIHave(sender: EndpointId.EndpointId, entries: ReadonlyArray<IHave>, out: Array<TopicOutEvent>): void {
    for (const ihave of entries) {
      const k = Bytes.toHex(ihave.id)
      if (this.receivedMessages.has(k)) continue
      const list = this.missingMessages.get(k)
      if (list === undefined) this.missingMessages.set(k, [{ peer: sender, round: ihave.round }])
      else list.push({ peer: sender, round: ihave.round })
      if (!this.graftTimerScheduled.has(k)) {
        this.graftTimerScheduled.add(k)
        out.push({
          _tag: "ScheduleTimer",
          delay: this.config.graftTimeout1,
          timer: { _tag: "SendGraft", id: ihave.id }
        })
      }
    }
  }

  private onSendGraftTimer(id: Uint8Array, out: Array<TopicOutEvent>): void {
    const k = Bytes.toHex(id)
    this.graftTimerScheduled.delete(k)
    if (this.receivedMessages.has(k)) return
    const list = this.missingMessages.get(k)
    const entry = list?.shift()
    // iroh keeps the emptied list around; dropping it is equivalent and keeps IHave floods from leaking memory.
    if (list !== undefined && list.length === 0) this.missingMessages.delete(k)
    if (entry === undefined) return
    this.addEager(entry.peer)
    this.send(out, entry.peer, { _tag: "Graft", id, round: entry.round })
    // Ask the next announcer if this one does not deliver in time (this retry is not recorded as scheduled).
    out.push({ _tag: "ScheduleTimer", delay: this.config.graftTimeout2, timer: { _tag: "SendGraft", id } })
  }

  private onGraft(sender: EndpointId.EndpointId, id: Uint8Array | undefined, out: Array<TopicOutEvent>): void {
    this.addEager(sender)
    if (id === undefined) return
    const cached = this.cache.get(Bytes.toHex(id))
    if (cached !== undefined) this.send(out, sender, cached)
  }

  private onNeighborDown(peer: EndpointId.EndpointId): void {
    for (const [k, list] of this.missingMessages) {
      const kept = list.filter((e) => e.peer !== peer)
      if (kept.length === 0) this.missingMessages.delete(k)
      else if (kept.length !== list.length) this.missingMessages.set(k, kept)
    }
    this.eagerPushPeers.delete(peer)
    this.lazyPushPeers.delete(peer)
  }

  private onEvictCacheTimer(now: number, out: Array<TopicOutEvent>): void {
    this.cache.expireUntil(now)
    this.receivedMessages.expireUntil(now)
    out.push({ _tag: "ScheduleTimer", delay: this.config.cacheEvictInterval, timer: { _tag: "EvictCache" } })
  }

  private addEager(peer: EndpointId.EndpointId): void {
    this.lazyPushPeers.delete(peer)
    this.eagerPushPeers.add(peer)
  }

  private addLazy(peer: EndpointId.EndpointId): void {
    this.eagerPushPeers.delete(peer)
    this.lazyPushPeers.add(peer)
  }

  private eagerPush(message: Gossip, sender: EndpointId.EndpointId, out: Array<TopicOutEvent>): void {
    for (const peer of sorted(this.eagerPushPeers)) {
      if (peer !== this.me && peer !== sender) this.send(out, peer, message)
    }
  }

  private lazyPush(message: Gossip, sender: EndpointId.EndpointId, out: Array<TopicOutEvent>): void {
    if (message.scope._tag !== "Swarm") return
    const round = message.scope.round
    for (const peer of sorted(this.lazyPushPeers)) {
      if (peer === sender) continue
      const list = this.lazyPushQueue.get(peer)
      const ihave: IHave = { id: message.id, round }
      if (list === undefined) this.lazyPushQueue.set(peer, [ihave])
      else list.push(ihave)
    }
    if (!this.dispatchTimerScheduled) {
      out.push({ _tag: "ScheduleTimer", delay: this.config.dispatchTimeout, timer: { _tag: "DispatchLazyPush" } })
      this.dispatchTimerScheduled = true
    }
  }
}
