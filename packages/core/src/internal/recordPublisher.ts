import { Clock, Effect, Either, Exit, Metric } from "effect"
import * as Bep44 from "../Bep44.js"
import { Crypto } from "../Crypto.js"
import { Dht, type DhtError, type MutableItem } from "../Dht.js"
import * as EncryptedRecord from "../EncryptedRecord.js"
import * as EndpointId from "../EndpointId.js"
import * as GossipRecordContent from "../GossipRecordContent.js"
import type * as Keys from "../Keys.js"
import * as Metrics from "../Metrics.js"
import * as Record from "../Record.js"
import type { DiscoveredRecord, Options, PublishOutcome, RecordPublisher, Stats } from "../RecordPublisher.js"
import { recoverRotationFailure, type RotationFailed } from "../SecretRotation.js"
import { toLatin1 } from "./bytes.js"
import type { MinuteKeys } from "./minuteKeys.js"
import type { SlotKeys, SlotKind } from "./slotKeys.js"
import { SpanName, withTopicSpan } from "./spans.js"

/** Slots (keys, salt) are derived once per minute; only the few live minutes are kept. */
const SLOT_CACHE_MINUTES = 4
/**
 * Opening a value (two HPKE opens and a signature check) is the expensive step, and every get returns mostly the
 * same few values: at most one per storing node that answers (about 20, up to 64 in large simulations), for the
 * few minutes a publisher reads. Each slot remembers the outcomes for its own values (the publisher's topic,
 * secret and rotation are fixed, so the outcome is a pure function of minute and value) and they go with the slot
 * when its minute leaves the slot cache: a long-lived node keeps only the live minutes' outcomes instead of
 * filling one shared cache with dead minutes' records for most of an hour. Bounded per slot, oldest evicted
 * first, so hostile slots cannot grow it.
 */
const OPENED_PER_SLOT = 128
/** Why a value did not open (the record error's tag, or `Defect`), kept so observers can count rejections. */
interface Refused {
  readonly refused: string
}

const toDiscovered = (record: Record.Record, minute: bigint): DiscoveredRecord | undefined => {
  const publisher = Either.getOrUndefined(EndpointId.fromBytes(record.publicKey))
  if (publisher === undefined) return undefined
  const content = Either.getOrUndefined(GossipRecordContent.decode(record.content))
  const activePeers = content
    ? GossipRecordContent.peers(content).flatMap((p) =>
      Either.match(EndpointId.fromBytes(p), { onLeft: () => [], onRight: (id) => [id] })
    )
    : []
  const messageHashes = content ? GossipRecordContent.messageHashes(content) : []
  return { record, minute, publisher, activePeers, messageHashes }
}

/**
 * `call` with its outcome counted in `count(outcome)` and, when it completed, its latency in `latency`. Every
 * started call is counted once: an abandoned one (the topic closed, or a join ended the lookup) as `interrupted`.
 */
const measured = <A, E>(
  call: Effect.Effect<A, E>,
  count: (outcome: Metrics.DhtOutcome) => Metric.Metric.Counter<number>,
  latency: Metric.Metric.Histogram<number>
): Effect.Effect<A, E> =>
  // Masked up to the call itself, so an interruption cannot fall between reading the clock and watching the exit.
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(Clock.currentTimeMillis, (start) =>
      Effect.onExit(restore(call), (exit) => {
        if (Exit.isInterrupted(exit)) return Metric.increment(count("interrupted"))
        return Effect.flatMap(Clock.currentTimeMillis, (end) =>
          Effect.zipRight(
            Metric.increment(count(Exit.isSuccess(exit) ? "ok" : "error")),
            Metric.update(latency, end - start)
          ))
      }))
  )

interface SlotState extends Keys.Slot {
  /** The minute's encryption key, shared with the publisher's other slot of the minute. */
  readonly encryption: EncryptedRecord.EncryptionKey
  /** At the last get: whether it showed a record (ours or another's) that advertises at least one active peer. */
  holdsJoinedRecord: boolean
  /** Outcomes of opening this slot's values, keyed by the value's bytes (see `OPENED_PER_SLOT`). */
  readonly opened: Map<string, Record.Record | Refused>
}

/**
 * The publisher of one slot kind. `minuteKeys` is the owning publisher's: with private slots both single-slot
 * publishers get the same one, so a minute's encryption key is derived once for both.
 */
