/**
 * A record publisher over two slots per minute: the Rust-compatible slot and the private slot (`PrivateSlot`).
 * Each slot has its own single-slot publisher (`internal/recordPublisher.ts`), so each keeps its own cooperative
 * cap and "full" state: a compatible slot held by an attacker's junk says nothing about the private one.
 *
 * - reads: both slots at once; the records are merged, one per publisher. One slot failing is tolerated (the
 *   other's records are returned); only both failing is an error.
 * - writes: into both slots at once, each under its own cap, each sealed separately (the two values are not
 *   byte-identical, so a storing node cannot link a private slot to its compatible one by its value).
 * - without `privateSlots`, only the compatible slot's publisher, unchanged (the Rust crate's behaviour).
 *
 * A rogue's junk in the compatible slot fails to open and is skipped there, so it can neither fail the merged
 * read nor fill the private slot; even a compatible read that fails outright only loses that slot's records.
 */
import { Effect, Either, Metric } from "effect"
import { Crypto } from "../Crypto.js"
import type { Dht, DhtError } from "../Dht.js"
import type { DiscoveredRecord, Options, PublishOutcome, RecordPublisher, Stats } from "../RecordPublisher.js"
import { RotationFailed } from "../SecretRotation.js"
import * as MinuteKeys from "./minuteKeys.js"
import * as Single from "./recordPublisher.js"
import { compatibleSlotKeys, privateSlotKeys, type SlotKind } from "./slotKeys.js"

/** DHT gets and put attempts of every record publisher in the process, tagged `slot` = compatible | private. */
export const dhtGets = Metric.counter("dtt_record_dht_gets", {
  description: "DHT gets of topic slots made by record publishers, by slot kind",
  incremental: true
})
export const dhtPuts = Metric.counter("dtt_record_dht_puts", {
  description: "DHT put attempts into topic slots made by record publishers, by slot kind",
  incremental: true
})

/**
 * `publisher` with its DHT operations also counted in the process-wide metrics. The single-slot publisher
 * counts in its `stats`; after each operation the growth since the last report is added, so overlapping
 * operations are each counted once.
 */
const metered = (publisher: RecordPublisher, kind: SlotKind): RecordPublisher => {
  const gets = Metric.tagged(dhtGets, "slot", kind)
  const puts = Metric.tagged(dhtPuts, "slot", kind)
  let reported = { gets: 0, puts: 0 }
  const report = Effect.suspend(() => {
    const now = publisher.stats()
    const grown = { gets: now.gets - reported.gets, puts: now.puts - reported.puts }
    reported = { gets: now.gets, puts: now.puts }
    return Effect.zipRight(Metric.incrementBy(gets, grown.gets), Metric.incrementBy(puts, grown.puts))
  })
  return {
    ...publisher,
    getRecords: (minute) => Effect.ensuring(publisher.getRecords(minute), report),
    publishRecord: (record, cached) => Effect.ensuring(publisher.publishRecord(record, cached), report)
  }
}

/** The per-slot results behind a merged read, kept for the few live minutes so `publishRecord(r, cached)` can
 * apply each slot's cap to what that slot showed, without reading again. */
const REMEMBERED_MINUTES = 4
interface LastRead {
  readonly merged: ReadonlyArray<DiscoveredRecord>
  readonly compatible: ReadonlyArray<DiscoveredRecord> | undefined
  readonly private: ReadonlyArray<DiscoveredRecord> | undefined
}

/** One record per publisher; a record that advertises peers beats one (of the same publisher) that does not. */
const mergeByPublisher = (lists: ReadonlyArray<ReadonlyArray<DiscoveredRecord>>): Array<DiscoveredRecord> => {
  const byPublisher = new Map<string, DiscoveredRecord>()
  for (const list of lists) {
    for (const found of list) {
      const known = byPublisher.get(found.publisher)
      if (known === undefined || (known.activePeers.length === 0 && found.activePeers.length > 0)) {
        byPublisher.set(found.publisher, found)
      }
    }
  }
  return Array.from(byPublisher.values())
}

