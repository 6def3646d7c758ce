/**
 * What discovery is doing on one topic, as typed events: whether the DHT answers, what each slot read found,
 * whom bootstrap dials, when the node joins, is left alone, looks again, publishes, merges.
 *
 * Read them from `Topic.discovery` (a `Stream`). The events go through a bounded fan-out: the actors never wait
 * for a reader; a reader more than `DISCOVERY_CAPACITY` events behind loses the OLDEST ones and gets one
 * `Lagged` with their count instead, then keeps reading. A new reader first gets the last `DISCOVERY_CAPACITY`
 * events of the topic (so a reader that starts after `Topic.join` returned still sees how the join went), then
 * the live ones; the stream ends when the topic closes.
 *
 * ```ts
 * yield* topic.discovery.pipe(Stream.runForEach((event) => Console.log(event._tag)))
 * ```
 */
import { Data, type Duration } from "effect"
import type { EndpointId } from "./EndpointId.js"

/** The slot a read or write went to: the Rust-compatible one or the private one (`PrivateSlot`). */
export type SlotKind = "compatible" | "private"

/**
 * Why a DHT value of a slot was not taken: the tag of the record error that refused it (`CannotDecrypt`: another
 * secret or minute, or junk; `BadSignature`; `WrongTopic`; `WrongMinute`; `MalformedContent`; `WrongLength`),
 * `BadPublisher` (its key is not a valid endpoint id) or `Defect` (the bytes made the decoder throw).
 */
export type RejectReason = string

export type DiscoveryEvent = Data.TaggedEnum<{
  /**
   * A DHT get answered (with or without values) for the first time on this topic, or for the first time after
   * `DhtUnreachable`. `after`: time since the topic was opened.
   */
  DhtBootstrapped: { readonly after: Duration.Duration }
  /**
   * The DHT does not answer: the last `failedGets` gets all failed (at least 2, none answered in between), e.g.
   * every bootstrap node is unreachable, the machine is offline or UDP is blocked. `after`: time since the
   * topic was opened (or since the DHT last answered); `reason`: the last failure's text. Said once, until the
   * DHT answers again (`DhtBootstrapped`). Discovery keeps retrying, with growing pauses.
   */
  DhtUnreachable: { readonly after: Duration.Duration; readonly failedGets: number; readonly reason: string }
  /**
   * One slot read answered: `found` distinct values in the slot of `minute`, `opened` of them decrypted and
   * verified (our own record included), `rejected` the others by reason; `records` is how many records of OTHER
   * nodes it yielded (one per publisher). Every read is reported: bootstrap's, the merge actors', the publisher's.
   */
  RecordsFound: {
    readonly minute: bigint
    readonly slot: SlotKind
    readonly found: number
    readonly opened: number
    readonly rejected: Readonly<Record<RejectReason, number>>
    readonly records: number
  }
  /** Bootstrap is about to dial these peers, one after the other (publishers of the records read, their neighbours). */
  Dialing: { readonly peers: ReadonlyArray<EndpointId> }
  /**
   * Asking the gossip layer to dial `peer` failed (`reason`: the error's tag, e.g. `SendTimeout`). A dial that is
   * handed over but never connects is not reported: the gossip layer does not say.
   */
  DialFailed: { readonly peer: EndpointId; readonly reason: string }
  /**
   * The node got its first neighbour (`neighbor`). `after`: time since the topic was opened, or, after
   * `AloneAgain`, since it was left alone.
   */
  Joined: { readonly after: Duration.Duration; readonly neighbor: EndpointId }
  /** The last neighbour left (`peer`): the node has none now. */
  AloneAgain: { readonly peer: EndpointId }
  /** Alone for `aloneFor` (at least `bootstrap.rediscoverAfter`): the bootstrap loop runs again. */
  Rediscovering: { readonly aloneFor: Duration.Duration }
  /**
   * Our record was written into the slot of `minute` (`storedAt`: storing nodes that acknowledged, summed over
   * the slots written). `record`: `"bootstrap"` (the empty record a joining node advertises itself with) or
   * `"publisher"` (the joined node's record naming its neighbours).
   */
  Published: { readonly minute: bigint; readonly storedAt: number; readonly record: "bootstrap" | "publisher" }
  /**
   * Our record of `minute` was not written. `reason`: `"slotFull"` (the cooperative cap: the slot already shows
   * `seen` records of other nodes, or one of a joined node) or `"failed"` (`error`: the failure's tag).
   */
  PublishSkipped: {
    readonly minute: bigint
    readonly record: "bootstrap" | "publisher"
    readonly reason: "slotFull" | "failed"
    readonly seen?: number
    readonly error?: string
  }
  /**
   * A merge actor asked the gossip layer to join `peers`: `"bubble"` (we had fewer than `minNeighbors`
   * neighbours) or `"messageOverlap"` (their records show traffic we never saw: a partition).
   */
  Merged: { readonly kind: "bubble" | "messageOverlap"; readonly peers: ReadonlyArray<EndpointId> }
  /** This reader fell behind and lost the `missed` oldest events; it keeps reading after this. */
  Lagged: { readonly missed: number }
}>

/** Constructors (`DiscoveryEvent.Joined({ ... })`), `$is` and `$match`. */
export const DiscoveryEvent = Data.taggedEnum<DiscoveryEvent>()

/** Events a reader may fall behind by before it loses the oldest; also how many a new reader is replayed. */
export const DISCOVERY_CAPACITY = 64
