/**
 * A peer cache: per topic, the peers this node recently had as neighbours and, where the gossip implementation
 * can tell (`PeerAddresses`), how to reach them. A topic joined with a `PeerCache` in its context dials the
 * remembered peers at once, beside the DHT lookup, so a restarted node is back in its swarm after one dial
 * instead of after a DHT round.
 *
 * Entries live in an `@effect/platform` `KeyValueStore` (a directory with `KeyValueStore.layerFileSystem`, memory
 * in tests). The key is a labelled hash of the topic hash, so the store does not reveal which topics the node
 * is in. Stored values are decoded with a Schema; a value that does not decode (a corrupt or hostile file) is
 * logged as `PeerCacheCorrupt` and treated as empty, and is overwritten by the next write.
 */
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { sha256 } from "@noble/hashes/sha2.js"
import { Context, Data, Duration, Effect, Either, Layer, ParseResult, Schema } from "effect"
import type { EndpointId } from "./EndpointId.js"
import { toHex } from "./internal/bytes.js"

export interface CachedPeer {
  readonly id: EndpointId
  /** Opaque to the cache: what `PeerAddresses.addressOf` returned when the peer was a neighbour. */
  readonly address?: string | undefined
}

export interface PeerCacheService {
  /** The peers remembered for the topic (its 32-byte hash), most recent first; empty when none or unreadable. */
  readonly recall: (topicHash: Uint8Array) => Effect.Effect<ReadonlyArray<CachedPeer>>
  /**
   * Remember `peers` as just seen (they go first). Writes to the store are debounced (`writeDelay`) and flushed
   * when the cache's layer is released.
   */
  readonly seen: (topicHash: Uint8Array, peers: ReadonlyArray<CachedPeer>) => Effect.Effect<void>
}

export class PeerCache extends Context.Tag("@dtt/core/PeerCache")<PeerCache, PeerCacheService>() {}

/** A stored value that does not decode; the cache ignores it. */
export class PeerCacheCorrupt extends Data.TaggedError("PeerCacheCorrupt")<{ readonly reason: string }> {}

export interface PeerCacheOptions {
  /** Peers kept per topic. Default 16. */
  readonly maxPeers?: number
  /** How long `seen` waits before writing, so a burst of neighbours costs one write. Default 1 second. */
  readonly writeDelay?: Duration.DurationInput
}

const DEFAULT_MAX_PEERS = 16
/** Bounds what a hostile file can make us parse and hold. */
const MAX_STORED_CHARS = 64 * 1024
const MAX_STORED_PEERS = 64
const MAX_ADDRESS_CHARS = 2048

const StoredPeer = Schema.Struct({
  id: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/), Schema.brand("EndpointId")),
  address: Schema.optional(Schema.String.pipe(Schema.maxLength(MAX_ADDRESS_CHARS)))
})

/** The stored format, version 1: `{"version":1,"peers":[{"id":"<64 hex>","address":"..."}]}`. */
export const Stored = Schema.parseJson(Schema.Struct({
  version: Schema.Literal(1),
  peers: Schema.Array(StoredPeer).pipe(Schema.maxItems(MAX_STORED_PEERS))
}))

export const decodeStored = (text: string): Either.Either<ReadonlyArray<CachedPeer>, PeerCacheCorrupt> =>
  text.length > MAX_STORED_CHARS
    ? Either.left(new PeerCacheCorrupt({ reason: `longer than ${MAX_STORED_CHARS} characters` }))
    : Schema.decodeUnknownEither(Stored)(text).pipe(
      Either.map((stored) => stored.peers),
      Either.mapLeft((error) => new PeerCacheCorrupt({ reason: ParseResult.TreeFormatter.formatErrorSync(error) }))
    )

const KEY_LABEL = new TextEncoder().encode("dtt-peer-cache-v1:")

/** The store key of a topic: a labelled SHA-256 of its hash, so file names do not reveal the topic. */
export const keyOf = (topicHash: Uint8Array): string => {
  const input = new Uint8Array(KEY_LABEL.length + topicHash.length)
  input.set(KEY_LABEL)
  input.set(topicHash, KEY_LABEL.length)
  return `topic-${toHex(sha256(input))}`
}

/** `fresh` first, then the older entries; one entry per id, an id's known address kept when `fresh` has none. */
const merge = (older: ReadonlyArray<CachedPeer>, fresh: ReadonlyArray<CachedPeer>, max: number) => {
  const out = new Map<EndpointId, CachedPeer>()
  const addressOf = new Map(older.map((p) => [p.id, p.address] as const))
  for (const peer of fresh) {
    if (out.has(peer.id)) continue
    const address = peer.address ?? addressOf.get(peer.id)
    out.set(peer.id, address === undefined ? { id: peer.id } : { id: peer.id, address })
  }
  for (const peer of older) if (!out.has(peer.id)) out.set(peer.id, peer)
  return [...out.values()].slice(0, max)
}

export const make = (
  options: PeerCacheOptions = {}
) =>
  Effect.gen(function*() {
    const store = yield* KeyValueStore.KeyValueStore
    const scope = yield* Effect.scope
    const maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS
    const writeDelay = Duration.decode(options.writeDelay ?? "1 second")
    /** The current view per key: loaded once, then kept here (the store is only written). */
    const state = new Map<string, ReadonlyArray<CachedPeer>>()
    const dirty = new Set<string>()
    let flushPending = false

    const load = (key: string): Effect.Effect<ReadonlyArray<CachedPeer>> =>
      Effect.suspend(() => {
        const known = state.get(key)
        if (known !== undefined) return Effect.succeed(known)
        return store.get(key).pipe(
          Effect.flatMap((value) => value._tag === "None" ? Effect.succeed([]) : decodeStored(value.value)),
          Effect.catchAll((error) =>
            Effect.as(Effect.logWarning("peer cache: stored value ignored", { error: error._tag }), [])
          ),
          Effect.map((peers) => {
            // A `seen` that ran while we were reading wins; it already merged what was there.
            const raced = state.get(key)
            if (raced !== undefined) return raced
            const bounded = peers.slice(0, maxPeers)
            state.set(key, bounded)
            return bounded
          })
        )
      })

    const write = (key: string) =>
      Effect.suspend(() => {
        const peers = state.get(key) ?? []
        return store.set(key, Schema.encodeSync(Stored)({ version: 1, peers }))
      }).pipe(Effect.catchAll((error) => Effect.logWarning("peer cache: write failed", { error: error.message })))

    const flush = Effect.suspend(() => {
      flushPending = false
      const keys = [...dirty]
      dirty.clear()
      return Effect.forEach(keys, write, { discard: true })
    })
    yield* Effect.addFinalizer(() => flush)

    const scheduleFlush = Effect.suspend(() => {
      if (flushPending) return Effect.void
      flushPending = true
      return Effect.asVoid(Effect.forkIn(Effect.zipRight(Effect.sleep(writeDelay), flush), scope))
    })

    const service: PeerCacheService = {
      recall: (topicHash) => load(keyOf(topicHash)),
      seen: (topicHash, peers) => {
        const key = keyOf(topicHash)
        return Effect.flatMap(load(key), (older) =>
          Effect.suspend(() => {
            state.set(key, merge(state.get(key) ?? older, peers, maxPeers))
            dirty.add(key)
            return scheduleFlush
          }))
      }
    }
    return service
  })

/** A peer cache over the context's `KeyValueStore`; pending writes are flushed when the layer is released. */
export const layer = (options: PeerCacheOptions = {}): Layer.Layer<PeerCache, never, KeyValueStore.KeyValueStore> =>
  Layer.scoped(PeerCache, make(options))
