// Record-layer interop: the TypeScript record layer (@dtt/core) against the real Rust crate
// distributed-topic-tracker 0.3.5 (interop/records). Key derivation, signing, sealing and opening are compared
// byte for byte in both directions, and the spec's D-vectors are checked against what the crate prints.
import { Crypto, EncryptedRecord, GossipRecordContent, Keys, Record, TopicId } from "@dtt/core"
import { sha256 } from "@noble/hashes/sha2.js"
import { Effect, Either, type Layer } from "effect"
import { describe, expect, it } from "vitest"
import { harnessBinary, wireVectors as vectors } from "./harness.js"
import { fromHex, type Json, runBatch, toHex } from "./jsonLines.js"

const rust = (requests: ReadonlyArray<Json>) => runBatch(harnessBinary("records"), [], requests)
const rustOne = (request: Json) => rust([request])[0]!

const layers: ReadonlyArray<readonly [string, Layer.Layer<Crypto.Crypto>]> = [
  ["node", Crypto.layerNode],
  ["noble", Crypto.layerNoble]
]
const run = <A, E>(layer: Layer.Layer<Crypto.Crypto>, effect: Effect.Effect<A, E, Crypto.Crypto>) =>
  Effect.runPromise(Effect.provide(effect, layer))
const runEither = <A, E>(layer: Layer.Layer<Crypto.Crypto>, effect: Effect.Effect<A, E, Crypto.Crypto>) =>
  run(layer, Effect.either(effect))

// ---------------------------------------------------------------------------------------------------------
// Inputs: reproducible pseudo-random cases (the seed is fixed so a failure can be replayed), plus edge minutes.

interface Case {
  readonly label: string
  readonly topicName: Uint8Array
  readonly secret: Uint8Array
  readonly minute: bigint
  readonly nodeSeed: Uint8Array
  readonly activePeers: ReadonlyArray<Uint8Array>
  readonly lastMessageHashes: ReadonlyArray<Uint8Array>
}

const random = Crypto.deterministicRandom("dtt-interop-records-v1")
const randomInt = (bound: number) => random(1)[0]! % bound
const randomU64 = () => new DataView(random(8).buffer).getBigUint64(0, true)
const utf8 = (s: string) => new TextEncoder().encode(s)

const makeCase = (label: string, overrides: Partial<Case> = {}): Case => ({
  label,
  topicName: random(randomInt(48)),
  secret: random(randomInt(64)),
  minute: randomU64(),
  nodeSeed: random(32),
  activePeers: Array.from({ length: randomInt(6) }, () => random(32)),
  lastMessageHashes: Array.from({ length: randomInt(6) }, () => random(32)),
  ...overrides
})

const cases: ReadonlyArray<Case> = [
  makeCase("unicode name, minute now-ish", {
    topicName: utf8("chat-room-🦀-ü"),
    secret: utf8("s3cr3t"),
    minute: 29_412_345n
  }),
  makeCase("empty name and secret, minute 0", { topicName: new Uint8Array(0), secret: new Uint8Array(0), minute: 0n }),
  makeCase("minute u64::MAX", { minute: 2n ** 64n - 1n }),
  makeCase("minute 2^32 (crosses the LE/BE word boundary)", { minute: 2n ** 32n }),
  makeCase("full content", {
    activePeers: Array.from({ length: 5 }, () => random(32)),
    lastMessageHashes: Array.from({ length: 5 }, () => random(32))
  }),
  ...Array.from({ length: 5 }, (_, i) => makeCase(`random #${i}`))
]

const topicOf = (c: Case) => TopicId.fromName(c.topicName)
const secretHashOf = (c: Case) => Keys.initialSecretHash(c.secret)
const rustTopic = (c: Case): Json => ({
  topic_hex: toHex(c.topicName),
  secret_hex: toHex(c.secret),
  minute: c.minute.toString()
})
const contentOf = (c: Case) =>
  Either.getOrThrow(GossipRecordContent.make({ activePeers: c.activePeers, lastMessageHashes: c.lastMessageHashes }))
const tsSign = (c: Case) =>
  Record.sign({
    topic: topicOf(c),
    unixMinute: c.minute,
    content: GossipRecordContent.encode(contentOf(c)),
    secretKey: c.nodeSeed
  })
