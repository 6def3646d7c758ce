/**
 * The timer shape shared by the publisher and both merge actors (behaviour.md §3.4–3.6): a first tick after
 * `initialDelay`, then, measured from the END of each tick's work, `max(base, 1 s) + U[0, maxJitter)`. Missed
 * ticks are never bunched: the next delay starts only when the work is done (that is what `Effect.repeat` with a
 * spaced schedule does). Time from `Clock`, jitter from `Random`, so `TestClock` drives it.
 */
import { Duration, Effect, Random, Schedule } from "effect"

export interface TickTiming {
  readonly initialDelay: Duration.Duration
  readonly baseInterval: Duration.Duration
  readonly maxJitter: Duration.Duration
}

const MIN_BASE_MILLIS = 1000

/** The delay after each tick: the Rust actors clamp the base to ≥ 1 s and add uniform jitter in [0, max). */
export const spacing = (baseInterval: Duration.Duration, maxJitter: Duration.Duration): Schedule.Schedule<number> => {
  const base = Math.max(MIN_BASE_MILLIS, Duration.toMillis(baseInterval))
  const jitter = Duration.toMillis(maxJitter)
  return Schedule.forever.pipe(
    Schedule.addDelayEffect(() =>
      jitter > 0
        ? Effect.map(Random.nextIntBetween(0, jitter), (j) => Duration.millis(base + j))
        : Effect.succeed(Duration.millis(base))
    )
  )
}

/** Run `tick` forever on the timer. `tick` must not fail (actors log and carry on). */
export const every = <R>(timing: TickTiming, tick: Effect.Effect<void, never, R>): Effect.Effect<never, never, R> =>
  Effect.sleep(timing.initialDelay).pipe(
    Effect.zipRight(Effect.repeat(tick, spacing(timing.baseInterval, timing.maxJitter))),
    Effect.zipRight(Effect.never)
  )
