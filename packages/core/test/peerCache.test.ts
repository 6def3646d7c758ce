import { Crypto, Dht, type EndpointId, NodeIdentity, PeerCache, Topic } from "@dtt/core"
import { MemoryGossip, SimNetwork } from "@dtt/testkit"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Either, Exit, Fiber, Layer, Option, Schema } from "effect"
import { advance, advanceUntil, SECRET, startNode, TOPIC } from "./support/sim.js"

/** A DHT that never answers: every get and put hangs. */
const silentDht = Layer.succeed(Dht.Dht, {
  getMutable: () => Effect.never,
  putMutable: () => Effect.never
})

const storeWith = (entries: ReadonlyArray<readonly [string, string]>) =>
  Effect.gen(function*() {
    const store = Context.get(yield* Layer.build(KeyValueStore.layerMemory), KeyValueStore.KeyValueStore)
    for (const [key, value] of entries) yield* store.set(key, value)
    return store
  })

const encoded = (peers: ReadonlyArray<PeerCache.CachedPeer>) =>
  Schema.encodeSync(PeerCache.Stored)({ version: 1, peers })

/** Node `index` of `sim` with the silent DHT and, when `store` is given, a peer cache over it. */
const isolatedNode = (
  sim: SimNetwork.SimNetwork,
  index: number,
  store: Option.Option<KeyValueStore.KeyValueStore>
) => {
  const identity = Layer.succeed(NodeIdentity.NodeIdentity, sim.identity(index))
  const base = Layer.mergeAll(silentDht, MemoryGossip.layer(sim.gossip), Crypto.layerNode).pipe(
    Layer.provideMerge(identity)
  )
  const withCache = Option.match(store, {
    onNone: () => base,
    onSome: (s) =>
      Layer.merge(base, PeerCache.layer().pipe(Layer.provide(Layer.succeed(KeyValueStore.KeyValueStore, s))))
  })
  return Layer.build(withCache)
}

/** Join on `context` with a 20 s timeout, driving the TestClock until the join settles. */
const joinSettled = (context: Context.Context<Topic.Requirements>) =>
  Effect.gen(function*() {
    const joining = yield* Effect.fork(
      Effect.provide(Topic.join(TOPIC, { secret: SECRET, timeout: "20 seconds" }), context)
    )
    yield* advanceUntil(Effect.sync(() => joining.unsafePoll() !== null), "30 seconds")
    return yield* Fiber.await(joining)
  })

/** `joinSettled` on an isolated node (see `isolatedNode`). */
const joinIsolated = (
  sim: SimNetwork.SimNetwork,
  index: number,
  store: Option.Option<KeyValueStore.KeyValueStore>
) => Effect.flatMap(isolatedNode(sim, index, store), joinSettled)

/** Node 0 started on a fresh network, and a store whose cached peers name it. */
const cachedLivePeer = Effect.gen(function*() {
  const sim = yield* SimNetwork.make()
  const a = yield* startNode(sim, 0)
  const store = yield* storeWith([[PeerCache.keyOf(TOPIC.hash), encoded([{ id: a.endpointId }])]])
  return { sim, a, store }
})

