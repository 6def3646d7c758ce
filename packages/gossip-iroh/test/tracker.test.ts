/**
 * End-to-end tracker scenarios on real code over loopback: a private mainline DHT (dht-mainline `Testbed`),
 * iroh endpoints running our iroh-gossip port (`GossipIroh`, minimal preset, relays off), each node's address
 * published and resolved as an iroh pkarr record on that DHT (`AddressLookup.dht`), and the core `Topic` API on
 * top. Nobody is given an address or a peer: nodes find each other only through the encrypted topic records on
 * the DHT (bare endpoint ids) and dial those ids through the pkarr records.
 */
import { Config, Crypto, NodeIdentity, Topic, TopicId } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { Overlay } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, Schedule, Scope } from "effect"
import * as AddressLookup from "../src/AddressLookup.js"
import * as GossipIroh from "../src/GossipIroh.js"

const TOPIC = TopicId.fromName("dtt-gossip-iroh-e2e")
const SECRET = "dtt-gossip-iroh-e2e-secret"
const NO_SALT = new Uint8Array(0)

interface Node {
  readonly identity: NodeIdentity.NodeIdentity
  readonly topic: Topic.Topic
  readonly lookups: { resolved: number }
}

/** Identity, crypto, a DHT client on the testbed, and GossipIroh whose only address source is the DHT. */
const nodeLayer = (bed: Testbed.Testbed, identity: NodeIdentity.NodeIdentity, counter: { resolved: number }) => {
  const base = Layer.mergeAll(bed.clientLayer(), Crypto.layerNode, Layer.succeed(NodeIdentity.NodeIdentity, identity))
  const gossip = Layer.unwrapScoped(
    Effect.map(AddressLookup.dht(), (dht) =>
      GossipIroh.layer({
        preset: "minimal",
        relay: { _tag: "Disabled" },
        lookups: [
          {
            ...dht,
            resolve: (id) => Effect.tap(dht.resolve(id), () => Effect.sync(() => void counter.resolved++))
          }
        ]
      }))
  )
  return Layer.provideMerge(gossip, base)
}

/**
 * Starts nodes, each in its own scope; all of them close together (concurrently) when the test's scope closes.
 * A node's shutdown waits for its Disconnects to flush (about a second): one after the other, ten nodes would
 * add ten seconds to a test.
 */
const nodeStarter = (bed: Testbed.Testbed) =>
  Effect.gen(function*() {
    const scopes: Array<Scope.CloseableScope> = []
    yield* Effect.addFinalizer((exit) =>
      Effect.forEach(scopes, (scope) => Scope.close(scope, exit), { concurrency: "unbounded", discard: true })
    )
    return (config: Config.Config = Config.defaults) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        scopes.push(scope)
        const identity = NodeIdentity.generate()
        const lookups = { resolved: 0 }
        const context = yield* Layer.buildWithScope(nodeLayer(bed, identity, lookups), scope)
        const topic = yield* Topic.joinNoWait(TOPIC, { secret: SECRET, config }).pipe(
          Effect.provide(context),
          Scope.extend(scope)
        )
        return { identity, topic, lookups } satisfies Node
      })
  })

const waitUntil = (what: string, condition: Effect.Effect<boolean>, limit: Duration.DurationInput) =>
  Effect.gen(function*() {
    const started = Date.now()
    yield* Effect.filterOrFail(condition, (ok) => ok, () => what).pipe(
      Effect.retry(Schedule.spaced("100 millis")),
      Effect.timeoutFail({
        duration: limit,
        onTimeout: () => new Error(`timed out (${Duration.format(limit)}) waiting for: ${what}`)
      })
    )
    return Date.now() - started
  })

const allJoined = (nodes: ReadonlyArray<Node>) =>
  Effect.map(Effect.forEach(nodes, (n) => n.topic.isJoined), (js) => js.every(Boolean))

/** Connected components of the (undirected) neighbour graph. */
const components = (nodes: ReadonlyArray<Node>) =>
  Effect.gen(function*() {
    const adjacent = new Map<string, Set<string>>(nodes.map((n) => [n.identity.endpointId, new Set<string>()]))
    for (const n of nodes) {
      for (const peer of yield* n.topic.neighbors) {
        adjacent.get(n.identity.endpointId)?.add(peer)
        adjacent.get(peer)?.add(n.identity.endpointId)
      }
    }
    const seen = new Set<string>()
    const sizes: Array<number> = []
    for (const start of adjacent.keys()) {
      if (seen.has(start)) continue
      const component = Overlay.reachable(adjacent, start)
      for (const id of component) seen.add(id)
      sizes.push(component.size)
    }
    return sizes
  })

