// Mainline DHT interop: BEP44 mutable items between the real Rust `mainline` 7 crate (interop/mainline, the
// DHT distributed-topic-tracker 0.3.5 uses) and our TypeScript side. Everything runs on 127.0.0.1 only.
import { Bep44, Crypto, type Dht, EncryptedRecord, GossipRecordContent, Keys, Record, TopicId } from "@dtt/core"
import { DhtMainline, Testbed } from "@dtt/dht-mainline"
import { Duration, Effect, Either, type Scope } from "effect"
import { describe, expect, it } from "vitest"
import { harnessBinary, wireVectors as vectors } from "./harness.js"
import { fromHex, type Json, runBatch, toHex } from "./jsonLines.js"
import { rustClient, startRustNodes, useRustNodes } from "./rustMainline.js"

const I64_MAX = Bep44.SEQ_I64_MAX.toString()
const crypto = Crypto.make("node")
const mainline = () => harnessBinary("mainline")
/** Our nodes' request timeout: longer than the Rust side's (rustMainline.ts), as they share the test's event loop. */
const TS_TIMEOUT = Duration.seconds(1)

/** A DTT record for a random node, sealed by the TS record layer into the DHT value for its minute's slot. */
const dttValue = async (topicName: string, secret: string, minute: bigint) => {
  const topic = TopicId.fromName(topicName)
  const program = Effect.gen(function*() {
    const content = GossipRecordContent.encode(
      Either.getOrThrow(GossipRecordContent.make({ activePeers: [yield* crypto.randomBytes(32)] }))
    )
    const record = yield* Record.sign({ topic, unixMinute: minute, content, secretKey: yield* crypto.randomBytes(32) })
    const value = yield* EncryptedRecord.sealRecord(record, topic, Keys.initialSecretHash(secret))
    return { record, value }
  })
  const { record, value } = await Effect.runPromise(Effect.provide(program, Crypto.layerNode))
  return { topic, slot: Keys.slot(topic.hash, minute), record, value }
}

const openWithTs = (value: Uint8Array, topic: TopicId.TopicId, minute: bigint, secret: string) =>
  Effect.runPromise(
    Effect.provide(EncryptedRecord.openRecord(value, topic, minute, Keys.initialSecretHash(secret)), Crypto.layerNode)
  )

/** The item as Rust printed it must carry a signature that our BEP44 code accepts. */
const expectValidItem = (item: Json, publicKey: Uint8Array, salt: Uint8Array) => {
  expect(item.key).toBe(toHex(publicKey))
  const signable = Bep44.signable(salt, BigInt(item.seq as string), fromHex(item.value as string))
  expect(crypto.verifyStrict(publicKey, signable, fromHex(item.sig as string))).toBe(true)
}

/** A Rust client's put of `value` as the slot's item at seq i64::MAX (the DTT put), signed by Rust. */
const slotPut = (slot: Keys.Slot, value: Uint8Array): Json => ({
  op: "put",
  seed: toHex(slot.signingSeed),
  salt: toHex(slot.salt),
  value: toHex(value),
  seq: I64_MAX,
  cas: I64_MAX
})

const slotGet = (slot: Keys.Slot): Json => ({ op: "get", pubkey: toHex(slot.publicKey), salt: toHex(slot.salt) })

/** A Rust client's get of the slot: it finds copies, and each is `value` at seq i64::MAX with a valid signature. */
const rustGetsSlot = async (bootstrap: ReadonlyArray<string>, slot: Keys.Slot, value: Uint8Array) => {
  const [got] = await rustClient(bootstrap, [slotGet(slot)])
  const items = got!.items as Array<Json>
  expect(items.length).toBeGreaterThan(0)
  for (const item of items) {
    expect(item.seq).toBe(I64_MAX)
    expect(item.value).toBe(toHex(value))
    expectValidItem(item, slot.publicKey, slot.salt)
  }
  return items
}

/** The DTT put: the slot's item at seq i64::MAX, signed by our code. */
const slotItem = (slot: Keys.Slot, value: Uint8Array): Dht.MutableItem => ({
  publicKey: slot.publicKey,
  salt: slot.salt,
  seq: Bep44.SEQ_I64_MAX,
  value,
  signature: crypto.sign(slot.signingSeed, Bep44.signable(slot.salt, Bep44.SEQ_I64_MAX, value))
})

/** A TS mainline client on loopback, bootstrapped from `bootstrap` before it is handed out. */
const tsClient = (bootstrap: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const { dht, node } = yield* DhtMainline.makeService({
      host: "127.0.0.1",
      bootstrap,
      requestTimeout: TS_TIMEOUT,
      bootstrapOnStart: false
    })
    yield* node.bootstrap
    return dht
  })

