/**
 * The IO driver (iroh-gossip's `net` actor, spec iroh-gossip.md §1-§5): one fiber owns all state and runs the
 * sans-IO protocol. Network input, timers, dial results and API commands arrive as messages in one bounded inbox
 * (so a flood from the network back-pressures the QUIC streams instead of growing memory); the protocol's out
 * events are executed in order.
 *
 * Peers are `Pending` (a dial is running, messages wait in a bounded queue) or `Active` (the newest connection is
 * the send path; older ones keep receiving until they close). Local deviations from Rust, invisible on the wire:
 * a failed dial drops the pending queue (Rust keeps it and never re-dials, PR #159); send queues report overload
 * instead of blocking the actor; a dial to an id with no known address fails at once when the endpoint cannot
 * look ids up by itself; connections neither side uses any more are closed (`reapIdleConnections`), and a
 * neighbour whose last connection closes while we hold no send path to it counts as disconnected
 * (`isOrphanedNeighbor`); a peer that still talks to us on a topic we just left is told `Disconnect`
 * (`answerLeftTopic`).
 */
import type { EndpointId as Id } from "@dtt/core"
import {
  Clock,
  Deferred,
  Duration,
  Effect,
  Either,
  ExecutionStrategy,
  Metric,
  Option,
  Queue,
  Schedule,
  Scope
} from "effect"
import { AddressBook } from "../AddressBook.js"
import type { AddressLookup } from "../AddressLookup.js"
import type { Command, Event, InEvent, OutEvent, TopicId } from "../proto/events.js"
import { decodeAddrInfo, encodeAddrInfo, encodeMessageFrame, formatSocketAddr, parseSocketAddr } from "../wire/index.js"
import type { TopicMessage } from "../wire/messages.js"
import type { SocketAddr } from "../wire/socketAddr.js"
import * as Connection from "./connection.js"
import * as ConnectionLimits from "./connectionLimits.js"
import type { DialAddr, NetEndpoint } from "./endpoint.js"
import { DialError } from "./errors.js"

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
   * it) is closed after being found idle this long; see `reapIdleConnections`. Off (`undefined`) by default, as
   * in iroh-gossip, where such connections linger until the peer goes away: closing one makes a peer that still
   * lists us as a neighbour drop us, which changes views (and heals one-sided ones) while a swarm is forming.
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
  idleConnectionTimeout: undefined,
  connectionLimits: ConnectionLimits.defaultConnectionLimits
}

type Message =
  | { readonly _tag: "Proto"; readonly event: InEvent }
  | { readonly _tag: "Connected"; readonly conn: Connection.PeerConnection }
  | { readonly _tag: "DialFailed"; readonly peer: EndpointId; readonly error: DialError }
  | { readonly _tag: "ConnClosed"; readonly conn: Connection.PeerConnection; readonly reason: string }
  | {
    readonly _tag: "Subscribe"
    readonly topic: TopicId
    readonly bootstrap: ReadonlyArray<EndpointId>
    readonly subscriber: Subscriber
    readonly done: Deferred.Deferred<void>
  }
  | { readonly _tag: "Unsubscribe"; readonly topic: TopicId; readonly subscriber: Subscriber }
  | { readonly _tag: "OwnAddr"; readonly addr: DialAddr }
  | { readonly _tag: "ReapIdle"; readonly timeoutMs: number }
  | { readonly _tag: "Shutdown"; readonly done: Deferred.Deferred<Effect.Effect<void>> }

type PeerState =
  | { readonly _tag: "Pending"; readonly queue: Array<Connection.OutgoingFrame> }
  | { readonly _tag: "Active"; conn: Connection.PeerConnection; readonly others: Set<Connection.PeerConnection> }

