/**
 * A simulated bad network on one node's UDP socket, for testbeds: delay, jitter and loss on what it receives
 * and on what it sends, and "silent" nodes that never answer a query (the public DHT is full of them: behind
 * NAT, firewalled, or gone). Decisions come from a seeded `Random`, delays from the `Clock`.
 */
import type { Duration } from "effect"

/** One direction of a node's traffic. */
export interface Link {
  /** Added to every datagram. Default 0. */
  readonly latency?: Duration.DurationInput
  /** Each datagram's delay is `latency` plus a uniform draw in [-jitter, +jitter] (never below 0). Default 0. */
  readonly jitter?: Duration.DurationInput
  /** Share of datagrams dropped, 0..1. Default 0. */
  readonly loss?: number
}

export interface Impairment {
  /** Datagrams arriving at the node (queries and replies), before it reads them. */
  readonly inbound?: Link
  /** Datagrams the node sends (its queries and its answers). */
  readonly outbound?: Link
  /**
   * Never answer a query (the node still sends its own and reads the replies, so others learn it from its
   * lookups and then wait for it in vain). Default false.
   */
  readonly silent?: boolean
  /** Seed of the loss and jitter draws. Default: drawn from the `Random` service. */
  readonly seed?: number
}
