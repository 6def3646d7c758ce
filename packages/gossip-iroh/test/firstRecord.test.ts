// `AddressLookup.dht` resolving on the first address record a storing node returns (issue 12, a shorter join
// path): the rest of the lookup (slow or silent storing nodes) is not waited for. TestClock, a transport double.
import { Crypto, Dht, NodeIdentity } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, Stream, TestClock } from "effect"
import * as AddressLookup from "../src/AddressLookup.js"

const ADDR = ["127.0.0.1:4433"]

/** The address record `AddressLookup.dht` puts for `identity` (captured from a stub DHT). */
const recordOf = (identity: NodeIdentity.NodeIdentity) =>
  Effect.gen(function*() {
    let stored: Dht.MutableItem | undefined
    const stub: Dht.DhtService = {
      getMutable: () => Effect.succeed([]),
      putMutable: (item) => Effect.sync(() => ((stored = item), { storedAt: 1, attempts: 1 }))
    }
    const lookup = yield* AddressLookup.dht({ presenceCheckInterval: 0 }).pipe(
      Effect.provideService(Dht.Dht, stub),
      Effect.provideService(NodeIdentity.NodeIdentity, identity),
      Effect.provide(Crypto.layerNode)
    )
    yield* lookup.publish({ id: identity.endpointId, relayUrl: undefined, directAddresses: ADDR })
    return stored!
  })

/** A DHT whose lookups return `items` at once and then never finish (the other storing nodes stay silent). */
const stalling = (items: ReadonlyArray<Dht.MutableItem>, lookups: { count: number }): Dht.DhtService =>
  Dht.make({
    lookup: () =>
      Stream.concat(
        Stream.fromIterable(items),
        Stream.fromEffect(Effect.sync(() => void lookups.count++)).pipe(Stream.drain, Stream.concat(Stream.never))
      ),
    store: () => Effect.succeed({ storedAt: 1 })
  })

const resolverOn = (dht: Dht.DhtService, options: AddressLookup.DhtLookupOptions = {}) =>
  AddressLookup.dht({ ...options, resolveOnly: true }).pipe(
    Effect.provideService(Dht.Dht, dht),
    Effect.provideService(NodeIdentity.NodeIdentity, NodeIdentity.fromSecretKey(new Uint8Array(32).fill(9))),
    Effect.provide(Crypto.layerNode)
  )

describe("AddressLookup.dht resolve", () => {
  it.scoped("answers with the first record that decodes, without waiting for the rest of the lookup", () =>
    Effect.gen(function*() {
      const peer = NodeIdentity.fromSecretKey(new Uint8Array(32).fill(5))
      const item = yield* recordOf(peer)
      const garbage: Dht.MutableItem = { ...item, seq: item.seq + 1n, value: new Uint8Array([1, 2, 3]) }
      const lookups = { count: 0 }
      const lookup = yield* resolverOn(stalling([garbage, item], lookups))
      const fiber = yield* Effect.fork(lookup.resolve(peer.endpointId))
      // Well below the DHT's getTimeout (10 s), after which a collecting get returns what it has.
      yield* TestClock.adjust("100 millis")
      const answer = yield* Fiber.poll(fiber)
      expect(Option.isSome(answer), "resolve still waiting for the lookup to end").toBe(true)
      const resolved = Option.getOrThrow(answer)
      expect(resolved._tag).toBe("Success")
      if (resolved._tag === "Success") expect(Option.getOrThrow(resolved.value).directAddresses).toEqual(ADDR)
      // The record came first: the lookup was abandoned before it reached its silent end.
      expect(lookups.count).toBe(0)
    }))

  it.scoped("resolve: newest still collects the whole lookup (until getTimeout)", () =>
    Effect.gen(function*() {
      const peer = NodeIdentity.fromSecretKey(new Uint8Array(32).fill(6))
      const item = yield* recordOf(peer)
      const lookup = yield* resolverOn(stalling([item], { count: 0 }), { resolve: "newest" })
      const fiber = yield* Effect.fork(lookup.resolve(peer.endpointId))
      yield* TestClock.adjust("100 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("10 seconds")
      const found = yield* Fiber.join(fiber)
      expect(Option.getOrThrow(found).directAddresses).toEqual(ADDR)
    }))
})
