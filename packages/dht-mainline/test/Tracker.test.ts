// The tracker of @dtt/core on the real mainline code over loopback: every node's `Dht` is a client of this
// package on a Testbed of storing nodes, the gossip is the testkit's memory network, time is real.
// Nobody is told about anybody: each node learns the others only from records it reads back from the DHT.
import {
  Config,
  Crypto,
  Dht,
  EncryptedRecord,
  type EndpointId,
  GossipRecordContent,
  Keys,
  NodeIdentity,
  Topic,
  TopicId
} from "@dtt/core"
import { MemoryGossip, SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Either, Layer } from "effect"
import { DhtMainline, Testbed } from "../src/index.js"

const TOPIC = TopicId.fromName("dtt-mainline-tracker-test")
const SECRET = "dtt-mainline-tracker-secret"
const SECRET_HASH = Keys.initialSecretHash(SECRET)

/** A DHT value read or held somewhere, opened as the tracker would: who published it, whom it advertises. */
interface Seen {
  readonly publisher: EndpointId.EndpointId
  readonly minute: bigint
  readonly activePeers: ReadonlyArray<string>
}

/** Open a value of the topic's slot for any of `minutes` (only the right minute verifies); undefined if none. */
const openValue = (value: Uint8Array, minutes: ReadonlyArray<bigint>) =>
  Effect.gen(function*() {
    for (const minute of minutes) {
      const record = yield* Effect.either(EncryptedRecord.openRecord(value, TOPIC, minute, SECRET_HASH))
      if (Either.isLeft(record)) continue
      const content = Either.getOrUndefined(GossipRecordContent.decode(record.right.content))
      return {
        publisher: Buffer.from(record.right.publicKey).toString("hex") as EndpointId.EndpointId,
        minute,
        activePeers: content ? GossipRecordContent.peers(content).map((p) => Buffer.from(p).toString("hex")) : []
      } satisfies Seen
    }
    return undefined
  })

/** The minutes a test running now can have written to (its start minute, the ones around it). */
const minutesAround = Effect.map(Clock.currentTimeMillis, (now) => {
  const m = Keys.unixMinuteOf(now)
  return [m - 2n, m - 1n, m, m + 1n]
})

/** Everything the Testbed's storing nodes hold for the topic's slots, opened, with how many nodes hold each. */
const heldOnTestbed = (bed: Testbed.Testbed) =>
  Effect.gen(function*() {
    const minutes = yield* minutesAround
    const held: Array<Seen & { readonly nodes: number }> = []
    for (const minute of minutes) {
      const slot = Keys.slot(TOPIC.hash, minute)
      const byValue = new Map<string, number>()
      for (const item of bed.storedItems(slot.publicKey, slot.salt)) {
        const key = Buffer.from(item.value).toString("base64")
        byValue.set(key, (byValue.get(key) ?? 0) + 1)
      }
      for (const [value, nodes] of byValue) {
        const seen = yield* openValue(new Uint8Array(Buffer.from(value, "base64")), [minute])
        if (seen !== undefined) held.push({ ...seen, nodes })
      }
    }
    return held
  })

interface TrackerNode {
  readonly topic: Topic.Topic
  readonly dht: DhtMainline.MainlineNode
  /** Values this node's `getMutable` returned (what its bootstrap loop had to go on). */
  readonly gotValues: Array<Uint8Array>
}

/**
 * Node `index`: its identity, a read-only mainline client on the Testbed (the Rust crate's DHT policy), the
 * memory gossip, then `Topic.joinNoWait` with `config`. Everything lives in the ambient scope.
 */
const startNode = (
  bed: Testbed.Testbed,
  gossip: MemoryGossip.MemoryGossipNetwork,
  index: number,
  config: Config.Config
) =>
  Effect.gen(function*() {
    const identity = Layer.succeed(
      NodeIdentity.NodeIdentity,
      NodeIdentity.fromSecretKey(SimNetwork.secretKey(index, 7))
    )
    const { dht, node } = yield* DhtMainline.makeService(bed.clientOptions())
    const gotValues: Array<Uint8Array> = []
    // A pass-through that remembers what each get returned; the DHT itself is untouched.
    const watched: Dht.DhtService = {
      getMutable: (publicKey, salt) =>
        Effect.tap(
          dht.getMutable(publicKey, salt),
          (items) => Effect.sync(() => gotValues.push(...items.map((i) => i.value)))
        ),
      putMutable: dht.putMutable
    }
    const services = yield* Layer.build(
      Layer.mergeAll(
        identity,
        Layer.succeed(Dht.Dht, watched),
        MemoryGossip.layer(gossip).pipe(Layer.provide(identity))
      )
    )
    const topic = yield* Topic.joinNoWait(TOPIC, { secret: SECRET, config }).pipe(Effect.provide(services))
    return { topic, dht: node, gotValues } satisfies TrackerNode
  })

/** Poll (every 50 ms of real time) until `condition` holds; fails the test after `limit`. Returns ms taken. */
const waitUntil = <R>(condition: Effect.Effect<boolean, never, R>, limit: Duration.DurationInput) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    while (!(yield* condition)) yield* Effect.sleep(Duration.millis(50))
    return (yield* Clock.currentTimeMillis) - started
  }).pipe(
    Effect.timeoutFail({
      duration: limit,
      onTimeout: () => new Error(`condition not met within ${Duration.format(limit)}`)
    })
  )

/** The publishers of the records a node's gets returned. */
const publishersSeenBy = (node: TrackerNode) =>
  Effect.gen(function*() {
    const minutes = yield* minutesAround
    const out = new Set<string>()
    for (const value of node.gotValues) {
      const seen = yield* openValue(value, minutes)
      if (seen !== undefined) out.add(seen.publisher)
    }
    return out
  })

