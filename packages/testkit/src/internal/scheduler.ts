/**
 * One timeline for a simulated network: callbacks run at a deadline (whole milliseconds), in deadline then
 * insertion order, with ONE sleeping fiber per distinct deadline rather than one per message.
 *
 * Why: under `TestClock` every wake-up of a sleeping fiber costs several real macrotask turns (the clock waits
 * for all fibers to settle), so a sleep per message makes a 60-node swarm take seconds of real time. Grouping
 * by deadline keeps the cost proportional to the number of distinct instants instead.
 */
import { type Clock, Duration, Effect, type Fiber } from "effect"

interface Scheduled {
  readonly at: number
  readonly seq: number
  readonly run: () => void
}

/** Callbacks run per wake-up before yielding, so a storm of zero-delay messages cannot starve other fibers. */
const BATCH = 10_000

export class Scheduler {
  private readonly queue: Array<Scheduled> = []
  private head = 0
  private seq = 0
  private readonly ticks = new Set<number>()

  constructor(
    private readonly clock: Clock.Clock,
    private readonly fork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>,
    /** Deadlines are rounded up to a multiple of this many ms: coarser means fewer wake-ups, less precision. */
    private readonly quantum: number = 1
  ) {
    if (!(quantum >= 1)) throw new RangeError("time quantum must be at least 1 ms")
  }

  now(): number {
    return this.clock.unsafeCurrentTimeMillis()
  }

  /** Run `f` at `at` (absolute ms, rounded up to the quantum); returns the deadline used. */
  runAt(at: number, f: () => void): number {
    const now = this.now()
    const deadline = at <= now ? now : Math.ceil(at / this.quantum) * this.quantum
    this.insert({ at: deadline, seq: this.seq++, run: f })
    this.ensureTick(deadline)
    return deadline
  }

  runAfter(delay: Duration.DurationInput, f: () => void): number {
    return this.runAt(this.now() + Duration.toMillis(delay), f)
  }

  private insert(item: Scheduled): void {
    // Items arrive mostly in deadline order: search from the end.
    let i = this.queue.length
    while (i > this.head && this.queue[i - 1]!.at > item.at) i--
    this.queue.splice(i, 0, item)
  }

  private ensureTick(deadline: number): void {
    if (this.ticks.has(deadline)) return
    this.ticks.add(deadline)
    const wait = deadline - this.now()
    this.fork(
      Effect.zipRight(
        wait > 0 ? Effect.sleep(Duration.millis(wait)) : Effect.yieldNow(),
        Effect.sync(() => {
          this.ticks.delete(deadline)
          // A real timer may fire a little before the wall clock reaches the deadline: go by the deadline.
          this.runDue(Math.max(deadline, this.now()))
        })
      )
    )
  }

  private runDue(now: number): void {
    let budget = BATCH
    while (this.head < this.queue.length && this.queue[this.head]!.at <= now) {
      if (budget-- === 0) {
        this.ensureTick(now)
        break
      }
      const item = this.queue[this.head++]!
      item.run()
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
  }
}
