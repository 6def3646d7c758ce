import { Effect, Either } from "effect"
import { DiscoveryEvent } from "../DiscoveryEvent.js"
import { toBytes } from "../EndpointId.js"
import * as GossipRecordContent from "../GossipRecordContent.js"
import { currentMinute } from "../MinuteClock.js"
import type { PublishOutcome } from "../RecordPublisher.js"
import type { Core } from "./core.js"
import { SpanName, withActorSpan } from "./spans.js"
import * as Ticker from "./ticker.js"

/** The discovery event for a publish of ours (bootstrap's empty records and the publisher's ticks). */
export const publishEvent = (
  minute: bigint,
  record: "bootstrap" | "publisher",
  outcome: PublishOutcome
): DiscoveryEvent =>
  outcome._tag === "Published"
    ? DiscoveryEvent.Published({ minute, record, storedAt: outcome.storedAt })
    : DiscoveryEvent.PublishSkipped({ minute, record, reason: "slotFull", seen: outcome.seen })

/**
 * Our neighbours and recent message hashes into this minute's slot (the cap decides whether to write). `record`
 * names the writer in the discovery events: the publisher's ticks, or bootstrap's one publish after a join.
 */
export const publishNeighbours = (core: Core, record: "bootstrap" | "publisher") =>
  Effect.gen(function*() {
    const minute = yield* currentMinute()
    const neighbors = (yield* core.neighbors).slice(0, GossipRecordContent.MAX_RECORD_PEERS)
    const hashes = core.lastMessageHashes().slice(-GossipRecordContent.MAX_MESSAGE_HASHES)
    const content = GossipRecordContent.make({ activePeers: neighbors.map(toBytes), lastMessageHashes: hashes })
    if (Either.isLeft(content)) return yield* Effect.logWarning(`${record}: bad content`, content.left)
    yield* Effect.annotateCurrentSpan({ "dtt.minute": Number(minute), "dtt.neighbors": neighbors.length })
    const ours = yield* core.records.newRecord(minute, content.right)
    const outcome = yield* core.records.publishRecord(ours).pipe(
      Effect.tapError((error) =>
        core.emit(DiscoveryEvent.PublishSkipped({ minute, record, reason: "failed", error: error._tag }))
      )
    )
    yield* Effect.logDebug(`${record}: published neighbours`, { minute: String(minute), outcome: outcome._tag })
    yield* core.emit(publishEvent(minute, record, outcome))
  }).pipe(Effect.catchAll((error) => Effect.logDebug(`${record}: publish failed`, { error: error._tag })))

/** One publisher tick (behaviour.md §3.4). */
export const tick = (core: Core): Effect.Effect<void> =>
  publishNeighbours(core, "publisher").pipe(
    withActorSpan(SpanName.publisherTick, core.records.topicId)
  )

export const run = (core: Core): Effect.Effect<never> => {
  const cfg = core.config.publisher
  return Ticker.every(
    { initialDelay: cfg.initialDelay, baseInterval: cfg.baseInterval, maxJitter: cfg.maxJitter },
    tick(core)
  )
}
