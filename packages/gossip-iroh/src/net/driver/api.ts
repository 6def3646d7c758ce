/**
 * What the driver shows to the rest of the package (and to `NetDriver` users): its options, the protocol and
 * subscriber it talks to, its counters and its handle. Kept apart from the actor so the contract can be read
 * without the machinery behind it.
 */
import type { EndpointId as Id } from "@dtt/core"
import { Duration, type Effect, Metric } from "effect"
import type { AddressBook } from "../../AddressBook.js"
import type { AddressLookup } from "../../AddressLookup.js"
import type { Command, Event, InEvent, OutEvent, TopicId } from "../../proto/events.js"
import { encodeAddrInfo, parseSocketAddr } from "../../wire/index.js"
import type { SocketAddr } from "../../wire/socketAddr.js"
import * as ConnectionLimits from "../connectionLimits.js"
import type { DialAddr, NetEndpoint } from "../endpoint.js"

type EndpointId = Id.EndpointId

/** The protocol as the driver needs it: `ProtoState` of `../proto`, or a stand-in in tests. */
export interface Protocol {
  readonly handle: (event: InEvent, now: number) => ReadonlyArray<OutEvent>
}

/** A consumer of one topic's events (see `Subscription.ts`). */
export interface Subscriber {
  readonly offer: (event: Event) => void
  /** The topic was left or the node shut down. */
  readonly end: (reason: "unsubscribed" | "shutdown") => void
}

export interface DriverOptions {
  readonly maxMessageSize: number
  /** Frames queued per connection before sending waits for room (back-pressure, see `sendQueueTimeout`). */
  readonly sendQueueCapacity: number
  /**
   * How long the actor waits for room in a full connection queue before it drops the frame (counted in
   * `framesDropped` and `gossip_iroh_frames_dropped`). While it waits, the inbox fills and `broadcast` waits too.
   */
  readonly sendQueueTimeout: Duration.DurationInput
  /** Messages kept for a peer while its dial runs. */
  readonly pendingQueueCapacity: number
  readonly inboxCapacity: number
  /** Extra ways to find a peer's address when the book has none (e.g. the mainline DHT). */
  readonly lookups: ReadonlyArray<AddressLookup>
  /** How long one lookup may take before the dial gives up on it. */
  readonly lookupTimeout: Duration.DurationInput
  /** How often we check whether our own addresses changed. */
  readonly addrPollInterval: Duration.DurationInput
  /**
   * Shutdown: how long, in all, we wait for what was accepted before it (queued broadcasts, then the Disconnects)
   * to be written and acknowledged by the peers before the connections are closed. Quick when nothing is queued.
   */
  readonly drainTimeout: Duration.DurationInput
  /**
   * A connection nobody uses any more (we do not send on it and the peer has finished every stream it opened on
   * it) is closed after being found idle this long; see `reapIdleConnections`. `undefined` keeps them, as
   * iroh-gossip does until the peer goes away. The default, 30 s, is long enough not to stir the views of a swarm
   * that is forming (closing makes a peer that still lists us drop us) and keeps long-lived nodes from piling up
   * connections to peers they dropped.
   */
  readonly idleConnectionTimeout: Duration.DurationInput | undefined
  /** Connections per remote endpoint and in total; incoming ones beyond them are closed at once. */
  readonly connectionLimits: ConnectionLimits.ConnectionLimitOptions
}

export const defaultDriverOptions: DriverOptions = {
  maxMessageSize: 4096,
  sendQueueCapacity: 1024,
  sendQueueTimeout: Duration.seconds(2),
  pendingQueueCapacity: 256,
  inboxCapacity: 1024,
  lookups: [],
  lookupTimeout: Duration.seconds(10),
  addrPollInterval: Duration.seconds(5),
  drainTimeout: Duration.seconds(1),
  idleConnectionTimeout: Duration.seconds(30),
  connectionLimits: ConnectionLimits.defaultConnectionLimits
}

/** Counters for tests, benchmarks and debugging. */
export interface DriverStats {
  dialsStarted: number
  dialsFailed: number
  connectionsOpened: number
  connectionsClosed: number
  /** Connections we closed because neither side used them any more. */
  idleConnectionsClosed: number
  /** Incoming connections closed at once because a per-peer or total limit was reached. */
  connectionsRefused: number
  framesDropped: number
  /** Frames handed to a connection's send queue. */
  framesQueued: number
  /** Protocol messages that arrived from the network. */
  framesIn: number
  /** `Received` events (payloads delivered to subscribers). */
  messagesReceived: number
  /** Messages whose handling failed unexpectedly (a bug; logged). The actor carries on with the next one. */
  actorErrors: number
}

export interface Driver {
  readonly endpoint: NetEndpoint
  readonly book: AddressBook
  readonly stats: DriverStats
  readonly subscribe: (
    topic: TopicId,
    bootstrap: ReadonlyArray<EndpointId>,
    subscriber: Subscriber
  ) => Effect.Effect<boolean>
  readonly unsubscribe: (topic: TopicId, subscriber: Subscriber) => Effect.Effect<void>
  /** False once the driver is shut down. */
  readonly command: (topic: TopicId, command: Command) => Effect.Effect<boolean>
  readonly neighbors: (topic: TopicId) => ReadonlyArray<EndpointId>
  /** Resolves when the topic has a neighbour; fails when the topic is left or the node shuts down. */
  readonly awaitJoined: (topic: TopicId) => Effect.Effect<void, void>
  readonly addAddress: (addr: DialAddr) => Effect.Effect<void>
  readonly isRunning: () => boolean
  /** Peers with a connection we currently send on. */
  readonly activePeers: () => ReadonlyArray<EndpointId>
  readonly openConnections: () => number
}

/** Our addresses as the PeerData iroh-gossip peers expect (postcard `AddrInfo`). */
export const encodeOwnPeerData = (addr: DialAddr): Uint8Array =>
  encodeAddrInfo({
    relayUrl: addr.relayUrl,
    directAddresses: addr.directAddresses.map(parseSocketAddr).filter((a): a is SocketAddr => a !== undefined)
  })

/** QUIC connections open in this process, over every gossip endpoint (a leak shows as a rising line). */
export const openConnectionsGauge = Metric.gauge("gossip_iroh_connections_open", {
  description: "gossip QUIC connections currently open, all endpoints of the process together"
})

/** Frames we gave up on (a full queue that stayed full, a dial queue overflowing, an oversize frame). */
export const droppedFrames = Metric.counter("gossip_iroh_frames_dropped", {
  description: "gossip frames dropped before they were handed to a connection"
})
