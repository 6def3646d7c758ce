import { Clock, Duration, Effect } from "effect"
import { DiscoveryEvent } from "../DiscoveryEvent.js"
import type { EndpointId } from "../EndpointId.js"
import * as GossipRecordContent from "../GossipRecordContent.js"
import { currentMinute } from "../MinuteClock.js"
import type { DiscoveredRecord } from "../RecordPublisher.js"
import type { RotationFailed } from "../SecretRotation.js"
import { type Core, shuffle, waitOrJoined } from "./core.js"
import * as Publisher from "./publisher.js"
import { SpanName, withTopicSpan } from "./spans.js"

/**
 * While every get of a round fails (no DHT node answers), the pause before the next round doubles from
 * `noPeersRetryInterval` up to this: an offline node keeps trying, but not every 1.5 s for hours.
 */
const MAX_UNREACHABLE_RETRY = Duration.seconds(30)

/**
 * A previous minute's slot that read empty is read again only after this long. Records are written for the
 * current minute, so the slot of a minute that has ended fills only from puts already in flight (or a peer's
 * clock a little behind ours); a node alone that looks again every 100 ms (`ConfigProfiles.startTogether`) spent
 * half its reads, and the CPU its peers' first dials needed, on it. Rounds at the default 1.5 s never skip.
 */
const EMPTY_PREVIOUS_SLOT_REREAD_MS = 1000

interface SlotResult {
  readonly records: ReadonlyArray<DiscoveredRecord>
  readonly failed: boolean
}

/** A slot not read this round: nothing found, and not a failure (it does not count towards the back-off). */
const skippedSlot: SlotResult = { records: [], failed: false }

/**
 * Records of a minute, a DHT error counting as "nothing there" (bootstrap only; behaviour.md §3.3 step 3), but
 * flagged so the loop can back off while nothing answers. A failing secret rotation is not retried: it fails
 * the join at once.
 */