interface TopicEntry {
  readonly subscribers: Set<Subscriber>
  readonly neighbors: Set<EndpointId>
  readonly joinWaiters: Set<Deferred.Deferred<void, void>>
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

/** How long we answer stale traffic on a topic we left, for how many topics, and how many peers per topic. */
const LEFT_TOPIC_MEMORY = 60_000
const LEFT_TOPICS_MAX = 64
const LEFT_TOPIC_MAX_ANSWERS = 64

const LEFT_TOPIC_DISCONNECT = Either.getOrThrow(
  encodeMessageFrame({ _tag: "Swarm", message: { _tag: "Disconnect", alive: false, respond: false } }, 512)
)

const toAddrStrings = (list: ReadonlyArray<SocketAddr>) => list.map(formatSocketAddr)

/** Our addresses as the PeerData iroh-gossip peers expect (postcard `AddrInfo`). */
export const encodeOwnPeerData = (addr: DialAddr): Uint8Array =>
  encodeAddrInfo({
    relayUrl: addr.relayUrl,
    directAddresses: addr.directAddresses.map(parseSocketAddr).filter((a): a is SocketAddr => a !== undefined)
  })

/** Frames we gave up on (a full queue that stayed full, a dial queue overflowing, an oversize frame). */
export const droppedFrames = Metric.counter("gossip_iroh_frames_dropped", {
  description: "gossip frames dropped before they were handed to a connection"
})

const isDisconnect = (event: OutEvent & { _tag: "SendMessage" }) =>
  event.message._tag === "Swarm" && event.message.message._tag === "Disconnect"

export const make = (
  endpoint: NetEndpoint,
  protocol: Protocol,
  options: DriverOptions = defaultDriverOptions
): Effect.Effect<Driver, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    // Connection fibers (send, receive, stream finishes) live in a child scope made before the graceful-shutdown
    // finalizer is registered, so they are interrupted only after it ran: fibers forked into `scope` itself later
    // would be interrupted before it (finalizers run in reverse order) and nothing queued would drain.
    const connScope = yield* Scope.fork(scope, ExecutionStrategy.sequential)
    const inbox = yield* Effect.acquireRelease(Queue.bounded<Message>(options.inboxCapacity), Queue.shutdown)
    const book = new AddressBook()
    const peers = new Map<EndpointId, PeerState>()
    const pendingDials = new Set<EndpointId>()
    // Strong references to every live connection (napi closes collected ones).
    const connections = new Set<Connection.PeerConnection>()
    /** Topics we left recently, and the peers we already told so (see `answerLeftTopic`). */
    const leftTopics = new Map<TopicId, { readonly until: number; readonly answered: Set<EndpointId> }>()
    /** When a connection was first found unused (see `reapIdleConnections`). */
    const idleSince = new Map<Connection.PeerConnection, number>()
    const topics = new Map<TopicId, TopicEntry>()
    const stats: DriverStats = {
      dialsStarted: 0,
      dialsFailed: 0,
      connectionsOpened: 0,
      connectionsClosed: 0,
      idleConnectionsClosed: 0,
      connectionsRefused: 0,
      framesDropped: 0,
      framesQueued: 0,
      framesIn: 0,
      messagesReceived: 0,
      actorErrors: 0
    }
    let running = true

    const post = (message: Message) => Queue.offer(inbox, message).pipe(Effect.asVoid)

    const handlers: Connection.ConnectionHandlers = {
      onMessage: (from, topic, message) =>
        post({ _tag: "Proto", event: { _tag: "RecvMessage", from, topic, message } }),
      onClosed: (conn, reason) => post({ _tag: "ConnClosed", conn, reason })
    }
    const connOptions = {
      maxMessageSize: options.maxMessageSize,
      sendQueueCapacity: options.sendQueueCapacity,
      sendQueueTimeout: options.sendQueueTimeout
    }
    const dropFrame = Effect.suspend(() => {
      stats.framesDropped++
      return Metric.increment(droppedFrames)
    })

    const accounting = ConnectionLimits.makeAccounting(options.connectionLimits)

    const adopt = (remote: EndpointId, raw: Connection.PeerConnection["raw"], origin: "dial" | "accept") =>
      Effect.gen(function*() {
        if (origin === "dial") accounting.track(remote)
        const conn = yield* Connection.start(remote, raw, origin, connOptions, handlers, connScope)
        yield* post({ _tag: "Connected", conn })
      })

    // Incoming connections.
    yield* Effect.gen(function*() {
      while (true) {
        const accepted = yield* Queue.take(endpoint.accepted)
        const refusal = accounting.admit(accepted.remote)
        if (refusal === undefined) yield* adopt(accepted.remote, accepted.connection, "accept")
        else yield* ConnectionLimits.refuse(accepted.connection, refusal, stats)
      }
    }).pipe(Effect.forkScoped)

    const now = Clock.currentTimeMillis

    // ------------------------------------------------------------------------------------------------------------
    // dialing