const rustSign = (c: Case, withSeal: boolean): Json => ({
  op: "sign",
  ...rustTopic(c),
  ...(withSeal ? {} : { secret_hex: undefined }),
  seed: toHex(c.nodeSeed),
  active_peers: c.activePeers.map(toHex),
  last_message_hashes: c.lastMessageHashes.map(toHex)
})

/** Field-by-field view of a record as the Rust harness prints it. */
const tsView = (record: Record.Record) => {
  const content = Either.getOrThrow(GossipRecordContent.decode(record.content))
  return {
    record: toHex(record.bytes),
    topic_hash: toHex(record.topic),
    minute: record.unixMinute.toString(),
    pub_key: toHex(record.publicKey),
    signature: toHex(record.signature),
    content: toHex(record.content),
    active_peers: content.activePeers.map(toHex),
    last_message_hashes: content.lastMessageHashes.map(toHex)
  }
}
const rustView = (reply: Json) => {
  const { record, topic_hash, minute, pub_key, signature, content, active_peers, last_message_hashes } = reply
  return { record, topic_hash, minute, pub_key, signature, content, active_peers, last_message_hashes }
}

const noError = (reply: Json) => {
  expect(reply.error, `Rust harness error: ${String(reply.error)}`).toBeUndefined()
  return reply
}

// ---------------------------------------------------------------------------------------------------------

describe("spec vectors (wire.md §7) against the real crate", () => {
  it("D1-D5: every derived value, the record bytes and both signatures match what Rust computes", () => {
    const topic = vectors.topic.name as string
    const secret = vectors.initial_secret.secret as string
    const m = vectors.unix_minute as number
    const [d, dNext, dTest, dEmpty, zero, full] = rust([
      { op: "derive", topic, secret, minute: m },
      { op: "derive", topic, secret, minute: m + 1 },
      { op: "derive", topic: vectors.topic_test.name, minute: m },
      { op: "derive", topic: vectors.topic_empty.name, minute: m },
      { op: "sign", topic, minute: m, seed: vectors.node_key.seed },
      {
        op: "sign",
        topic,
        minute: m,
        seed: vectors.node_key.seed,
        active_peers: Array(5).fill("03".repeat(32)),
        last_message_hashes: Array(5).fill("04".repeat(32))
      }
    ]).map(noError)
    const zeroRecord = fromHex(zero!.record as string)
    const comparisons: ReadonlyArray<readonly [string, unknown, unknown]> = [
      ["D1 topic.hash", vectors.topic.hash, d!.topic_hash],
      ["D1 topic_test.hash", vectors.topic_test.hash, dTest!.topic_hash],
      ["D1 topic_empty.hash", vectors.topic_empty.hash, dEmpty!.topic_hash],
      ["D1 initial_secret_hash", vectors.initial_secret.initial_secret_hash, d!.initial_secret_hash],
      ["D2 LE8(minute) = record bytes 32..40", vectors.unix_minute_le8, toHex(zeroRecord.slice(32, 40))],
      ["D3 signing_seed", vectors.dht.signing_seed, d!.signing_seed],
      ["D3 signing_pub", vectors.dht.signing_pub, d!.signing_pub],
      ["D3 salt", vectors.dht.salt, d!.salt],
      ["D3 bep44_target_sha1", vectors.dht.bep44_target_sha1, d!.target],
      ["D3 next minute signing_pub", vectors.dht_next_minute.signing_pub, dNext!.signing_pub],
      ["D3 next minute salt", vectors.dht_next_minute.salt, dNext!.salt],
      ["D4 next minute enc_seed", vectors.dht_next_minute.enc_seed, dNext!.enc_seed],
      ["D4 encryption seed (BE8 minute in the rotation)", vectors.encryption_key.seed, d!.enc_seed],
      ["D4 encryption ed25519_pub", vectors.encryption_key.ed25519_pub, d!.enc_pub],
      ["D5 record_len", vectors.record_zero_content.record_len, zeroRecord.length],
      ["D5 content_len", vectors.record_zero_content.content_len, (zero!.content as string).length / 2],
      ["D5 record_hex", vectors.record_zero_content.record_hex, zero!.record],
      ["D5 signature", vectors.record_zero_content.signature, zero!.signature],
      ["D5 record_sha256", vectors.record_zero_content.record_sha256, toHex(sha256(zeroRecord))],
      ["D5 full-content signature", vectors.record_full_content.signature, full!.signature],
      [
        "D5 full-content record_sha256",
        vectors.record_full_content.record_sha256,
        toHex(sha256(fromHex(full!.record as string)))
      ]
    ]
    const mismatches = comparisons
      .filter(([, expected, actual]) => expected !== actual)
      .map(([label, expected, actual]) => `${label}: vector ${String(expected)} but Rust ${String(actual)}`)
    expect(mismatches).toEqual([])
  })

  it("D8: the real crate opens the vector DHT value to exactly D5 and the record verifies", () => {
    const reply = noError(
      rustOne({
        op: "open",
        topic: vectors.topic.name,
        secret: vectors.initial_secret.secret,
        minute: vectors.unix_minute,
        value: vectors.encryption.dht_value_hex
      })
    )
    expect(toHex(sha256(fromHex(vectors.encryption.dht_value_hex)))).toBe(vectors.encryption.dht_value_sha256)
    expect(reply.record).toBe(vectors.record_zero_content.record_hex)
    expect(reply.verified).toBe(true)
  })

  it("D8 tampered in either ciphertext: the real crate refuses it", () => {
    const value = fromHex(vectors.encryption.dht_value_hex)
    const tamper = (index: number) => {
      const copy = value.slice()
      copy[index] = copy[index]! ^ 0x01
      return toHex(copy)
    }
    const base = {
      op: "open",
      topic: vectors.topic.name,
      secret: vectors.initial_secret.secret,
      minute: vectors.unix_minute
    }
    const replies = rust([100, value.length - 1].map((i) => ({ ...base, value: tamper(i) })))
    for (const reply of replies) expect(String(reply.error)).toMatch(/^decrypt:/)
  })
})

