/**
 * The state the driver's one actor fiber owns (peers, connections, topics, left topics, idle marks, counters),
 * gathered in one record so the concerns that work on it (dialing, protocol IO, left topics, idle reaping, the
 * actor, shutdown) can live in their own modules. Only the actor fiber mutates it.
 */
import type { EndpointId as Id } from "@dtt/core"
import { Clock, type Deferred, Effect, ExecutionStrategy, Metric, Queue, Scope } from "effect"
import { AddressBook } from "../../AddressBook.js"
import type { InEvent, TopicId } from "../../proto/events.js"
import type * as Connection from "../connection.js"
import * as ConnectionLimits from "../connectionLimits.js"
import type { DialAddr, NetEndpoint } from "../endpoint.js"
import type { DialError } from "../errors.js"
import { type DriverOptions, type DriverStats, droppedFrames, type Subscriber } from "./api.js"

type EndpointId = Id.EndpointId

/** Everything that reaches the actor: network input, timers, dial results, API commands. */
export type Message =
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

export type PeerState =
  | { readonly _tag: "Pending"; readonly queue: Array<Connection.OutgoingFrame> }
  | { readonly _tag: "Active"; conn: Connection.PeerConnection; readonly others: Set<Connection.PeerConnection> }

export interface TopicEntry {
  readonly subscribers: Set<Subscriber>
  readonly neighbors: Set<EndpointId>
  readonly joinWaiters: Set<Deferred.Deferred<void, void>>
}

export interface DriverState {
  readonly endpoint: NetEndpoint
  readonly options: DriverOptions
  /** The driver's scope: dials, timers, lookups and address learning are forked here. */
  readonly scope: Scope.Scope
  /**
   * Connection fibers (send, receive, stream finishes) live in a child scope made before the graceful-shutdown
   * finalizer is registered, so they are interrupted only after it ran: fibers forked into `scope` itself later
   * would be interrupted before it (finalizers run in reverse order) and nothing queued would drain.
   */
  readonly connScope: Scope.Scope
  readonly inbox: Queue.Queue<Message>
  readonly book: AddressBook
  readonly peers: Map<EndpointId, PeerState>
  readonly pendingDials: Set<EndpointId>
  /** Strong references to every live connection (napi closes collected ones). */
  readonly connections: Set<Connection.PeerConnection>
  /** Topics we left recently, and the peers we already told so (see `answerLeftTopic`). */
  readonly leftTopics: Map<TopicId, { readonly until: number; readonly answered: Set<EndpointId> }>
  /** When a connection was first found unused (see `reapIdleConnections`). */
  readonly idleSince: Map<Connection.PeerConnection, number>
  readonly topics: Map<TopicId, TopicEntry>
  readonly stats: DriverStats
  readonly accounting: ConnectionLimits.ConnectionAccounting
  /** False once the Shutdown message was handled. */
  running: boolean
}

export const makeState = (
  endpoint: NetEndpoint,
  options: DriverOptions
): Effect.Effect<DriverState, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const connScope = yield* Scope.fork(scope, ExecutionStrategy.sequential)
    const inbox = yield* Effect.acquireRelease(Queue.bounded<Message>(options.inboxCapacity), Queue.shutdown)
    return {
      endpoint,
      options,
      scope,
      connScope,
      inbox,
      book: new AddressBook(),
      peers: new Map(),
      pendingDials: new Set(),
      connections: new Set(),
      leftTopics: new Map(),
      idleSince: new Map(),
      topics: new Map(),
      stats: {
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
      },
      accounting: ConnectionLimits.makeAccounting(options.connectionLimits),
      running: true
    }
  })

export const now = Clock.currentTimeMillis

export const post = (state: DriverState, message: Message) => Queue.offer(state.inbox, message).pipe(Effect.asVoid)

export const dropFrame = (state: DriverState) =>
  Effect.suspend(() => {
    state.stats.framesDropped++
    return Metric.increment(droppedFrames)
  })

/** Runs `effect` only while the driver runs; `otherwise` after shutdown. */
export const whileRunning = <A>(state: DriverState, effect: Effect.Effect<A>, otherwise: A) =>
  Effect.suspend(() => (state.running ? effect : Effect.succeed(otherwise)))

/** Adds a peer's address to the book, stamped with the current time. */
export const addToBook = (state: DriverState, addr: DialAddr) =>
  Effect.flatMap(now, (t) => Effect.sync(() => state.book.add(addr, t)))
