/**
 * Connections nobody uses any more, and the neighbours they leave behind. iroh-gossip keeps such connections open
 * for as long as both nodes run; closing them (after 30 s by default, see `idleConnectionTimeout`) stops the leak, and a
 * close that leaves a topic neighbour without any connection counts as that neighbour going away.
 */
import type { EndpointId as Id } from "@dtt/core"
import { Effect } from "effect"
import { type DriverState, now } from "./state.js"

type EndpointId = Id.EndpointId

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
export const reapIdleConnections = (state: DriverState, timeoutMs: number) =>
  Effect.gen(function*() {
    const t = yield* now
    for (const conn of state.connections) {
      // While the peer has an entry here it may be sending to us on this very connection at any moment (after
      // crossing dials each side sends on a different connection), so only connections to peers we dropped
      // are candidates.
      const inUse = state.peers.has(conn.remote) || conn.isSending() || conn.openReceiveStreams() > 0
      if (inUse) {
        state.idleSince.delete(conn)
        continue
      }
      const since = state.idleSince.get(conn)
      if (since === undefined) state.idleSince.set(conn, t)
      else if (t - since >= timeoutMs) {
        state.idleSince.delete(conn)
        state.stats.idleConnectionsClosed++
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
export const isOrphanedNeighbor = (state: DriverState, peer: EndpointId) => {
  for (const conn of state.connections) if (conn.remote === peer) return false
  for (const entry of state.topics.values()) if (entry.neighbors.has(peer)) return true
  return false
}
