/**
 * Watch everything one topic starts: a `Supervisor` for its fibers and a counting `Clock` for its timers.
 *
 * Why a counting clock: `TestClock.sleeps()` keeps the entry of a sleep whose fiber was interrupted until the
 * clock reaches its deadline, so it cannot tell a live timer from a dead one. Counting `sleep` calls that have
 * started and not yet ended (completed or interrupted) can.
 */
import { Clock, type Duration, Effect, Supervisor } from "effect"

export interface TopicProbe {
  /** Run `effect` (e.g. a join) so that every fiber and timer it starts, directly or not, is watched. */
  readonly watch: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Fibers started under `watch` that are still alive. */
  readonly liveFibers: Effect.Effect<number>
  /** Sleeps (timers, timeouts, schedule delays) started under `watch` that have neither ended nor been interrupted. */
  readonly pendingTimers: () => number
  /** Sleeps started so far (to show the watched code did use timers). */
  readonly timersStarted: () => number
}

export const make: Effect.Effect<TopicProbe> = Effect.gen(function*() {
  const supervisor = yield* Supervisor.track
  const inner = yield* Effect.clock
  let pending = 0
  let started = 0
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => inner.unsafeCurrentTimeMillis(),
    unsafeCurrentTimeNanos: () => inner.unsafeCurrentTimeNanos(),
    currentTimeMillis: inner.currentTimeMillis,
    currentTimeNanos: inner.currentTimeNanos,
    sleep: (duration: Duration.Duration) =>
      Effect.suspend(() => {
        pending++
        started++
        return Effect.ensuring(inner.sleep(duration), Effect.sync(() => pending--))
      })
  }
  return {
    watch: (effect) => effect.pipe(Effect.withClock(clock), Effect.supervised(supervisor)),
    liveFibers: Effect.map(supervisor.value, (fibers) => fibers.length),
    pendingTimers: () => pending,
    timersStarted: () => started
  }
})
