/**
 * Seedable randomness for the protocol core. The core never reads a global random source, so a simulation with a
 * given seed is reproducible and the IO driver can seed it from Effect's `Random` service.
 *
 * The generator is xoshiro128** seeded through splitmix32: small, fast, good enough for peer selection (this is
 * not cryptographic randomness and need not reproduce Rust's ChaCha12 sequences).
 */
export interface Rng {
  /** A uniformly distributed integer in `[0, bound)`; `bound` must be a positive integer below 2^32. */
  readonly int: (bound: number) => number
  /** A float in `[0, 1)`. */
  readonly float: () => number
  /** An independent generator seeded from this one (like Rust's `R::from_rng(&mut rng)`). */
  readonly fork: () => Rng
}

const splitmix32 = (seed: number): () => number => {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0

/** A deterministic generator for a seed (any safe integer; the high and low 32 bits both count). */
export const seededRng = (seed: number): Rng => {
  const hi = Math.floor(seed / 2 ** 32) >>> 0
  const mix = splitmix32((seed >>> 0) ^ Math.imul(hi, 0x27d4eb2d))
  let a = mix()
  let b = mix()
  let c = mix()
  let d = mix()
  if ((a | b | c | d) === 0) a = 1
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0
    const t = (b << 9) >>> 0
    c ^= a
    d ^= b
    b ^= c
    a ^= d
    c ^= t
    d = rotl(d, 11)
    return result
  }
  const float = () => next() / 2 ** 32
  const int = (bound: number): number => {
    // Rejection sampling keeps the result unbiased.
    const limit = 2 ** 32 - (2 ** 32 % bound)
    for (;;) {
      const x = next()
      if (x < limit) return x % bound
    }
  }
  return { int, float, fork: () => seededRng(next() * 2 ** 21 + (next() >>> 11)) }
}
