/** The knobs of the in-memory gossip model (`MemoryGossip.make`); defaults follow iroh-gossip where it has one. */
import { Duration } from "effect"

export interface MemoryGossipConfig {
  /** HyParView active view: at most this many neighbours per topic (iroh: 5). */
  readonly activeViewCapacity: number
  readonly passiveViewCapacity: number
  /**
   * Every this often a node sends a Shuffle (a few of its active and passive peers) on a random walk and adds
   * what comes back to its passive view (iroh: 60 s). `Duration.infinity` turns shuffling off.
   */
  readonly shuffleInterval: Duration.DurationInput
  /** Random-walk length of a ForwardJoin (iroh ARWL: 6). */
  readonly activeRandomWalkLength: number
  /** At this remaining ttl a ForwardJoin also lands in the passive view (iroh PRWL: 3). */
  readonly passiveRandomWalkLength: number
  /** A neighbour request from the passive view that got no answer is given up after this. */
  readonly neighborRequestTimeout: Duration.DurationInput
  /** One-way delay of every message. */
  readonly latency: Duration.DurationInput
  /** Uniform extra delay in [0, jitter); links stay FIFO. */
  readonly latencyJitter: Duration.DurationInput
  /** Probability that one message is lost. */
  readonly loss: number
  /** How long a broken connection (cut link, crashed peer) takes to be noticed (iroh: QUIC idle timeout). */
  readonly failureDetection: Duration.DurationInput
  readonly maxMessageSize: number
  /** Per-subscriber event buffer; beyond it the oldest events are dropped and `Lagged` is signalled. */
  readonly eventBufferCapacity: number
  /** How long a message id is remembered for de-duplication (iroh: 90 s). */
  readonly messageIdRetention: Duration.DurationInput
  /**
   * Delivery times are rounded up to a multiple of this (ms). Under `TestClock` every distinct instant costs a
   * few milliseconds of real time, so a coarser quantum (5-10 ms) makes large simulations much faster.
   */
  readonly timeQuantum: number
  readonly seed: number
}

export const defaultMemoryGossipConfig: MemoryGossipConfig = {
  activeViewCapacity: 5,
  passiveViewCapacity: 30,
  shuffleInterval: Duration.seconds(60),
  activeRandomWalkLength: 6,
  passiveRandomWalkLength: 3,
  neighborRequestTimeout: Duration.millis(500),
  latency: Duration.zero,
  latencyJitter: Duration.zero,
  loss: 0,
  failureDetection: Duration.zero,
  maxMessageSize: 4096,
  eventBufferCapacity: 256,
  messageIdRetention: Duration.seconds(90),
  timeQuantum: 1,
  seed: 1
}
