import { Clock, Deferred, Duration, Effect, Exit, FiberId, Layer, Metric, Option, Scope, Stream } from "effect"
import * as Config from "../Config.js"
import { Crypto } from "../Crypto.js"
import { DiscoveryEvent } from "../DiscoveryEvent.js"
import { Gossip, type GossipClosed, type GossipEvent } from "../Gossip.js"
import * as Metrics from "../Metrics.js"
import { NodeIdentity } from "../NodeIdentity.js"
import { PeerAddresses } from "../PeerAddresses.js"
import { PeerCache } from "../PeerCache.js"
import * as RecordPublisher from "../RecordPublisher.js"
import type { RotationFailed } from "../SecretRotation.js"
import type { JoinOptions, Receiver, Sender, Topic, TopicEvent } from "../Topic.js"
import { TopicContext } from "../TopicContext.js"
import type { TopicId } from "../TopicId.js"
import { defaultActors } from "./actors.js"
import * as Bootstrap from "./bootstrap.js"
import { type Core, IdentityMismatch, JoinTimeout, makeSender, TopicClosed } from "./core.js"
import * as Discovery from "./discovery.js"
import * as Fanout from "./fanout.js"
import * as TopicPeerCache from "./peerCache.js"
import { SpanName, withTopicSpan } from "./spans.js"

export type { SendError } from "./core.js"

const RECEIVER_CAPACITY = 64
const MAX_MESSAGE_HASHES = 5

const toTopicEvent = (event: GossipEvent): TopicEvent =>
  event._tag === "Lagged" ? { _tag: "Lagged", missed: event.missed } : event

interface Opened {
  readonly topic: Topic
  /** Resolves when bootstrap has joined; fails with why the topic ended first. */
  readonly joined: Deferred.Deferred<void, JoinTimeout | TopicClosed | RotationFailed>
  readonly close: Effect.Effect<void>
}

/**
 * Build the topic: its own scope (not the caller's: handles, not scopes, decide how long it lives), the gossip
 * subscription, the receiver actor, and the bootstrap fiber that starts the other actors once joined.
 */
