// Real UDP on 127.0.0.1: a Testbed of storing nodes and clients of the `Dht` service on it.
import { Bep44, Crypto, type Dht } from "@dtt/core"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Exit, Scope, TestClock } from "effect"
import { Bencode, DhtMainline, Krpc, Testbed } from "../src/index.js"
import * as Item from "../src/internal/item.js"
import * as Rpc from "../src/internal/rpc.js"
import * as FakeNode from "./fakeNode.js"
import { bytesOf, fromHex, seedOf, signItem, wireVectors as vectors } from "./helpers.js"

const fast = { retries: 0, putTimeout: Duration.seconds(10), getTimeout: Duration.seconds(10) }

const client = (bed: Testbed.Testbed, extra: DhtMainline.Options = {}) =>
  Effect.map(DhtMainline.makeService(bed.clientOptions({ dht: fast, ...extra })), ({ dht }) => dht)

const sortedValues = (items: ReadonlyArray<Dht.MutableItem>) => items.map((i) => Buffer.from(i.value).toString()).sort()

/** A read-only KRPC endpoint of our own, to send single hand-made queries to one node. */
const bareRpc = Rpc.make({
  host: "127.0.0.1",
  port: 0,
  readOnly: true,
  requestTimeout: Duration.seconds(2),
  maxInFlight: 4,
  inboxCapacity: 16,
  onQuery: () => undefined
})
const BARE_ID = new Uint8Array(20).fill(0xee)

/** A bare KRPC endpoint that puts an item to one chosen node (get for a token, then put). */
const putToOne = (node: DhtMainline.MainlineNode, item: Dht.MutableItem) =>
  Effect.gen(function*() {
    const rpc = yield* bareRpc
    const id = BARE_ID
    const target = Bep44.target(item.publicKey, item.salt)
    const got = yield* rpc.request(node.address, "get", Bencode.dict({ id, target }))
    return yield* rpc.request(
      node.address,
      "put",
      Bencode.dict({
        id,
        target,
        token: Krpc.bytes(got, "token"),
        k: item.publicKey,
        salt: item.salt,
        seq: item.seq,
        sig: item.signature,
        v: item.value
      })
    )
  }).pipe(Effect.scoped)

