/**
 * Inputs and outputs of the sans-IO protocol core. A driver feeds `InEvent`s with the current time and executes
 * the returned `OutEvent`s in order: send a message, emit an event to subscribers, schedule a timer (hand it back
 * as `TimerExpired` after `delay` ms), drop a peer connection, record a peer's data (its addresses).
 */
import { Bytes, type EndpointId } from "@dtt/core"
import type { DeliveryScope, PeerData, TopicMessage } from "../wire/messages.js"

/** A topic id as 64 lowercase hex characters (the wire carries the 32 raw bytes in the stream header). */
export type TopicId = string

export const topicIdFromBytes: (bytes: Uint8Array) => TopicId = Bytes.toHex

/** How a broadcast should travel: flooded through the swarm, or to direct (eager) neighbours only. */
export type BroadcastScope = "Swarm" | "Neighbors"

export type Command =
  /** Send `Join` to each peer (an empty list only creates the topic state, so incoming joins are accepted). */
  | { readonly _tag: "Join"; readonly peers: ReadonlyArray<EndpointId.EndpointId> }
  | { readonly _tag: "Broadcast"; readonly content: Uint8Array; readonly scope: BroadcastScope }
  /** Leave the topic: neighbours get `Disconnect{alive: false}`, then the topic state is dropped. */
  | { readonly _tag: "Quit" }

/** What subscribers of a topic see. */
export type Event =
  | { readonly _tag: "NeighborUp"; readonly peer: EndpointId.EndpointId }
  | { readonly _tag: "NeighborDown"; readonly peer: EndpointId.EndpointId }
  | {
    readonly _tag: "Received"
    readonly content: Uint8Array
    /** The previous hop, not necessarily the author. */
    readonly deliveredFrom: EndpointId.EndpointId
    readonly scope: DeliveryScope
  }

/** Timers of one topic; opaque to the driver. */
export type TopicTimer =
  | { readonly _tag: "DoShuffle" }
  | { readonly _tag: "PendingNeighborRequest"; readonly peer: EndpointId.EndpointId }
  | { readonly _tag: "SendGraft"; readonly id: Uint8Array }
  | { readonly _tag: "DispatchLazyPush" }
  | { readonly _tag: "EvictCache" }

export interface Timer {
  readonly topic: TopicId
  readonly timer: TopicTimer
}

export type InEvent =
  | {
    readonly _tag: "RecvMessage"
    readonly from: EndpointId.EndpointId
    readonly topic: TopicId
    readonly message: TopicMessage
  }
  | { readonly _tag: "Command"; readonly topic: TopicId; readonly command: Command }
  | { readonly _tag: "TimerExpired"; readonly timer: Timer }
  /** The connection to this peer closed (or a dial failed). Goes to every topic. */
  | { readonly _tag: "PeerDisconnected"; readonly peer: EndpointId.EndpointId }
  /** Our own PeerData changed (e.g. new addresses); sent in later Join/Neighbor/Shuffle messages. */
  | { readonly _tag: "UpdatePeerData"; readonly data: PeerData }

export type OutEvent =
  | {
    readonly _tag: "SendMessage"
    readonly to: EndpointId.EndpointId
    readonly topic: TopicId
    readonly message: TopicMessage
  }
  | { readonly _tag: "EmitEvent"; readonly topic: TopicId; readonly event: Event }
  | { readonly _tag: "ScheduleTimer"; readonly delay: number; readonly timer: Timer }
  /** No topic needs this peer any more: the driver may drop its send path. */
  | { readonly _tag: "DisconnectPeer"; readonly peer: EndpointId.EndpointId }
  /** New non-empty PeerData for a peer (postcard `AddrInfo` when it comes from iroh nodes). */
  | { readonly _tag: "PeerData"; readonly peer: EndpointId.EndpointId; readonly data: PeerData }

/** Out events of a single topic (the node state adds the topic id). */
export type TopicOutEvent =
  | { readonly _tag: "SendMessage"; readonly to: EndpointId.EndpointId; readonly message: TopicMessage }
  | { readonly _tag: "EmitEvent"; readonly event: Event }
  | { readonly _tag: "ScheduleTimer"; readonly delay: number; readonly timer: TopicTimer }
  | { readonly _tag: "DisconnectPeer"; readonly peer: EndpointId.EndpointId }
  | { readonly _tag: "PeerData"; readonly peer: EndpointId.EndpointId; readonly data: PeerData }
