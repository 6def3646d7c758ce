/**
 * Joining a topic: the public API that ties the record publisher, the gossip subscription and the four actors
 * together (behaviour.md §2.6–2.7).
 *
 * ```ts
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const topic = yield* Topic.join(TopicId.fromName("my-topic"), { secret: "my-secret" })
 *   const [sender, receiver] = yield* topic.split
 *   yield* sender.broadcast(new TextEncoder().encode("hello"))
 *   yield* receiver.events.pipe(Stream.runForEach(Console.log))
 * }))
 * ```
 *
 * Lifecycle: a topic lives in its own `Scope`. The `Topic` value and every `Sender`/`Receiver` obtained from it
 * are handles holding a reference; each handle is released when the scope it was obtained in closes (or by its
 * `release`), and releasing the last one closes the topic: every actor is interrupted, in-flight DHT work is
 * abandoned, the gossip subscription is left, receivers end. `close` does it at once whatever handles remain.
 * The topic also closes if the gossip subscription ends, or if joining times out (`bootstrap.timeout`).
 */
import { type Duration, type Effect, type Scope, type Stream } from "effect"
import type * as Config from "./Config.js"
import type { Crypto } from "./Crypto.js"
import type { Dht } from "./Dht.js"
import type { DiscoveryEvent } from "./DiscoveryEvent.js"
import type { EndpointId } from "./EndpointId.js"
import type { Gossip, GossipClosed, GossipEvent } from "./Gossip.js"
import * as internalActors from "./internal/actors.js"
import { IdentityMismatch, JoinTimeout, type SendError, SendTimeout, TopicClosed } from "./internal/core.js"
import * as internal from "./internal/topic.js"
import type { NodeIdentity } from "./NodeIdentity.js"
import type { RecordPublisher } from "./RecordPublisher.js"
import type { RotationFailed, SecretRotation } from "./SecretRotation.js"
import type { Actor } from "./TopicContext.js"
import type { TopicId } from "./TopicId.js"

export { IdentityMismatch, JoinTimeout, type SendError, SendTimeout, TopicClosed }

/** The receiver buffer of every handle (tokio broadcast capacity in the Rust crate). */
export const RECEIVER_CAPACITY = 64

export type JoinError = JoinTimeout | TopicClosed | GossipClosed | IdentityMismatch | RotationFailed

/**
 * What a receiver gets: the gossip layer's events (`GossipEvent`), with `Lagged` also telling of this receiver:
 * `missed` events were dropped because it fell more than 64 behind, or an unknown number (`undefined`) when the
 * gossip layer itself dropped them. It keeps receiving after this.
 */
export type TopicEvent =
  | Exclude<GossipEvent, { readonly _tag: "Lagged" }>
  | { readonly _tag: "Lagged"; readonly missed: number | undefined }

export interface Sender {
  /** Flood to the swarm; fails with `SendTimeout` after `timeouts.broadcastTimeout`. */
  readonly broadcast: (content: Uint8Array) => Effect.Effect<void, SendError>
  /** Direct neighbours only; `timeouts.broadcastNeighborsTimeout`. */
  readonly broadcastNeighbors: (content: Uint8Array) => Effect.Effect<void, SendError>
  /** One gossip `joinPeers`; with `maxPeers`, a random subset of that size. `timeouts.joinPeerTimeout`. */
  readonly joinPeers: (peers: ReadonlyArray<EndpointId>, maxPeers?: number) => Effect.Effect<void, SendError>
  /** Another handle on the same topic (its own reference). */
  readonly clone: Effect.Effect<Sender, never, Scope.Scope>
  /** Drop this handle now instead of when its scope closes. Idempotent. */
  readonly release: Effect.Effect<void>
}

