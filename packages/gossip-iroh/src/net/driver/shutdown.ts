/**
 * Graceful shutdown: leave every topic (peers get `Disconnect{alive: false}`), let what was accepted before drain
 * within `drainTimeout`, then close every connection. The actor does the leaving (it owns the state); the scope's
 * finalizer waits for it and runs the flush.
 */
import { Deferred, Effect } from "effect"
import type { ProtocolIo } from "./protocolIo.js"
import { type DriverState, post } from "./state.js"

/** The actor's part: ends subscribers and join waiters, quits the topics, returns the flush of every connection. */
export const leaveEverything = (state: DriverState, io: ProtocolIo, done: Deferred.Deferred<Effect.Effect<void>>) =>
  Effect.gen(function*() {
    for (const [topic, entry] of state.topics) {
      for (const s of entry.subscribers) s.end("shutdown")
      for (const w of entry.joinWaiters) yield* Deferred.fail(w, undefined)
      yield* io.feed({ _tag: "Command", topic, command: { _tag: "Quit" } })
    }
    state.topics.clear()
    state.running = false
    // Every connection, not only the peers' current send paths: the Quits above (and any earlier leave)
    // already removed the neighbours' entries, and their send queues still hold what was accepted.
    const flushing = [...state.connections].map((c) => c.endSending)
    state.peers.clear()
    // The scope is closing: the finalizer runs the flush itself (a fiber forked now would never start).
    yield* Deferred.succeed(done, Effect.all(flushing, { concurrency: "unbounded", discard: true }))
  })

/**
 * Registers the graceful shutdown. It runs before the actor and connection fibers are interrupted when registered
 * after them (finalizers run in reverse order). Finalizers are uninterruptible: the timeouts only work inside
 * `interruptible`.
 */
export const addShutdownFinalizer = (state: DriverState) =>
  Effect.addFinalizer(() =>
    Effect.gen(function*() {
      const done = yield* Deferred.make<Effect.Effect<void>>()
      yield* post(state, { _tag: "Shutdown", done })
      const flush = yield* Deferred.await(done)
      yield* flush
    }).pipe(
      // One budget for everything: the actor reaching the Shutdown (behind what was queued before it), then the
      // connections draining.
      Effect.timeout(state.options.drainTimeout),
      Effect.interruptible,
      Effect.ignore,
      Effect.zipRight(
        Effect.forEach([...state.connections], (c) => c.close("close from disconnect"), { discard: true })
      )
    )
  )
