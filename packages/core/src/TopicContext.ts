/**
 * What a topic's actors share, as a service: the config, the gossip subscription and its sender, the record
 * publisher, the join state, the discovery event sink, and the topic's scope. `Topic.join` provides it to the
 * actor Layers of `JoinOptions.actors` once the node has joined, and builds them in the topic's scope, so closing
 * the topic interrupts every fiber they forked.
 *
 * A custom actor is a Layer that needs `TopicContext` (see `actor`); `Topic.defaultActors` is the usual set, and
 * leaving one of its parts out (or adding a strategy of your own) is composing Layers:
 *
 * ```ts
 * const actors = Layer.mergeAll(Publisher.layer, Bootstrap.rediscoverLayer, BubbleMerge.layer, myMerge)
 * yield* Topic.join(topicId, { secret, actors })
 * ```
 */
import { Context, Effect, Layer, type Scope } from "effect"
import type { Config } from "./Config.js"
import type { DiscoveryEvent } from "./DiscoveryEvent.js"
import type { EndpointId } from "./EndpointId.js"
import type { GossipTopic } from "./Gossip.js"
import type { SendError } from "./internal/core.js"
import type { RecordPublisher } from "./RecordPublisher.js"

export interface SenderOps {
  readonly broadcast: (content: Uint8Array) => Effect.Effect<void, SendError>
  readonly broadcastNeighbors: (content: Uint8Array) => Effect.Effect<void, SendError>
  /** With `maxPeers`, a random subset of at most that many (Rust: shuffle, then truncate). */
  readonly joinPeers: (peers: ReadonlyArray<EndpointId>, maxPeers?: number) => Effect.Effect<void, SendError>
}

export interface Service {
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

export class TopicContext extends Context.Tag("@dtt/core/TopicContext")<TopicContext, Service>() {}

/** An actor: a Layer that needs only the topic's context; what it forks lives until the topic closes. */
export type Actor = Layer.Layer<never, never, TopicContext>

/** The actor that runs `loop` as a fiber of the topic's scope (closing the topic interrupts it). */
export const actor = (loop: (context: Service) => Effect.Effect<unknown>): Actor =>
  Layer.scopedDiscard(Effect.flatMap(TopicContext, (context) => Effect.forkScoped(loop(context))))
