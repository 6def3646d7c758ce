/**
 * A small seeded generator for the simulated networks. Their handlers run synchronously inside message
 * delivery, so they cannot draw from the Effect `Random` service; a per-network seed keeps every run of a
 * test identical instead.
 */
export interface Prng {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [0, n). */
  readonly int: (n: number) => number
}

/** splitmix32: tiny, fast, and good enough to spread latencies and pick peers. */
export const makePrng = (seed: number): Prng => {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    z = (z ^ (z >>> 16)) >>> 0
    return z / 4294967296
  }
  return { next, int: (n) => Math.floor(next() * n) }
}
