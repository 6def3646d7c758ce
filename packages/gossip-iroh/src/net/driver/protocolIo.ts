/**
 * Runs the sans-IO protocol: feeds it an input event and carries out what it asks for (send a frame, tell
 * subscribers, set a timer, drop a peer's send path, store PeerData). Sending to a peer with no connection queues
 * the frame and starts a dial.
 */
import type { EndpointId as Id } from "@dtt/core"
import { Deferred, Duration, Effect, Either } from "effect"
import type { InEvent, OutEvent } from "../../proto/events.js"
import { decodeAddrInfo, encodeMessageFrame, formatSocketAddr } from "../../wire/index.js"
import type { SocketAddr } from "../../wire/socketAddr.js"
import type * as Connection from "../connection.js"
import type { Protocol } from "./api.js"
import type { Dialing } from "./dialing.js"
import { type DriverState, dropFrame, now, post } from "./state.js"

type EndpointId = Id.EndpointId

export interface ProtocolIo {
  /** Hands one event to the protocol and executes its out events in order. */
  readonly feed: (event: InEvent) => Effect.Effect<void>
  /** Sends on the peer's connection, queues while its dial runs, or starts the dial. */
  readonly sendFrame: (to: EndpointId, frame: Connection.OutgoingFrame) => Effect.Effect<void>
}

const toAddrStrings = (list: ReadonlyArray<SocketAddr>) => list.map(formatSocketAddr)

const isDisconnect = (event: OutEvent & { _tag: "SendMessage" }) =>
  event.message._tag === "Swarm" && event.message.message._tag === "Disconnect"

export const make = (state: DriverState, protocol: Protocol, dialing: Dialing): ProtocolIo => {
  const { endpoint, options, peers, topics, stats } = state

  const feed = (event: InEvent): Effect.Effect<void> =>
    Effect.gen(function*() {
      const out = protocol.handle(event, yield* now)
      for (const e of out) yield* execute(e)
    })

  const injectLater = (event: InEvent) =>
    post(state, { _tag: "Proto", event }).pipe(Effect.forkIn(state.scope), Effect.asVoid)

  const sendFrame = (to: EndpointId, frame: Connection.OutgoingFrame) =>
    Effect.gen(function*() {
      const entry = peers.get(to)
      if (entry === undefined) {
        peers.set(to, { _tag: "Pending", queue: [frame] })
        yield* dialing.startDial(to)
      } else if (entry._tag === "Pending") {
        if (entry.queue.length < options.pendingQueueCapacity) entry.queue.push(frame)
        else yield* dropFrame(state)
      } else {
        const ok = yield* entry.conn.send(frame)
        if (ok) stats.framesQueued++
        else yield* dropFrame(state)
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
            yield* dropFrame(state)
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
            Effect.zipRight(post(state, { _tag: "Proto", event: { _tag: "TimerExpired", timer } })),
            Effect.forkIn(state.scope)
          )
          return
        }
        case "DisconnectPeer": {
          const entry = peers.get(e.peer)
          if (entry === undefined) return
          peers.delete(e.peer)
          // The connection lingers for receiving (as in Rust); only our send path ends.
          if (entry._tag === "Active") yield* entry.conn.endSending.pipe(Effect.forkIn(state.connScope))
          return
        }
        case "PeerData": {
          const info = decodeAddrInfo(e.data)
          if (Either.isLeft(info)) return // Rust logs and ignores undecodable PeerData
          state.book.add(
            { id: e.peer, relayUrl: info.right.relayUrl, directAddresses: toAddrStrings(info.right.directAddresses) },
            yield* now
          )
          return
        }
      }
    })

  return { feed, sendFrame }
}
