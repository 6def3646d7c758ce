// Mainline DHT interop: BEP44 mutable items between the real Rust `mainline` 7 crate (interop/mainline, the
// DHT distributed-topic-tracker 0.3.5 uses) and our TypeScript side. Everything runs on 127.0.0.1 only.
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createInterface } from "node:readline"
import { Effect, Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Bep44, Crypto, EncryptedRecord, GossipRecordContent, Keys, Record, TopicId } from "@dtt/core"
import { harnessBinary } from "./harness.js"
import { fromHex, type Json, runBatch, runBatchAsync, toHex } from "./jsonLines.js"

const vectors = JSON.parse(readFileSync(new URL("./fixtures/wire-vectors.json", import.meta.url), "utf8"))
const I64_MAX = Bep44.SEQ_I64_MAX.toString()
const crypto = Crypto.make("node")
const mainline = () => harnessBinary("mainline")
/** Per-request UDP timeout of the Rust nodes: loopback answers in microseconds, so keep queries short. */
const RUST_TIMEOUT_MS = "1000"

interface RustNodes {
  readonly addrs: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

/** Starts `count` Rust storing nodes (their own seeded testnet, or joining `bootstrap`); stops when closed. */
const startRustNodes = (count: number, bootstrap: ReadonlyArray<string> = []): Promise<RustNodes> =>
  new Promise((resolve, reject) => {
    const args = ["serve", String(count), "--timeout-ms", RUST_TIMEOUT_MS]
    if (bootstrap.length > 0) args.push("--bootstrap", bootstrap.join(","))
    const child = spawn(mainline(), args, { stdio: ["pipe", "pipe", "inherit"] })
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    const close = async () => {
      child.stdin.end()
      const timer = setTimeout(() => child.kill(), 5_000)
      await exited
      clearTimeout(timer)
    }
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`mainline serve exited early with ${code}`)))
    createInterface({ input: child.stdout }).once("line", (line) => {
      const nodes = (JSON.parse(line) as { nodes: Array<{ addr: string }> }).nodes
      resolve({ addrs: nodes.map((n) => n.addr), close })
    })
  })

const rustClient = (bootstrap: ReadonlyArray<string>, requests: ReadonlyArray<Json>) =>
  runBatchAsync(mainline(), ["client", "--bootstrap", bootstrap.join(","), "--timeout-ms", RUST_TIMEOUT_MS], requests)

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

describe("BEP44 signing: TS vs mainline MutableItem::new (offline)", () => {
  it("D9: mainline signs the vector item to the vector signature and target", () => {
    const [item] = runBatch(mainline(), ["item"], [
      { seed: vectors.dht.signing_seed, salt: vectors.dht.salt, value: vectors.encryption.dht_value_hex, seq: vectors.bep44.seq }
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
    const replies = runBatch(mainline(), ["item"], items.map((it) => ({
      seed: toHex(it.seed),
      salt: it.salt.length > 0 ? toHex(it.salt) : null,
      value: toHex(it.value),
      seq: it.seq.toString()
    })))
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
  let rustNodes: RustNodes
  beforeAll(async () => {
    rustNodes = await startRustNodes(5)
  })
  afterAll(async () => {
    await rustNodes?.close()
  })

  it("a TS-sealed DTT record put by a Rust client comes back to another Rust client, seq i64::MAX, and opens in TS", async () => {
    const minute = 29_412_345n
    const { topic, slot, record, value } = await dttValue("interop-rust-only", "hunter2", minute)
    const [put] = await rustClient(rustNodes.addrs, [
      { op: "put", seed: toHex(slot.signingSeed), salt: toHex(slot.salt), value: toHex(value), seq: I64_MAX, cas: I64_MAX }
    ])
    expect(put!.error).toBeUndefined()
    expect(put!.target).toBe(toHex(slot.target))

    const [got] = await rustClient(rustNodes.addrs, [{ op: "get", pubkey: toHex(slot.publicKey), salt: toHex(slot.salt) }])
    const items = got!.items as Array<Json>
    expect(items.length).toBeGreaterThan(0)
    for (const item of items) {
      expect(item.seq).toBe(I64_MAX)
      expect(item.value).toBe(toHex(value))
      expectValidItem(item, slot.publicKey, slot.salt)
    }
    const opened = await openWithTs(fromHex(items[0]!.value as string), topic, minute, "hunter2")
    expect(toHex(opened.bytes)).toBe(toHex(record.bytes))
  })
})
