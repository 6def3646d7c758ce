// `AddressLookup.dht`: its publishing schedule under TestClock with a stub DHT, and publishing, resolving and
// replacing iroh endpoint records on a loopback mainline DHT. The record format itself is in pkarr.test.ts.
import { Crypto, Dht, NodeIdentity } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Either, Exit, Layer, Option, Schedule, type Scope, Stream, TestClock } from "effect"
import * as AddressLookup from "../src/AddressLookup.js"
import * as GossipIroh from "../src/GossipIroh.js"
import * as Pkarr from "../src/internal/pkarr.js"

const ascii = (s: string) => new TextEncoder().encode(s)

/**
 * A stub DHT whose `get` answers `held()` and whose `put` notes the (Test)Clock time in `puts`, then answers what
 * `onPut` says for the item.
 */
const stubDht = (
  held: () => ReadonlyArray<Dht.MutableItem>,
  onPut: (item: Dht.MutableItem) => Effect.Effect<Dht.PutReceipt, Dht.DhtError>
) => {
  const puts: Array<number> = []
  const stub: Dht.DhtService = {
    getMutable: () => Effect.sync(held),
    putMutable: (item) => Effect.flatMap(Clock.currentTimeMillis, (now) => (puts.push(now), onPut(item)))
  }
  return { puts, stub }
}

/** `AddressLookup.dht(options)` on `stub` for the identity whose secret key is 32 bytes of `seed`. */
const lookupOnStub = (stub: Dht.DhtService, seed: number, options?: AddressLookup.DhtLookupOptions) => {
  const identity = NodeIdentity.fromSecretKey(new Uint8Array(32).fill(seed))
  return AddressLookup.dht(options).pipe(
    Effect.provideService(Dht.Dht, stub),
    Effect.provideService(NodeIdentity.NodeIdentity, identity),
    Effect.provide(Crypto.layerNode),
    Effect.map((lookup) => ({ identity, lookup }))
  )
}

describe("AddressLookup.dht publishing schedule (TestClock, stub DHT)", () => {
  it.scoped("a failed put is retried after retryInterval, doubling; then the record is put again hourly", () =>
    Effect.gen(function*() {
      const items: Array<Dht.MutableItem> = []
      let failuresLeft = 2
      const { puts, stub } = stubDht(() => [], (item) => {
        items.push(item)
        return failuresLeft-- > 0
          ? Effect.fail(new Dht.DhtUnavailable({ reason: "still bootstrapping" }))
          : Effect.succeed({ storedAt: 1, attempts: 1 })
      })
      // This stub never holds anything: presence checks (tested below) would put it again every minute.
      const { identity, lookup } = yield* lookupOnStub(stub, 3, { presenceCheckInterval: 0 })
      const addr = { id: identity.endpointId, relayUrl: undefined, directAddresses: ["127.0.0.1:1"] }
      expect(Exit.isFailure(yield* Effect.exit(lookup.publish(addr)))).toBe(true)
      yield* TestClock.adjust("30 seconds") // retry 1 (fails): next in 60 s
      yield* TestClock.adjust("60 seconds") // retry 2 succeeds: next in 1 h
      yield* TestClock.adjust("59 minutes")
      expect(puts).toEqual([0, 30_000, 90_000])
      yield* TestClock.adjust("1 minute")
      expect(puts).toEqual([0, 30_000, 90_000, 3_690_000])
      expect(items.every((item) => item === items[0])).toBe(true)
      // Publishing the same addresses again changes nothing; new addresses are a new record, put at once.
      yield* lookup.publish(addr)
      expect(puts.length).toBe(4)
      yield* lookup.publish({ ...addr, directAddresses: ["127.0.0.1:2"] })
      expect(puts.length).toBe(5)
      expect(items[4]!.seq).toBeGreaterThan(items[0]!.seq)
    }))

  it.scoped("a record the DHT lost (storing nodes restarted) is put again within a check interval; a held one is not", () =>
    Effect.gen(function*() {
      let held: Array<Dht.MutableItem> = []
      let gets = 0
      const { puts, stub } = stubDht(() => (gets++, held), (item) => {
        held = [item]
        return Effect.succeed({ storedAt: 1, attempts: 1 })
      })
      const { identity, lookup } = yield* lookupOnStub(stub, 4)
      yield* lookup.publish({ id: identity.endpointId, relayUrl: undefined, directAddresses: ["127.0.0.1:1"] })
      const getsAfterPublish = gets
      yield* TestClock.adjust("5 minutes")
      // Held all along: checked about once a minute, never put again.
      expect(puts).toEqual([0])
      expect(gets - getsAfterPublish).toBeGreaterThanOrEqual(4)
      expect(gets - getsAfterPublish).toBeLessThanOrEqual(6)
      held = [] // the DHT restarted empty
      yield* TestClock.adjust("61 seconds")
      expect(puts.length).toBe(2)
      expect(puts[1]!).toBeLessThanOrEqual(5 * 60_000 + 61_000)
      yield* TestClock.adjust("5 minutes")
      expect(puts.length).toBe(2)
    }))
})

