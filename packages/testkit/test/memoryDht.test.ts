import { Bep44, Dht } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, TestClock } from "effect"
import { MemoryDht, TestItems } from "../src/index.js"

const slotKey = TestItems.seedOf("slot signing key")
const salt = new Uint8Array(32).fill(7)
const text = (s: string) => new TextEncoder().encode(s)
const item = (value: string, seq?: bigint) =>
  TestItems.signedItem({ secretKey: slotKey, salt, value: text(value), ...(seq === undefined ? {} : { seq }) })
const { publicKey } = item("x")

/** No retries, no pauses: one attempt per put so the model's answer is visible directly. */
const oneShot: Dht.DhtConfig = { ...Dht.defaultDhtConfig, retries: 0 }

const dhtOf = (network: MemoryDht.MemoryDhtNetwork, clientId: string, config: Dht.DhtConfig = oneShot) =>
  Dht.make(MemoryDht.transport(network, clientId), config)

/** Run an effect whose unanswered requests wait for the request timeout, letting simulated time pass. */
const settle = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.fork(effect).pipe(
    Effect.tap(() => TestClock.adjust(Duration.seconds(3))),
    Effect.flatMap(Fiber.join)
  )

const values = (items: ReadonlyArray<Dht.MutableItem>) => items.map((i) => new TextDecoder().decode(i.value)).sort()

describe("MemoryDht storage rules", () => {
  it.effect("last-writer-wins: every storing node ends up with the last value", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ rules: "last-writer-wins" })
      const a = dhtOf(network, "a")
      const b = dhtOf(network, "b")
      expect((yield* a.putMutable(item("from a"), { cas: Bep44.SEQ_I64_MAX })).storedAt).toBe(20)
      expect((yield* b.putMutable(item("from b"), { cas: Bep44.SEQ_I64_MAX })).storedAt).toBe(20)
      expect(values(yield* a.getMutable(publicKey, salt))).toEqual(["from b"])
      const held = yield* MemoryDht.held(network, publicKey, salt)
      expect(held).toHaveLength(20)
    }))

  it.effect("first-writer-wins: equal seq is acknowledged but not stored (libtorrent)", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ rules: "first-writer-wins" })
      const a = dhtOf(network, "a")
      const b = dhtOf(network, "b")
      yield* a.putMutable(item("from a"), { cas: Bep44.SEQ_I64_MAX })
      const receipt = yield* b.putMutable(item("from b"), { cas: Bep44.SEQ_I64_MAX })
      expect(receipt.storedAt).toBe(20)
      expect(values(yield* b.getMutable(publicKey, salt))).toEqual(["from a"])
    }))

  it.effect("reject-equal-seq: the second writer gets 302 (BEP44 text, JS bittorrent-dht)", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ rules: "reject-equal-seq" })
      yield* dhtOf(network, "a").putMutable(item("from a"))
      const error = yield* Effect.flip(dhtOf(network, "b").putMutable(item("from b")))
      expect(error).toMatchObject({ _tag: "DhtPutRejected", code: 302 })
    }))

  it.effect("a mixed network holds both writers' values on different nodes", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ rules: ["last-writer-wins", "first-writer-wins"] })
      yield* dhtOf(network, "a").putMutable(item("from a"))
      yield* dhtOf(network, "b").putMutable(item("from b"))
      expect(values(yield* dhtOf(network, "c").getMutable(publicKey, salt))).toEqual(["from a", "from b"])
    }))

  it.effect("partial reachability: writers reaching different storing nodes leave several values", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ rules: "first-writer-wins" })
      const nodes = yield* MemoryDht.storingNodes(network, publicKey, salt)
      yield* MemoryDht.setReachable(network, "a", nodes.slice(0, 10))
      yield* MemoryDht.setReachable(network, "b", nodes.slice(10))
      expect((yield* settle(dhtOf(network, "a").putMutable(item("from a")))).storedAt).toBe(10)
      expect((yield* settle(dhtOf(network, "b").putMutable(item("from b")))).storedAt).toBe(10)
      // a sees only its half; a reader reaching everything sees both
      expect(values(yield* settle(dhtOf(network, "a").getMutable(publicKey, salt)))).toEqual(["from a"])
      expect(values(yield* dhtOf(network, "reader").getMutable(publicKey, salt))).toEqual(["from a", "from b"])
      yield* MemoryDht.setReachable(network, "a", "all")
      expect(values(yield* dhtOf(network, "a").getMutable(publicKey, salt))).toEqual(["from a", "from b"])
    }))

  it.effect("storing nodes are the K closest by XOR, fixed per target", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ replication: 8, poolSize: 40 })
      const first = yield* MemoryDht.storingNodes(network, publicKey, salt)
      expect(first).toHaveLength(8)
      expect(new Set(first).size).toBe(8)
      expect(yield* MemoryDht.storingNodes(network, publicKey, salt)).toEqual(first)
      const other = yield* MemoryDht.storingNodes(network, publicKey, new Uint8Array(32).fill(8))
      expect(other).not.toEqual(first)
      // every node outside the set is farther from the target than every node inside it
      const target = Bep44.target(publicKey, salt)
      const distance = (i: number) => Buffer.from(network.nodes[i]!.id.map((b, j) => b ^ target[j]!)).toString("hex")
      const farthestInside = first.map(distance).sort().at(-1)!
      for (const node of network.nodes) {
        if (!first.includes(node.index)) expect(distance(node.index) > farthestInside).toBe(true)
      }
    }))
})