describe("derivations: TS Keys/TopicId vs Rust for random inputs", () => {
  it("topic hash, secret hash, slot key, salt, target and encryption key agree", () => {
    const replies = rust(cases.map((c) => ({ op: "derive", ...rustTopic(c) }))).map(noError)
    cases.forEach((c, i) => {
      const topic = topicOf(c)
      const slot = Keys.slot(topic.hash, c.minute)
      const encSeed = Keys.encryptionSeed(topic.hash, c.minute, secretHashOf(c))
      expect(
        {
          topic_hash: topic.hex,
          initial_secret_hash: toHex(secretHashOf(c)),
          signing_seed: toHex(slot.signingSeed),
          signing_pub: toHex(slot.publicKey),
          salt: toHex(slot.salt),
          target: toHex(slot.target),
          enc_seed: toHex(encSeed),
          enc_pub: toHex(Keys.encryptionPublicKey(topic.hash, c.minute, secretHashOf(c)))
        },
        c.label
      ).toEqual({
        topic_hash: replies[i]!.topic_hash,
        initial_secret_hash: replies[i]!.initial_secret_hash,
        signing_seed: replies[i]!.signing_seed,
        signing_pub: replies[i]!.signing_pub,
        salt: replies[i]!.salt,
        target: replies[i]!.target,
        enc_seed: replies[i]!.enc_seed,
        enc_pub: replies[i]!.enc_pub
      })
    })
  })
})

