/**
 * A bounded, never-blocking event queue for ONE consumer, as iroh-gossip's per-topic ring: when the consumer
 * falls behind, the oldest events are dropped and the consumer sees one `Lagged` where they were, then
 * continues (spec iroh-gossip.md §4, behaviour.md §6).
 */
import { Effect, Option } from "effect"

export interface Lagged {
  readonly _tag: "Lagged"
  /** How many of the oldest events were dropped. */
  readonly missed: number
}

export class EventBuffer<A> {
  private items: Array<A> = []
  private missed = 0
  private closed = false
  private waiter: (() => void) | undefined

  constructor(private readonly capacity: number) {}

  offer(event: A): void {
    if (this.closed) return
    if (this.items.length >= this.capacity) {
      this.items.shift()
      this.missed++
    }
    this.items.push(event)
    this.wake()
  }

  /** No more events; the consumer still gets what is buffered, then the end. */
  close(): void {
    this.closed = true
    this.wake()
  }

  get isClosed(): boolean {
    return this.closed
  }

  private wake(): void {
    const waiter = this.waiter
    this.waiter = undefined
    waiter?.()
  }

  private poll(): Option.Option<A | Lagged> | "empty" {
    if (this.missed > 0) {
      const lagged: Lagged = { _tag: "Lagged", missed: this.missed }
      this.missed = 0
      return Option.some(lagged)
    }
    if (this.items.length > 0) return Option.some(this.items.shift()!)
    return this.closed ? Option.none() : "empty"
  }

  /** The next event; fails with `None` once closed and drained (the shape `Stream.repeatEffectOption` wants). */
  readonly take: Effect.Effect<A | Lagged, Option.Option<never>> = Effect.suspend(() => {
    const now = this.poll()
    if (now !== "empty") return Option.match(now, { onNone: () => Effect.fail(Option.none()), onSome: Effect.succeed })
    return Effect.async<void>((resume) => {
      this.waiter = () => resume(Effect.void)
      return Effect.sync(() => {
        this.waiter = undefined
      })
    }).pipe(Effect.zipRight(this.take))
  })
}
