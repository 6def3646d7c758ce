/**
 * A way to find an endpoint's addresses from its id alone, and to make our own findable. The driver asks its
 * lookups when the address book has nothing for a peer it must dial, and publishes our addresses whenever they
 * change. `AddressLookup.dht` (below) stores them on the mainline DHT in iroh's own pkarr format.
 *
 * ```ts
 * // Gossip whose peers are dialled by bare id, addresses found on the DHT (needs Dht, Crypto, NodeIdentity).
 * const gossip = Layer.unwrapScoped(
 *   Effect.map(AddressLookup.dht(), (lookup) => GossipIroh.layer({ lookups: [lookup] }))
 * )
 * ```
 */
import { Crypto, Dht, EndpointId, NodeIdentity } from "@dtt/core"
import { Clock, Duration, Effect, Metric, Option, type Scope } from "effect"
import * as Pkarr from "./internal/pkarr.js"
import type { DialAddr } from "./net/endpoint.js"

export interface AddressLookup {
  readonly name: string
  readonly resolve: (id: EndpointId.EndpointId) => Effect.Effect<Option.Option<DialAddr>, unknown>
  readonly publish: (addr: DialAddr) => Effect.Effect<void, unknown>
}

export { PkarrDecodeError, PkarrEncodeError } from "./internal/pkarr.js"

/**
 * How often an unchanged record is put again. iroh's DHT lookup uses 1 hour; storing nodes keep items for about
 * 2 hours (BEP44's suggestion, libtorrent's default) and the nodes closest to our key change as the DHT churns,
 * so hourly refreshes keep the record findable at one put per hour per node.
 */
export const DEFAULT_REPUBLISH_INTERVAL: Duration.Duration = Duration.hours(1)

/** Address records put again because a presence check found them missing from the DHT. */
export const recordsRestored = Metric.counter("gossip_iroh_address_records_restored", {
  description: "own pkarr address records put again after a check found the DHT no longer held them",
  incremental: true
})

export interface DhtLookupOptions {
  /** TTL written into the TXT records (iroh: 30 s). Only DNS caches read it. */
  readonly ttl?: number
  /** Default `DEFAULT_REPUBLISH_INTERVAL`. */
  readonly republishInterval?: Duration.DurationInput
  /**
   * After a failed put (the DHT client may still be bootstrapping when the endpoint first reports its address),
   * the record is put again after this long, doubling on each further failure up to `republishInterval`.
   * Default 30 s.
   */
  readonly retryInterval?: Duration.DurationInput
  /**
   * Not in iroh: read our own record this often and put it again at once when the DHT no longer holds it (its
   * storing nodes restarted or churned away; a private DHT that was restarted holds nothing). Without this the
   * record is missing until the next hourly republish, and nobody can dial us by id. One get per interval.
   * Default 60 s; 0 = never.
   */
  readonly presenceCheckInterval?: Duration.DurationInput
  /**
   * What to publish. `all` (default): relay URL and direct addresses, so endpoints without relays (the
   * `minimal` preset, private networks, tests) can be dialled by id. `relay-only`: what iroh's own DHT lookup
   * publishes by default, for endpoints that prefer not to expose their IP addresses on a public DHT.
   */
  readonly addresses?: "all" | "relay-only"
  /**
   * Which record `resolve` answers with. `first` (default, not in iroh): the first record a storing node returns
   * that decodes to an address, without waiting for the rest of the lookup. A joiner dials the peer it just read
   * from a topic record and this takes the lookup's slowest storing nodes off that path; the cost is that a node
   * which restarted on new addresses may, for as long as an outdated storing node still holds its old record, be
   * looked up at the old one (the dial fails and the bootstrap goes on to the next candidate). `newest`: collect
   * the whole lookup and take the newest record, as iroh does.
   */
  readonly resolve?: "first" | "newest"
  /** Resolve only, never publish. Default false. */
  readonly resolveOnly?: boolean
}

const NO_SALT = new Uint8Array(0)

/**
 * Endpoint addresses on the mainline DHT as pkarr records (BEP44 item under the endpoint's own key, no salt,
 * seq = microseconds, value = DNS packet with `_iroh` TXT records): the records Rust iroh's mainline address
 * lookup writes and reads, so Rust and TypeScript endpoints resolve each other.
 *
 * `publish` signs a new record when the addresses change (seq strictly above anything seen before, so a
 * restarted node with a slow clock still wins) and puts it; a background fiber in the current scope puts the
 * newest record again every `republishInterval`, or sooner (`retryInterval`, doubling) after a failed put.
 * `resolve` answers with the first record that decodes to an address (or the newest one, `resolve: "newest"`).
 */
