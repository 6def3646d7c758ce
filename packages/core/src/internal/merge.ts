import { Effect } from "effect"
import { DiscoveryEvent } from "../DiscoveryEvent.js"
import type { EndpointId } from "../EndpointId.js"
import { currentMinute } from "../MinuteClock.js"
import type { DiscoveredRecord } from "../RecordPublisher.js"
import { toHex } from "./bytes.js"
import { type Core, shuffle } from "./core.js"
import { SpanName, withActorSpan } from "./spans.js"
import * as Ticker from "./ticker.js"

/** Both minutes' records; unlike bootstrap, a failed get aborts the tick (behaviour.md §3.5, §3.8). */
const recentRecords = (core: Core) =>
  Effect.gen(function*() {
    const m = yield* currentMinute()
    const prev = yield* core.records.getRecords(m - 1n)
    const curr = yield* core.records.getRecords(m)
    return [...prev, ...curr]
  })

/**
 * Join a random subset of at most `maxPeers` candidates and say whom (the subset is drawn here rather than by
 * `joinPeers(peers, maxPeers)`, with the same draws from `Random`, so the event can name the peers asked).
 */
const joinAndTell = (
  core: Core,
  kind: "bubble" | "messageOverlap",
  candidates: ReadonlyArray<EndpointId>,
  maxPeers: number
) =>
  Effect.gen(function*() {
    const peers = (yield* shuffle(candidates)).slice(0, Math.max(0, maxPeers))
    if (peers.length === 0) return
    yield* core.sender.joinPeers(peers)
    yield* core.emit(DiscoveryEvent.Merged({ kind, peers }))
  })

/** Bubble merge tick: while we have fewer than `minNeighbors` neighbours, join peers the records advertise. */
export const bubbleTick = (core: Core): Effect.Effect<void> =>
  Effect.gen(function*() {
    const cfg = core.config.merge.bubble
    const records = yield* recentRecords(core)
    const neighbors = new Set(yield* core.neighbors)
    yield* Effect.annotateCurrentSpan({ "dtt.records": records.length, "dtt.neighbors": neighbors.size })
    if (neighbors.size >= cfg.minNeighbors || records.length === 0) return
    const candidates = new Set<EndpointId>()
    for (const r of records) {
      for (const peer of r.activePeers) {
        if (!neighbors.has(peer) && peer !== r.publisher && peer !== core.endpointId) candidates.add(peer)
      }
      if (r.publisher !== core.endpointId && !neighbors.has(r.publisher)) candidates.add(r.publisher)
    }
    yield* Effect.annotateCurrentSpan("dtt.candidates", candidates.size)
    if (candidates.size === 0) return
    yield* Effect.logDebug("bubble merge: joining", { candidates: candidates.size, neighbors: neighbors.size })
    yield* joinAndTell(core, "bubble", Array.from(candidates), cfg.maxJoinPeers)
  }).pipe(
    Effect.catchAll((error) => Effect.logDebug("bubble merge: tick failed", { error: error._tag })),
    withActorSpan(SpanName.bubbleTick, core.records.topicId)
  )

/**
 * Records whose non-empty message-hash set shares nothing with ours: their authors hear traffic we never see,
 * so they are probably in another partition (the 0.3 "all miss" rule).
 */
export const disjointRecords = (
  local: ReadonlyArray<Uint8Array>,
  records: ReadonlyArray<DiscoveredRecord>
): Array<DiscoveredRecord> => {
  const ours = new Set(local.map(toHex))
  return records.filter((r) => r.messageHashes.length > 0 && r.messageHashes.every((h) => !ours.has(toHex(h))))
}

/** Message-overlap merge tick: join the authors (and their neighbours) of records disjoint from our traffic. */
export const overlapTick = (core: Core): Effect.Effect<void> =>
  Effect.gen(function*() {
    const cfg = core.config.merge.messageOverlap
    const records = yield* recentRecords(core)
    const local = core.lastMessageHashes()
    if (local.length === 0) return
    const selected = disjointRecords(local, records)
    yield* Effect.annotateCurrentSpan({ "dtt.records": records.length, "dtt.disjoint": selected.length })
    if (selected.length === 0) return
    const neighbors = new Set(yield* core.neighbors)
    const candidates = new Set<EndpointId>()
    for (const r of selected) for (const id of [r.publisher, ...r.activePeers]) candidates.add(id)
    candidates.delete(core.endpointId)
    for (const n of neighbors) candidates.delete(n)
    yield* Effect.annotateCurrentSpan("dtt.candidates", candidates.size)
    if (candidates.size === 0) return
    yield* Effect.logDebug("message-overlap merge: joining", { candidates: candidates.size })
    yield* joinAndTell(core, "messageOverlap", Array.from(candidates), cfg.maxJoinPeers)
  }).pipe(
    Effect.catchAll((error) => Effect.logDebug("message-overlap merge: tick failed", { error: error._tag })),
    withActorSpan(SpanName.overlapTick, core.records.topicId)
  )

export const runBubble = (core: Core): Effect.Effect<never> => {
  const cfg = core.config.merge.bubble
  return Ticker.every(
    { initialDelay: cfg.initialInterval, baseInterval: cfg.baseInterval, maxJitter: cfg.maxJitter },
    bubbleTick(core)
  )
}

export const runMessageOverlap = (core: Core): Effect.Effect<never> => {
  const cfg = core.config.merge.messageOverlap
  return Ticker.every(
    { initialDelay: cfg.initialInterval, baseInterval: cfg.baseInterval, maxJitter: cfg.maxJitter },
    overlapTick(core)
  )
}