const runScoped = <A, E>(effect: Effect.Effect<A, E, Crypto.Crypto | Scope.Scope>) =>
  Effect.runPromise(effect.pipe(Effect.scoped, Effect.provide(Crypto.layerNode)))

/** A DTT value made by the real Rust crate (Record::sign + Record::encrypt) for a random node. */
const rustDttValue = (topicName: string, secret: string, minute: bigint) => {
  const [reply] = runBatch(harnessBinary("records"), [], [{
    op: "sign",
    topic: topicName,
    secret,
    minute: minute.toString(),
    seed: toHex(crypto.sign(new Uint8Array(32), new TextEncoder().encode(topicName)).slice(0, 32)),
    active_peers: ["11".repeat(32)]
  }])
  expect(reply!.error).toBeUndefined()
  return { record: reply!.record as string, value: fromHex(reply!.sealed as string) }
}

describe("BEP44 signing: TS vs mainline MutableItem::new (offline)", () => {
  it("D9: mainline signs the vector item to the vector signature and target", () => {
    const [item] = runBatch(mainline(), ["item"], [
      {
        seed: vectors.dht.signing_seed,
        salt: vectors.dht.salt,
        value: vectors.encryption.dht_value_hex,
        seq: vectors.bep44.seq
      }
    ])
    expect(item!.sig).toBe(vectors.bep44.signature)
    expect(item!.target).toBe(vectors.dht.bep44_target_sha1)
    expect(item!.seq).toBe(vectors.bep44.seq)
  })

  it("random items, empty salt and extreme seqs: signable, signature and target agree byte for byte", () => {
    const random = Crypto.deterministicRandom("dtt-interop-mainline-v1")
    const seqs = [Bep44.SEQ_I64_MAX, 0n, 1n, -1n, -(2n ** 63n), 2n ** 53n + 1n]
    const items = seqs.map((seq, i) => ({
      seed: random(32),
      salt: i === 1 ? new Uint8Array(0) : random(1 + (random(1)[0]! % 64)),
      value: random(1 + (random(1)[0]! % 1000)),
      seq
    }))
    const replies = runBatch(
      mainline(),
      ["item"],
      items.map((it) => ({
        seed: toHex(it.seed),
        salt: it.salt.length > 0 ? toHex(it.salt) : null,
        value: toHex(it.value),
        seq: it.seq.toString()
      }))
    )
    items.forEach((it, i) => {
      const publicKey = crypto.ed25519PublicKey(it.seed)
      const reply = replies[i]!
      expect(reply.seq).toBe(it.seq.toString())
      expect(reply.sig).toBe(toHex(crypto.sign(it.seed, Bep44.signable(it.salt, it.seq, it.value))))
      expect(reply.target).toBe(toHex(Bep44.target(publicKey, it.salt)))
    })
  })
})

describe("Rust storing nodes on loopback", () => {
  const rustNodes = useRustNodes(5)

  it("a TS-sealed DTT record put by a Rust client comes back to another Rust client, seq i64::MAX, and opens in TS", async () => {
    const minute = 29_412_345n
    const { topic, slot, record, value } = await dttValue("interop-rust-only", "hunter2", minute)
    const [put] = await rustClient(rustNodes.addrs, [slotPut(slot, value)])
    expect(put!.error).toBeUndefined()
    expect(put!.target).toBe(toHex(slot.target))

    const items = await rustGetsSlot(rustNodes.addrs, slot, value)
    const opened = await openWithTs(fromHex(items[0]!.value as string), topic, minute, "hunter2")
    expect(toHex(opened.bytes)).toBe(toHex(record.bytes))
  })

  it("our client puts a TS-sealed record; a Rust client gets it (valid sig, seq i64::MAX) and the Rust crate opens it", async () => {
    const minute = 29_412_346n
    const { slot, record, value } = await dttValue("interop-ts-put", "correct horse", minute)
    const receipt = await runScoped(
      Effect.flatMap(
        tsClient(rustNodes.addrs),
        (dht) => dht.putMutable(slotItem(slot, value), { cas: Bep44.SEQ_I64_MAX })
      )
    )
    expect(receipt.storedAt).toBeGreaterThan(0)

    const items = await rustGetsSlot(rustNodes.addrs, slot, value)
    const [opened] = runBatch(harnessBinary("records"), [], [
      {
        op: "open",
        topic: "interop-ts-put",
        secret: "correct horse",
        minute: minute.toString(),
        value: items[0]!.value
      }
    ])
    expect(opened!.verified).toBe(true)
    expect(opened!.record).toBe(toHex(record.bytes))
  })

  it("a Rust client puts a record sealed by the Rust crate; our client gets it with seq exactly i64::MAX and opens it", async () => {
    const minute = 29_412_347n
    const topic = TopicId.fromName("interop-rust-put")
    const slot = Keys.slot(topic.hash, minute)
    const { record, value } = rustDttValue("interop-rust-put", "battery staple", minute)
    const [put] = await rustClient(rustNodes.addrs, [slotPut(slot, value)])
    expect(put!.error).toBeUndefined()

    const items = await runScoped(
      Effect.flatMap(tsClient(rustNodes.addrs), (dht) => dht.getMutable(slot.publicKey, slot.salt))
    )
    expect(items.length).toBeGreaterThan(0)
    for (const item of items) {
      expect(item.seq).toBe(Bep44.SEQ_I64_MAX)
      expect(toHex(item.value)).toBe(toHex(value))
      expect(toHex(item.signature)).toBe((put!.item as Json).sig)
    }
    const opened = await openWithTs(items[0]!.value, topic, minute, "battery staple")
    expect(toHex(opened.bytes)).toBe(record)
  })
})

