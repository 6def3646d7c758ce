/**
 * A joined topic, for plain TypeScript: send with `broadcast`, read with `for await (const m of topic.messages())`.
 *
 * Every `messages()`/`events()` call makes an independent reader with its own 64-event buffer: a reader that
 * falls behind loses the oldest events (`events()` shows a `lagged` event) and keeps going. Closing the topic
 * ends every reader (after what they had already buffered); closing the node closes its topics.
 */
import type { Topic as CoreTopic } from "@dtt/core"
import { Effect, Exit, Scope, Stream } from "effect"
import { invalidArgument } from "./Errors.js"
import { toPlain } from "./internal/discoveryEvents.js"
import { ReceiverIterator } from "./internal/receiverIterator.js"
import { runPromise, runSync } from "./internal/run.js"

/** A message from the swarm. Our own broadcasts are never delivered back to us. */
export interface Message {
  readonly content: Uint8Array
  /** Endpoint id (64 hex characters) of the neighbour that handed it to us, not necessarily its author. */
  readonly deliveredFrom: string
  /** `"neighbors"` when it was sent with `broadcastNeighbors`. */
  readonly scope: "swarm" | "neighbors"
}

export type TopicEvent =
  | ({ readonly type: "message" } & Message)
  | { readonly type: "neighborUp"; readonly peer: string }
  | { readonly type: "neighborDown"; readonly peer: string }
  /** This reader fell behind and lost `missed` events (`undefined`: an unknown number); it keeps receiving. */
  | { readonly type: "lagged"; readonly missed: number | undefined }

/**
 * What discovery is doing (core `DiscoveryEvent`, as plain objects; durations in milliseconds). See the README
 * for what each means.
 */
export type DiscoveryEvent =
  /** A DHT get answered, for the first time or again after `dht-unreachable`. */
  | { readonly type: "dht-bootstrapped"; readonly afterMs: number }
  /** The last `failedGets` (≥ 2) gets all failed: offline, UDP blocked, or wrong bootstrap nodes. Said once. */
  | { readonly type: "dht-unreachable"; readonly afterMs: number; readonly failedGets: number; readonly reason: string }
  /** One slot read: distinct values, how many opened, the rest by reason, records of other nodes. */
  | {
    readonly type: "records-found"
    readonly minute: number
    readonly slot: "compatible" | "private"
    readonly found: number
    readonly opened: number
    readonly rejected: Readonly<Record<string, number>>
    readonly records: number
  }
  | { readonly type: "dialing"; readonly peers: ReadonlyArray<string> }
  | { readonly type: "dial-failed"; readonly peer: string; readonly reason: string }
  /** First neighbour (after the topic opened, or after `alone-again`). */
  | { readonly type: "joined"; readonly afterMs: number; readonly neighbor: string }
  | { readonly type: "alone-again"; readonly peer: string }
  | { readonly type: "rediscovering"; readonly aloneForMs: number }
  | {
    readonly type: "published"
    readonly minute: number
    readonly record: "bootstrap" | "publisher"
    readonly storedAt: number
  }
  | {
    readonly type: "publish-skipped"
    readonly minute: number
    readonly record: "bootstrap" | "publisher"
    readonly reason: "slotFull" | "failed"
    readonly seen?: number
    readonly error?: string
  }
  | { readonly type: "merged"; readonly kind: "bubble" | "messageOverlap"; readonly peers: ReadonlyArray<string> }
  /** This reader fell behind and lost the `missed` oldest events. */
  | { readonly type: "lagged"; readonly missed: number }

export interface Topic extends AsyncDisposable {
  /** The 32-byte topic id (the hash of the name) as 64 hex characters. */
  readonly topicId: string
  /** This node's endpoint id. */
  readonly endpointId: string
  /** Send to every member (flooded through the swarm). A string is sent as its UTF-8 bytes. */
  broadcast(content: Uint8Array | string): Promise<void>
  /** Send to our direct neighbours only. */
  broadcastNeighbors(content: Uint8Array | string): Promise<void>
  /** Endpoint ids of our current gossip neighbours. */
  neighbors(): ReadonlyArray<string>
  /** True while we have at least one neighbour. */
  isJoined(): boolean
  /** Resolves when we have a neighbour (at once if we do); rejects with `TopicClosed` if the topic closes first. */
  joined(): Promise<void>
  /** SHA-512/32 of the last ≤ 5 messages received, oldest first. */
  lastMessageHashes(): ReadonlyArray<Uint8Array>
  /** A new reader of the messages from now on. */
  messages(): AsyncIterableIterator<Message>
  /** A new reader of every event from now on: messages, neighbours coming and going, lag. */
  events(): AsyncIterableIterator<TopicEvent>
  /**
   * A new reader of the discovery events: the topic's last 64 first (so it also shows how the join went), then
   * live ones; it ends when the topic closes. A reader 64 events behind loses the oldest (a `lagged` event).
   */
  discoveryEvents(): AsyncIterableIterator<DiscoveryEvent>
  isClosed(): boolean
  /** Leave the topic: background work stops, readers end. Idempotent. */
  close(): Promise<void>
}

