/**
 * The topic's errors, its sender (gossip operations with timeouts, counted) and the small helpers its actors
 * share. What the actors share at run time is the `TopicContext` service (here `Core`).
 */
import { Data, Duration, Effect, Metric, Random } from "effect"
import type { Config } from "../Config.js"
import type { EndpointId } from "../EndpointId.js"
import type { GossipError, GossipTopic } from "../Gossip.js"
import * as Metrics from "../Metrics.js"
import type { TopicId } from "../TopicId.js"
import { SpanName, withTopicSpan } from "./spans.js"

/** The topic was closed (all handles released, `close` called, or the gossip subscription ended). */
export class TopicClosed extends Data.TaggedError("TopicClosed")<{}> {
  override get message() {
    return "the topic is closed"
  }
}

/** A sender operation did not finish within its configured timeout (iroh-gossip's command queue was full). */
export class SendTimeout extends Data.TaggedError("SendTimeout")<{
  readonly operation: "broadcast" | "broadcastNeighbors" | "joinPeers"
  readonly after: Duration.Duration
}> {
  override get message() {
    return `${this.operation} timed out after ${Duration.format(this.after)}`
  }
}

/**
 * Joining did not succeed within the configured or given timeout; the topic was closed. The other fields say
 * how far discovery got: whether the DHT answered at all (`dhtReachable`: some get answered), the gets that
 * answered and failed, and the records of other nodes the answers held.
 */
export class JoinTimeout extends Data.TaggedError("JoinTimeout")<{
  readonly after: Duration.Duration
  readonly dhtReachable: boolean
  readonly answeredGets: number
  readonly failedGets: number
  readonly recordsSeen: number
}> {
  override get message() {
    const after = Duration.format(this.after)
    if (!this.dhtReachable) {
      return this.failedGets > 0
        ? `no peer found within ${after}: no DHT node answered (${this.failedGets} gets failed); this machine may be ` +
          "offline, a firewall may drop UDP, or the bootstrap nodes are wrong"
        : `no peer found within ${after}: the DHT has not answered yet`
    }
    return this.recordsSeen > 0
      ? `no peer found within ${after}: the DHT answered and showed ${this.recordsSeen} records of other nodes, ` +
        "but none of them could be joined"
      : `no peer found within ${after}: the DHT answered (${this.answeredGets} gets) but no other node has ` +
        "announced this topic with this secret"
  }
}

/** The gossip layer runs under another key than `NodeIdentity`: records would advertise an id nobody can dial. */
export class IdentityMismatch extends Data.TaggedError("IdentityMismatch")<{
  readonly gossip: EndpointId
  readonly identity: EndpointId
}> {}

export type SendError = GossipError | SendTimeout | TopicClosed

import type { SenderOps, Service as Core } from "../TopicContext.js"

export type { Core, SenderOps }

/** Fisher-Yates with `Random`, so tests are reproducible. */
export const shuffle = <A>(items: ReadonlyArray<A>): Effect.Effect<Array<A>> =>
  Effect.gen(function*() {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = yield* Random.nextIntBetween(0, i + 1)
      const t = out[i]!
      out[i] = out[j]!
      out[j] = t
    }
    return out
  })

/** Sleep for `duration`, ending early when the node joins (the Rust loops' "first of timer / join notification"). */
export const waitOrJoined = (core: Core, duration: Duration.Duration): Effect.Effect<void> =>
  Effect.raceFirst(Effect.sleep(duration), core.awaitJoined)

export const makeSender = (
  gossip: GossipTopic,
  topicId: TopicId,
  timeouts: Config["timeouts"],
  isClosed: () => boolean
): SenderOps => {
  const guarded = <E>(
    operation: SendTimeout["operation"],
    after: Duration.Duration,
    effect: Effect.Effect<void, E>
  ): Effect.Effect<void, E | SendTimeout | TopicClosed> =>
    Effect.suspend((): Effect.Effect<void, E | SendTimeout | TopicClosed> =>
      isClosed()
        ? Effect.fail(new TopicClosed())
        : Effect.timeoutFail(effect, { duration: after, onTimeout: () => new SendTimeout({ operation, after }) })
    )
  /** Counted once queued (what gossip's broadcast resolving means), with the payload's size. */
  const counted = (scope: Metrics.MessageScope, content: Uint8Array) =>
    Effect.zipRight(Metric.increment(Metrics.sent(scope)), Metric.incrementBy(Metrics.sentBytes(scope), content.length))
  return {
    broadcast: (content) =>
      Effect.tap(
        guarded("broadcast", timeouts.broadcastTimeout, gossip.broadcast(content)),
        () => counted("swarm", content)
      ),
    broadcastNeighbors: (content) =>
      Effect.tap(
        guarded("broadcastNeighbors", timeouts.broadcastNeighborsTimeout, gossip.broadcastNeighbors(content)),
        () => counted("neighbors", content)
      ),
    joinPeers: (peers, maxPeers) =>
      Effect.gen(function*() {
        const chosen = maxPeers === undefined ? peers : (yield* shuffle(peers)).slice(0, Math.max(0, maxPeers))
        if (chosen.length === 0) return
        yield* Metric.incrementBy(Metrics.dialsAttempted, chosen.length)
        yield* guarded("joinPeers", timeouts.joinPeerTimeout, gossip.joinPeers(chosen)).pipe(
          Effect.tapError(() => Metric.incrementBy(Metrics.dialsFailed, chosen.length)),
          withTopicSpan(SpanName.dial, topicId, { "dtt.peers": chosen.length })
        )
      })
  }
}
