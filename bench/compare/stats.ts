/** Summaries of the comparison's samples; a trial that found no peer in time counts as slower than every other. */

export interface TimingSummary {
  readonly trials: number
  readonly ok: number
  /** Nearest-rank percentiles over all trials, failures ranked last; `null` when that rank is a failure. */
  readonly p50: number | null
  readonly p95: number | null
  readonly min: number | null
  readonly max: number | null
  /** Every successful trial's time in ms, in trial order. */
  readonly samples: ReadonlyArray<number>
}

const rank = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
const finite = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : x)

export const summarize = (times: ReadonlyArray<number | undefined>): TimingSummary => {
  const samples = times.filter((t): t is number => t !== undefined)
  const ranked = times.map((t) => t ?? Infinity).sort((a, b) => a - b)
  return {
    trials: times.length,
    ok: samples.length,
    p50: finite(rank(ranked, 50)),
    p95: finite(rank(ranked, 95)),
    min: finite(ranked[0]),
    max: samples.length === 0 ? null : Math.max(...samples),
    samples
  }
}

export const ratio = (ours: number | null, theirs: number | null) =>
  ours === null || theirs === null || theirs === 0 ? null : Math.round((ours / theirs) * 100) / 100

export const median = (xs: ReadonlyArray<number>): number | null => {
  if (xs.length === 0) return null
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : Math.round(((s[mid - 1]! + s[mid]!) / 2) * 10) / 10
}

/** Least-squares slope of `ys` against 1, 2, 3, ...: the RSS each further node adds, less noisy than last - first. */
export const slope = (ys: ReadonlyArray<number>): number => {
  const n = ys.length
  if (n < 2) return 0
  const meanX = (n + 1) / 2
  const meanY = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  ys.forEach((y, i) => {
    num += (i + 1 - meanX) * (y - meanY)
    den += (i + 1 - meanX) ** 2
  })
  return num / den
}