const getOrEmpty = (core: Core, minute: bigint): Effect.Effect<SlotResult, RotationFailed> =>
  core.records.getRecords(minute).pipe(
    Effect.map((records): SlotResult => ({ records, failed: false })),
    Effect.catchIf(
      (error): error is Exclude<typeof error, RotationFailed> => error._tag !== "RotationFailed",
      (error) =>
        Effect.as(
          Effect.logDebug("bootstrap: get failed, treated as empty", { minute: String(minute), error: error._tag }),
          { records: [], failed: true }
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
    Effect.tap((outcome) => core.emit(Publisher.publishEvent(minute, "bootstrap", outcome))),
    Effect.catchAll((error) =>
      Effect.zipRight(
        Effect.logDebug("bootstrap: publish failed", { minute: String(minute), error: error._tag }),
        core.emit(DiscoveryEvent.PublishSkipped({ minute, record: "bootstrap", reason: "failed", error: error._tag }))
      )
    ),
    Effect.forkIn(core.scope),
    Effect.asVoid
  )

/** A round's empty record for minute `cur` in the background, unless this run wrote one for it already. */
const publishInRound = (
  core: Core,
  state: RunState,
  cur: bigint,
  cached: ReadonlyArray<DiscoveredRecord> | undefined
): Effect.Effect<void> => {
  if (cur === state.lastPublished) return Effect.void
  state.lastPublished = cur
  state.wroteEmptyRecord = true
  return publishEmpty(core, cur, cached)
}

/** What a bootstrap round ends with: joined, or the pause before the next round. */
type RoundEnd = { readonly _tag: "Joined" } | { readonly _tag: "Pause"; readonly pause: Duration.Duration }

const joinedEnd: RoundEnd = { _tag: "Joined" }
const pauseFor = (pause: Duration.Duration): RoundEnd => ({ _tag: "Pause", pause })

/** The state the rounds of one bootstrap run carry from one to the next. */
interface RunState {
  /** The last minute we published our empty record for (none yet: undefined; minute 0 is a real minute in tests). */
  lastPublished: bigint | undefined
  /** Rounds in a row in which every get failed. */
  unansweredRounds: number
  /** The previous minute's slot as last read, when it was empty (see `EMPTY_PREVIOUS_SLOT_REREAD_MS`). */
  emptyPrevious: { readonly minute: bigint; readonly at: number } | undefined
  /** Whether this run wrote an empty record in a round (with `publishRecordOnStartup`, the first one is the
   * start-up record), see `run`. */
  wroteEmptyRecord: boolean
}

/**
 * One round (steps 2–6): read both slots, publish if nothing is there, else dial the candidates and wait for a
 * neighbour. Its span (`dtt.bootstrap.tick`) holds its reads and dials; the pause after it is not part of it.
 */
const round = (core: Core, state: RunState): Effect.Effect<RoundEnd, RotationFailed> =>
  Effect.gen(function*() {
    const cfg = core.config.bootstrap
    const cur = yield* currentMinute()
    const offset = state.lastPublished === undefined && cfg.checkOlderRecordsFirstOnStartup ? 1n : 0n
    const useCache = offset === 0n
    const prevMinute = cur - offset - 1n
    const startedAt = yield* Clock.currentTimeMillis
    const skipPrev = state.emptyPrevious?.minute === prevMinute &&
      startedAt - state.emptyPrevious.at < EMPTY_PREVIOUS_SLOT_REREAD_MS
    // Both slots at once (Rust reads them one after the other): a joiner's first candidates usually sit in the
    // current slot, and reading it only after the previous one doubled the time to the first dial.
    const [prev, curr] = yield* Effect.all([
      skipPrev ? Effect.succeed(skippedSlot) : getOrEmpty(core, prevMinute),
      getOrEmpty(core, cur - offset)
    ], { concurrency: 2 })
    if (!skipPrev) {
      state.emptyPrevious = prev.records.length === 0 && !prev.failed
        ? { minute: prevMinute, at: startedAt }
        : undefined
    }
    const records = [...prev.records, ...curr.records]
    state.unansweredRounds = (skipPrev || prev.failed) && curr.failed ? state.unansweredRounds + 1 : 0
    yield* Effect.annotateCurrentSpan({ "dtt.minute": Number(cur), "dtt.records": records.length })

    if (records.length === 0) {
      yield* publishInRound(core, state, cur, useCache ? curr.records : undefined)
      const pause = state.unansweredRounds === 0
        ? cfg.noPeersRetryInterval
        : Duration.min(
          Duration.times(cfg.noPeersRetryInterval, 2 ** Math.min(state.unansweredRounds - 1, 16)),
          MAX_UNREACHABLE_RETRY
        )
      return pauseFor(pause)
    }

    const candidates = yield* candidatesOf(core, records)
    yield* Effect.annotateCurrentSpan("dtt.candidates", candidates.length)
    if (yield* core.isJoined) return joinedEnd
    if (candidates.length > 0) yield* core.emit(DiscoveryEvent.Dialing({ peers: candidates }))
    for (const peer of candidates) {
      const asked = yield* core.sender.joinPeers([peer]).pipe(
        Effect.as(true),
        Effect.catchAll((error) =>
          Effect.as(
            Effect.zipRight(
              Effect.logDebug("bootstrap: join_peers failed", { error: error._tag }),
              core.emit(DiscoveryEvent.DialFailed({ peer, reason: error._tag }))
            ),
            false
          )
        )
      )
      if (!asked) continue
      yield* waitOrJoined(core, cfg.perPeerJoinSettleTime)
      if (yield* core.isJoined) break
    }
    if (!(yield* core.isJoined)) yield* waitOrJoined(core, cfg.joinConfirmationWaitTime)
    if (yield* core.isJoined) return joinedEnd
    yield* publishInRound(core, state, cur, useCache ? curr.records : undefined)
    return pauseFor(cfg.discoveryPollInterval)
  }).pipe(withTopicSpan(SpanName.bootstrapTick, core.records.topicId))

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
    // The start-up record (Rust writes it before the first read) waits for the first round's reads: its get and
    // puts, two slot kinds each, ran beside those reads and the first dial and slowed a late joiner's first
    // neighbour about twofold (CPU and socket time on one thread). A round that finds nobody, or fails to join,
    // writes it as before; a round that joins is followed by the join publish below, a record that names us too.
    const state: RunState = {
      lastPublished: undefined,
      unansweredRounds: 0,
      wroteEmptyRecord: false,
      emptyPrevious: undefined
    }
    while (!(yield* core.isJoined)) {
      const end = yield* round(core, state)
      if (end._tag === "Joined") break
      yield* waitOrJoined(core, end.pause)
    }
    // Our empty record may have replaced the swarm's only record in the slot (storing nodes that keep the last
    // writer, as the public DHT's do), and it names nobody but us: if we left before the publisher's first tick
    // (`initialDelay`, 10 s), the next joiner would find only a dead id. So bootstrap publishes once more, at once,
    // with the neighbour it got, and the slot names a live member again (Rust waits for the publisher). It is part
    // of the join, not an actor: a topic joined without actors writes it too. It also stands in for a start-up
    // record the first round did not get to write; without a publisher that one is written as Rust would.
    const startupRecordUnwritten = cfg.publishRecordOnStartup && !state.wroteEmptyRecord
    if (core.config.publisher.enabled && (state.wroteEmptyRecord || startupRecordUnwritten)) {
      yield* Effect.forkIn(Publisher.publishNeighbours(core, "bootstrap"), core.scope)
    } else if (startupRecordUnwritten) {
      yield* publishEmpty(core, yield* currentMinute())
    }
  })
