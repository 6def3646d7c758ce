import { Effect, Either } from "effect"
import { DiscoveryEvent } from "../DiscoveryEvent.js"
import { toBytes } from "../EndpointId.js"
import * as GossipRecordContent from "../GossipRecordContent.js"
import { currentMinute } from "../MinuteClock.js"
import { publishEvent } from "./bootstrap.js"
import type { Core } from "./core.js"
import { SpanName, withActorSpan } from "./spans.js"
import * as Ticker from "./ticker.js"

/** One publisher tick (behaviour.md §3.4): our neighbours and recent message hashes into this minute's slot. */
export const tick = (core: Core): Effect.Effect<void> =>
  Effect.gen(function*() {
    const minute = yield* currentMinute()
    const neighbors = (yield* core.neighbors).slice(0, GossipRecordContent.MAX_RECORD_PEERS)
    const hashes = core.lastMessageHashes().slice(-GossipRecordContent.MAX_MESSAGE_HASHES)
    const content = GossipRecordContent.make({ activePeers: neighbors.map(toBytes), lastMessageHashes: hashes })
    if (Either.isLeft(content)) return yield* Effect.logWarning("publisher: bad content", content.left)
    yield* Effect.annotateCurrentSpan({ "dtt.minute": Number(minute), "dtt.neighbors": neighbors.length })
    const record = yield* core.records.newRecord(minute, content.right)
    const outcome = yield* core.records.publishRecord(record).pipe(
      Effect.tapError((error) =>
        core.emit(DiscoveryEvent.PublishSkipped({ minute, record: "publisher", reason: "failed", error: error._tag }))
      )
    )
    yield* Effect.logDebug("publisher: tick", { minute: String(minute), outcome: outcome._tag })
    yield* core.emit(publishEvent(minute, "publisher", outcome))
  }).pipe(
    Effect.catchAll((error) => Effect.logDebug("publisher: tick failed", { error: error._tag })),
    withActorSpan(SpanName.publisherTick, core.records.topicId)
  )

export const run = (core: Core): Effect.Effect<never> => {
  const cfg = core.config.publisher
  return Ticker.every(
    { initialDelay: cfg.initialDelay, baseInterval: cfg.baseInterval, maxJitter: cfg.maxJitter },
    tick(core)
  )
}