const open = (topicId: TopicId, options: JoinOptions) =>
  Effect.gen(function*() {
    const config = options.config ?? Config.defaults
    const identity = yield* NodeIdentity
    const gossipService = yield* Gossip
    const crypto = yield* Crypto
    const addresses = yield* Effect.serviceOption(PeerAddresses)
    const peerCache = Option.map(
      yield* Effect.serviceOption(PeerCache),
      (cache) => TopicPeerCache.make(topicId.hash, cache, addresses)
    )
    if (gossipService.endpointId !== identity.endpointId) {
      return yield* new IdentityMismatch({ gossip: gossipService.endpointId, identity: identity.endpointId })
    }
    const discovery = yield* Discovery.make
    const records = yield* RecordPublisher.make({
      topicId,
      secretKey: identity.secretKey,
      initialSecret: options.secret,
      maxBootstrapRecords: config.bootstrap.maxBootstrapRecords,
      privateSlots: config.bootstrap.privateSlots,
      onRead: discovery.onRead,
      ...(options.rotation ? { rotation: options.rotation } : {})
    })

    // The caller's scope holds the topic from the instant its scope exists (acquired uninterruptibly with it), so
    // an interruption anywhere below, before the `Topic` handle is returned, still closes it.
    let releaseFromCaller: Effect.Effect<void> | undefined
    const scope = yield* Effect.acquireRelease(Scope.make(), (s) => releaseFromCaller ?? Scope.close(s, Exit.void))
    const gossip = yield* gossipService.subscribe(topicId.hash, config.bootstrap.initialPeers).pipe(
      Scope.extend(scope),
      Effect.onError(() => Scope.close(scope, Exit.void))
    )

    const fanout = Fanout.make<TopicEvent>(RECEIVER_CAPACITY)
    const hashes: Array<Uint8Array> = []
    let closed = false
    let refs = 0
    const closedSignal = Deferred.unsafeMake<void>(FiberId.none)
    const joined = Deferred.unsafeMake<void, JoinTimeout | TopicClosed | RotationFailed>(FiberId.none)
    const openedAt = yield* Clock.currentTimeMillis
    /** Neighbours this topic added to the `dtt_neighbors` gauge and has not taken back yet. */
    let neighborsCounted = 0

    /** Settle the join; only the first settlement counts in `dtt_joins` (and, when joined, its duration). */
    const settleJoin = (
      exit: Exit.Exit<void, JoinTimeout | TopicClosed | RotationFailed>,
      outcome: Metrics.JoinOutcome
    ): Effect.Effect<void> =>
      Effect.uninterruptible(Effect.flatMap(Deferred.done(joined, exit), (first) => {
        if (!first) return Effect.void
        const counted = Metric.increment(Metrics.join(outcome))
        return outcome !== "joined" ? counted : Effect.zipRight(
          counted,
          Effect.flatMap(Clock.currentTimeMillis, (now) => Metric.update(Metrics.joinDuration, now - openedAt))
        )
      }))

    // Idempotent and uninterruptible. Called from an actor (gossip stream ended, join timed out) it is still
    // safe: a fiber closing its own scope skips its own interruption and simply returns afterwards.
    const close: Effect.Effect<void> = Effect.uninterruptible(
      Effect.suspend(() => {
        if (closed) return Effect.void
        closed = true
        fanout.close()
        discovery.close()
        return Scope.close(scope, Exit.void).pipe(
          // The receiver actor has stopped: the neighbours it counted leave the gauge with the topic.
          Effect.zipRight(Effect.suspend(() => {
            const counted = neighborsCounted
            neighborsCounted = 0
            return Metric.incrementBy(Metrics.neighbors, -counted)
          })),
          Effect.zipRight(settleJoin(Exit.fail(new TopicClosed()), "closed")),
          Effect.zipRight(Deferred.succeed(closedSignal, undefined)),
          Effect.asVoid
        )
      })
    )
    releaseFromCaller = close

    const core: Core = {
      config,
      endpointId: identity.endpointId,
      records,
      gossip,
      sender: makeSender(gossip, topicId, config.timeouts, () => closed),
      isJoined: gossip.isJoined,
      neighbors: gossip.neighbors,
      lastMessageHashes: () => [...hashes],
      awaitJoined: Effect.catchAll(gossip.joined, () => Effect.never),
      scope,
      emit: discovery.emit
    }

    // `Joined` on the first neighbour, `AloneAgain` when the last one leaves (told from the gossip events, so
    // they come in the order the gossip layer saw them).
    let hasNeighbor = false
    let aloneSince = openedAt
    const tellNeighbors = (event: GossipEvent): Effect.Effect<void> =>
      Effect.gen(function*() {
        if (event._tag === "NeighborUp" && !hasNeighbor) {
          hasNeighbor = true
          const now = yield* Clock.currentTimeMillis
          yield* discovery.emit(
            DiscoveryEvent.Joined({ after: Duration.millis(now - aloneSince), neighbor: event.peer })
          )
        } else if (event._tag === "NeighborDown" && hasNeighbor && (yield* core.neighbors).length === 0) {
          hasNeighbor = false
          aloneSince = yield* Clock.currentTimeMillis
          yield* discovery.emit(DiscoveryEvent.AloneAgain({ peer: event.peer }))
        }
      })

    /** The event in the `dtt_` metrics; uninterruptible, so `neighborsCounted` and the gauge move together. */
    const measure = (event: GossipEvent): Effect.Effect<void> => {
      switch (event._tag) {
        case "NeighborUp":
          return Effect.uninterruptible(Effect.zipRight(
            Effect.sync(() => neighborsCounted++),
            Effect.zipRight(Metric.increment(Metrics.neighbors), Metric.increment(Metrics.neighborChange("up")))
          ))
        case "NeighborDown":
          return Effect.uninterruptible(Effect.zipRight(
            Metric.increment(Metrics.neighborChange("down")),
            Effect.suspend(() => {
              if (neighborsCounted === 0) return Effect.void
              neighborsCounted--
              return Metric.incrementBy(Metrics.neighbors, -1)
            })
          ))
        case "Received":
          return Effect.zipRight(
            Metric.increment(Metrics.messagesIn),
            Metric.incrementBy(Metrics.bytesIn, event.content.length)
          )
        case "Lagged":
          return Metric.increment(Metrics.lagged("gossip"))
      }
    }

    // Receiver actor (behaviour.md §3.7): remember payload hashes, fan every event out; the topic dies with the stream.
    const receiverActor = gossip.events.pipe(
      Stream.runForEach((event) =>
        Effect.sync(() => {
          if (event._tag === "Received") {
            hashes.push(crypto.sha512(event.content).slice(0, 32))
            if (hashes.length > MAX_MESSAGE_HASHES) hashes.shift()
          }
          fanout.publish(toTopicEvent(event))
        }).pipe(
          Effect.zipRight(measure(event)),
          Effect.zipRight(tellNeighbors(event)),
          Effect.zipRight(
            event._tag === "NeighborUp" && Option.isSome(peerCache)
              ? peerCache.value.neighborUp(event.peer)
              : Effect.void
          )
        )
      ),
      Effect.catchAll((error: GossipClosed) =>
        Effect.logDebug("topic: gossip events failed", { reason: error.reason })
      ),
      Effect.zipRight(Effect.logDebug("topic: gossip subscription ended, closing")),
      Effect.zipRight(close)
    )
    yield* Effect.forkIn(receiverActor, scope)

    // The actors after the join are Layers in the topic's scope (JoinOptions.actors), so closing it ends them.
    const startWorkers = Layer.buildWithScope(options.actors ?? defaultActors, scope).pipe(
      Effect.provideService(TopicContext, core),
      Effect.asVoid
    )

    const timeout = options.timeout !== undefined
      ? Option.some(Duration.decode(options.timeout))
      : config.bootstrap.timeout
    // With a peer cache, the remembered peers are dialled first, with a short head start; then the DHT bootstrap
    // runs beside those dials, and whichever gets us a neighbour first ends the join (a DHT lookup still in
    // flight is abandoned then).
    const discover = Option.match(peerCache, {
      onNone: () => Bootstrap.run(core),
      onSome: (cache) =>
        Effect.flatMap(
          cache.dialRecalled(core),
          (joinedAlready) => joinedAlready ? Effect.void : Effect.raceFirst(Bootstrap.run(core), core.awaitJoined)
        )
    })
    const bootstrap = Effect.gen(function*() {
      const outcome = yield* Option.match(timeout, {
        onNone: () => Effect.asSome(discover),
        onSome: (after) => Effect.timeoutOption(discover, after)
      })
      if (Option.isNone(outcome)) {
        const seen = discovery.summary()
        yield* settleJoin(
          Exit.fail(
            new JoinTimeout({
              after: Option.getOrThrow(timeout),
              dhtReachable: seen.dhtReachable,
              answeredGets: seen.answeredGets,
              failedGets: seen.failedGets,
              recordsSeen: seen.recordsSeen
            })
          ),
          "timeout"
        )
        yield* Effect.logDebug("topic: bootstrap timed out, closing")
        return yield* close
      }
      yield* startWorkers
      yield* settleJoin(Exit.void, "joined")
    }).pipe(
      // A failed rotation (user code) ends the join with its typed error; any other defect still settles the join
      // (as TopicClosed, through close) instead of leaving it pending forever.
      Effect.catchTag("RotationFailed", (error) =>
        Effect.logDebug("topic: secret rotation failed, closing").pipe(
          Effect.zipRight(settleJoin(Exit.fail(error), "rotationFailed")),
          Effect.zipRight(close)
        )),
      Effect.catchAllDefect((defect) =>
        Effect.logError("topic: bootstrap died, closing", defect).pipe(Effect.zipRight(close))
      )
    )
    yield* Effect.forkIn(bootstrap, scope)

    /** A reference on the topic; releasing the last one closes it. On a closed topic, a no-op handle. */
    const acquireRef = (): Effect.Effect<void> => {
      if (closed) return Effect.void
      refs++
      let released = false
      return Effect.suspend(() => {
        if (released) return Effect.void
        released = true
        refs--
        return refs === 0 ? close : Effect.void
      })
    }
    const scoped = <A extends { readonly release: Effect.Effect<void> }>(make: () => A) =>
      Effect.acquireRelease(Effect.sync(make), (handle) => handle.release)

    const joinedOrClosed: Effect.Effect<void, TopicClosed> = Effect.suspend(() =>
      closed
        ? Effect.fail(new TopicClosed())
        : Effect.raceFirst(
          core.awaitJoined,
          Effect.zipRight(Deferred.await(closedSignal), Effect.fail(new TopicClosed()))
        )
    )
    const lastMessageHashes = Effect.sync(() => core.lastMessageHashes())

    const newSender = (): Sender => {
      const release = acquireRef()
      return {
        broadcast: core.sender.broadcast,
        broadcastNeighbors: core.sender.broadcastNeighbors,
        joinPeers: core.sender.joinPeers,
        clone: scoped(newSender),
        release
      }
    }
    const newReceiver = (): Receiver => {
      const release = acquireRef()
      const reader = fanout.subscribe()
      const next: Effect.Effect<TopicEvent, TopicClosed> = Effect.flatMap(reader.next, (item) =>
        Option.match(item, {
          onNone: () => Effect.fail(new TopicClosed()),
          onSome: (i) =>
            i._tag === "Lagged"
              ? Effect.as(Metric.increment(Metrics.lagged("receiver")), { _tag: "Lagged" as const, missed: i.missed })
              : Effect.succeed(i.value)
        }))
      return {
        next,
        events: Stream.repeatEffectOption(Effect.mapError(next, () => Option.none())),
        joined: joinedOrClosed,
        isJoined: core.isJoined,
        neighbors: core.neighbors,
        lastMessageHashes,
        clone: scoped(newReceiver),
        release: Effect.zipRight(Effect.sync(reader.release), release)
      }
    }

    const topic: Topic = {
      topicId,
      endpointId: identity.endpointId,
      config,
      recordPublisher: records,
      split: Effect.all([scoped(newSender), scoped(newReceiver)] as const),
      sender: scoped(newSender),
      receiver: scoped(newReceiver),
      neighbors: core.neighbors,
      isJoined: core.isJoined,
      joined: joinedOrClosed,
      lastMessageHashes,
      discovery: discovery.events,
      isClosed: Effect.sync(() => closed),
      awaitClosed: Deferred.await(closedSignal),
      release: acquireRef(),
      close
    }
    // The `Topic` handle itself lives as long as the caller's scope.
    releaseFromCaller = topic.release
    return { topic, joined, close } satisfies Opened
  })

// The join span covers the subscription and, for `join`, the wait for a neighbour. The bootstrap fiber forked
// inside it is its child either way, so the DHT reads and dials of the join sit in the join's trace (with
// `joinNoWait` they outlive the span, which is allowed).
export const joinNoWait = (topicId: TopicId, options: JoinOptions) =>
  Effect.map(open(topicId, options), ({ topic }) => topic).pipe(
    withTopicSpan(SpanName.join, topicId, { "dtt.join.wait": false })
  )

export const join = (topicId: TopicId, options: JoinOptions) =>
  Effect.flatMap(open(topicId, options), ({ close, joined, topic }) =>
    Deferred.await(joined).pipe(
      // Giving up on the join (interruption, timeout, closed) tears the topic down, as dropping the Rust future
      // does. (Not `uninterruptibleMask` around `open`: fibers forked there would inherit uninterruptibility.)
      Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : close)),
      Effect.as(topic)
    )).pipe(withTopicSpan(SpanName.join, topicId, { "dtt.join.wait": true }))
