/**
 * One producer, many readers, each with its own cursor over a bounded buffer: the tokio `broadcast` channel the
 * Rust crate fans gossip events out with. Publishing never blocks; a reader that falls more than `capacity`
 * events behind loses the oldest ones and is told how many with a `Lagged` item, then keeps reading. After
 * `close`, readers still get what was buffered, then `Closed`.
 *
 * (Effect's `PubSub.bounded` would block the producer and `PubSub.sliding` drops silently; neither gives the
 * count, hence this small structure.)
 */
import { Deferred, Effect, FiberId, Option } from "effect"

export type Item<A> = { readonly _tag: "Value"; readonly value: A } | {
  readonly _tag: "Lagged"
  readonly missed: number
}

export interface Reader<A> {
  /** The next item; `None` once the channel is closed and this reader's buffer is drained (or the reader was released). */
  readonly next: Effect.Effect<Option.Option<Item<A>>>
  /** Stop receiving and free the buffer. Idempotent. */
  readonly release: () => void
}

interface Cursor<A> {
  buffer: Array<A>
  missed: number
  waiter: Deferred.Deferred<void> | undefined
  released: boolean
}

export interface Fanout<A> {
  readonly publish: (value: A) => void
  readonly close: () => void
  readonly isClosed: () => boolean
  /** A new reader that sees every event published from now on. On a closed fanout it is closed at once. */
  readonly subscribe: () => Reader<A>
  /** Live readers (for leak tests). */
  readonly readers: () => number
}

const wake = <A>(cursor: Cursor<A>) => {
  const waiter = cursor.waiter
  cursor.waiter = undefined
  if (waiter) Deferred.unsafeDone(waiter, Effect.void)
}

export const make = <A>(capacity: number): Fanout<A> => {
  const cursors = new Set<Cursor<A>>()
  let closed = false

  const next = (cursor: Cursor<A>): Effect.Effect<Option.Option<Item<A>>> =>
    Effect.suspend(() => {
      if (cursor.released) return Effect.succeed(Option.none())
      if (cursor.missed > 0) {
        const missed = cursor.missed
        cursor.missed = 0
        return Effect.succeed(Option.some({ _tag: "Lagged" as const, missed }))
      }
      if (cursor.buffer.length > 0) {
        return Effect.succeed(Option.some({ _tag: "Value" as const, value: cursor.buffer.shift()! }))
      }
      if (closed) return Effect.succeed(Option.none())
      // Several fibers may read one reader; they share the waiter and race for the item, like clones sharing a cursor.
      const waiter = cursor.waiter ?? Deferred.unsafeMake<void>(FiberId.none)
      cursor.waiter = waiter
      return Effect.zipRight(Deferred.await(waiter), next(cursor))
    })

  return {
    publish: (value) => {
      if (closed) return
      for (const cursor of cursors) {
        if (cursor.buffer.length >= capacity) {
          cursor.buffer.shift()
          cursor.missed++
        }
        cursor.buffer.push(value)
        wake(cursor)
      }
    },
    close: () => {
      if (closed) return
      closed = true
      for (const cursor of cursors) wake(cursor)
      // Each cursor keeps its own buffer to drain; the channel forgets them.
      cursors.clear()
    },
    isClosed: () => closed,
    subscribe: () => {
      const cursor: Cursor<A> = { buffer: [], missed: 0, waiter: undefined, released: closed }
      if (!closed) cursors.add(cursor)
      return {
        next: next(cursor),
        release: () => {
          if (cursor.released) return
          cursor.released = true
          cursor.buffer = []
          cursors.delete(cursor)
          wake(cursor)
        }
      }
    },
    readers: () => cursors.size
  }
}