    const resolve = (peer: EndpointId) =>
      Effect.gen(function*() {
        const known = book.get(peer, yield* now)
        if (known !== undefined) return Option.some(known)
        for (const lookup of options.lookups) {
          const found = yield* lookup.resolve(peer).pipe(
            Effect.timeout(options.lookupTimeout),
            Effect.orElseSucceed(() => Option.none<DialAddr>())
          )
          if (Option.isSome(found)) {
            book.add(found.value, yield* now)
            return found
          }
        }
        // With DNS/pkarr configured, iroh can find the peer from its id alone.
        if (endpoint.canLookupById) return Option.some<DialAddr>({ id: peer, relayUrl: undefined, directAddresses: [] })
        return Option.none<DialAddr>()
      })

    const startDial = (peer: EndpointId) =>
      Effect.suspend(() => {
        if (pendingDials.has(peer)) return Effect.void
        pendingDials.add(peer)
        stats.dialsStarted++
        return Effect.gen(function*() {
          const addr = yield* resolve(peer)
          if (Option.isNone(addr)) {
            return yield* new DialError({ peer, reason: "NoAddress", detail: "no address known for this id" })
          }
          const raw = yield* endpoint.dial(addr.value)
          yield* adopt(peer, raw, "dial")
        }).pipe(
          Effect.catchAll((error) => post({ _tag: "DialFailed", peer, error })),
          Effect.forkIn(scope),
          Effect.asVoid
        )
      })

    /** Learn the address a connected peer actually uses (so we can dial it again later). */
    const learnRemoteAddr = (peer: EndpointId) =>
      endpoint.remoteAddr(peer).pipe(
        Effect.flatMap((addr) =>
          Option.isNone(addr) ? Effect.void : Effect.flatMap(now, (t) => Effect.sync(() => book.add(addr.value, t)))
        ),
        Effect.ignore,
        Effect.forkIn(scope)
      )

    // ------------------------------------------------------------------------------------------------------------
    // protocol

    const feed = (event: InEvent): Effect.Effect<void> =>
      Effect.gen(function*() {
        const out = protocol.handle(event, yield* now)
        for (const e of out) yield* execute(e)
      })

    const injectLater = (event: InEvent) => post({ _tag: "Proto", event }).pipe(Effect.forkIn(scope), Effect.asVoid)

    const sendFrame = (to: EndpointId, frame: Connection.OutgoingFrame) =>
      Effect.gen(function*() {
        const entry = peers.get(to)
        if (entry === undefined) {
          peers.set(to, { _tag: "Pending", queue: [frame] })
          yield* startDial(to)
        } else if (entry._tag === "Pending") {
          if (entry.queue.length < options.pendingQueueCapacity) entry.queue.push(frame)
          else yield* dropFrame
        } else {
          const ok = yield* entry.conn.send(frame)
          if (ok) stats.framesQueued++
          else yield* dropFrame
        }
      })

    const execute = (e: OutEvent): Effect.Effect<void> =>
      Effect.gen(function*() {
        switch (e._tag) {
          case "SendMessage": {
            if (e.to === endpoint.id) {
              // A random walk can reach us; Rust fails that dial. Same outcome, without the dial.
              yield* injectLater({ _tag: "PeerDisconnected", peer: e.to })
              return
            }
            const frame = encodeMessageFrame(e.message, options.maxMessageSize)
            if (Either.isLeft(frame)) {
              yield* dropFrame
              return
            }
            yield* sendFrame(e.to, { topic: e.topic, frame: frame.right, closesStream: isDisconnect(e) })
            return
          }
          case "EmitEvent": {
            const entry = topics.get(e.topic)
            if (entry === undefined) return
            if (e.event._tag === "NeighborUp") {
              entry.neighbors.add(e.event.peer)
              for (const w of entry.joinWaiters) yield* Deferred.succeed(w, undefined)
              entry.joinWaiters.clear()
            } else if (e.event._tag === "NeighborDown") {
              entry.neighbors.delete(e.event.peer)
            } else {
              stats.messagesReceived++
            }
            for (const s of entry.subscribers) s.offer(e.event)
            return
          }
          case "ScheduleTimer": {
            const timer = e.timer
            yield* Effect.sleep(Duration.millis(e.delay)).pipe(
              Effect.zipRight(post({ _tag: "Proto", event: { _tag: "TimerExpired", timer } })),
              Effect.forkIn(scope)
            )
            return
          }
          case "DisconnectPeer": {
            const entry = peers.get(e.peer)
            if (entry === undefined) return
            peers.delete(e.peer)
            // The connection lingers for receiving (as in Rust); only our send path ends.
            if (entry._tag === "Active") yield* entry.conn.endSending.pipe(Effect.forkIn(connScope))
            return
          }
          case "PeerData": {
            const info = decodeAddrInfo(e.data)
            if (Either.isLeft(info)) return // Rust logs and ignores undecodable PeerData
            book.add(
              { id: e.peer, relayUrl: info.right.relayUrl, directAddresses: toAddrStrings(info.right.directAddresses) },
              yield* now
            )
            return
          }
        }
      })

