/**
 * The protocol state of a node: one `TopicState` per joined topic, plus which topics received from which peer
 * (to decide when a peer's connection is no longer needed). Pure: `handle(event, now)` returns the out events,
 * in the order the driver must execute them (spec iroh-gossip.md §3.1).
 */
import type { EndpointId } from "@dtt/core"
import type { PeerData } from "../wire/messages.js"
import { assertMaxMessageSize, defaultProtoConfig, type ProtoConfig } from "./config.js"
import type { InEvent, OutEvent, TopicId, TopicOutEvent } from "./events.js"
import type { Rng } from "./rng.js"
import { type TopicIn, TopicState } from "./topic.js"

type Id = EndpointId.EndpointId

export class ProtoState {
  private readonly topics = new Map<TopicId, TopicState>()
  private readonly peerTopics = new Map<Id, Set<TopicId>>()

  readonly me: Id
  readonly config: ProtoConfig
  private meData: PeerData
  private readonly rng: Rng

  /**
   * `meData` is what we announce in Join/Neighbor/Shuffle (iroh: postcard `AddrInfo`; empty until the driver
   * knows its addresses). `rng` drives every random choice; each topic gets a generator forked from it.
   */
  constructor(options: {
    readonly me: Id
    readonly rng: Rng
    readonly meData?: PeerData
    readonly config?: ProtoConfig
  }) {
    this.me = options.me
    this.rng = options.rng
    this.meData = options.meData ?? new Uint8Array(0)
    this.config = options.config ?? defaultProtoConfig
    assertMaxMessageSize(this.config.maxMessageSize)
  }

  get maxMessageSize(): number {
    return this.config.maxMessageSize
  }

  state(topic: TopicId): TopicState | undefined {
    return this.topics.get(topic)
  }

  topicIds(): ReadonlyArray<TopicId> {
    return [...this.topics.keys()]
  }

  hasActivePeers(topic: TopicId): boolean {
    return this.topics.get(topic)?.hasActivePeers() ?? false
  }

  /** Neighbours of a topic (empty if not joined). */
  neighbors(topic: TopicId): ReadonlyArray<Id> {
    return this.topics.get(topic)?.neighbors() ?? []
  }

  resetStats(topic: TopicId): void {
    this.topics.get(topic)?.resetStats()
  }

  handle(event: InEvent, now: number): Array<OutEvent> {
    const out: Array<OutEvent> = []
    switch (event._tag) {
      case "RecvMessage":
        this.toTopic(event.topic, { _tag: "RecvMessage", from: event.from, message: event.message }, now, out)
        break
      case "Command":
        this.toTopic(event.topic, { _tag: "Command", command: event.command }, now, out)
        break
      case "TimerExpired":
        this.toTopic(event.timer.topic, { _tag: "TimerExpired", timer: event.timer.timer }, now, out)
        break
      case "PeerDisconnected":
        this.toAll({ _tag: "PeerDisconnected", peer: event.peer }, now, out)
        break
      case "UpdatePeerData":
        this.meData = event.data
        this.toAll({ _tag: "UpdatePeerData", data: event.data }, now, out)
        break
    }
    return out
  }

  private toTopic(topic: TopicId, event: TopicIn, now: number, out: Array<OutEvent>): void {
    // Only a Join command creates topic state; anything else for an unknown topic is ignored.
    if (event._tag === "Command" && event.command._tag === "Join" && !this.topics.has(topic)) {
      this.topics.set(topic, new TopicState(this.me, this.meData, this.config, this.rng.fork()))
    }
    const state = this.topics.get(topic)
    if (state !== undefined) {
      if (event._tag === "RecvMessage") {
        let set = this.peerTopics.get(event.from)
        if (set === undefined) this.peerTopics.set(event.from, set = new Set())
        set.add(topic)
      }
      for (const e of state.handle(event, now)) this.mapOut(topic, e, out)
    }
    if (event._tag === "Command" && event.command._tag === "Quit") this.topics.delete(topic)
  }

  private toAll(event: TopicIn, now: number, out: Array<OutEvent>): void {
    for (const [topic, state] of this.topics) {
      for (const e of state.handle(event, now)) this.mapOut(topic, e, out)
    }
  }

  private mapOut(topic: TopicId, e: TopicOutEvent, out: Array<OutEvent>): void {
    switch (e._tag) {
      case "SendMessage":
        out.push({ _tag: "SendMessage", to: e.to, topic, message: e.message })
        return
      case "EmitEvent":
        out.push({ _tag: "EmitEvent", topic, event: e.event })
        return
      case "ScheduleTimer":
        out.push({ _tag: "ScheduleTimer", delay: e.delay, timer: { topic, timer: e.timer } })
        return
      case "PeerData":
        out.push(e)
        return
      case "DisconnectPeer": {
        // As in iroh: forwarded when this topic had received from the peer (the whole entry is then cleared,
        // even if other topics still use the peer) or when no topic is left on it; never for a peer we never
        // received from.
        const set = this.peerTopics.get(e.peer)
        if (set === undefined) return
        const removed = set.delete(topic)
        if (removed || set.size === 0) {
          this.peerTopics.delete(e.peer)
          out.push(e)
        }
        return
      }
    }
  }
}