const isJoined = (...nodes: ReadonlyArray<TrackerNode>) =>
  Effect.map(Effect.forEach(nodes, (n) => n.topic.isJoined), (joined) => joined.every(Boolean))

/** Queries the storing nodes answered, all together. */
const answeredByTestbed = (bed: Testbed.Testbed) => bed.nodes.reduce((n, node) => n + node.stats.queriesAnswered, 0)

describe("tracker over the mainline DHT on loopback (memory gossip, real time)", () => {
  // Default config throughout: the Rust crate's timers and DHT policy, and no initial peers.
  it.scopedLive(
    "two nodes with the default config find each other through records on the storing nodes",
    () =>
      Effect.gen(function*() {
        const bed = yield* Testbed.make({ size: 30, rule: "last-writer-wins" })
        const gossip = yield* MemoryGossip.make()
        const answeredBefore = answeredByTestbed(bed)
        expect(Config.defaults.bootstrap.initialPeers).toEqual([])

        const a = yield* startNode(bed, gossip, 0, Config.defaults)
        const b = yield* startNode(bed, gossip, 1, Config.defaults)
        const took = yield* waitUntil(isJoined(a, b), "20 seconds")
        console.info(`two-node join over loopback mainline: ${took} ms`)

        expect(yield* a.topic.neighbors).toContain(b.topic.endpointId)
        expect(yield* b.topic.neighbors).toContain(a.topic.endpointId)

        // At least one of them read the other's record back from the DHT: the only way either learnt an id.
        const seenByA = yield* publishersSeenBy(a)
        const seenByB = yield* publishersSeenBy(b)
        expect(seenByA.has(b.topic.endpointId) || seenByB.has(a.topic.endpointId)).toBe(true)
        // No node ever gets its own id as a candidate from somewhere else: what they read is only the two of them.
        for (const p of [...seenByA, ...seenByB]) expect([a.topic.endpointId, b.topic.endpointId]).toContain(p)

        // The records are on the Testbed's storing nodes: each slot written holds values that open to records
        // of these two nodes, on exactly the K = 20 storing nodes closest to its target (of 30).
        const held = yield* heldOnTestbed(bed)
        expect(held.length).toBeGreaterThanOrEqual(1)
        const holdersPerSlot = new Map<bigint, number>()
        for (const h of held) {
          expect([a.topic.endpointId, b.topic.endpointId]).toContain(h.publisher)
          holdersPerSlot.set(h.minute, (holdersPerSlot.get(h.minute) ?? 0) + h.nodes)
        }
        for (const holders of holdersPerSlot.values()) expect(holders).toBe(20)
        // Each node put at least one record and read the slots; its DHT client did the talking over UDP.
        for (const n of [a, b]) {
          const stats = n.topic.recordPublisher.stats()
          expect(stats.puts).toBeGreaterThanOrEqual(1)
          expect(stats.gets).toBeGreaterThanOrEqual(2)
          expect(stats.failedGets + stats.failedPuts).toBe(0)
          expect(n.dht.stats.requestsSent).toBeGreaterThan(0)
        }
        expect(answeredByTestbed(bed)).toBeGreaterThan(answeredBefore)
      }).pipe(Effect.provide(Crypto.layer)),
    30_000
  )

  // Shortened publisher timers on the first two nodes only (initial delay 500 ms, then every 0.5-1 s instead of
  // 10 s, then 10-60 s), so that a record advertising their neighbours is on the DHT within seconds. The late
  // joiner itself runs the default config.
  it.scopedLive(
    "a late joiner finds a running topic through the records its members keep publishing",
    () =>
      Effect.gen(function*() {
        const bed = yield* Testbed.make({
          size: 30,
          rule: (i) => (i % 2 === 0 ? "first-writer-wins" : "last-writer-wins")
        })
        const gossip = yield* MemoryGossip.make()
        const running = Config.decodeSync({ publisher: { initialDelay: 500, baseInterval: 500, maxJitter: 500 } })
        const a = yield* startNode(bed, gossip, 0, running)
        const b = yield* startNode(bed, gossip, 1, running)
        yield* waitUntil(isJoined(a, b), "20 seconds")

        // Wait for a publisher record: one that advertises a neighbour (bootstrap records advertise nobody).
        const members = [a.topic.endpointId, b.topic.endpointId] as ReadonlyArray<string>
        yield* waitUntil(
          Effect.map(heldOnTestbed(bed), (held) => held.some((h) => h.activePeers.some((p) => members.includes(p)))),
          "10 seconds"
        )

        const c = yield* startNode(bed, gossip, 2, Config.defaults)
        const took = yield* waitUntil(isJoined(c), "20 seconds")
        console.info(`late joiner over loopback mainline: ${took} ms`)
        const neighbors = yield* c.topic.neighbors
        expect(neighbors.some((n) => members.includes(n))).toBe(true)
        // C knew nobody: the members it reached are publishers of records its own gets returned.
        const seenByC = yield* publishersSeenBy(c)
        expect([...seenByC].some((p) => members.includes(p))).toBe(true)
        expect(c.topic.recordPublisher.stats().gets).toBeGreaterThanOrEqual(2)
        expect(c.dht.stats.requestsSent).toBeGreaterThan(0)
        // The running members republished: the storing nodes hold more than the two start-up records.
        const publishes = a.topic.recordPublisher.stats().puts + b.topic.recordPublisher.stats().puts
        expect(publishes).toBeGreaterThanOrEqual(3)
      }).pipe(Effect.provide(Crypto.layer)),
    45_000
  )
})
