/**
 * The `dtt_` metrics: Effect `Metric`s that the record publishers and topics update as they work. Like every
 * Effect metric they are process-wide (all nodes and topics of the process add into the same series) and are
 * read with `Metric.value` on the tagged metric, or all at once with `snapshot` below.
 *
 * Tags are applied in a fixed order by the small helpers here (`dhtGet("ok", "compatible")`, ...): Effect tells
 * series apart by their tag list, order included, so a reader that tags by hand must use the same order.
 *
 * | metric | kind | tags | counts |
 * |---|---|---|---|
 * | `dtt_dht_gets` | counter | outcome (ok, error, interrupted), slot | slot reads of record publishers |
 * | `dtt_dht_get_duration_ms` | histogram | | latency of the gets that answered or failed |
 * | `dtt_dht_puts` | counter | outcome, slot | slot writes of record publishers |
 * | `dtt_dht_put_duration_ms` | histogram | | latency of the puts that succeeded or failed |
 * | `dtt_records_seen` | counter | slot | values the completed gets returned |
 * | `dtt_records_opened` | counter | slot | of those, values that decrypted and verified (ours included) |
 * | `dtt_records_rejected` | counter | reason, slot | the others, by why (`DiscoveryEvent.RejectReason`) |
 * | `dtt_publish_decisions` | counter | decision (published, slotFull, failed), slot | cooperative cap outcomes |
 * | `dtt_joins` | counter | outcome (joined, timeout, closed, rotationFailed) | topic joins, once each |
 * | `dtt_join_duration_ms` | histogram | | time from opening a topic to its join |
 * | `dtt_dials_attempted` | counter | | peers handed to gossip `joinPeers` (initial peers not included) |
 * | `dtt_dials_failed` | counter | | of those, peers whose `joinPeers` call failed |
 * | `dtt_neighbors` | gauge | | current neighbours, summed over open topics |
 * | `dtt_neighbor_changes` | counter | change (up, down) | neighbour events |
 * | `dtt_messages_in` / `dtt_bytes_in` | counter | | messages received and their payload bytes |
 * | `dtt_messages_out` / `dtt_bytes_out` | counter | scope (swarm, neighbors) | messages queued and their payload bytes |
 * | `dtt_messages_lagged` | counter | where (gossip, receiver) | `Lagged` notices: gossip dropped, or a receiver fell behind |
 *
 * `dtt_record_dht_gets` / `dtt_record_dht_puts` (`RecordPublisher.dhtGets`) are older counters of gets and put
 * attempts by slot; they stay as they are.
 */
import { Effect, Metric, MetricBoundaries, MetricState } from "effect"
import type { SlotKind } from "./DiscoveryEvent.js"

/** Milliseconds, 1 ms to ~33 s in doublings (then +Inf): DHT round trips span local to many-second timeouts. */
const dhtLatencyBoundaries = MetricBoundaries.exponential({ start: 1, factor: 2, count: 16 })
/** Milliseconds, 100 ms to ~3.4 min in doublings: joins take seconds on a live DHT, longer with retries. */
const joinBoundaries = MetricBoundaries.exponential({ start: 100, factor: 2, count: 12 })

const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })
const dhtLatencyHistogram = (name: string, description: string) =>
  Metric.histogram(name, dhtLatencyBoundaries, description)

export const dhtGets = counter("dtt_dht_gets", "DHT gets of topic slots, by outcome and slot kind")
export const dhtGetDuration = dhtLatencyHistogram(
  "dtt_dht_get_duration_ms",
  "Latency of the DHT gets of topic slots that answered or failed (not abandoned), in milliseconds"
)
export const dhtPuts = counter("dtt_dht_puts", "DHT puts into topic slots, by outcome and slot kind")
export const dhtPutDuration = dhtLatencyHistogram(
  "dtt_dht_put_duration_ms",
  "Latency of the DHT puts into topic slots that succeeded or failed (not abandoned), in milliseconds"
)
export const recordsSeen = counter("dtt_records_seen", "Values returned by the completed slot gets, by slot kind")
export const recordsOpened = counter("dtt_records_opened", "Values that decrypted and verified, by slot kind")
export const recordsRejected = counter("dtt_records_rejected", "Values refused, by reason and slot kind")
export const publishDecisions = counter(
  "dtt_publish_decisions",
  "Record publish decisions of the cooperative cap (published, slotFull, failed), by slot kind"
)
export const joins = counter("dtt_joins", "Topic joins, by outcome (joined, timeout, closed, rotationFailed)")
export const joinDuration = Metric.histogram(
  "dtt_join_duration_ms",
  joinBoundaries,
  "Time from opening a topic to its first neighbour join, in milliseconds"
)
export const dialsAttempted = counter("dtt_dials_attempted", "Peers handed to gossip joinPeers")
export const dialsFailed = counter("dtt_dials_failed", "Peers handed to a gossip joinPeers call that failed")
export const neighbors = Metric.gauge("dtt_neighbors", { description: "Current neighbours, summed over open topics" })
export const neighborChanges = counter("dtt_neighbor_changes", "Neighbour events, by change (up, down)")
export const messagesIn = counter("dtt_messages_in", "Gossip messages received")
export const bytesIn = counter("dtt_bytes_in", "Payload bytes of the gossip messages received")
export const messagesOut = counter("dtt_messages_out", "Gossip messages queued for sending, by scope")
export const bytesOut = counter("dtt_bytes_out", "Payload bytes of the gossip messages queued, by scope")
export const messagesLagged = counter("dtt_messages_lagged", "Lagged notices, by where (gossip, receiver)")