export const make = (
  options: Options,
  minuteKeys: MinuteKeys,
  keys: SlotKeys,
  kind: SlotKind
): Effect.Effect<RecordPublisher, never, Dht | Crypto> =>
  Effect.gen(function*() {
    const dht = yield* Dht
    const crypto = yield* Crypto
    const context = yield* Effect.context<Crypto>()
    const topicHash = options.topicId.hash
    const initialSecretHash = minuteKeys.initialSecretHash
    const ownKey = crypto.ed25519PublicKey(options.secretKey)
    const endpointId = EndpointId.unsafeFromBytes(ownKey)
    const stats = { gets: 0, puts: 0, skipped: 0, failedGets: 0, failedPuts: 0 }
    /** What a slot's spans say about it: its minute and kind, never its keys, salt or target. */
    const slotAttributes = (minute: bigint) => ({ "dtt.minute": Number(minute), "dtt.slot": kind })

    const slots = new Map<bigint, SlotState>()
    const slotOf = (minute: bigint): SlotState => {
      let slot = slots.get(minute)
      if (!slot) {
        // Keys.slot without its pure-JS key derivation: the Crypto service does it ~300x faster on node.
        const encryption = minuteKeys.encryptionKey(minute)
        const { salt, signingSeed } = keys(topicHash, minute, encryption.seed)
        const publicKey = crypto.ed25519PublicKey(signingSeed)
        slot = {
          minute,
          signingSeed,
          publicKey,
          salt,
          target: Bep44.target(publicKey, salt),
          encryption,
          holdsJoinedRecord: false,
          opened: new Map()
        }
        slots.set(minute, slot)
        for (const m of slots.keys()) if (slots.size > SLOT_CACHE_MINUTES && m !== minute) slots.delete(m)
      }
      return slot
    }
    const remember = (opened: Map<string, Record.Record | Refused>, key: string, result: Record.Record | Refused) => {
      if (opened.size >= OPENED_PER_SLOT) opened.delete(opened.keys().next().value!)
      opened.set(key, result)
    }
    /** The verified record inside a DHT value, or why not: every failure is the same skip (only counted). */
    const openValue = (value: Uint8Array, slot: SlotState): Effect.Effect<Record.Record | Refused> => {
      const key = toLatin1(value)
      const known = slot.opened.get(key)
      if (known !== undefined) return Effect.succeed(known)
      return EncryptedRecord.openRecordWith(value, topicHash, slot.minute, slot.encryption).pipe(
        Effect.catchAll((error): Effect.Effect<Refused> => Effect.succeed({ refused: error._tag })),
        // Defects from malformed input must not escape either: hostile bytes only ever mean "skip".
        Effect.catchAllDefect((): Effect.Effect<Refused> => Effect.succeed({ refused: "Defect" })),
        Effect.tap((result) => Effect.sync(() => remember(slot.opened, key, result))),
        Effect.provide(context)
      )
    }

    const getRecords = (minute: bigint): Effect.Effect<ReadonlyArray<DiscoveredRecord>, DhtError | RotationFailed> =>
      recoverRotationFailure(Effect.gen(function*() {
        const slot = slotOf(minute)
        stats.gets++
        const items = yield* measured(
          dht.getMutable(slot.publicKey, slot.salt).pipe(
            Effect.tap((found) => Effect.annotateCurrentSpan("dtt.values", found.length)),
            withTopicSpan(SpanName.dhtGet, options.topicId, slotAttributes(minute))
          ),
          (outcome) => Metrics.dhtGet(outcome, kind),
          Metrics.dhtGetDuration
        ).pipe(
          Effect.tapError((error) =>
            Effect.zipRight(
              Effect.sync(() => stats.failedGets++),
              options.onRead?.({ _tag: "Failed", minute, slot: kind, error }) ?? Effect.void
            )
          )
        )
        const byPublisher = new Map<string, DiscoveredRecord>()
        const rejected: { [reason: string]: number } = {}
        const reject = (reason: string) => void (rejected[reason] = (rejected[reason] ?? 0) + 1)
        // Any valid record naming a peer, ours included and before de-duplication (a publisher may show up with
        // its bootstrap record on some storing nodes and a later one on others).
        let joinedRecordSeen = false
        for (const item of items) {
          const record = yield* openValue(item.value, slot)
          if ("refused" in record) {
            reject(record.refused)
            continue
          }
          const found = toDiscovered(record, minute)
          if (found === undefined) {
            reject("BadPublisher")
            continue
          }
          if (found.activePeers.length > 0) joinedRecordSeen = true
          if (found.publisher === endpointId || byPublisher.has(found.publisher)) continue
          byPublisher.set(found.publisher, found)
        }
        slot.holdsJoinedRecord = joinedRecordSeen
        const records = Array.from(byPublisher.values())
        const refusedCount = Object.values(rejected).reduce((a, b) => a + b, 0)
        // All or nothing: a read abandoned while its values were opened is counted as a get only.
        yield* Effect.uninterruptible(Effect.all([
          Metric.incrementBy(Metrics.seen(kind), items.length),
          Metric.incrementBy(Metrics.opened(kind), items.length - refusedCount),
          ...Object.entries(rejected).map(([reason, n]) => Metric.incrementBy(Metrics.rejected(reason, kind), n))
        ]))
        yield* Effect.annotateCurrentSpan({ "dtt.values": items.length, "dtt.records": records.length })
        if (options.onRead !== undefined) {
          yield* options.onRead({
            _tag: "Answered",
            minute,
            slot: kind,
            found: items.length,
            opened: items.length - refusedCount,
            rejected,
            records: records.length
          })
        }
        return records
      })).pipe(withTopicSpan(SpanName.read, options.topicId, slotAttributes(minute)))

    /**
     * The second half of the cooperative cap (ours; Rust only has the count above): a slot that shows a record of a
     * joined node (one advertising a peer), ours or another's, is full. Why: a storing node keeps ONE value per
     * target and the seq never changes, so a put into a slot the same storing nodes already hold REPLACES the
     * record there (or is ignored) instead of adding one. Readers then keep seeing about one record, the Rust rule
     * "fewer than `cap` visible, so write" holds forever, and every node writes on every tick: ~1.7 x N puts per
     * slot-minute. Counting against a limit learnt from the distinct records reads return does not hold up either:
     * with DHT latency, concurrent puts leave storing nodes briefly holding different writers' values, the limit
     * grows and the writes come back. A record that names no peer (a node still bootstrapping) fills nothing, so
     * a joined node still replaces it with one that names its neighbours.
     */
    const slotIsFull = (minute: bigint): boolean => slots.get(minute)?.holdsJoinedRecord ?? false

    const put = (record: Record.Record) =>
      Effect.gen(function*() {
        const slot = slotOf(record.unixMinute)
        const value = yield* EncryptedRecord.sealRecordWith(record, slot.encryption)
        const seq = Bep44.SEQ_I64_MAX
        const item: MutableItem = {
          publicKey: slot.publicKey,
          salt: slot.salt,
          seq,
          value,
          signature: crypto.sign(slot.signingSeed, Bep44.signable(slot.salt, seq, value))
        }
        stats.puts++
        return yield* measured(
          dht.putMutable(item, { cas: seq }).pipe(
            Effect.tap((receipt) => Effect.annotateCurrentSpan("dtt.storedAt", receipt.storedAt)),
            withTopicSpan(SpanName.dhtPut, options.topicId, slotAttributes(record.unixMinute))
          ),
          (outcome) => Metrics.dhtPut(outcome, kind),
          Metrics.dhtPutDuration
        ).pipe(
          Effect.tapError(() => Effect.sync(() => stats.failedPuts++))
        )
      }).pipe(Effect.provide(context))

    const publisher: RecordPublisher = {
      topicId: options.topicId,
      endpointId,
      initialSecretHash,
      newRecord: (minute, content) =>
        Record.sign({
          topic: topicHash,
          unixMinute: minute,
          content: GossipRecordContent.encode(content),
          secretKey: options.secretKey
        }).pipe(
          Effect.provide(context)
        ),
      getRecords,
      publishRecord: (record, cached) =>
        recoverRotationFailure(Effect.gen(function*() {
          const seen = cached ?? (yield* getRecords(record.unixMinute))
          if (seen.length >= options.maxBootstrapRecords || slotIsFull(record.unixMinute)) {
            stats.skipped++
            yield* Metric.increment(Metrics.publishDecision("slotFull", kind))
            yield* Effect.annotateCurrentSpan({ "dtt.outcome": "Skipped", "dtt.records": seen.length })
            return { _tag: "Skipped", seen: seen.length } satisfies PublishOutcome
          }
          const receipt = yield* put(record)
          yield* Metric.increment(Metrics.publishDecision("published", kind))
          yield* Effect.annotateCurrentSpan({ "dtt.outcome": "Published", "dtt.records": seen.length })
          return { _tag: "Published", storedAt: receipt.storedAt } satisfies PublishOutcome
        })).pipe(
          Effect.tapError(() => Metric.increment(Metrics.publishDecision("failed", kind))),
          withTopicSpan(SpanName.publish, options.topicId, slotAttributes(record.unixMinute))
        ),
      stats: (): Stats => ({ ...stats })
    }
    return publisher
  })