export const dht = (
  options: DhtLookupOptions = {}
): Effect.Effect<AddressLookup, never, Dht.Dht | Crypto.Crypto | NodeIdentity.NodeIdentity | Scope.Scope> =>
  Effect.gen(function*() {
    const dhtService = yield* Dht.Dht
    const crypto = yield* Crypto.Crypto
    const identity = yield* NodeIdentity.NodeIdentity
    const ttl = options.ttl ?? Pkarr.DEFAULT_TTL
    const lock = yield* Effect.makeSemaphore(1)
    const republishMillis = Duration.toMillis(options.republishInterval ?? DEFAULT_REPUBLISH_INTERVAL)
    const retryMillis = Math.min(Duration.toMillis(options.retryInterval ?? Duration.seconds(30)), republishMillis)
    const checkMillis = Duration.toMillis(options.presenceCheckInterval ?? Duration.seconds(60))
    let checkAt = Number.POSITIVE_INFINITY
    let current: { readonly packet: Uint8Array; readonly item: Dht.MutableItem } | undefined
    let lastSeq: bigint | undefined
    /** When the background fiber should put `current` again, and how many puts of it failed in a row. */
    let dueAt = Number.POSITIVE_INFINITY
    let failures = 0

    const put = (item: Dht.MutableItem) =>
      dhtService.putMutable(item).pipe(
        Effect.tapBoth({
          onSuccess: () =>
            Effect.map(Clock.currentTimeMillis, (now) => {
              if (current?.item !== item) return
              failures = 0
              dueAt = now + republishMillis
              if (checkMillis > 0) checkAt = now + checkMillis
            }),
          onFailure: () =>
            Effect.map(Clock.currentTimeMillis, (now) => {
              if (current?.item !== item) return
              failures++
              dueAt = now + Math.min(retryMillis * 2 ** Math.min(failures - 1, 30), republishMillis)
            })
        })
      )

    /** A seq above our last one and above whatever the DHT still holds from an earlier run. */
    const nextSeq = Effect.gen(function*() {
      if (lastSeq === undefined) {
        const stored = yield* dhtService.getMutable(identity.publicKey, NO_SALT).pipe(
          Effect.orElseSucceed((): ReadonlyArray<Dht.MutableItem> => [])
        )
        lastSeq = stored.reduce((max, item) => (item.seq > max ? item.seq : max), -1n)
      }
      const nowMicros = (yield* Clock.currentTimeNanos) / 1000n
      const seq = nowMicros > lastSeq ? nowMicros : lastSeq + 1n
      lastSeq = seq
      return seq
    })

    const publish = (addr: DialAddr) =>
      Effect.gen(function*() {
        if (addr.id !== identity.endpointId) {
          return yield* new Pkarr.PkarrEncodeError({ reason: `cannot publish for ${addr.id}: not our endpoint` })
        }
        const info: Pkarr.EndpointInfo = {
          relayUrls: addr.relayUrl === undefined ? [] : [addr.relayUrl],
          directAddresses: options.addresses === "relay-only" ? [] : addr.directAddresses
        }
        // iroh publishes nothing when there is nothing to reach.
        if (info.relayUrls.length === 0 && info.directAddresses.length === 0) return
        const packet = yield* Pkarr.encodePacket(identity.publicKey, info, ttl)
        const item = yield* lock.withPermits(1)(
          Effect.gen(function*() {
            if (current !== undefined && Buffer.from(current.packet).equals(packet)) return undefined
            const seq = yield* nextSeq
            const item = Pkarr.signedItem((m) => crypto.sign(identity.secretKey, m), identity.publicKey, seq, packet)
            current = { packet, item }
            return item
          })
        )
        if (item !== undefined) yield* put(item)
      })

    /** True when some storing node answered with our current record (or a newer one of ours). */
    const stillHeld = (item: Dht.MutableItem) =>
      dhtService.getMutable(identity.publicKey, NO_SALT).pipe(
        Effect.map((items) => items.some((held) => held.seq >= item.seq)),
        // A failed read says nothing about the record; the next check asks again.
        Effect.orElseSucceed(() => true)
      )

    if (options.resolveOnly !== true) {
      // Wakes every `retryInterval` (or the check interval, if shorter; a timer, no traffic) and works only when due.
      const tickMillis = checkMillis > 0 ? Math.min(retryMillis, checkMillis) : retryMillis
      yield* Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        if (current === undefined) return
        if (now >= dueAt) return yield* Effect.ignore(put(current.item))
        if (now < checkAt) return
        checkAt = now + checkMillis
        const item = current.item
        if (yield* stillHeld(item)) return
        yield* Effect.logDebug("address lookup: our record is gone from the DHT, putting it again")
        yield* Metric.increment(recordsRestored)
        yield* Effect.ignore(put(item))
      }).pipe(Effect.delay(Duration.millis(tickMillis)), Effect.forever, Effect.forkScoped)
    }

    const resolve = (id: EndpointId.EndpointId) =>
      Effect.gen(function*() {
        const publicKey = EndpointId.toBytes(id)
        const dialAddr = (info: Pkarr.EndpointInfo | undefined) =>
          info === undefined || (info.relayUrls.length === 0 && info.directAddresses.length === 0)
            ? Option.none<DialAddr>()
            : Option.some<DialAddr>({ id, relayUrl: info.relayUrls[0], directAddresses: info.directAddresses })
        if (options.resolve === "newest") {
          return dialAddr(Pkarr.newestInfo(publicKey, yield* dhtService.getMutable(publicKey, NO_SALT)))
        }
        return yield* Dht.firstMutable(dhtService, publicKey, NO_SALT, (item) =>
          dialAddr(Pkarr.newestInfo(publicKey, [item])))
      })

    return {
      name: "dht",
      resolve,
      publish: options.resolveOnly === true ? () => Effect.void : publish
    } satisfies AddressLookup
  })