// ------------------------------------------------------------------------------------------------------------------
// On a loopback mainline DHT

/** One node's services on the testbed, alive in `scope`. */
const nodeContext = (bed: Testbed.Testbed, scope: Scope.Scope, identity = NodeIdentity.generate()) =>
  Layer.buildWithScope(
    Layer.mergeAll(
      bed.clientLayer({ retries: 0, getTimeout: Duration.seconds(5), putTimeout: Duration.seconds(5) }),
      Crypto.layerNode,
      Layer.succeed(NodeIdentity.NodeIdentity, identity)
    ),
    scope
  ).pipe(Effect.map((context) => ({ context, identity })))

/** A 12-node testbed and two nodes' services on it, alive in the test's scope. */
const twoNodes = Effect.gen(function*() {
  const bed = yield* Testbed.make({ size: 12 }).pipe(Effect.provide(Crypto.layerNode))
  const scope = yield* Effect.scope
  return { bed, a: yield* nodeContext(bed, scope), b: yield* nodeContext(bed, scope) }
})

const NO_SALT = new Uint8Array(0)

describe("AddressLookup.dht on a loopback mainline DHT", () => {
  it.scopedLive(
    "publishes iroh records, resolves them, and a newer record replaces an older one",
    () =>
      Effect.gen(function*() {
        const { a, b, bed } = yield* twoNodes
        const lookupA = yield* AddressLookup.dht().pipe(Effect.provide(a.context))
        const lookupB = yield* AddressLookup.dht({ resolveOnly: true }).pipe(Effect.provide(b.context))
        const id = a.identity.endpointId
        expect(yield* lookupB.resolve(id)).toEqual(Option.none())

        const first = { id, relayUrl: undefined, directAddresses: ["127.0.0.1:40001"] }
        yield* lookupA.publish(first)
        const stored = bed.storedItems(a.identity.publicKey, NO_SALT)
        expect(stored.length).toBeGreaterThan(0)
        const packet = Either.getOrThrow(
          Pkarr.encodePacket(a.identity.publicKey, { relayUrls: [], directAddresses: first.directAddresses })
        )
        expect(stored.every((item) => Buffer.from(item.value).equals(packet))).toBe(true)
        const seq1 = stored[0]!.seq
        const nowMicros = BigInt(Date.now()) * 1000n
        expect(seq1 > nowMicros - 60_000_000n && seq1 <= nowMicros + 1000n).toBe(true)
        expect(yield* lookupB.resolve(id)).toEqual(Option.some(first))

        const second = { id, relayUrl: "https://relay.example/", directAddresses: ["127.0.0.1:40002", "[::1]:40002"] }
        yield* lookupA.publish(second)
        expect(yield* lookupB.resolve(id)).toEqual(Option.some(second))
        expect(bed.storedItems(a.identity.publicKey, NO_SALT).every((item) => item.seq > seq1)).toBe(true)

        // Someone else's id: nothing; our own lookup refuses to publish for another id.
        expect(yield* lookupA.resolve(b.identity.endpointId)).toEqual(Option.none())
        expect(Exit.isFailure(yield* Effect.exit(lookupA.publish({ ...first, id: b.identity.endpointId })))).toBe(true)
      }),
    30_000
  )

  it.scopedLive(
    "a restarted node publishes above the seq the DHT still holds; republish puts the record again",
    () =>
      Effect.gen(function*() {
        const bed = yield* Testbed.make({ size: 8, rule: "first-writer-wins" }).pipe(Effect.provide(Crypto.layerNode))
        const scope = yield* Effect.scope
        const a = yield* nodeContext(bed, scope)
        const crypto = Crypto.make("node")
        // An earlier run whose clock was an hour ahead left a record behind.
        const future = (BigInt(Date.now()) + 3_600_000n) * 1000n
        const stale = Either.getOrThrow(
          Pkarr.encodePacket(a.identity.publicKey, { relayUrls: [], directAddresses: ["10.9.9.9:9"] })
        )
        yield* bed.storeOnDistinctNodes([
          Pkarr.signedItem((m) => crypto.sign(a.identity.secretKey, m), a.identity.publicKey, future, stale)
        ])
        const lookup = yield* AddressLookup.dht({ republishInterval: "300 millis" }).pipe(Effect.provide(a.context))
        const addr = { id: a.identity.endpointId, relayUrl: undefined, directAddresses: ["127.0.0.1:40003"] }
        yield* lookup.publish(addr)
        const stored = bed.storedItems(a.identity.publicKey, NO_SALT)
        expect(stored.length).toBeGreaterThan(0)
        expect(stored.every((item) => item.seq === future + 1n)).toBe(true)
        // The republish loop puts the same signed record again, every interval.
        const seen: Array<Dht.MutableItem> = []
        const counting = Layer.effect(
          Dht.Dht,
          Effect.map(Dht.Dht, (inner) => ({
            ...inner,
            putMutable: (item: Dht.MutableItem, options?: Dht.PutOptions) =>
              Effect.zipRight(Effect.sync(() => seen.push(item)), inner.putMutable(item, options))
          }))
        ).pipe(Layer.provide(Layer.succeedContext(a.context)))
        const again = yield* AddressLookup.dht({ republishInterval: "300 millis", retryInterval: "100 millis" }).pipe(
          Effect.provide(Layer.merge(Layer.succeedContext(a.context), counting))
        )
        yield* again.publish({ ...addr, directAddresses: ["127.0.0.1:40004"] })
        yield* Effect.sleep("1 second")
        expect(seen.length).toBeGreaterThanOrEqual(3)
        expect(seen.every((item) => item === seen[0])).toBe(true)
        expect(seen[0]!.seq).toBe(future + 2n)
      }),
    30_000
  )

  it.scopedLive(
    "node B dials node A knowing only its bare endpoint id (relays off, minimal preset) and they gossip",
    () =>
      Effect.gen(function*() {
        const { a, b, bed } = yield* twoNodes
        const resolved: Array<string> = []
        const gossipOf = (ctx: typeof a.context) =>
          Effect.gen(function*() {
            const dht = yield* AddressLookup.dht()
            const lookup: AddressLookup.AddressLookup = {
              ...dht,
              resolve: (id) =>
                Effect.tap(dht.resolve(id), (found) => Effect.sync(() => Option.isSome(found) && resolved.push(id)))
            }
            return yield* GossipIroh.make({ preset: "minimal", relay: { _tag: "Disabled" }, lookups: [lookup] })
          }).pipe(Effect.provide(ctx))
        const gossipA = yield* gossipOf(a.context)
        const gossipB = yield* gossipOf(b.context)
        // A publishes its address by itself (the driver hands its address to the lookup at start).
        yield* Effect.suspend(() =>
          bed.storedItems(a.identity.publicKey, NO_SALT).length > 0 ? Effect.void : Effect.fail("not yet")
        ).pipe(Effect.retry(Schedule.spaced("50 millis")), Effect.timeout("10 seconds"))
        const topic = new Uint8Array(32).fill(42)
        const ta = yield* gossipA.subscribe(topic, [])
        const tb = yield* gossipB.subscribe(topic, [a.identity.endpointId])
        yield* tb.joined.pipe(Effect.timeout("15 seconds"))
        yield* ta.joined.pipe(Effect.timeout("15 seconds"))
        expect(yield* ta.neighbors).toEqual([b.identity.endpointId])
        // B found A's address through the DHT record (A then learned B's from the connection itself).
        expect(resolved).toContain(a.identity.endpointId)
        yield* ta.broadcast(ascii("hello over the DHT"))
        const got = yield* tb.events.pipe(
          Stream.filter((e) => e._tag === "Received"),
          Stream.runHead,
          Effect.timeout("10 seconds")
        )
        expect(Option.isSome(got)).toBe(true)
        if (Option.isSome(got) && got.value._tag === "Received") {
          expect(new TextDecoder().decode(got.value.content)).toBe("hello over the DHT")
          expect(got.value.deliveredFrom).toBe(a.identity.endpointId)
        }
      }),
    45_000
  )
})