    /**
     * Closes connections that neither side uses any more: the peer has no entry here (we dropped it), our send
     * side ended, and the peer has finished every stream it opened on it (it dropped us too). Without
     * this, every eviction and re-dial leaves a connection behind that QUIC keep-alives hold open for as long as
     * both nodes run (iroh-gossip has the same leak, upstream #155). The close reason is Rust's.
     *
     * A peer that still counts us as a neighbour always has an open stream to us, except after the HyParView race
     * where it re-adds us from a crossing Neighbor reply after sending us Disconnect (it then sends nothing more);
     * closing tells that peer we are gone, which removes the one-sided neighbour the race left behind.
     */
    const reapIdleConnections = (timeoutMs: number) =>
      Effect.gen(function*() {
        const t = yield* now
        for (const conn of connections) {
          // While the peer has an entry here it may be sending to us on this very connection at any moment (after
          // crossing dials each side sends on a different connection), so only connections to peers we dropped
          // are candidates.
          const inUse = peers.has(conn.remote) || conn.isSending() || conn.openReceiveStreams() > 0
          if (inUse) {
            idleSince.delete(conn)
            continue
          }
          const since = idleSince.get(conn)
          if (since === undefined) idleSince.set(conn, t)
          else if (t - since >= timeoutMs) {
            idleSince.delete(conn)
            stats.idleConnectionsClosed++
            yield* conn.close("close from disconnect")
          }
        }
      })

    /**
     * A topic lists the peer as a neighbour, yet we have no send path to it (no `peers` entry) and its last
     * connection just closed. HyParView's crossing race leaves such neighbours: we evicted the peer, its reply to
     * our earlier Neighbor landed after our Disconnect and re-added it here, while it dropped us on the Disconnect.
     * It will never send to us on the topic, so the edge works one way only (iroh-gossip 0.101 keeps it as long as
     * both nodes run). Treating the close as a disconnect lets HyParView refill from the passive
     * view. The close comes from the peer reaping the idle connection (see `reapIdleConnections`).
     */
    const isOrphanedNeighbor = (peer: EndpointId) => {
      for (const conn of connections) if (conn.remote === peer) return false
      for (const entry of topics.values()) if (entry.neighbors.has(peer)) return true
      return false
    }

    /**
     * Quit tells only the active view. A peer that accepted our Join a moment before we left (its Neighbor reply
     * was still in flight) never hears it and keeps us as a neighbour for as long as the connection lives; Rust
     * iroh-gossip ignores messages for unknown topics and has the same race. So when such a peer talks to us on a
     * topic we left within `LEFT_TOPIC_MEMORY`, we answer once with what Quit would have sent it:
     * `Disconnect{alive: false}` (handled by any iroh-gossip peer as a neighbour leaving).
     */
    const answerLeftTopic = (from: EndpointId, topic: TopicId, message: TopicMessage) =>
      Effect.gen(function*() {
        if (topics.has(topic)) return
        const left = leftTopics.get(topic)
        if (left === undefined) return
        if (left.until <= (yield* now)) {
          leftTopics.delete(topic)
          return
        }
        if (message._tag === "Swarm" && message.message._tag === "Disconnect") return
        if (left.answered.has(from) || left.answered.size >= LEFT_TOPIC_MAX_ANSWERS) return
        left.answered.add(from)
        yield* sendFrame(from, { topic, frame: LEFT_TOPIC_DISCONNECT, closesStream: true })
      })

    // ------------------------------------------------------------------------------------------------------------
    // the actor