export interface Receiver {
  /** The next event; fails with `TopicClosed` once the topic is closed and this handle's buffer is drained. */
  readonly next: Effect.Effect<TopicEvent, TopicClosed>
  /** The events as a stream that ends when the topic closes (single consumer per handle). */
  readonly events: Stream.Stream<TopicEvent>
  /** Returns at once if joined, else waits for a neighbour; fails with `TopicClosed` after close. */
  readonly joined: Effect.Effect<void, TopicClosed>
  readonly isJoined: Effect.Effect<boolean>
  readonly neighbors: Effect.Effect<ReadonlyArray<EndpointId>>
  /** SHA-512/32 of the last ≤ 5 received payloads, oldest first (our own broadcasts are not included). */
  readonly lastMessageHashes: Effect.Effect<ReadonlyArray<Uint8Array>>
  /** A handle with its own cursor; sees every event from now on. */
  readonly clone: Effect.Effect<Receiver, never, Scope.Scope>
  readonly release: Effect.Effect<void>
}

export interface Topic {
  readonly topicId: TopicId
  readonly endpointId: EndpointId
  readonly config: Config.Config
  readonly recordPublisher: RecordPublisher
  /** A sender and a receiver, each its own handle, released when the calling scope closes. */
  readonly split: Effect.Effect<readonly [Sender, Receiver], never, Scope.Scope>
  readonly sender: Effect.Effect<Sender, never, Scope.Scope>
  readonly receiver: Effect.Effect<Receiver, never, Scope.Scope>
  readonly neighbors: Effect.Effect<ReadonlyArray<EndpointId>>
  readonly isJoined: Effect.Effect<boolean>
  readonly joined: Effect.Effect<void, TopicClosed>
  readonly lastMessageHashes: Effect.Effect<ReadonlyArray<Uint8Array>>
  /**
   * What discovery is doing (`DiscoveryEvent`): the last `DISCOVERY_CAPACITY` events first, then live ones, until
   * the topic closes. Each run of the stream is its own reader; one that falls behind loses the oldest events
   * (a `Lagged` says how many), the actors never wait for it.
   */
  readonly discovery: Stream.Stream<DiscoveryEvent>
  readonly isClosed: Effect.Effect<boolean>
  /** Resolves when the topic has closed, for whatever reason. */
  readonly awaitClosed: Effect.Effect<void>
  /** Release this `Topic` handle; the topic keeps running while other handles exist. Idempotent. */
  readonly release: Effect.Effect<void>
  /** Close the topic now, whatever handles remain. Idempotent. */
  readonly close: Effect.Effect<void>
}

export interface JoinOptions {
  /** The shared secret (raw bytes or UTF-8 string). */
  readonly secret: string | Uint8Array
  /** Must be the same for every member (default: the Rust crate's). */
  readonly rotation?: SecretRotation
  /** Default: `Config.defaults`. */
  readonly config?: Config.Config
  /** Give up joining after this long (overrides `config.bootstrap.timeout`). */
  readonly timeout?: Duration.DurationInput
  /**
   * The actors started once the node has joined, built in the topic's scope with its `TopicContext`.
   * Default: `defaultActors`. Leave one out or add your own by composing Layers (`TopicContext.actor`).
   */
  readonly actors?: Actor
}

/** Publisher, rediscovery, bubble merge and message-overlap merge: what a join starts by default. */
export const defaultActors: Actor = internalActors.defaultActors

export type Requirements = Gossip | Dht | Crypto | NodeIdentity

/**
 * Subscribe, run the bootstrap loop until the node has a neighbour, start the publisher and merge actors, and
 * return. The returned `Topic` handle is released when the calling scope closes; interrupting the join closes
 * the topic.
 */
export const join: (
  topicId: TopicId,
  options: JoinOptions
) => Effect.Effect<Topic, JoinError, Scope.Scope | Requirements> = internal.join

/** As `join`, but returns right after subscribing; bootstrapping (and then the other actors) go on in the background. */
export const joinNoWait: (
  topicId: TopicId,
  options: JoinOptions
) => Effect.Effect<Topic, GossipClosed | IdentityMismatch, Scope.Scope | Requirements> = internal.joinNoWait
