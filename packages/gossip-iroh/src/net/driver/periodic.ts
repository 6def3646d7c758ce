/**
 * The driver's clocks: polling our own addresses (they become the PeerData we announce), the idle-connection
 * tick and the address book's eviction tick. Each only posts to the actor or touches the book.
 */
import { Duration, Effect, Schedule } from "effect"
import { type DriverState, now, post } from "./state.js"

/** Forks every periodic task into the current scope. */
export const startPeriodicTasks = (state: DriverState) =>
  Effect.gen(function*() {
    const { endpoint, options } = state
    // Our own addresses, now and whenever they change, become the PeerData we announce. We poll: napi's
    // `watchAddr` panics ("no reactor running") when called from JS and takes the whole process down.
    let lastAddr = ""
    yield* endpoint.addr.pipe(
      Effect.flatMap((addr) => {
        const key = JSON.stringify(addr)
        if (key === lastAddr) return Effect.void
        lastAddr = key
        return post(state, { _tag: "OwnAddr", addr })
      }),
      Effect.repeat(Schedule.spaced(options.addrPollInterval)),
      Effect.forkScoped
    )

    // Idle connections are looked at twice per timeout, so one is closed between 1x and 1.5x the timeout.
    if (options.idleConnectionTimeout !== undefined) {
      const timeoutMs = Duration.toMillis(options.idleConnectionTimeout)
      yield* post(state, { _tag: "ReapIdle", timeoutMs }).pipe(
        Effect.repeat(Schedule.spaced(Duration.millis(timeoutMs / 2))),
        Effect.forkScoped
      )
    }

    // Rust's 30 s eviction tick of the gossip address lookup.
    yield* Effect.flatMap(now, (t) => Effect.sync(() => state.book.evictExpired(t))).pipe(
      Effect.repeat(Schedule.spaced(Duration.seconds(30))),
      Effect.forkScoped
    )
  })
