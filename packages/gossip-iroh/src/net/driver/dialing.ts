/**
 * How the driver gets connections: dialing a peer (address from the book, then the configured lookups, then iroh's
 * own id lookup), accepting incoming ones within the connection limits, and handing both to the actor as
 * `Connected`. Failures come back as `DialFailed`, so all state changes stay in the actor.
 */
import type { EndpointId as Id } from "@dtt/core"
import { Effect, Option, Queue } from "effect"
import * as Connection from "../connection.js"
import * as ConnectionLimits from "../connectionLimits.js"
import type { DialAddr } from "../endpoint.js"
import { DialError } from "../errors.js"
import { addToBook, type DriverState, now, post } from "./state.js"

type EndpointId = Id.EndpointId

export interface Dialing {
  /** Starts a connection's fibers and hands it to the actor. */
  readonly adopt: (
    remote: EndpointId,
    raw: Connection.PeerConnection["raw"],
    origin: "dial" | "accept"
  ) => Effect.Effect<void>
  /** Dials the peer unless a dial to it already runs. */
  readonly startDial: (peer: EndpointId) => Effect.Effect<void>
  /** Learn the address a connected peer actually uses (so we can dial it again later). */
  readonly learnRemoteAddr: (peer: EndpointId) => Effect.Effect<void>
}

export const make = (state: DriverState): Dialing => {
  const { endpoint, options, book } = state
  const handlers: Connection.ConnectionHandlers = {
    onMessage: (from, topic, message) =>
      post(state, { _tag: "Proto", event: { _tag: "RecvMessage", from, topic, message } }),
    onClosed: (conn, reason) => post(state, { _tag: "ConnClosed", conn, reason })
  }
  const connOptions = {
    maxMessageSize: options.maxMessageSize,
    sendQueueCapacity: options.sendQueueCapacity,
    sendQueueTimeout: options.sendQueueTimeout
  }

  const adopt = (remote: EndpointId, raw: Connection.PeerConnection["raw"], origin: "dial" | "accept") =>
    Effect.gen(function*() {
      if (origin === "dial") state.accounting.track(remote)
      const conn = yield* Connection.start(remote, raw, origin, connOptions, handlers, state.connScope)
      yield* post(state, { _tag: "Connected", conn })
    })

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
      if (state.pendingDials.has(peer)) return Effect.void
      state.pendingDials.add(peer)
      state.stats.dialsStarted++
      return Effect.gen(function*() {
        const addr = yield* resolve(peer)
        if (Option.isNone(addr)) {
          return yield* new DialError({ peer, reason: "NoAddress", detail: "no address known for this id" })
        }
        const raw = yield* endpoint.dial(addr.value)
        yield* adopt(peer, raw, "dial")
      }).pipe(
        Effect.catchAll((error) => post(state, { _tag: "DialFailed", peer, error })),
        Effect.forkIn(state.scope),
        Effect.asVoid
      )
    })

  const learnRemoteAddr = (peer: EndpointId) =>
    endpoint.remoteAddr(peer).pipe(
      Effect.flatMap((addr) => Option.isNone(addr) ? Effect.void : addToBook(state, addr.value)),
      Effect.ignore,
      Effect.forkIn(state.scope),
      Effect.asVoid
    )

  return { adopt, startDial, learnRemoteAddr }
}

/** Takes incoming connections for as long as the driver's scope lives; those beyond the limits are refused. */
export const acceptIncoming = (state: DriverState, dialing: Dialing) =>
  Effect.gen(function*() {
    while (true) {
      const accepted = yield* Queue.take(state.endpoint.accepted)
      const refusal = state.accounting.admit(accepted.remote)
      if (refusal === undefined) yield* dialing.adopt(accepted.remote, accepted.connection, "accept")
      else yield* ConnectionLimits.refuse(accepted.connection, refusal, state.stats)
    }
  })
