/**
 * Bounds on the connections a node keeps: per remote endpoint and in total. iroh-gossip needs one connection per
 * neighbour (two briefly, after crossing dials or a reconnect, while the older one drains), so anything beyond a
 * handful from one id is a peer hoarding connections; the total bounds what many identities together can hold.
 *
 * Only connections peers open to us are refused: the ones we dial are bounded by the protocol's own views. A
 * refused connection is closed at once with a reason, before any stream is read from it, and counted.
 */
import type { EndpointId as Id } from "@dtt/core"
import { Effect, Metric } from "effect"
import * as Iroh from "./iroh.js"

type EndpointId = Id.EndpointId

export interface ConnectionLimitOptions {
  /** Connections one remote endpoint may hold open with us at once (both directions). Default 4. */
  readonly maxConnectionsPerPeer: number
  /** Connections open at once, all peers together. Default 256. */
  readonly maxConnections: number
}

export const defaultConnectionLimits: ConnectionLimitOptions = {
  maxConnectionsPerPeer: 4,
  maxConnections: 256
}

export type Refusal = "PerPeerLimit" | "TotalLimit"

/** Incoming connections refused because a limit was reached (all nodes of the process). */
export const refusedConnections = Metric.counter("gossip_iroh_connections_refused", {
  description: "incoming iroh-gossip connections closed at once because a per-peer or total limit was reached",
  incremental: true
})

export interface ConnectionAccounting {
  /** Counts an accepted connection in, or says which limit refuses it (then nothing is counted). */
  readonly admit: (remote: EndpointId) => Refusal | undefined
  /** Counts a connection we dialled (never refused). */
  readonly track: (remote: EndpointId) => void
  /** A counted connection closed. */
  readonly release: (remote: EndpointId) => void
  readonly open: () => number
  readonly openWith: (remote: EndpointId) => number
}

export const makeAccounting = (limits: ConnectionLimitOptions): ConnectionAccounting => {
  const perPeer = new Map<EndpointId, number>()
  let total = 0
  const add = (remote: EndpointId) => {
    perPeer.set(remote, (perPeer.get(remote) ?? 0) + 1)
    total++
  }
  return {
    admit: (remote) => {
      if ((perPeer.get(remote) ?? 0) >= limits.maxConnectionsPerPeer) return "PerPeerLimit"
      if (total >= limits.maxConnections) return "TotalLimit"
      add(remote)
      return undefined
    },
    track: add,
    release: (remote) => {
      const n = perPeer.get(remote)
      if (n === undefined) return
      if (n <= 1) perPeer.delete(remote)
      else perPeer.set(remote, n - 1)
      total--
    },
    open: () => total,
    openWith: (remote) => perPeer.get(remote) ?? 0
  }
}

/** The close reason a refused peer sees. */
export const refusalReason = (refusal: Refusal): string =>
  refusal === "PerPeerLimit" ? "too many connections from this endpoint" : "too many connections"

/** Closes a connection a limit refused, and counts it (in `stats` and the process-wide metric). */
export const refuse = (
  connection: Iroh.Connection,
  refusal: Refusal,
  stats: { connectionsRefused: number }
): Effect.Effect<void> =>
  Effect.suspend(() => {
    stats.connectionsRefused++
    try {
      connection.close(0n, Iroh.toNapiBytes(new TextEncoder().encode(refusalReason(refusal))))
    } catch {
      // already closed by the peer
    }
    return Metric.increment(refusedConnections)
  })