describe("a mixed loopback network of TS and Rust storing nodes", () => {
  it("items put by either client are stored on both kinds of node and read back by the other client", async () => {
    const program = Effect.gen(function*() {
      const testbed = yield* Testbed.make({ size: 4, node: { requestTimeout: TS_TIMEOUT } })
      const rust = yield* Effect.acquireRelease(
        Effect.promise(() => startRustNodes(4, testbed.bootstrap)),
        (nodes) => Effect.promise(() => nodes.close())
      )
      // Every client starts from one node of each kind.
      const bootstrap = [testbed.bootstrap[0]!, rust.addrs[0]!]
      const dht = yield* tsClient(bootstrap)
      const tsStored = (slot: Keys.Slot) => testbed.storedItems(slot.publicKey, slot.salt)
      const rustGet = (slot: Keys.Slot) =>
        Effect.promise(() => rustClient(bootstrap, [slotGet(slot)]))
          .pipe(Effect.map(([reply]) => (reply!.items ?? []) as Array<Json>))

      // TS client puts: TS storing nodes hold it; the Rust client sees more copies than the TS nodes hold, so
      // Rust storing nodes accepted our put too.
      const a = yield* Effect.promise(() => dttValue("interop-mixed-a", "s", 29_412_400n))
      const receipt = yield* dht.putMutable(slotItem(a.slot, a.value), { cas: Bep44.SEQ_I64_MAX })
      const aOnTs = tsStored(a.slot)
      const aFromRust = yield* rustGet(a.slot)
      for (const item of aFromRust) {
        expect(item.seq).toBe(I64_MAX)
        expectValidItem(item, a.slot.publicKey, a.slot.salt)
      }

      // Rust client puts: TS storing nodes accepted it with the exact seq and signature, and our client reads it.
      const topicB = TopicId.fromName("interop-mixed-b")
      const slotB = Keys.slot(topicB.hash, 29_412_401n)
      const b = rustDttValue("interop-mixed-b", "s", 29_412_401n)
      const [putB] = yield* Effect.promise(() => rustClient(bootstrap, [slotPut(slotB, b.value)]))
      const bOnTs = tsStored(slotB)
      const bFromTs = yield* dht.getMutable(slotB.publicKey, slotB.salt)
      const bFromRust = yield* rustGet(slotB)
      return { receipt, aOnTs, aFromRust, putB: putB!, bOnTs, bFromTs, bFromRust }
    })
    const r = await runScoped(program)

    expect(r.receipt.storedAt).toBeGreaterThan(0)
    expect(r.aOnTs.length).toBeGreaterThan(0)
    expect(r.aFromRust.length).toBeGreaterThan(r.aOnTs.length)

    expect(r.putB.error).toBeUndefined()
    expect(r.bOnTs.length).toBeGreaterThan(0)
    for (const item of r.bOnTs) {
      expect(item.seq).toBe(Bep44.SEQ_I64_MAX)
      expect(toHex(item.signature)).toBe((r.putB.item as Json).sig)
    }
    expect(r.bFromTs.length).toBeGreaterThan(0)
    expect(r.bFromTs.every((item) => item.seq === Bep44.SEQ_I64_MAX)).toBe(true)
    // Rust nodes hold it as well: the Rust client sees more copies than the TS storing nodes have.
    expect(r.bFromRust.length).toBeGreaterThan(r.bOnTs.length)
  })
})