    const handle = (m: Message): Effect.Effect<void> =>
      Effect.gen(function*() {
        switch (m._tag) {
          case "Proto":
            if (m.event._tag === "RecvMessage") {
              stats.framesIn++
              if (running) yield* answerLeftTopic(m.event.from, m.event.topic, m.event.message)
            }
            if (running) yield* feed(m.event)
            else if (m.event._tag === "Command") yield* feed(m.event) // the Quits of the shutdown
            return
          case "Connected": {
            const conn = m.conn
            stats.connectionsOpened++
            connections.add(conn)
            if (conn.origin === "dial") pendingDials.delete(conn.remote)
            if (!running) {
              yield* conn.close("shutting down")
              return
            }
            const entry = peers.get(conn.remote)
            if (entry === undefined || entry._tag === "Pending") {
              peers.set(conn.remote, { _tag: "Active", conn, others: new Set() })
              if (entry !== undefined) {
                for (const frame of entry.queue) {
                  if (!(yield* conn.send(frame))) yield* dropFrame
                }
              }
            } else {
              // Newest connection becomes the send path; the old one drains, finishes its streams, keeps receiving.
              entry.others.add(entry.conn)
              yield* entry.conn.endSending.pipe(Effect.forkIn(connScope))
              entry.conn = conn
            }
            yield* learnRemoteAddr(conn.remote)
            return
          }
          case "DialFailed": {
            pendingDials.delete(m.peer)
            stats.dialsFailed++
            const entry = peers.get(m.peer)
            if (entry?._tag === "Active") return
            if (entry !== undefined) peers.delete(m.peer)
            yield* feed({ _tag: "PeerDisconnected", peer: m.peer })
            return
          }
          case "ConnClosed": {
            connections.delete(m.conn)
            accounting.release(m.conn.remote)
            idleSince.delete(m.conn)
            stats.connectionsClosed++
            const remote = m.conn.remote
            const entry = peers.get(remote)
            if (entry?._tag === "Active") {
              if (entry.conn === m.conn) {
                peers.delete(remote)
                if (running) yield* feed({ _tag: "PeerDisconnected", peer: remote })
              } else {
                entry.others.delete(m.conn)
              }
            } else if (entry === undefined && running && isOrphanedNeighbor(remote)) {
              yield* feed({ _tag: "PeerDisconnected", peer: remote })
            }
            return
          }
          case "Subscribe": {
            if (!running) {
              m.subscriber.end("shutdown")
              yield* Deferred.succeed(m.done, undefined)
              return
            }
            let entry = topics.get(m.topic)
            if (entry === undefined) {
              entry = { subscribers: new Set(), neighbors: new Set(), joinWaiters: new Set() }
              topics.set(m.topic, entry)
            }
            entry.subscribers.add(m.subscriber)
            leftTopics.delete(m.topic)
            // A late subscriber first learns the current neighbours (as in Rust).
            for (const peer of entry.neighbors) m.subscriber.offer({ _tag: "NeighborUp", peer })
            yield* Deferred.succeed(m.done, undefined)
            yield* feed({ _tag: "Command", topic: m.topic, command: { _tag: "Join", peers: m.bootstrap } })
            return
          }
          case "Unsubscribe": {
            const entry = topics.get(m.topic)
            if (entry === undefined || !entry.subscribers.delete(m.subscriber)) return
            m.subscriber.end("unsubscribed")
            if (entry.subscribers.size > 0) return
            topics.delete(m.topic)
            for (const w of entry.joinWaiters) yield* Deferred.fail(w, undefined)
            yield* feed({ _tag: "Command", topic: m.topic, command: { _tag: "Quit" } })
            if (leftTopics.size >= LEFT_TOPICS_MAX) leftTopics.delete(leftTopics.keys().next().value!)
            leftTopics.set(m.topic, { until: (yield* now) + LEFT_TOPIC_MEMORY, answered: new Set() })
            return
          }
          case "ReapIdle":
            if (running) yield* reapIdleConnections(m.timeoutMs)
            return
          case "OwnAddr": {
            if (!running) return
            yield* feed({ _tag: "UpdatePeerData", data: encodeOwnPeerData(m.addr) })
            for (const lookup of options.lookups) {
              yield* lookup.publish(m.addr).pipe(Effect.ignore, Effect.forkIn(scope))
            }
            return
          }
          case "Shutdown": {
            // Leave every topic (peers get Disconnect{alive:false}), then let the send paths flush and finish.
            for (const [topic, entry] of topics) {
              for (const s of entry.subscribers) s.end("shutdown")
              for (const w of entry.joinWaiters) yield* Deferred.fail(w, undefined)
              yield* feed({ _tag: "Command", topic, command: { _tag: "Quit" } })
            }
            topics.clear()
            running = false
            // Every connection, not only the peers' current send paths: the Quits above (and any earlier leave)
            // already removed the neighbours' entries, and their send queues still hold what was accepted.
            const flushing = [...connections].map((c) => c.endSending)
            peers.clear()
            // The scope is closing: the finalizer runs the flush itself (a fiber forked now would never start).
            yield* Deferred.succeed(m.done, Effect.all(flushing, { concurrency: "unbounded", discard: true }))
            return
          }
        }
      })