describe("PeerCache", () => {
  it.scoped("a node whose DHT never answers joins through a cached live peer", () =>
    Effect.gen(function*() {
      const { a, sim, store } = yield* cachedLivePeer
      const exit = yield* joinIsolated(sim, 1, Option.some(store))
      expect(Exit.isSuccess(exit)).toBe(true)
      if (Exit.isSuccess(exit)) expect(yield* exit.value.neighbors).toContain(a.endpointId)
    }))

  it.scoped("a cache holding only a dead peer does not stop the DHT bootstrap", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const a = yield* startNode(sim, 0)
      const dead = "ab".repeat(32) as EndpointId.EndpointId
      const store = yield* storeWith([[PeerCache.keyOf(TOPIC.hash), encoded([{ id: dead }])]])
      const context = yield* Layer.build(
        Layer.mergeAll(
          sim.node(1),
          Crypto.layerNode,
          PeerCache.layer().pipe(Layer.provide(Layer.succeed(KeyValueStore.KeyValueStore, store)))
        )
      )
      const exit = yield* joinSettled(context)
      expect(Exit.isSuccess(exit)).toBe(true)
      if (Exit.isSuccess(exit)) expect(yield* exit.value.neighbors).toEqual([a.endpointId])
    }))

  it.scoped("without the cache the same node times out", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      yield* startNode(sim, 0)
      const exit = yield* joinIsolated(sim, 1, Option.none())
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("JoinTimeout")
    }))

  it.scoped("corrupt and hostile stored values are ignored: recall is empty, the join times out cleanly", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const a = yield* startNode(sim, 0)
      const hostile = [
        "{not json",
        JSON.stringify({ version: 1, peers: [{ id: "zz" }] }),
        JSON.stringify({ version: 2, peers: [{ id: a.endpointId }] }),
        JSON.stringify({ version: 1, peers: [{ id: a.endpointId, address: "x".repeat(5000) }] }),
        " ".repeat(70_000)
      ]
      for (const value of hostile) {
        expect(Either.isLeft(PeerCache.decodeStored(value))).toBe(true)
        const store = yield* storeWith([[PeerCache.keyOf(TOPIC.hash), value]])
        const cache = Context.get(
          yield* Layer.build(PeerCache.layer().pipe(Layer.provide(Layer.succeed(KeyValueStore.KeyValueStore, store)))),
          PeerCache.PeerCache
        )
        expect(yield* cache.recall(TOPIC.hash)).toEqual([])
      }
      const store = yield* storeWith([[PeerCache.keyOf(TOPIC.hash), hostile[0]!]])
      const exit = yield* joinIsolated(sim, 1, Option.some(store))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("JoinTimeout")
    }))

  it.scoped("a topic joined through the cache writes its neighbour back (after the write delay)", () =>
    Effect.gen(function*() {
      const { a, sim, store: first } = yield* cachedLivePeer
      // Join through the cache, then look at what the same cache wrote back.
      const context = yield* isolatedNode(sim, 1, Option.some(first))
      const topic = yield* Effect.provide(Topic.join(TOPIC, { secret: SECRET }), context).pipe(
        Effect.fork,
        Effect.tap(() => advance("1 second")),
        Effect.flatMap(Fiber.join)
      )
      expect(yield* topic.isJoined).toBe(true)
      yield* advance("2 seconds")
      const written = yield* first.get(PeerCache.keyOf(TOPIC.hash))
      expect(Option.map(written, PeerCache.decodeStored)).toEqual(Option.some(Either.right([{ id: a.endpointId }])))
    }))

  it.scoped("keeps at most 16 peers per topic, most recent first, and writes once per burst", () =>
    Effect.gen(function*() {
      const store = yield* storeWith([])
      let writes = 0
      const counting = KeyValueStore.make({
        get: store.get,
        getUint8Array: store.getUint8Array,
        set: (key, value) => Effect.zipRight(Effect.sync(() => writes++), store.set(key, value)),
        remove: store.remove,
        clear: store.clear,
        size: store.size
      })
      const scope = yield* Effect.scope
      const cache = Context.get(
        yield* Layer.buildWithScope(
          PeerCache.layer().pipe(Layer.provide(Layer.succeed(KeyValueStore.KeyValueStore, counting))),
          scope
        ),
        PeerCache.PeerCache
      )
      const ids = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(64, "0") as EndpointId.EndpointId)
      for (const id of ids) yield* cache.seen(TOPIC.hash, [{ id, address: `addr-${id.slice(-2)}` }])
      yield* cache.seen(TOPIC.hash, [{ id: ids[5]! }])
      const recalled = yield* cache.recall(TOPIC.hash)
      expect(recalled.length).toBe(16)
      // ids[5] seen last (its address kept), then the newest of the rest.
      expect(recalled[0]).toEqual({ id: ids[5], address: "addr-05" })
      expect(recalled.slice(1).map((p) => p.id)).toEqual(
        ids.slice(5).reverse().filter((id) => id !== ids[5]).concat(
          ids.slice(0, 5).reverse()
        ).slice(0, 15)
      )
      expect(writes).toBe(0)
      yield* advance("2 seconds")
      expect(writes).toBe(1)
    }))
})
