/**
 * A smoothed round-trip estimate of one KRPC client over all the nodes it asks (RFC 6298's srtt and rttvar),
 * and from it the "soft" timeout after which a lookup stops waiting for a request: `srtt + 4·rttvar`, kept
 * within [floor, ceiling]. The request itself still runs to its hard timeout and its answer still counts if
 * it comes; the soft timeout only decides when a node that has not answered may stop holding up a lookup.
 *
 * Why: on the public DHT many nodes never answer (NAT, firewalls, gone), and a lookup that waits the full
 * request timeout for each of them pays it once per lookup and a join is several lookups in a row.
 */
import { Duration } from "effect"

/**
 * Default least soft timeout. Public DHT round trips are 50-500 ms, so the adaptive value is mostly above it;
 * on loopback it keeps a busy machine's scheduling delays from counting as silence.
 */
export const DEFAULT_SOFT_TIMEOUT_FLOOR: Duration.Duration = Duration.millis(400)

export interface RttEstimator {
  /** Record one answered request's round trip, in milliseconds. */
  readonly sample: (millis: number) => void
  /** Milliseconds after which a request that has not answered is "stalled" (see the module comment). */
  readonly softTimeout: () => number
  /** The current smoothed round trip in milliseconds, `undefined` before the first sample. */
  readonly smoothed: () => number | undefined
}

export interface RttBounds {
  /** Least soft timeout: below it a loaded machine's scheduling noise would stall answering nodes. */
  readonly floor: number
  /** Greatest soft timeout: the hard request timeout (a stall after it would never happen). */
  readonly ceiling: number
  /** Soft timeout before the first sample. */
  readonly initial: number
}

// RFC 6298 gains: alpha = 1/8 for srtt, beta = 1/4 for rttvar, K = 4.
const SRTT_GAIN = 1 / 8
const RTTVAR_GAIN = 1 / 4
const VARIANCE_FACTOR = 4

export const make = (bounds: RttBounds): RttEstimator => {
  let srtt: number | undefined
  let rttvar = 0
  const clamp = (ms: number) => Math.min(bounds.ceiling, Math.max(bounds.floor, ms))
  return {
    sample: (millis) => {
      if (!Number.isFinite(millis) || millis < 0) return
      if (srtt === undefined) {
        srtt = millis
        rttvar = millis / 2
        return
      }
      rttvar = (1 - RTTVAR_GAIN) * rttvar + RTTVAR_GAIN * Math.abs(srtt - millis)
      srtt = (1 - SRTT_GAIN) * srtt + SRTT_GAIN * millis
    },
    softTimeout: () => (srtt === undefined ? clamp(bounds.initial) : clamp(srtt + VARIANCE_FACTOR * rttvar)),
    smoothed: () => srtt
  }
}