describe("MemoryDht put checks", () => {
  it.effect("CAS mismatch gives 301, lower seq gives 302", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make()
      const dht = dhtOf(network, "a")
      yield* dht.putMutable(item("v", 10n))
      expect(yield* Effect.flip(dht.putMutable(item("w", 11n), { cas: 9n }))).toMatchObject({
        _tag: "DhtPutRejected",
        code: 301
      })
      expect(yield* Effect.flip(dht.putMutable(item("w", 9n)))).toMatchObject({ _tag: "DhtPutRejected", code: 302 })
      // the matching CAS and a higher seq pass
      yield* dht.putMutable(item("w", 11n), { cas: 10n })
      expect(values(yield* dht.getMutable(publicKey, salt))).toEqual(["w"])
    }))

  it.effect("oversize value and salt are invalid items and are not retried", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make()
      const dht = dhtOf(network, "a", Dht.defaultDhtConfig) // 3 retries configured
      const big = TestItems.signedItem({ secretKey: slotKey, salt, value: new Uint8Array(1001) })
      const error = yield* Effect.flip(dht.putMutable(big))
      expect(error._tag).toBe("DhtInvalidItem")
      expect(String((error as Dht.DhtInvalidItem).reason)).toContain("205")
      const longSalt = TestItems.signedItem({ secretKey: slotKey, salt: new Uint8Array(65), value: text("v") })
      expect((yield* Effect.flip(dht.putMutable(longSalt)))._tag).toBe("DhtInvalidItem")
      expect((yield* MemoryDht.stats(network)).totals.puts).toBe(2)
      // exactly 1000 bytes is fine on a mainline node
      const limit = TestItems.signedItem({ secretKey: slotKey, salt, value: new Uint8Array(1000) })
      expect((yield* dht.putMutable(limit)).storedAt).toBe(20)
    }))

  it.effect("libtorrent nodes measure the bencoded value (997 raw bytes is too big there)", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ rules: ["last-writer-wins", "first-writer-wins"] })
      const v997 = TestItems.signedItem({ secretKey: slotKey, salt, value: new Uint8Array(997) })
      expect((yield* dhtOf(network, "a").putMutable(v997)).storedAt).toBe(10)
      const v996 = TestItems.signedItem({ secretKey: slotKey, salt: new Uint8Array(1), value: new Uint8Array(996) })
      expect((yield* dhtOf(network, "a").putMutable(v996)).storedAt).toBe(20)
    }))

  it.effect("a bad signature is rejected and nothing is stored", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make()
      const good = item("v")
      const forged = { ...good, signature: Uint8Array.from(good.signature, (b, i) => (i === 0 ? b ^ 1 : b)) }
      expect((yield* Effect.flip(dhtOf(network, "a").putMutable(forged)))._tag).toBe("DhtInvalidItem")
      const wrongSeq = { ...good, seq: 5n }
      expect((yield* Effect.flip(dhtOf(network, "a").putMutable(wrongSeq)))._tag).toBe("DhtInvalidItem")
      expect(yield* MemoryDht.held(network, publicKey, salt)).toEqual([])
    }))
})

