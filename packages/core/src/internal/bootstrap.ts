import { Effect } from "effect"
import type { EndpointId } from "../EndpointId.js"
import * as GossipRecordContent from "../GossipRecordContent.js"
import { currentMinute } from "../MinuteClock.js"
import type { DiscoveredRecord } from "../RecordPublisher.js"
import type { RotationFailed } from "../SecretRotation.js"
import { type Core, shuffle, waitOrJoined } from "./core.js"

/**
 * Records of both minutes, a DHT error counting as "nothing there" (bootstrap only; behaviour.md §3.3 step 3).
 * A failing secret rotation is not retried: it fails the join at once.
 */
const getOrEmpty = (core: Core, minute: bigint) =>
  core.records.getRecords(minute).pipe(
    Effect.catchIf(
      (error): error is Exclude<typeof error, RotationFailed> => error._tag !== "RotationFailed",
      (error) =>
        Effect.as(
          Effect.logDebug("bootstrap: get failed, treated as empty", { minute: String(minute), error: error._tag }),
          []
        )
    )
  )

/** Publishers plus the peers they advertise, minus ourselves, de-duplicated, in random order (step 5). */
export const candidatesOf = (
  core: Core,
  records: ReadonlyArray<DiscoveredRecord>
): Effect.Effect<Array<EndpointId>> => {
  const ids = new Set<EndpointId>()
  for (const r of records) {
    ids.add(r.publisher)
    for (const peer of r.activePeers) if (peer !== core.endpointId) ids.add(peer)
  }
  ids.delete(core.endpointId)
  return shuffle(Array.from(ids))
}

/**
 * Fire-and-forget publish of an all-zero record, forked into the topic's scope (so it is abandoned on close).
 * `cached` is the slot just read, so the cap applies to it without another get.
 */
const publishEmpty = (core: Core, minute: bigint, cached?: ReadonlyArray<DiscoveredRecord>) =>
  core.records.newRecord(minute, GossipRecordContent.empty).pipe(
    Effect.flatMap((record) => core.records.publishRecord(record, cached)),
    Effect.tap((outcome) => Effect.logDebug("bootstrap: publish", { minute: String(minute), outcome: outcome._tag })),
    Effect.catchAll((error) =>
      Effect.logDebug("bootstrap: publish failed", { minute: String(minute), error: error._tag })
    ),
    Effect.forkIn(core.scope),
    Effect.asVoid
  )

/**
 * The bootstrap loop of behaviour.md §3.3. Returns when the node has a neighbour; runs until interrupted
 * otherwise. With `initialPeers` configured, those are tried first (they were given to the subscription) and the
 * DHT is only asked if none answers within `joinConfirmationWaitTime`.
 */
export const run = (core: Core): Effect.Effect<void, RotationFailed> =>
  Effect.gen(function*() {
    const cfg = core.config.bootstrap
    if (cfg.initialPeers.length > 0) {
      yield* waitOrJoined(core, cfg.joinConfirmationWaitTime)
      if (yield* core.isJoined) return
    }
    let lastPublished = 0n
    if (cfg.publishRecordOnStartup) {
      const m = yield* currentMinute()
      lastPublished = cfg.checkOlderRecordsFirstOnStartup ? 0n : m
      yield* publishEmpty(core, m)
    }
    while (true) {
      if (yield* core.isJoined) return
      const cur = yield* currentMinute()
      const offset = lastPublished === 0n && cfg.checkOlderRecordsFirstOnStartup ? 1n : 0n
      const useCache = offset === 0n
      // Both slots at once (Rust reads them one after the other): a joiner's first candidates usually sit in the
      // current slot, and reading it only after the previous one doubled the time to the first dial.
      const [prev, curr] = yield* Effect.all([getOrEmpty(core, cur - offset - 1n), getOrEmpty(core, cur - offset)], {
        concurrency: 2
      })
      const records = [...prev, ...curr]

      if (records.length === 0) {
        if (cur !== lastPublished) {
          lastPublished = cur
          yield* publishEmpty(core, cur, useCache ? curr : undefined)
        }
        yield* waitOrJoined(core, cfg.noPeersRetryInterval)
        continue
      }

      const candidates = yield* candidatesOf(core, records)
      if (yield* core.isJoined) return
      for (const peer of candidates) {
        const asked = yield* core.sender.joinPeers([peer]).pipe(
          Effect.as(true),
          Effect.catchAll((error) =>
            Effect.as(Effect.logDebug("bootstrap: join_peers failed", { error: error._tag }), false)
          )
        )
        if (!asked) continue
        yield* waitOrJoined(core, cfg.perPeerJoinSettleTime)
        if (yield* core.isJoined) break
      }
      if (!(yield* core.isJoined)) yield* waitOrJoined(core, cfg.joinConfirmationWaitTime)
      if (yield* core.isJoined) return
      if (cur !== lastPublished) {
        lastPublished = cur
        yield* publishEmpty(core, cur, useCache ? curr : undefined)
      }
      yield* waitOrJoined(core, cfg.discoveryPollInterval)
    }
  })
