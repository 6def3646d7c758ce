/**
 * `node.metrics()`: the `dtt_` metrics of `@dtt/core` (`Metrics`) as plain objects. They are process-wide, like
 * every Effect metric: several nodes in one process add into the same series.
 */
import { Metrics } from "@dtt/core"
import { Effect } from "effect"

/** One series: counters and gauges have a `value`; histograms (milliseconds) `count`, `sum`, `min`, `max`, `buckets`. */
export type MetricSample =
  | {
    readonly name: string
    readonly kind: "counter" | "gauge"
    readonly tags: Readonly<Record<string, string>>
    readonly value: number
  }
  | {
    readonly name: string
    readonly kind: "histogram"
    readonly tags: Readonly<Record<string, string>>
    readonly count: number
    readonly sum: number
    readonly min: number
    readonly max: number
    /** Cumulative `[upper bound, observations ≤ bound]`, the last bound `Infinity`. */
    readonly buckets: ReadonlyArray<readonly [number, number]>
  }

/** Fresh copies, so a caller that edits a snapshot cannot reach the next one. */
export const snapshot = (): ReadonlyArray<MetricSample> =>
  Effect.runSync(Metrics.snapshot).map((s): MetricSample =>
    s.kind === "histogram"
      ? { ...s, tags: { ...s.tags }, buckets: s.buckets.map(([bound, n]) => [bound, n] as const) }
      : { ...s, tags: { ...s.tags } }
  )
