/**
 * Deadlines served by one fiber: entries are added with a time (Effect `Clock` ms) and removed when their work
 * ends; the fiber calls `onDue` for each entry whose time has come, then forgets it. A fiber and a timer per
 * request cost more than a KRPC request itself on a busy lookup (they were most of its allocations), so the RPC's
 * request timeouts and a lookup's soft timeouts each share one.
 *
 * The fiber sleeps until the earliest time among the entries when it last looked, and stops its timer when the
 * last entry goes. An entry added meanwhile with an earlier time than that is served when the fiber wakes, late
 * by at most the difference: the users add times in nearly rising order (one timeout for all requests; a soft
 * timeout that changes slowly), so it does not wake for every addition.
 */
import { Duration, Effect, type Scope } from "effect"

export interface Deadlines<K> {
  readonly add: (key: K, at: number) => void
  /** Forgets an entry (its work ended first); false if it was not there. */
  readonly remove: (key: K) => boolean
}

export const make = <K>(onDue: (key: K) => void): Effect.Effect<Deadlines<K>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const clock = yield* Effect.clock
    const entries = new Map<K, number>()
    const added = yield* Effect.makeLatch(false)
    const emptied = yield* Effect.makeLatch(false)

    const remove = (key: K) => {
      const had = entries.delete(key)
      if (had && entries.size === 0) emptied.unsafeOpen()
      return had
    }

    yield* Effect.gen(function*() {
      while (true) {
        yield* added.close
        if (entries.size === 0) {
          yield* added.await
          continue
        }
        let earliest = Infinity
        for (const at of entries.values()) earliest = Math.min(earliest, at)
        const wait = earliest - clock.unsafeCurrentTimeMillis()
        if (wait > 0) {
          yield* emptied.close
          if (entries.size > 0) yield* Effect.raceFirst(Effect.sleep(Duration.millis(wait)), emptied.await)
        }
        const now = clock.unsafeCurrentTimeMillis()
        for (const [key, at] of entries) {
          if (at > now) continue
          remove(key)
          onDue(key)
        }
      }
    }).pipe(Effect.forkScoped)

    return {
      add: (key, at) => {
        entries.set(key, at)
        added.unsafeOpen()
      },
      remove
    }
  })