describe.each(layers)("records with the %s Crypto layer", (_name, layer) => {
  it("TS Record.sign produces the same bytes as Rust Record::sign", async () => {
    const replies = rust(cases.map((c) => rustSign(c, false))).map(noError)
    for (const [i, c] of cases.entries()) {
      const record = await run(layer, tsSign(c))
      expect(tsView(record), c.label).toEqual(rustView(replies[i]!))
    }
  })

  it("Rust-sealed values open, parse and verify in TS", async () => {
    const replies = rust(cases.map((c) => rustSign(c, true))).map(noError)
    for (const [i, c] of cases.entries()) {
      const value = fromHex(replies[i]!.sealed as string)
      expect(value.length, c.label).toBe((replies[i]!.record as string).length / 2 + EncryptedRecord.VALUE_OVERHEAD)
      const record = await run(layer, EncryptedRecord.openRecord(value, topicOf(c), c.minute, secretHashOf(c)))
      expect(tsView(record), c.label).toEqual(rustView(replies[i]!))
    }
  })

  it("TS-sealed values open and verify in Rust", async () => {
    const sealed: Array<Json> = []
    const expected: Array<ReturnType<typeof tsView>> = []
    for (const c of cases) {
      const record = await run(layer, tsSign(c))
      const value = await run(layer, EncryptedRecord.sealRecord(record, topicOf(c), secretHashOf(c)))
      sealed.push({ op: "open", ...rustTopic(c), value: toHex(value) })
      expected.push(tsView(record))
    }
    rust(sealed).forEach((reply, i) => {
      noError(reply)
      expect(reply.verified, cases[i]!.label).toBe(true)
      expect(rustView(reply), cases[i]!.label).toEqual(expected[i])
    })
  })

  it("both sides refuse the other's value under another secret, another minute or a flipped bit", async () => {
    const c = cases[0]!
    const other = cases[1]!
    // TS seals; Rust opens with the wrong secret / wrong minute / a tampered byte.
    const record = await run(layer, tsSign(c))
    const value = await run(layer, EncryptedRecord.sealRecord(record, topicOf(c), secretHashOf(c)))
    const flipped = value.slice()
    flipped[flipped.length - 20] = flipped[flipped.length - 20]! ^ 0x80
    const [wrongSecret, wrongMinute, tampered] = rust([
      { op: "open", ...rustTopic(c), secret_hex: toHex(other.secret), value: toHex(value) },
      { op: "open", ...rustTopic(c), minute: (c.minute + 1n).toString(), value: toHex(value) },
      { op: "open", ...rustTopic(c), value: toHex(flipped) }
    ])
    expect(String(wrongSecret!.error)).toMatch(/^decrypt:/)
    expect(String(wrongMinute!.error)).toMatch(/^decrypt:/)
    expect(String(tampered!.error)).toMatch(/^decrypt:/)

    // Rust seals; TS opens with the wrong secret / wrong minute / a tampered byte.
    const rustValue = fromHex(noError(rustOne(rustSign(c, true))).sealed as string)
    const rustFlipped = rustValue.slice()
    rustFlipped[200] = rustFlipped[200]! ^ 0x01
    const attempts = [
      EncryptedRecord.openRecord(rustValue, topicOf(c), c.minute, secretHashOf(other)),
      EncryptedRecord.openRecord(rustValue, topicOf(c), c.minute + 1n, secretHashOf(c)),
      EncryptedRecord.openRecord(rustFlipped, topicOf(c), c.minute, secretHashOf(c))
    ]
    for (const attempt of attempts) {
      const result = await runEither(layer, attempt)
      expect(Either.isLeft(result) && result.left._tag).toBe("CannotDecrypt")
    }
  })

  it("a record that decrypts but does not verify is refused by both, for the same reason", async () => {
    const c = cases[4]!
    const topic = topicOf(c)
    const encPub = Keys.encryptionPublicKey(topic.hash, c.minute, secretHashOf(c))
    const good = await run(layer, tsSign(c))
    const badSig = good.bytes
    badSig[badSig.length - 1] = badSig[badSig.length - 1]! ^ 0x01
    const otherMinute = await run(
      layer,
      Record.sign({
        topic,
        unixMinute: c.minute ^ 1n,
        content: GossipRecordContent.encode(contentOf(c)),
        secretKey: c.nodeSeed
      })
    )
    // Sealed under the slot's key, so both decrypt; then verification must fail.
    const values = [
      await run(layer, EncryptedRecord.seal(badSig, encPub)),
      await run(layer, EncryptedRecord.seal(otherMinute.bytes, encPub))
    ]
    const replies = rust(values.map((v) => ({ op: "open", ...rustTopic(c), value: toHex(v) }))).map(noError)
    expect(replies.map((r) => r.verified)).toEqual([false, false])
    expect(String(replies[1]!.verify_error)).toMatch(/minute/)
    const results = await Promise.all(
      values.map((v) => runEither(layer, EncryptedRecord.openRecord(v, topic, c.minute, secretHashOf(c))))
    )
    expect(results.map((r) => Either.isLeft(r) && r.left._tag)).toEqual(["BadSignature", "WrongMinute"])
  })
})