const utf8 = new TextEncoder()

const toBytes = (content: unknown): Uint8Array => {
  if (typeof content === "string") return utf8.encode(content)
  if (content instanceof Uint8Array) return content
  throw invalidArgument(`content must be a Uint8Array or a string, got ${content === null ? "null" : typeof content}`)
}

/**
 * Every reader gets its own copy of a message's bytes: the topic hands the same array to all of them, and one
 * reader writing into it must not change what another reads.
 */
const toMessage = (event: CoreTopic.TopicEvent & { readonly _tag: "Received" }): Message => ({
  content: event.content.slice(),
  deliveredFrom: event.deliveredFrom,
  scope: event.scope._tag === "Neighbors" ? "neighbors" : "swarm"
})

const toTopicEvent = (event: CoreTopic.TopicEvent): TopicEvent => {
  switch (event._tag) {
    case "Received":
      return { type: "message", ...toMessage(event) }
    case "NeighborUp":
      return { type: "neighborUp", peer: event.peer }
    case "NeighborDown":
      return { type: "neighborDown", peer: event.peer }
    case "Lagged":
      return { type: "lagged", missed: event.missed }
  }
}

const messageOnly = (event: CoreTopic.TopicEvent): Message | undefined =>
  event._tag === "Received" ? toMessage(event) : undefined

/** @internal built by `Node.joinTopic`. */
export class TopicHandle implements Topic {
  readonly topicId: string
  readonly endpointId: string
  readonly #topic: CoreTopic.Topic
  readonly #sender: CoreTopic.Sender
  /** Holds our `Topic` and `Sender` handles and every reader's receiver. */
  readonly #scope: Scope.CloseableScope
  readonly #onClosed: () => Promise<void>
  #leaving: Promise<void> | undefined
  #closing: Promise<void> | undefined

  constructor(topic: CoreTopic.Topic, scope: Scope.CloseableScope, onClosed: () => Promise<void>) {
    this.#topic = topic
    this.#scope = scope
    this.#onClosed = onClosed
    this.topicId = topic.topicId.hex
    this.endpointId = topic.endpointId
    this.#sender = runSync(Scope.extend(topic.sender, scope))
    // The topic can also close by itself (discovery timed out, gossip shut down): tidy up then too.
    void Effect.runPromise(topic.awaitClosed).then(() => this.close()).catch(() => undefined)
  }

  broadcast(content: Uint8Array | string): Promise<void> {
    return this.#send(content, (bytes) => this.#sender.broadcast(bytes))
  }

  broadcastNeighbors(content: Uint8Array | string): Promise<void> {
    return this.#send(content, (bytes) => this.#sender.broadcastNeighbors(bytes))
  }

  async #send(content: unknown, send: (bytes: Uint8Array) => Effect.Effect<void, CoreTopic.SendError>): Promise<void> {
    const bytes = toBytes(content)
    return runPromise(send(bytes))
  }

  neighbors(): ReadonlyArray<string> {
    return this.isClosed() ? [] : runSync(this.#topic.neighbors)
  }

  isJoined(): boolean {
    return !this.isClosed() && runSync(this.#topic.isJoined)
  }

  joined(): Promise<void> {
    return runPromise(this.#topic.joined)
  }

  lastMessageHashes(): ReadonlyArray<Uint8Array> {
    // Copies: the topic's merge actor compares these very arrays.
    return runSync(this.#topic.lastMessageHashes).map((hash) => hash.slice())
  }

  messages(): AsyncIterableIterator<Message> {
    return new ReceiverIterator(this.#topic, this.#scope, messageOnly)
  }

  events(): AsyncIterableIterator<TopicEvent> {
    return new ReceiverIterator(this.#topic, this.#scope, toTopicEvent)
  }

  discoveryEvents(): AsyncIterableIterator<DiscoveryEvent> {
    const iterator = Stream.toAsyncIterable(Stream.map(this.#topic.discovery, toPlain))[Symbol.asyncIterator]()
    return {
      next: () => iterator.next(),
      return: async () => (await iterator.return?.()) ?? { done: true, value: undefined },
      [Symbol.asyncIterator]() {
        return this
      }
    }
  }

  isClosed(): boolean {
    return this.#leaving !== undefined || runSync(this.#topic.isClosed)
  }

  /** @internal close the topic itself, without the close hook (what a closing node does). */
  leave(): Promise<void> {
    this.#leaving ??= Effect.runPromise(Effect.zipRight(this.#topic.close, Scope.close(this.#scope, Exit.void)))
    return this.#leaving
  }

  close(): Promise<void> {
    this.#closing ??= this.leave().then(() => this.#onClosed())
    return this.#closing
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}
