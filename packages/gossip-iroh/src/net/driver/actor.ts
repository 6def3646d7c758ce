/**
 * The one fiber that owns the driver's state: it takes messages from the inbox one at a time and applies them
 * (protocol input, connections opening and closing, dial failures, subscriptions, our own address, idle reaping,
 * shutdown). Keeping every state change here is what lets the rest run without locks.
 */
import { Deferred, Effect, Metric, Queue } from "effect"
import { encodeOwnPeerData, openConnectionsGauge } from "./api.js"
import type { Dialing } from "./dialing.js"
import { isOrphanedNeighbor, reapIdleConnections } from "./idleConnections.js"
import { answerLeftTopic, rememberLeftTopic } from "./leftTopics.js"
import type { ProtocolIo } from "./protocolIo.js"
import { leaveEverything } from "./shutdown.js"
import { type DriverState, dropFrame, type Message } from "./state.js"

const handle = (state: DriverState, io: ProtocolIo, dialing: Dialing, m: Message): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { peers, topics, connections, stats, options } = state
    const { feed } = io
    switch (m._tag) {
      case "Proto":
        if (m.event._tag === "RecvMessage") {
          stats.framesIn++
          if (state.running) yield* answerLeftTopic(state, io, m.event.from, m.event.topic, m.event.message)
        }
        if (state.running) yield* feed(m.event)
        else if (m.event._tag === "Command") yield* feed(m.event) // the Quits of the shutdown
        return
      case "Connected": {
        const conn = m.conn
        stats.connectionsOpened++
        connections.add(conn)
        yield* Metric.increment(openConnectionsGauge)
        if (conn.origin === "dial") state.pendingDials.delete(conn.remote)
        if (!state.running) {
          yield* conn.close("shutting down")
          return
        }
        const entry = peers.get(conn.remote)
        if (entry === undefined || entry._tag === "Pending") {
          peers.set(conn.remote, { _tag: "Active", conn, others: new Set() })
          if (entry !== undefined) {
            for (const frame of entry.queue) {
              if (!(yield* conn.send(frame))) yield* dropFrame(state)
            }
          }
        } else {
          // Newest connection becomes the send path; the old one drains, finishes its streams, keeps receiving.
          entry.others.add(entry.conn)
          yield* entry.conn.endSending.pipe(Effect.forkIn(state.connScope))
          entry.conn = conn
        }
        yield* dialing.learnRemoteAddr(conn.remote)
        return
      }
      case "DialFailed": {
        state.pendingDials.delete(m.peer)
        stats.dialsFailed++
        const entry = peers.get(m.peer)
        if (entry?._tag === "Active") return
        if (entry !== undefined) peers.delete(m.peer)
        yield* feed({ _tag: "PeerDisconnected", peer: m.peer })
        return
      }
      case "ConnClosed": {
        if (connections.delete(m.conn)) yield* Metric.incrementBy(openConnectionsGauge, -1)
        state.accounting.release(m.conn.remote)
        state.idleSince.delete(m.conn)
        stats.connectionsClosed++
        const remote = m.conn.remote
        const entry = peers.get(remote)
        if (entry?._tag === "Active") {
          if (entry.conn === m.conn) {
            peers.delete(remote)
            if (state.running) yield* feed({ _tag: "PeerDisconnected", peer: remote })
          } else {
            entry.others.delete(m.conn)
          }
        } else if (entry === undefined && state.running && isOrphanedNeighbor(state, remote)) {
          yield* feed({ _tag: "PeerDisconnected", peer: remote })
        }
        return
      }
      case "Subscribe": {
        if (!state.running) {
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
        state.leftTopics.delete(m.topic)
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
        yield* rememberLeftTopic(state, m.topic)
        return
      }
      case "ReapIdle":
        if (state.running) yield* reapIdleConnections(state, m.timeoutMs)
        return
      case "OwnAddr": {
        if (!state.running) return
        yield* feed({ _tag: "UpdatePeerData", data: encodeOwnPeerData(m.addr) })
        for (const lookup of options.lookups) {
          yield* lookup.publish(m.addr).pipe(Effect.ignore, Effect.forkIn(state.scope))
        }
        return
      }
      case "Shutdown":
        // Leave every topic (peers get Disconnect{alive:false}), then let the send paths flush and finish.
        yield* leaveEverything(state, io, m.done)
        return
    }
  })

/** Takes and handles messages until the scope closes. */
export const runActor = (state: DriverState, io: ProtocolIo, dialing: Dialing) =>
  Effect.gen(function*() {
    while (true) {
      const m = yield* Queue.take(state.inbox)
      // One bad message must not silence the node: the actor is the only fiber that speaks the protocol.
      yield* handle(state, io, dialing, m).pipe(
        Effect.catchAllCause((cause) =>
          Effect.zipRight(
            Effect.sync(() => state.stats.actorErrors++),
            Effect.logError("gossip driver: handling a message failed", cause)
          )
        )
      )
    }
  })