    yield* Effect.gen(function*() {
      while (true) {
        const m = yield* Queue.take(inbox)
        // One bad message must not silence the node: the actor is the only fiber that speaks the protocol.
        yield* handle(m).pipe(
          Effect.catchAllCause((cause) =>
            Effect.zipRight(
              Effect.sync(() => stats.actorErrors++),
              Effect.logError("gossip driver: handling a message failed", cause)
            )
          )
        )
      }
    }).pipe(Effect.forkScoped)

    // Graceful shutdown runs before the fibers above are interrupted (finalizers run in reverse order). Finalizers
    // are uninterruptible: the timeouts only work inside `interruptible`.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const done = yield* Deferred.make<Effect.Effect<void>>()
        yield* post({ _tag: "Shutdown", done })
        const flush = yield* Deferred.await(done)
        yield* flush
      }).pipe(
        // One budget for everything: the actor reaching the Shutdown (behind what was queued before it), then the
        // connections draining.
        Effect.timeout(options.drainTimeout),
        Effect.interruptible,
        Effect.ignore,
        Effect.zipRight(Effect.forEach([...connections], (c) => c.close("close from disconnect"), { discard: true }))
      )
    )

    // Our own addresses, now and whenever they change, become the PeerData we announce. We poll: napi's
    // `watchAddr` panics ("no reactor running") when called from JS and takes the whole process down.
    let lastAddr = ""
    yield* endpoint.addr.pipe(
      Effect.flatMap((addr) => {
        const key = JSON.stringify(addr)
        if (key === lastAddr) return Effect.void
        lastAddr = key
        return post({ _tag: "OwnAddr", addr })
      }),
      Effect.repeat(Schedule.spaced(options.addrPollInterval)),
      Effect.forkScoped
    )

    // Idle connections are looked at twice per timeout, so one is closed between 1x and 1.5x the timeout.
    if (options.idleConnectionTimeout !== undefined) {
      const timeoutMs = Duration.toMillis(options.idleConnectionTimeout)
      yield* post({ _tag: "ReapIdle", timeoutMs }).pipe(
        Effect.repeat(Schedule.spaced(Duration.millis(timeoutMs / 2))),
        Effect.forkScoped
      )
    }

    // Rust's 30 s eviction tick of the gossip address lookup.
    yield* Effect.flatMap(now, (t) => Effect.sync(() => book.evictExpired(t))).pipe(
      Effect.repeat(Schedule.spaced(Duration.seconds(30))),
      Effect.forkScoped
    )

    const withRunning = <A>(effect: Effect.Effect<A>, otherwise: A) =>
      Effect.suspend(() => (running ? effect : Effect.succeed(otherwise)))

    return {
      endpoint,
      book,
      stats,
      subscribe: (topic, bootstrap, subscriber) =>
        withRunning(
          Effect.gen(function*() {
            const done = yield* Deferred.make<void>()
            yield* post({ _tag: "Subscribe", topic, bootstrap, subscriber, done })
            yield* Deferred.await(done)
            return true
          }),
          false
        ),
      unsubscribe: (topic, subscriber) => withRunning(post({ _tag: "Unsubscribe", topic, subscriber }), undefined),
      command: (topic, command) =>
        withRunning(post({ _tag: "Proto", event: { _tag: "Command", topic, command } }).pipe(Effect.as(true)), false),
      neighbors: (topic) => [...(topics.get(topic)?.neighbors ?? [])],
      awaitJoined: (topic) =>
        Effect.suspend(() => {
          const entry = topics.get(topic)
          if (entry === undefined) return Effect.fail(undefined)
          if (entry.neighbors.size > 0) return Effect.void
          return Effect.flatMap(Deferred.make<void, void>(), (w) => {
            entry.joinWaiters.add(w)
            return Deferred.await(w).pipe(Effect.ensuring(Effect.sync(() => entry.joinWaiters.delete(w))))
          })
        }),
      addAddress: (addr) => Effect.flatMap(now, (t) => Effect.sync(() => book.add(addr, t))),
      isRunning: () => running,
      activePeers: () => [...peers].flatMap(([id, p]) => (p._tag === "Active" ? [id] : [])),
      openConnections: () => connections.size
    } satisfies Driver
  })
