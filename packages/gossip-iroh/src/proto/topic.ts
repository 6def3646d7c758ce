/**
 * The protocol state of one topic: HyParView membership plus Plumtree broadcast (spec iroh-gossip.md §3.1).
 * Every NeighborUp/NeighborDown the membership layer emits is also fed to the broadcast layer.
 */
import type { EndpointId } from "@dtt/core"
import type { PeerData, TopicMessage } from "../wire/messages.js"
import type { ProtoConfig } from "./config.js"
import type { Command, TopicOutEvent, TopicTimer } from "./events.js"
import { HyParView } from "./hyparview.js"
import { Plumtree } from "./plumtree.js"
import type { Rng } from "./rng.js"

export type TopicIn =
  | { readonly _tag: "RecvMessage"; readonly from: EndpointId.EndpointId; readonly message: TopicMessage }
  | { readonly _tag: "Command"; readonly command: Command }
  | { readonly _tag: "TimerExpired"; readonly timer: TopicTimer }
  | { readonly _tag: "PeerDisconnected"; readonly peer: EndpointId.EndpointId }
  | { readonly _tag: "UpdatePeerData"; readonly data: PeerData }

const isSwarmTimer = (t: TopicTimer): boolean => t._tag === "DoShuffle" || t._tag === "PendingNeighborRequest"

export class TopicState {
  readonly swarm: HyParView
  readonly gossip: Plumtree
  stats = { messagesSent: 0, messagesReceived: 0 }

  constructor(readonly me: EndpointId.EndpointId, meData: PeerData | undefined, config: ProtoConfig, rng: Rng) {
    this.swarm = new HyParView(me, meData, config.membership, rng)
    this.gossip = new Plumtree(me, config.broadcast, config.maxMessageSize)
  }

  handle(event: TopicIn, now: number): Array<TopicOutEvent> {
    const out: Array<TopicOutEvent> = []
    switch (event._tag) {
      case "Command":
        switch (event.command._tag) {
          case "Join":
            for (const peer of event.command.peers) this.swarm.handle({ _tag: "RequestJoin", peer }, out)
            break
          case "Broadcast":
            this.gossip.handle(
              { _tag: "Broadcast", content: event.command.content, scope: event.command.scope },
              now,
              out
            )
            break
          case "Quit":
            this.swarm.handle({ _tag: "Quit" }, out)
            break
        }
        break
      case "RecvMessage":
        this.stats.messagesReceived++
        if (event.message._tag === "Swarm") {
          this.swarm.handle({ _tag: "RecvMessage", from: event.from, message: event.message.message }, out)
        } else {
          this.gossip.handle({ _tag: "RecvMessage", from: event.from, message: event.message.message }, now, out)
        }
        break
      case "TimerExpired":
        if (isSwarmTimer(event.timer)) this.swarm.handle({ _tag: "TimerExpired", timer: event.timer }, out)
        else this.gossip.handle({ _tag: "TimerExpired", timer: event.timer }, now, out)
        break
      case "PeerDisconnected":
        this.swarm.handle({ _tag: "PeerDisconnected", peer: event.peer }, out)
        this.gossip.handle({ _tag: "NeighborDown", peer: event.peer }, now, out)
        break
      case "UpdatePeerData":
        this.swarm.handle({ _tag: "UpdatePeerData", data: event.data }, out)
        break
    }
    // Keep the broadcast layer's peer sets in step with the membership layer.
    const extra: Array<TopicOutEvent> = []
    for (const e of out) {
      if (e._tag !== "EmitEvent") continue
      if (e.event._tag === "NeighborUp") this.gossip.handle({ _tag: "NeighborUp", peer: e.event.peer }, now, extra)
      else if (e.event._tag === "NeighborDown") {
        this.gossip.handle({ _tag: "NeighborDown", peer: e.event.peer }, now, extra)
      }
    }
    out.push(...extra)
    for (const e of out) if (e._tag === "SendMessage") this.stats.messagesSent++
    return out
  }

  resetStats(): void {
    this.gossip.resetStats()
    this.stats = { messagesSent: 0, messagesReceived: 0 }
  }

  hasActivePeers(): boolean {
    return this.swarm.activeView.size > 0
  }

  /** Current neighbours (the active view), in view order. */
  neighbors(): ReadonlyArray<EndpointId.EndpointId> {
    return this.swarm.activeView.values()
  }
}
