/**
 * A discrete-event driver for large simulations: virtual time without real waiting, like `TestClock`, but cheap.
 *
 * Why not `TestClock` here: every wake-up it performs first polls, with real `setTimeout(0)` turns, until all
 * fibers of the test are suspended; with a few hundred fibers one `adjust` costs ~45 ms of real time, so a
 * 50-node run over minutes of simulated time would take hours. Here every fiber of the test (the test body
 * included) runs on one scheduler we own: the driver runs queued fiber work until none is left, then jumps the
 * clock to the next timer and wakes it. The test body lets time pass simply with `Effect.sleep`.
 *
 * Deterministic: FIFO tasks, timers ordered by (instant, registration), and a seeded `Random`.
 */
import { Clock, Duration, Effect, Exit, Fiber, Random, type Scheduler, type Scope } from "effect"
import { it } from "vitest"

interface Timer {
  readonly at: number
  readonly seq: number
  /** Cleared on cancel: a cancelled timer waits in the heap until its time, and must not keep its fiber alive. */
  wake: () => void
  cancelled: boolean
}

const noop = () => {}

/** A binary min-heap of timers by (at, seq); cancelled timers are dropped lazily. */
class TimerHeap {
  private items: Array<Timer> = []
  get size() {
    return this.items.length
  }
  private less(a: Timer, b: Timer) {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }
  push(t: Timer) {
    const items = this.items
    items.push(t)
    let i = items.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(items[i]!, items[p]!)) break
      ;[items[i], items[p]] = [items[p]!, items[i]!]
      i = p
    }
  }
  peek(): Timer | undefined {
    while (this.items.length > 0 && this.items[0]!.cancelled) this.pop()
    return this.items[0]
  }
  pop(): Timer | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      let i = 0
      while (true) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && this.less(items[l]!, items[m]!)) m = l
        if (r < items.length && this.less(items[r]!, items[m]!)) m = r
        if (m === i) break
        ;[items[i], items[m]] = [items[m]!, items[i]!]
        i = m
      }
    }
    return top
  }
}

export interface World {
  /** Simulated milliseconds since the epoch. */
  readonly now: () => number
  /** Pending timers (for leak checks). */
  readonly pendingTimers: () => number
  /** Work done so far: timers fired, fiber tasks run. */
  readonly counters: () => { readonly wakes: number; readonly tasks: number }
}

export interface RunOptions {
  /** Start of simulated time (ms since the epoch). Default: 2026-01-01T00:00:30Z, mid-minute. */
  readonly start?: number
  /** Seed of the world's `Random`. */
  readonly seed?: number
  /** Give up after this much simulated time (a test waiting for something that never happens). */
  readonly limit?: Duration.DurationInput
}

/** World currently being run, so test code can read it (`currentWorld`). */
let current: World | undefined

export const currentWorld = (): World => {
  if (!current) throw new Error("not inside VirtualTime.run")
  return current
}

/**
 * Run `effect` (scoped) in a fresh virtual world; resolves with its result. Everything it forks shares the
 * world's clock, scheduler and random.
 */
export const run = <A, E>(
  effect: Effect.Effect<A, E, Scope.Scope>,
  options: RunOptions = {}
): Promise<A> => {
  let now = options.start ?? Date.UTC(2026, 0, 1, 0, 0, 30)
  const limitAt = now + Duration.toMillis(options.limit ?? Duration.hours(6))
  let seq = 0
  const timers = new TimerHeap()
  const tasks: Array<() => void> = []

  const scheduler: Scheduler.Scheduler = {
    scheduleTask: (task) => {
      tasks.push(task)
    },
    shouldYield: (fiber) => (fiber.currentOpCount > 2048 ? 0 : false)
  }

  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
    sleep: (duration) =>
      Effect.async<void>((resume) => {
        const timer: Timer = {
          at: now + Math.max(0, Duration.toMillis(duration)),
          seq: seq++,
          wake: () => resume(Effect.void),
          cancelled: false
        }
        timers.push(timer)
        return Effect.sync(() => {
          timer.cancelled = true
          timer.wake = noop
        })
      })
  } as Clock.Clock

  let wakes = 0
  let ran = 0
  const world: World = { now: () => now, pendingTimers: () => timers.size, counters: () => ({ wakes, tasks: ran }) }

  const flush = () => {
    let here = 0
    while (tasks.length > 0) {
      const batch = tasks.splice(0, tasks.length)
      for (const t of batch) t()
      here += batch.length
      if (here > 50_000_000) throw new Error("virtual time: runaway fibers (no fiber ever suspends)")
    }
    ran += here
  }

  const program = Effect.scoped(effect).pipe(
    Effect.withClock(clock),
    Effect.withRandom(Random.make(options.seed ?? 42)),
    Effect.withScheduler(scheduler)
  )

  return new Promise<A>((resolve, reject) => {
    const previous = current
    current = world
    const fiber = Effect.runFork(Effect.withScheduler(program, scheduler), { scheduler })
    const finish = () => {
      current = previous
      const exit = fiber.unsafePoll()!
      if (Exit.isSuccess(exit)) resolve(exit.value)
      else reject(new Error(`virtual world failed: ${String(exit.cause)}`, { cause: exit.cause }))
    }
    // Drive synchronously in slices, giving the real event loop a turn between slices (real promises, vitest).
    const slice = () => {
      try {
        current = world
        for (let steps = 0; steps < 2000; steps++) {
          flush()
          if (fiber.unsafePoll() !== null) return finish()
          const next = timers.peek()
          if (next === undefined) {
            return setImmediate(() => {
              flush()
              if (fiber.unsafePoll() !== null) return finish()
              if (tasks.length === 0 && timers.peek() === undefined) {
                current = previous
                Effect.runFork(Fiber.interrupt(fiber))
                return reject(new Error("virtual time: deadlock (nothing scheduled, test not finished)"))
              }
              slice()
            })
          }
          if (next.at > limitAt) {
            current = previous
            Effect.runFork(Fiber.interrupt(fiber))
            return reject(new Error("virtual time: simulated time limit reached"))
          }
          now = Math.max(now, next.at)
          while (timers.peek()?.at === next.at) {
            wakes++
            timers.pop()!.wake()
          }
        }
        setImmediate(slice)
      } catch (e) {
        current = previous
        reject(e)
      }
    }
    slice()
  })
}

/** A vitest test of `body`, run in a fresh virtual world (`run`); `timeout` is in real milliseconds. */
export const test = <A, E>(name: string, body: Effect.Effect<A, E, Scope.Scope>, timeout = 60_000) =>
  it(name, () => run(body), timeout)

/** Let time pass in `step`s until `condition` holds; the simulated ms it took, or -1 if `limit` passed first. */
export const until = (
  condition: Effect.Effect<boolean>,
  limit: Duration.DurationInput,
  step: Duration.DurationInput = "100 millis"
): Effect.Effect<number> =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const limitMs = Duration.toMillis(limit)
    while (!(yield* condition)) {
      const spent = (yield* Clock.currentTimeMillis) - start
      if (spent >= limitMs) return -1
      yield* Effect.sleep(step)
    }
    return (yield* Clock.currentTimeMillis) - start
  })
