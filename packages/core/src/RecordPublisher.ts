/**
 * The record publisher of one topic: reads a minute's DHT slot into verified records of OTHER nodes, and writes
 * this node's record into a slot unless the cooperative cap says enough nodes already did (behaviour.md §3.2).
 *
 * Unlike the Rust crate, DHT operations are not queued behind one mailbox: a get never waits for an earlier
 * put's retries (Rust's single actor can stall discovery for ~85 s behind a failing put). And a slot that
 * already shows a record of a joined node counts as full (see `publishRecord`), so the puts per slot stay
 * bounded when storing nodes keep one value each.
 */
import type { Effect } from "effect"
import type { Crypto } from "./Crypto.js"
import type { Dht, DhtError } from "./Dht.js"
import type { RejectReason, SlotKind } from "./DiscoveryEvent.js"
import type { EndpointId } from "./EndpointId.js"
import type { GossipRecordContent } from "./GossipRecordContent.js"
import * as slotKinds from "./internal/slotKinds.js"
import type { Record, RecordError } from "./Record.js"
import type { RotationFailed, SecretRotation } from "./SecretRotation.js"
import type { TopicId } from "./TopicId.js"

/** A record of another node that decrypted and verified for the slot it was read from. */
export interface DiscoveredRecord {
  readonly record: Record
  readonly minute: bigint
  /** The record's `pub_key`: the publisher's endpoint id. */
  readonly publisher: EndpointId
  /** Non-zero `active_peers` entries that are valid keys (empty if the content is not gossip content). */
  readonly activePeers: ReadonlyArray<EndpointId>
  /** Non-zero `last_message_hashes` entries (32 bytes each). */
  readonly messageHashes: ReadonlyArray<Uint8Array>
}

export type PublishOutcome =
  | { readonly _tag: "Published"; readonly storedAt: number }
  /**
   * The slot already holds `maxBootstrapRecords` records of other nodes (or the cap is 0), or it is full by our
   * stricter rule (see `publishRecord`). `seen` counts the records of other nodes.
   */
  | { readonly _tag: "Skipped"; readonly seen: number }

/** DHT operations this publisher made, for load tests and the simulation timeline. */
export interface Stats {
  readonly gets: number
  readonly puts: number
  readonly skipped: number
  readonly failedGets: number
  readonly failedPuts: number
}

/**
 * What one slot read came to, for observers (`Options.onRead`; the topic turns it into discovery events and
 * judges from it whether the DHT answers). With `privateSlots`, each minute's read reports each slot on its own.
 */
export type SlotRead =
  | {
    readonly _tag: "Answered"
    readonly minute: bigint
    readonly slot: SlotKind
    /** Distinct values the get returned. */
    readonly found: number
    /** Values that decrypted and verified (our own record included). */
    readonly opened: number
    /** The other values, by why they were refused. */
    readonly rejected: { readonly [reason: RejectReason]: number }
    /** Records of other nodes returned (one per publisher). */
    readonly records: number
  }
  | { readonly _tag: "Failed"; readonly minute: bigint; readonly slot: SlotKind; readonly error: DhtError }

export interface RecordPublisher {
  readonly topicId: TopicId
  /** This node's key, i.e. its endpoint id (records signed with it are dialled verbatim by peers). */
  readonly endpointId: EndpointId
  readonly initialSecretHash: Uint8Array
  /** Sign a gossip record for `minute` with the node key. */
  readonly newRecord: (minute: bigint, content: GossipRecordContent) => Effect.Effect<Record, RecordError>
  /**
   * Records of other nodes in the slot of `minute`: derive the slot, one DHT get, then per value decode, decrypt,
   * parse, verify (topic and minute), drop our own, de-duplicate by publisher (first seen wins). Values that fail
   * any step are skipped silently.
   */
  readonly getRecords: (minute: bigint) => Effect.Effect<ReadonlyArray<DiscoveredRecord>, DhtError | RotationFailed>
  /**
   * Write `record` into its minute's slot unless `cached` (or, without it, a fresh `getRecords`) already holds
   * `maxBootstrapRecords` records of other nodes (the Rust rule), or the slot is full: the last get of it showed
   * a record that advertises a peer, ours or another node's. Storing nodes keep one value per target, so a second
   * write mostly replaces the first instead of adding to it; without this rule every node would write on every
   * tick.
   */
  readonly publishRecord: (
    record: Record,
    cached?: ReadonlyArray<DiscoveredRecord>
  ) => Effect.Effect<PublishOutcome, DhtError | RecordError | RotationFailed>
  readonly stats: () => Stats
}

export interface Options {
  readonly topicId: TopicId
  /** The node's 32-byte Ed25519 seed: its iroh secret key. */
  readonly secretKey: Uint8Array
  /** The shared secret (its SHA-512/32 is what the rotation receives). */
  readonly initialSecret: string | Uint8Array
  readonly rotation?: SecretRotation
  /** The cooperative cap (behaviour.md §1.3), applied to each slot on its own. */
  readonly maxBootstrapRecords: number
  /**
   * Also read and write each minute's private slot (`PrivateSlot`: keys that need the secret), beside the
   * Rust-compatible one, so an attacker who knows only the topic name cannot starve discovery. Reads merge both
   * slots' records; writes go to both, each under its own cap; `stats` sums both. Default false here (the record
   * layer alone stays the Rust crate's); topics pass `Config.bootstrap.privateSlots`, which defaults to true.
   */
  readonly privateSlots?: boolean
  /** Told the outcome of every slot read (not of reads that failed on the secret rotation). */
  readonly onRead?: (read: SlotRead) => Effect.Effect<void>
}

export const make: (options: Options) => Effect.Effect<RecordPublisher, never, Dht | Crypto> = slotKinds.make

/** Process-wide counters of the DHT gets and put attempts of record publishers, tagged `slot` (compatible, private). */
export const dhtGets = slotKinds.dhtGets
export const dhtPuts = slotKinds.dhtPuts
