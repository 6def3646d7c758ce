/**
 * The discovery events of one topic: a bounded fan-out the actors publish into without ever waiting (a slow
 * reader loses the oldest events and is told how many), a replay of the last events for readers that start
 * late, and the DHT reachability judged from the outcome of every slot read.
 */
import { Clock, Duration, Effect, Option, Stream } from "effect"
import { DISCOVERY_CAPACITY, DiscoveryEvent } from "../DiscoveryEvent.js"
import type { SlotRead } from "../RecordPublisher.js"
import * as Fanout from "./fanout.js"

/** Consecutive failed gets (none answered in between) that make the DHT "unreachable". */
const UNREACHABLE_AFTER_FAILURES = 2

/** What the topic knows about the DHT so far (for `JoinTimeout`). */
export interface DhtSummary {
  /** Some get answered since the topic opened. */
  readonly dhtReachable: boolean
  readonly answeredGets: number
  readonly failedGets: number
  /** Records of other nodes seen, summed over every read. */
  readonly recordsSeen: number
}

export interface Discovery {
  readonly emit: (event: DiscoveryEvent) => Effect.Effect<void>
  /** `RecordPublisher.Options.onRead`: reports the read and updates the reachability. */
  readonly onRead: (read: SlotRead) => Effect.Effect<void>
  /** True while the last reads failed (`DhtUnreachable` said and not yet taken back). */
  readonly dhtUnreachable: () => boolean
  /** Time since the topic was opened. */
  readonly elapsed: Effect.Effect<Duration.Duration>
  readonly summary: () => DhtSummary
  /** Every event from the replayed history on; ends when `close` is called. */
  readonly events: Stream.Stream<DiscoveryEvent>
  readonly close: () => void
}

export const make: Effect.Effect<Discovery> = Effect.gen(function*() {
  const openedAt = yield* Clock.currentTimeMillis
  const fanout = Fanout.make<DiscoveryEvent>(DISCOVERY_CAPACITY)
  const history: Array<DiscoveryEvent> = []
  const counts = { answeredGets: 0, failedGets: 0, recordsSeen: 0 }
  let everAnswered = false
  let unreachable = false
  let failuresInARow = 0
  /** When the DHT last answered (or the topic opened): `DhtUnreachable.after` counts from there. */
  let lastAnsweredAt = openedAt

  const publish = (event: DiscoveryEvent) => {
    if (fanout.isClosed()) return
    history.push(event)
    if (history.length > DISCOVERY_CAPACITY) history.shift()
    fanout.publish(event)
  }
  const emit = (event: DiscoveryEvent) => Effect.sync(() => publish(event))
  const sinceMillis = (from: number) => Effect.map(Clock.currentTimeMillis, (now) => Duration.millis(now - from))

  const onRead = (read: SlotRead): Effect.Effect<void> =>
    Effect.gen(function*() {
      if (read._tag === "Failed") {
        counts.failedGets++
        failuresInARow++
        if (unreachable || failuresInARow < UNREACHABLE_AFTER_FAILURES) return
        unreachable = true
        const after = yield* sinceMillis(lastAnsweredAt)
        const reason = "reason" in read.error ? read.error.reason : read.error._tag
        yield* Effect.logWarning(
          "discovery: no DHT node answers; this machine may be offline, a firewall may drop UDP, or the bootstrap " +
            "nodes are wrong. Discovery keeps retrying.",
          { failedGets: failuresInARow, reason }
        )
        return publish(DiscoveryEvent.DhtUnreachable({ after, failedGets: failuresInARow, reason }))
      }
      counts.answeredGets++
      counts.recordsSeen += read.records
      failuresInARow = 0
      lastAnsweredAt = yield* Clock.currentTimeMillis
      if (!everAnswered || unreachable) {
        everAnswered = true
        unreachable = false
        publish(DiscoveryEvent.DhtBootstrapped({ after: Duration.millis(lastAnsweredAt - openedAt) }))
      }
      const { _tag, ...fields } = read
      publish(DiscoveryEvent.RecordsFound(fields))
    })

  const events: Stream.Stream<DiscoveryEvent> = Stream.unwrapScoped(
    Effect.map(
      // Snapshot and subscription in one synchronous step, so no event falls between them.
      Effect.acquireRelease(
        Effect.sync(() => ({ replay: [...history], reader: fanout.subscribe() })),
        ({ reader }) => Effect.sync(reader.release)
      ),
      ({ reader, replay }) =>
        Stream.concat(
          Stream.fromIterable(replay),
          Stream.repeatEffectOption(
            Effect.flatMap(reader.next, (item) =>
              Option.match(item, {
                onNone: () => Effect.fail(Option.none()),
                onSome: (i) =>
                  Effect.succeed(i._tag === "Lagged" ? DiscoveryEvent.Lagged({ missed: i.missed }) : i.value)
              }))
          )
        )
    )
  )

  return {
    emit,
    onRead,
    dhtUnreachable: () => unreachable,
    elapsed: sinceMillis(openedAt),
    summary: () => ({ dhtReachable: everAnswered, ...counts }),
    events,
    close: fanout.close
  }
})