describe("MemoryDht hostile content", () => {
  it.effect("injected junk with a bad signature never comes out of a get", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make()
      const junk = { ...item("junk"), signature: new Uint8Array(64).fill(1) }
      yield* MemoryDht.inject(network, junk)
      expect((yield* MemoryDht.held(network, publicKey, salt)).length).toBe(20)
      expect(yield* dhtOf(network, "a").getMutable(publicKey, salt)).toEqual([])
    }))

  it.effect("validly signed garbage injected on some nodes comes out beside honest values", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ rules: "first-writer-wins" })
      const nodes = yield* MemoryDht.storingNodes(network, publicKey, salt)
      const garbage = TestItems.signedItem({ secretKey: slotKey, salt, value: new Uint8Array([0xff, 0, 1]) })
      yield* MemoryDht.inject(network, garbage, { nodes: nodes.slice(0, 3) })
      yield* dhtOf(network, "a").putMutable(item("honest"))
      const got = yield* dhtOf(network, "a").getMutable(publicKey, salt)
      expect(got).toHaveLength(2)
      expect(got.map((i) => Array.from(i.value))).toContainEqual([0xff, 0, 1])
    }))
})

describe("MemoryDht faults and load", () => {
  it.effect("latency is simulated time (TestClock)", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ latency: Duration.millis(100) })
      const dht = dhtOf(network, "a")
      const put = yield* Effect.fork(dht.putMutable(item("v")))
      yield* TestClock.adjust(Duration.millis(99))
      expect(put.unsafePoll()).toBeNull()
      yield* TestClock.adjust(Duration.millis(1))
      expect((yield* Fiber.join(put)).storedAt).toBe(20)
    }))

  it.effect("a storing node that is down hides its value until it comes back", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ replication: 3, poolSize: 10, rules: "first-writer-wins" })
      const nodes = yield* MemoryDht.storingNodes(network, publicKey, salt)
      yield* MemoryDht.inject(network, item("only on one"), { nodes: [nodes[0]!] })
      yield* MemoryDht.setNodeUp(network, nodes[0]!, false)
      const get = yield* Effect.fork(dhtOf(network, "a").getMutable(publicKey, salt))
      yield* TestClock.adjust(Duration.seconds(2)) // the unanswered request times out
      expect(yield* Fiber.join(get)).toEqual([])
      yield* MemoryDht.setNodeUp(network, nodes[0]!, true)
      expect(values(yield* dhtOf(network, "a").getMutable(publicKey, salt))).toEqual(["only on one"])
    }))

  it.effect("total loss: gets and puts fail with DhtUnavailable after the request timeout", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ loss: 1 })
      const dht = dhtOf(network, "a")
      const get = yield* Effect.fork(Effect.either(dht.getMutable(publicKey, salt)))
      const put = yield* Effect.fork(Effect.either(dht.putMutable(item("v"))))
      yield* TestClock.adjust(Duration.seconds(2))
      expect(Either.getLeft(yield* Fiber.join(get))).toMatchObject({ _tag: "Some", value: { _tag: "DhtUnavailable" } })
      expect(Either.getLeft(yield* Fiber.join(put))).toMatchObject({ _tag: "Some", value: { _tag: "DhtUnavailable" } })
    }))

  it.effect("partial loss is seeded: the same seed gives the same number of acknowledgements", () =>
    Effect.gen(function*() {
      const run = (seed: number) =>
        Effect.gen(function*() {
          const network = yield* MemoryDht.make({ loss: 0.5, seed })
          const put = yield* Effect.fork(dhtOf(network, "a").putMutable(item("v")))
          yield* TestClock.adjust(Duration.seconds(2))
          return (yield* Fiber.join(put)).storedAt
        })
      const first = yield* run(42)
      expect(yield* run(42)).toBe(first)
      expect(first).toBeGreaterThan(0)
      expect(first).toBeLessThan(20)
    }))

  it.effect("offline: immediate DhtUnavailable", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make()
      yield* MemoryDht.setOnline(network, false)
      expect((yield* Effect.flip(dhtOf(network, "a").getMutable(publicKey, salt)))._tag).toBe("DhtUnavailable")
      expect((yield* Effect.flip(dhtOf(network, "a").putMutable(item("v"))))._tag).toBe("DhtUnavailable")
    }))

  it.effect("counters per target and per client, retries included", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make()
      const a = dhtOf(network, "a")
      yield* a.putMutable(item("v"))
      yield* a.getMutable(publicKey, salt)
      yield* dhtOf(network, "b").getMutable(publicKey, salt)
      const key = Buffer.from(Bep44.target(publicKey, salt)).toString("hex")
      const stats = yield* MemoryDht.stats(network)
      expect(stats.totals).toEqual({ gets: 2, puts: 1 })
      expect(stats.byTarget.get(key)).toEqual({ gets: 2, puts: 1 })
      expect(stats.byClient.get("a")).toEqual({ gets: 1, puts: 1 })
      expect(stats.byClient.get("b")).toEqual({ gets: 1, puts: 0 })
      expect(stats.nodeRequests).toEqual({ gets: 40, puts: 20 })
      // a put that fails every attempt is counted once per attempt
      yield* MemoryDht.resetStats(network)
      yield* MemoryDht.setLoss(network, 1)
      const retrying = yield* Effect.fork(
        Effect.either(
          dhtOf(network, "a", {
            ...oneShot,
            retries: 2,
            baseRetryInterval: Duration.seconds(1),
            maxRetryJitter: Duration.zero
          })
            .putMutable(item("v"))
        )
      )
      yield* TestClock.adjust(Duration.seconds(10))
      expect(Either.isLeft(yield* Fiber.join(retrying))).toBe(true)
      expect((yield* MemoryDht.stats(network)).totals.puts).toBe(3)
    }))

  it.effect("maxGetValues bounds what one get returns", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make({ rules: "first-writer-wins" })
      const nodes = yield* MemoryDht.storingNodes(network, publicKey, salt)
      for (let i = 0; i < 10; i++) yield* MemoryDht.inject(network, item(`value ${i}`), { nodes: [nodes[i]!] })
      expect(yield* dhtOf(network, "a").getMutable(publicKey, salt)).toHaveLength(10)
      expect(yield* dhtOf(network, "a", { ...oneShot, maxGetValues: 4 }).getMutable(publicKey, salt)).toHaveLength(4)
    }))

  it.effect("layer gives the core Dht service", () =>
    Effect.gen(function*() {
      const network = yield* MemoryDht.make()
      const receipt = yield* Effect.flatMap(Dht.Dht, (dht) => dht.putMutable(item("via layer"))).pipe(
        Effect.provide(MemoryDht.layer(network, { clientId: "layered" }))
      )
      expect(receipt).toEqual({ storedAt: 20, attempts: 1 })
      expect((yield* MemoryDht.stats(network)).byClient.get("layered")).toEqual({ gets: 0, puts: 1 })
    }))
})
