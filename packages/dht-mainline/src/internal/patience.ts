/**
 * One request to each of several nodes at once (the puts of a `store`), waited for with the lookup's
 * patience: all of them, except that once one has succeeded, requests still unanswered after the RPC's soft
 * timeout (see `rtt.ts`) no longer hold the caller up. A lost acknowledgement among twenty puts would
 * otherwise cost the full request timeout on most stores of a lossy network.
 */
import { Duration, Effect, Either, Exit, Queue } from "effect"
import type { Rpc } from "./rpc.js"

/** Each request's outcome, `undefined` for one still unanswered when the wait ended (it is interrupted). */
export const settleWithPatience = <A, E>(
  rpc: Rpc,
  requests: ReadonlyArray<Effect.Effect<A, E>>
): Effect.Effect<ReadonlyArray<Either.Either<A, E> | undefined>> =>
  Effect.gen(function*() {
    const results: Array<Either.Either<A, E> | undefined> = requests.map(() => undefined)
    if (requests.length === 0) return results
    type Event = { readonly index: number; readonly exit: Exit.Exit<A, E> | undefined }
    const events = yield* Queue.unbounded<Event>()
    const softTimeout = Duration.millis(rpc.softTimeout())
    for (const [index, request] of requests.entries()) {
      yield* request.pipe(
        Effect.exit,
        Effect.flatMap((exit) => Queue.offer(events, { index, exit })),
        Effect.forkScoped
      )
    }
    // One timer for all: they went out together.
    yield* Queue.offer(events, { index: -1, exit: undefined }).pipe(Effect.delay(softTimeout), Effect.forkScoped)
    let pending = requests.length
    let succeeded = false
    let stalled = false
    while (pending > 0 && !(stalled && succeeded)) {
      const { index, exit } = yield* Queue.take(events)
      if (exit === undefined) {
        stalled = true
        if (succeeded) rpc.stats.stalledRequests += pending
        continue
      }
      pending--
      if (Exit.isSuccess(exit)) {
        results[index] = Either.right(exit.value)
        if (!succeeded && stalled) rpc.stats.stalledRequests += pending
        succeeded = true
      } else if (exit.cause._tag === "Fail") {
        results[index] = Either.left(exit.cause.error)
      }
    }
    return results
  }).pipe(Effect.scoped)