describe("mainline DHT on a loopback Testbed", () => {
  it.scopedLive("stores and reads back the D9 item (seq = i64::MAX) byte for byte", () =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({ size: 12 })
      expect(bed.bootstrap.every((a) => a.startsWith("127.0.0.1:"))).toBe(true)
      const item: Dht.MutableItem = {
        publicKey: fromHex(vectors.dht.signing_pub),
        salt: fromHex(vectors.dht.salt),
        seq: Bep44.SEQ_I64_MAX,
        value: fromHex(vectors.encryption.dht_value_hex),
        signature: fromHex(vectors.bep44.signature)
      }
      const writer = yield* client(bed)
      const receipt = yield* writer.putMutable(item, { cas: Bep44.SEQ_I64_MAX })
      expect(receipt.storedAt).toBeGreaterThanOrEqual(1)
      expect(receipt.storedAt).toBeLessThanOrEqual(12)
      expect(bed.storedItems(item.publicKey, item.salt)).toHaveLength(receipt.storedAt)
      const reader = yield* client(bed)
      const got = yield* reader.getMutable(item.publicKey, item.salt)
      expect(got).toEqual([item])
      // Nothing stored elsewhere: another slot reads empty.
      expect(yield* reader.getMutable(item.publicKey, bytesOf("other salt"))).toEqual([])
    }).pipe(Effect.provide(Crypto.layer)))

  it.scopedLive("a get verifies each distinct item once, however many storing nodes return it", () =>
    Effect.gen(function*() {
      const crypto = yield* Crypto.Crypto
      const bed = yield* Testbed.make({ size: 16 })
      const item = signItem(seedOf(21), bytesOf("counted"), bytesOf("one value on every node"))
      const writer = yield* client(bed)
      expect((yield* writer.putMutable(item)).storedAt).toBeGreaterThanOrEqual(10)
      let verified = 0
      const reader = yield* client(bed, {
        verifyStrict: (key, message, signature) => (verified++, crypto.verifyStrict(key, message, signature))
      })
      expect(yield* reader.getMutable(item.publicKey, item.salt)).toEqual([item])
      expect(yield* reader.getMutable(item.publicKey, item.salt)).toEqual([item])
      // Ten or more copies came back each time; the signature was checked once.
      expect(verified).toBe(1)
    }).pipe(Effect.provide(Crypto.layer)))

  it.effect("the checker's memo accepts only byte-identical copies of an item that passed", () =>
    Effect.gen(function*() {
      const crypto = yield* Crypto.Crypto
      const item = signItem(seedOf(22), bytesOf("slot"), bytesOf("value"))
      const target = Bep44.target(item.publicKey, item.salt)
      const check = Item.checker(crypto.verifyStrict)
      expect(check(item, target)).toBeUndefined()
      expect(check({ ...item }, target)).toBeUndefined()
      // Same signature, anything else changed: checked in full again and refused.
      expect(check({ ...item, value: bytesOf("other") }, target)).toBe("bad-signature")
      expect(check({ ...item, seq: item.seq - 1n }, target)).toBe("bad-signature")
      expect(check(item, Bep44.target(item.publicKey, bytesOf("elsewhere")))).toBe("wrong-target")
      expect(check({ ...item, salt: bytesOf("elsewhere") }, target)).toBe("wrong-target")
    }).pipe(Effect.provide(Crypto.layer)))

  it.scopedLive("a put carries seq and cas = 9223372036854775807 exactly on the wire, as Rust mainline parses it", () =>
    Effect.gen(function*() {
      const fake = yield* FakeNode.make((q) =>
        q.method === "get"
          ? Bencode.dict({ id: new Uint8Array(20).fill(5), token: bytesOf("tok"), nodes: new Uint8Array(0) })
          : Bencode.dict({ id: new Uint8Array(20).fill(5) })
      )
      const { dht } = yield* DhtMainline.makeService({ host: "127.0.0.1", bootstrap: [fake.address], dht: fast })
      const item = signItem(seedOf(8), bytesOf("salt"), bytesOf("value"))
      expect(yield* dht.putMutable(item, { cas: Bep44.SEQ_I64_MAX })).toEqual({ storedAt: 1, attempts: 1 })
      const puts = fake.received.map((b) => Buffer.from(b).toString("latin1")).filter((s) => s.includes("1:q3:put"))
      expect(puts).toHaveLength(1)
      const put = Either.getOrThrow(
        Krpc.parse(fake.received.find((b) => Buffer.from(b).toString("latin1").includes("1:q3:put"))!)
      )
      if (put._tag !== "Query") throw new Error("expected a query")
      // The exact canonical arguments: keys sorted, integers exact.
      const expected = Bencode.encode(
        Bencode.dict({
          cas: 9223372036854775807n,
          id: put.args.get("id"),
          k: item.publicKey,
          salt: bytesOf("salt"),
          seq: 9223372036854775807n,
          sig: item.signature,
          target: Bep44.target(item.publicKey, item.salt),
          token: bytesOf("tok"),
          v: bytesOf("value")
        })
      )
      expect(puts[0]).toContain(Buffer.from(expected).toString("latin1"))
      expect(puts[0]).toContain("3:casi9223372036854775807e")
      expect(puts[0]).toContain("3:seqi9223372036854775807e")
      expect(puts[0]).toContain("2:roi1e")
      // Rust mainline only parses messages whose transaction id is exactly 4 bytes.
      expect(put.transactionId).toHaveLength(4)
      expect(fake.received.every((b) => Either.getOrThrow(Krpc.parse(b)).transactionId.length === 4)).toBe(true)
    }).pipe(Effect.provide(Crypto.layer)))

  it.scopedLive("get collects every distinct value the storing nodes hold", () =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({ size: 24, rule: "first-writer-wins" })
      const salt = bytesOf("minute-slot")
      const writers = [1, 2, 3, 4, 5, 6].map((n) => signItem(seedOf(40), salt, bytesOf(`record of writer ${n}`)))
      // Writer n gets its value onto every sixth node directly (as if each had reached a different part of the net).
      yield* Effect.forEach(bed.nodes, (node, i) => putToOne(node, writers[i % 6]!), { concurrency: 8 })
      const held = sortedValues(bed.storedItems(writers[0]!.publicKey, salt))
      expect(held).toHaveLength(24)
      const reader = yield* client(bed)
      const got = yield* reader.getMutable(writers[0]!.publicKey, salt)
      // The K = 20 closest nodes hold between 4 and 6 different writers; each one they hold is returned once.
      expect(got.length).toBeGreaterThanOrEqual(4)
      expect(new Set(sortedValues(got)).size).toBe(got.length)
      for (const v of sortedValues(got)) expect(held).toContain(v)
    }).pipe(Effect.provide(Crypto.layer)))

  describe("six writers, one slot, 30 storing nodes: the storage rule decides what a reader finds", () => {
    const salt = bytesOf("shared-slot")
    const writers = [1, 2, 3, 4, 5, 6].map((n) => signItem(seedOf(50), salt, bytesOf(`writer ${n}`)))
    const run = (rule: DhtMainline.StoreRule | ((i: number) => DhtMainline.StoreRule)) =>
      Effect.gen(function*() {
        const bed = yield* Testbed.make({ size: 30, rule })
        for (const w of writers) {
          const dht = yield* client(bed)
          const receipt = yield* dht.putMutable(w, { cas: Bep44.SEQ_I64_MAX })
          expect(receipt.storedAt).toBe(20) // every one of the K closest acknowledges, stored or not
        }
        const held = bed.storedItems(writers[0]!.publicKey, salt)
        const reader = yield* client(bed)
        const got = yield* reader.getMutable(writers[0]!.publicKey, salt)
        return { held: sortedValues(held), got: sortedValues(got) }
      }).pipe(Effect.scoped, Effect.provide(Crypto.layer))

    it.live("last-writer-wins (Rust mainline nodes): every storing node ends with the last writer", () =>
      Effect.gen(function*() {
        const { held, got } = yield* run("last-writer-wins")
        expect(held).toEqual(Array(20).fill("writer 6"))
        expect(got).toEqual(["writer 6"])
      }))

    it.live("first-writer-wins (libtorrent, BEP44): every storing node keeps the first writer", () =>
      Effect.gen(function*() {
        const { held, got } = yield* run("first-writer-wins")
        expect(held).toEqual(Array(20).fill("writer 1"))
        expect(got).toEqual(["writer 1"])
      }))

    it.live("a mixed network holds both, and the reader sees both", () =>
      Effect.gen(function*() {
        const { held, got } = yield* run((i) => (i % 2 === 0 ? "first-writer-wins" : "last-writer-wins"))
        expect(new Set(held)).toEqual(new Set(["writer 1", "writer 6"]))
        expect(got).toEqual(["writer 1", "writer 6"])
      }))
  })

  it.scopedLive("drops forged, mis-targeted and oversize items from hostile storing nodes", () =>
    Effect.gen(function*() {
      const salt = bytesOf("s")
      const good = signItem(seedOf(60), salt, bytesOf("genuine"))
      const other = signItem(seedOf(61), salt, bytesOf("another key"))
      const big = signItem(seedOf(60), salt, new Uint8Array(1001).fill(1))
      const replies = [
        { k: good.publicKey, seq: good.seq, sig: good.signature, v: bytesOf("tampered") }, // bad signature
        { k: other.publicKey, seq: other.seq, sig: other.signature, v: other.value }, // valid item, wrong target
        { k: big.publicKey, seq: big.seq, sig: big.signature, v: big.value }, // signed but > 1000 bytes
        { k: good.publicKey, seq: 2n ** 63n, sig: good.signature, v: good.value }, // seq out of i64 range
        { k: good.publicKey, seq: good.seq, sig: good.signature, v: good.value } // the genuine one
      ]
      const fakes = yield* Effect.forEach(
        replies,
        (fields, i) =>
          FakeNode.make((q) =>
            q.method === "get"
              ? Bencode.dict({ id: new Uint8Array(20).fill(i + 1), token: bytesOf("t"), ...fields })
              : undefined
          )
      )
      const { dht, node } = yield* DhtMainline.makeService({
        host: "127.0.0.1",
        bootstrap: fakes.map((f) => f.address),
        dht: fast
      })
      expect(yield* dht.getMutable(good.publicKey, salt)).toEqual([good])
      expect(node.stats.rejectedItems).toBe(3) // the out-of-range seq does not even parse as an item
      // Invalid items are refused locally, without retries.
      const refused = yield* Effect.flip(dht.putMutable(big))
      expect(refused._tag).toBe("DhtInvalidItem")
    }).pipe(Effect.provide(Crypto.layer)))

  it.scopedLive("reports DhtUnavailable when no node answers, after the request timeout", () =>
    Effect.gen(function*() {
      const silent = yield* FakeNode.make(() => undefined)
      const { dht } = yield* DhtMainline.makeService({
        host: "127.0.0.1",
        bootstrap: [silent.address],
        requestTimeout: Duration.millis(200),
        dht: { ...fast, retries: 1, baseRetryInterval: Duration.millis(10), maxRetryJitter: Duration.millis(10) }
      })
      const item = signItem(seedOf(70), bytesOf("s"), bytesOf("v"))
      const started = Date.now()
      expect((yield* Effect.flip(dht.getMutable(item.publicKey, item.salt)))._tag).toBe("DhtUnavailable")
      expect((yield* Effect.flip(dht.putMutable(item)))._tag).toBe("DhtUnavailable")
      expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 200)
    }).pipe(Effect.provide(Crypto.layer)))

  // Under TestClock: the token secret rotates on the Effect clock, inside the node's scope.
  it.scoped("write tokens expire after two rotations of the secret (5 minutes each)", () =>
    Effect.gen(function*() {
      const node = yield* DhtMainline.makeNode({
        host: "127.0.0.1",
        bootstrap: [],
        storing: { rule: "last-writer-wins" }
      })
      const rpc = yield* bareRpc
      const id = BARE_ID
      const item = signItem(seedOf(90), bytesOf("tokens"), bytesOf("v"))
      const target = Bep44.target(item.publicKey, item.salt)
      const token = Krpc.bytes(yield* rpc.request(node.address, "get", Bencode.dict({ id, target })), "token")
      const put = (seq: bigint) => {
        const next = signItem(seedOf(90), bytesOf("tokens"), bytesOf(`v${seq}`), seq)
        const args = { id, target, token, k: next.publicKey, salt: next.salt, seq, sig: next.signature, v: next.value }
        return rpc.request(node.address, "put", Bencode.dict(args)).pipe(
          Effect.as("ok"),
          Effect.catchAll((e) => Effect.succeed(e))
        )
      }
      expect(yield* put(1n)).toBe("ok")
      yield* TestClock.adjust(Duration.minutes(5))
      expect(yield* put(2n)).toBe("ok") // the previous secret is still accepted
      yield* TestClock.adjust(Duration.minutes(5))
      expect(yield* put(3n)).toMatchObject({ _tag: "Remote", code: 203 })
      expect(node.stored(target)?.seq).toBe(2n)
    }).pipe(Effect.provide(Crypto.layer)))

  it.live("closing the scope releases the socket (the port can be bound again)", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const bed = yield* Testbed.make({ size: 3 }).pipe(Scope.extend(scope))
      const port = bed.nodes[0]!.address.port
      yield* Scope.close(scope, Exit.void)
      const again = yield* DhtMainline.makeNode({ host: "127.0.0.1", port, bootstrap: [] }).pipe(
        Effect.scoped,
        Effect.either
      )
      expect(Either.isRight(again)).toBe(true)
    }).pipe(Effect.provide(Crypto.layer)))
})
