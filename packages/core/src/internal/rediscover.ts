import { Clock, Duration, Effect } from "effect"
import { DiscoveryEvent } from "../DiscoveryEvent.js"
import * as Bootstrap from "./bootstrap.js"
import type { Core } from "./core.js"
import { SpanName, withActorSpan } from "./spans.js"

/** How often a joined node looks at whether it still has a neighbour (a local read, no network). */
const CHECK_INTERVAL = Duration.seconds(1)
/** One bootstrap run's length before the node rests; runs double their rest up to `MAX_REST` while alone. */
const RUN_LIMIT = Duration.seconds(10)
const FIRST_REST = Duration.seconds(5)
const MAX_REST = Duration.minutes(2)

/**
 * Not in Rust (iroh-gossip users hit this: a node whose neighbours all left never looks again). Once joined, a
 * node that has been without neighbours for `bootstrap.rediscoverAfter` runs the bootstrap loop again: it
 * re-advertises itself in the current slot and dials whoever the slots show. The merge actors would also find
 * peers, but only every 60–180 s, and only through records that name peers, which a lone node's do not.
 *
 * A node that stays alone (the last member of a topic) must not read the slots at bootstrap speed for hours:
 * each run is limited to `RUN_LIMIT`, and the rests between runs double from 5 s to 2 min (measured on the memory
 * DHT: 11 gets a minute per slot kind when alone for long, 3.7 of them the publisher's, twice that with
 * `bootstrap.privateSlots`; bootstrap speed would be ~60 per slot kind).
 */
export const run = (core: Core): Effect.Effect<void> => {
  const after = Duration.toMillis(core.config.bootstrap.rediscoverAfter)
  if (after === 0) return Effect.void
  return Effect.gen(function*() {
    let aloneSince: number | undefined
    let rest = FIRST_REST
    while (true) {
      yield* Effect.sleep(CHECK_INTERVAL)
      const now = yield* Clock.currentTimeMillis
      if (yield* core.isJoined) {
        aloneSince = undefined
        rest = FIRST_REST
        continue
      }
      aloneSince ??= now
      if (now - aloneSince < after) continue
      yield* Effect.logDebug("rediscover: alone, running bootstrap again", { aloneMs: now - aloneSince })
      yield* core.emit(DiscoveryEvent.Rediscovering({ aloneFor: Duration.millis(now - aloneSince) }))
      yield* Bootstrap.run(core).pipe(
        Effect.timeout(RUN_LIMIT),
        Effect.catchAll((error) =>
          Effect.logDebug("rediscover: bootstrap run ended without a neighbour", { error: error._tag })
        ),
        withActorSpan(SpanName.rediscover, core.records.topicId)
      )
      if (!(yield* core.isJoined)) {
        yield* Effect.sleep(rest)
        rest = Duration.min(Duration.times(rest, 2), MAX_REST)
      }
    }
  })
}