export type DhtOutcome = "ok" | "error" | "interrupted"
export type PublishDecision = "published" | "slotFull" | "failed"
export type JoinOutcome = "joined" | "timeout" | "closed" | "rotationFailed"
export type MessageScope = "swarm" | "neighbors"
/** A counter of `dtt_` series (one tagged series of a metric). */
export type Counter = Metric.Metric.Counter<number>

export const dhtGet = (outcome: DhtOutcome, slot: SlotKind): Counter =>
  dhtGets.pipe(Metric.tagged("outcome", outcome), Metric.tagged("slot", slot))
export const dhtPut = (outcome: DhtOutcome, slot: SlotKind): Counter =>
  dhtPuts.pipe(Metric.tagged("outcome", outcome), Metric.tagged("slot", slot))
export const seen = (slot: SlotKind): Counter => Metric.tagged(recordsSeen, "slot", slot)
export const opened = (slot: SlotKind): Counter => Metric.tagged(recordsOpened, "slot", slot)
export const rejected = (reason: string, slot: SlotKind): Counter =>
  recordsRejected.pipe(Metric.tagged("reason", reason), Metric.tagged("slot", slot))
export const publishDecision = (decision: PublishDecision, slot: SlotKind): Counter =>
  publishDecisions.pipe(Metric.tagged("decision", decision), Metric.tagged("slot", slot))
export const join = (outcome: JoinOutcome): Counter => Metric.tagged(joins, "outcome", outcome)
export const neighborChange = (change: "up" | "down"): Counter => Metric.tagged(neighborChanges, "change", change)
export const sent = (scope: MessageScope): Counter => Metric.tagged(messagesOut, "scope", scope)
export const sentBytes = (scope: MessageScope): Counter => Metric.tagged(bytesOut, "scope", scope)
export const lagged = (where: "gossip" | "receiver"): Counter => Metric.tagged(messagesLagged, "where", where)

/** One series of a `dtt_` metric as plain data (counters and gauges: `value`; histograms: the rest). */
export type Sample =
  | {
    readonly name: string
    readonly kind: "counter" | "gauge"
    readonly tags: { readonly [tag: string]: string }
    readonly value: number
  }
  | {
    readonly name: string
    readonly kind: "histogram"
    readonly tags: { readonly [tag: string]: string }
    readonly count: number
    readonly sum: number
    readonly min: number
    readonly max: number
    /** Cumulative: `[upper bound, observations ≤ bound]`, the last bound `Infinity`. */
    readonly buckets: ReadonlyArray<readonly [number, number]>
  }

const NAME_PREFIX = "dtt_"

/** Every `dtt_` series updated so far in this process, as plain data, sorted by name then tags. */
export const snapshot: Effect.Effect<ReadonlyArray<Sample>> = Effect.map(Metric.snapshot, (pairs) => {
  const out: Array<Sample> = []
  for (const { metricKey, metricState } of pairs) {
    if (!metricKey.name.startsWith(NAME_PREFIX)) continue
    const name = metricKey.name
    const tags = Object.fromEntries(metricKey.tags.map((label) => [label.key, label.value]))
    if (MetricState.isCounterState(metricState)) {
      out.push({ name, kind: "counter", tags, value: Number(metricState.count) })
    } else if (MetricState.isGaugeState(metricState)) {
      out.push({ name, kind: "gauge", tags, value: Number(metricState.value) })
    } else if (MetricState.isHistogramState(metricState)) {
      const { buckets, count, max, min, sum } = metricState
      out.push({ name, kind: "histogram", tags, count, sum, min, max, buckets })
    }
  }
  const key = (s: Sample) => `${s.name}|${JSON.stringify(Object.entries(s.tags).sort())}`
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
})