const received = (receiver: Topic.Receiver, text: string) =>
  Effect.gen(function*() {
    while (true) {
      const event = yield* receiver.next
      if (event._tag === "Received" && new TextDecoder().decode(event.content) === text) return
    }
  })

/** Every node's pkarr record is on the DHT, and at least one dial went through it. */
const expectAddressesFromDht = (bed: Testbed.Testbed, nodes: ReadonlyArray<Node>) => {
  for (const n of nodes) expect(bed.storedItems(n.identity.publicKey, NO_SALT).length).toBeGreaterThan(0)
  expect(nodes.reduce((sum, n) => sum + n.lookups.resolved, 0)).toBeGreaterThan(0)
}

const testbed = (size: number): Effect.Effect<Testbed.Testbed, unknown, Scope.Scope> =>
  Testbed.make({ size }).pipe(Effect.provide(Crypto.layerNode))

/** A 16-node testbed and two tracker nodes on it, once both joined (within `limit`); `took` is how long that took. */
const twoJoined = (limit: Duration.DurationInput) =>
  Effect.gen(function*() {
    const bed = yield* testbed(16)
    const startNode = yield* nodeStarter(bed)
    const a = yield* startNode()
    const b = yield* startNode()
    const took = yield* waitUntil("a and b joined", allJoined([a, b]), limit)
    return { a, b, bed, startNode, took }
  })

describe("tracker end to end: Topic + GossipIroh + AddressLookup.dht on a loopback mainline DHT", () => {
  it.scopedLive(
    "two nodes with the default config join each other",
    () =>
      Effect.gen(function*() {
        const { a, b, bed, took } = yield* twoJoined("45 seconds")
        expect(yield* a.topic.neighbors).toContain(b.identity.endpointId)
        expect(yield* b.topic.neighbors).toContain(a.identity.endpointId)
        expectAddressesFromDht(bed, [a, b])
        console.log(`two nodes (default config) joined after ${took} ms`)
      }),
    60_000
  )

  it.scopedLive(
    "a late joiner joins a running topic and its broadcast reaches both earlier nodes",
    () =>
      Effect.gen(function*() {
        const { a, b, bed, startNode } = yield* twoJoined("30 seconds")
        yield* Effect.sleep("2 seconds")
        const c = yield* startNode()
        const took = yield* waitUntil("c joined", c.topic.isJoined, "30 seconds")
        const ns = yield* c.topic.neighbors
        expect(ns.some((n) => n === a.identity.endpointId || n === b.identity.endpointId)).toBe(true)
        const receivers = yield* Effect.forEach([a, b], (n) => n.topic.receiver)
        const [sender] = yield* c.topic.split
        yield* sender.broadcast(new TextEncoder().encode("late hello"))
        yield* Effect.forEach(receivers, (r) => received(r, "late hello"), { concurrency: "unbounded" }).pipe(
          Effect.timeout("10 seconds")
        )
        expectAddressesFromDht(bed, [a, b, c])
        console.log(`late joiner (default config) joined after ${took} ms`)
      }),
    60_000
  )

  it.scopedLive(
    "10 nodes end in one connected swarm and a broadcast reaches all",
    () =>
      Effect.gen(function*() {
        const t0 = Date.now()
        const bed = yield* testbed(20)
        const startNode = yield* nodeStarter(bed)
        const nodes: Array<Node> = []
        for (let i = 0; i < 10; i++) {
          nodes.push(yield* startNode())
          yield* Effect.sleep("200 millis")
        }
        const took = yield* waitUntil(
          "one component, nobody isolated",
          Effect.map(components(nodes), (sizes) => sizes.length === 1),
          "45 seconds"
        )
        expect(yield* components(nodes)).toEqual([10])
        const receivers = yield* Effect.forEach(nodes.slice(1), (n) => n.topic.receiver)
        const [sender] = yield* nodes[0]!.topic.split
        yield* sender.broadcast(new TextEncoder().encode("hello swarm"))
        yield* Effect.forEach(receivers, (r) => received(r, "hello swarm"), { concurrency: "unbounded" }).pipe(
          Effect.timeout("10 seconds")
        )
        expectAddressesFromDht(bed, nodes)
        console.log(
          `10 nodes (default config) in one swarm ${took} ms after the last start; total ${Date.now() - t0} ms`
        )
      }),
    60_000
  )
})
