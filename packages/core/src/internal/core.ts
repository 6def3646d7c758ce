/**
 * What the actors of one topic share: the gossip subscription, the record publisher, the config, the sender
 * with its timeouts, and the topic's scope to fork into. Internal: the public face is `Topic`.
 */
import { Data, Duration, Effect, Random, type Scope } from "effect"
import type { Config } from "../Config.js"
import type { DiscoveryEvent } from "../DiscoveryEvent.js"
import type { EndpointId } from "../EndpointId.js"
import type { GossipError, GossipTopic } from "../Gossip.js"
import type { RecordPublisher } from "../RecordPublisher.js"
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

export interface SenderOps {
  readonly broadcast: (content: Uint8Array) => Effect.Effect<void, SendError>
  readonly broadcastNeighbors: (content: Uint8Array) => Effect.Effect<void, SendError>
  /** With `maxPeers`, a random subset of at most that many (Rust: shuffle, then truncate). */
  readonly joinPeers: (peers: ReadonlyArray<EndpointId>, maxPeers?: number) => Effect.Effect<void, SendError>
}

export interface Core {
  readonly config: Config
  readonly endpointId: EndpointId
  readonly records: RecordPublisher
  readonly gossip: GossipTopic
  readonly sender: SenderOps
  readonly isJoined: Effect.Effect<boolean>
  readonly neighbors: Effect.Effect<ReadonlyArray<EndpointId>>
  /** H32 of the last ≤ 5 received payloads, oldest first. */
  readonly lastMessageHashes: () => ReadonlyArray<Uint8Array>
  /** Resolves once the node has a neighbour; never fails (a closing topic interrupts waiters instead). */
  readonly awaitJoined: Effect.Effect<void>
  /** The topic's scope: every actor is forked into it, so closing it stops them all. */
  readonly scope: Scope.Scope
  /** Tell the topic's discovery readers (`Topic.discovery`); never waits for them. */
  readonly emit: (event: DiscoveryEvent) => Effect.Effect<void>
}

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
  return {
    broadcast: (content) => guarded("broadcast", timeouts.broadcastTimeout, gossip.broadcast(content)),
    broadcastNeighbors: (content) =>
      guarded("broadcastNeighbors", timeouts.broadcastNeighborsTimeout, gossip.broadcastNeighbors(content)),
    joinPeers: (peers, maxPeers) =>
      Effect.gen(function*() {
        const chosen = maxPeers === undefined ? peers : (yield* shuffle(peers)).slice(0, Math.max(0, maxPeers))
        if (chosen.length === 0) return
        yield* guarded("joinPeers", timeouts.joinPeerTimeout, gossip.joinPeers(chosen)).pipe(
          withTopicSpan(SpanName.dial, topicId, { "dtt.peers": chosen.length })
        )
      })
  }
}
