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
 *
 * The concerns live in `driver/`: `api` (options, stats, the handle), `state` (what the actor owns), `dialing`,
 * `protocolIo`, `leftTopics`, `idleConnections`, `actor`, `shutdown` and `periodic` (address polling and ticks).
 */
import { Deferred, Effect, Metric, type Scope } from "effect"
import { runActor } from "./driver/actor.js"
import {
  defaultDriverOptions,
  type Driver,
  type DriverOptions,
  openConnectionsGauge,
  type Protocol
} from "./driver/api.js"
import * as Dialing from "./driver/dialing.js"
import { startPeriodicTasks } from "./driver/periodic.js"
import * as ProtocolIo from "./driver/protocolIo.js"
import { addShutdownFinalizer } from "./driver/shutdown.js"
import { addToBook, makeState, post, whileRunning } from "./driver/state.js"
import type { NetEndpoint } from "./endpoint.js"

export type { ConnectionLimitOptions } from "./connectionLimits.js"
export * from "./driver/api.js"

export const make = (
  endpoint: NetEndpoint,
  protocol: Protocol,
  options: DriverOptions = defaultDriverOptions
): Effect.Effect<Driver, never, Scope.Scope> =>
  Effect.gen(function*() {
    // Made first: its connection scope must close after the graceful-shutdown finalizer below (see `connScope`).
    const state = yield* makeState(endpoint, options)
    const dialing = Dialing.make(state)
    const io = ProtocolIo.make(state, protocol, dialing)
    const { topics, peers, connections } = state

    // Registered first, so it runs last, once the actor is gone: connections whose close the actor did not get
    // to leave the process-wide gauge here.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        const left = connections.size
        connections.clear()
        return Metric.incrementBy(openConnectionsGauge, -left)
      })
    )
    // The accept loop and the actor are forked before the shutdown finalizer is registered, so they still run
    // while it drains; the periodic tasks after it, so they stop first.
    yield* Dialing.acceptIncoming(state, dialing).pipe(Effect.forkScoped)
    yield* runActor(state, io, dialing).pipe(Effect.forkScoped)
    yield* addShutdownFinalizer(state)
    yield* startPeriodicTasks(state)

    return {
      endpoint,
      book: state.book,
      stats: state.stats,
      subscribe: (topic, bootstrap, subscriber) =>
        whileRunning(
          state,
          Effect.gen(function*() {
            const done = yield* Deferred.make<void>()
            yield* post(state, { _tag: "Subscribe", topic, bootstrap, subscriber, done })
            yield* Deferred.await(done)
            return true
          }),
          false
        ),
      unsubscribe: (topic, subscriber) =>
        whileRunning(state, post(state, { _tag: "Unsubscribe", topic, subscriber }), undefined),
      command: (topic, command) =>
        whileRunning(
          state,
          post(state, { _tag: "Proto", event: { _tag: "Command", topic, command } }).pipe(Effect.as(true)),
          false
        ),
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
      addAddress: (addr) => addToBook(state, addr),
      isRunning: () => state.running,
      activePeers: () => [...peers].flatMap(([id, p]) => (p._tag === "Active" ? [id] : [])),
      openConnections: () => connections.size
    } satisfies Driver
  })