/** Published when either slot was written (`storedAt` then sums both slots' acknowledgements), else Skipped. */
const combineOutcomes = (a: PublishOutcome, b: PublishOutcome): PublishOutcome => {
  if (a._tag === "Published" || b._tag === "Published") {
    const storedAt = (a._tag === "Published" ? a.storedAt : 0) + (b._tag === "Published" ? b.storedAt : 0)
    return { _tag: "Published", storedAt }
  }
  return { _tag: "Skipped", seen: Math.max(a.seen, b.seen) }
}

const sumStats = (a: Stats, b: Stats): Stats => ({
  gets: a.gets + b.gets,
  puts: a.puts + b.puts,
  skipped: a.skipped + b.skipped,
  failedGets: a.failedGets + b.failedGets,
  failedPuts: a.failedPuts + b.failedPuts
})

const rotationFailure = <A, E>(result: Either.Either<A, E>): E | undefined =>
  Either.isLeft(result) && result.left instanceof RotationFailed ? result.left : undefined

/**
 * Both slots' outcomes: succeed when at least one succeeded, else fail with the compatible slot's error. A
 * `RotationFailed` from either slot is not a lost DHT answer but the user's rotation failing (both slots need
 * its key): it fails the operation even when the other slot succeeded.
 */
const either2 = <A, E>(
  first: Either.Either<A, E>,
  second: Either.Either<A, E>,
  combine: (a: A | undefined, b: A | undefined) => A
): Effect.Effect<A, E> => {
  const rotation = rotationFailure(first) ?? rotationFailure(second)
  if (rotation !== undefined) return Effect.fail(rotation)
  return Either.isLeft(first) && Either.isLeft(second)
    ? Effect.fail(first.left)
    : Effect.succeed(combine(Either.getOrUndefined(first), Either.getOrUndefined(second)))
}

export const make = (options: Options): Effect.Effect<RecordPublisher, never, Dht | Crypto> =>
  Effect.gen(function*() {
    // One set of minute keys for both slots: a minute's encryption key is derived once, not once per slot.
    const minuteKeys = MinuteKeys.make(options, yield* Crypto)
    const compatible = metered(yield* Single.make(options, minuteKeys, compatibleSlotKeys, "compatible"), "compatible")
    if (options.privateSlots !== true) return compatible
    const hidden = metered(yield* Single.make(options, minuteKeys, privateSlotKeys, "private"), "private")
    const lastReads = new Map<bigint, LastRead>()

    const getRecords = (minute: bigint): Effect.Effect<ReadonlyArray<DiscoveredRecord>, DhtError | RotationFailed> =>
      Effect.all([Effect.either(compatible.getRecords(minute)), Effect.either(hidden.getRecords(minute))], {
        concurrency: 2
      }).pipe(
        Effect.flatMap(([c, p]) =>
          either2(c, p, (fromCompatible, fromPrivate) => {
            // Private first: on a tie (same publisher, both or neither advertising peers) its record is kept.
            const merged = mergeByPublisher([fromPrivate ?? [], fromCompatible ?? []])
            lastReads.delete(minute)
            lastReads.set(minute, { merged, compatible: fromCompatible, private: fromPrivate })
            if (lastReads.size > REMEMBERED_MINUTES) lastReads.delete(lastReads.keys().next().value!)
            return merged
          })
        )
      )

    const publisher: RecordPublisher = {
      topicId: compatible.topicId,
      endpointId: compatible.endpointId,
      initialSecretHash: compatible.initialSecretHash,
      newRecord: compatible.newRecord,
      getRecords,
      publishRecord: (record, cached) => {
        // `cached` is what our own `getRecords` returned for the minute: hand each slot what IT showed. A slot
        // whose read failed (or an array we did not produce) is read again by its own publisher.
        const last = cached === undefined ? undefined : lastReads.get(record.unixMinute)
        const parts = last !== undefined && last.merged === cached ? last : undefined
        return Effect.all(
          [
            Effect.either(compatible.publishRecord(record, parts?.compatible)),
            Effect.either(hidden.publishRecord(record, parts?.private))
          ],
          { concurrency: 2 }
        ).pipe(
          Effect.flatMap(([c, p]) => either2(c, p, (a, b) => (a && b ? combineOutcomes(a, b) : (a ?? b)!)))
        )
      },
      stats: () => sumStats(compatible.stats(), hidden.stats())
    }
    return publisher
  })
