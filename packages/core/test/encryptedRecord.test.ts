import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Schema } from "effect"
import * as FastCheck from "effect/FastCheck"
import * as Crypto from "../src/Crypto.js"
import * as EncryptedRecord from "../src/EncryptedRecord.js"
import { toHex, u32le } from "../src/internal/bytes.js"
import * as Keys from "../src/Keys.js"
import * as Record from "../src/Record.js"
import * as TopicId from "../src/TopicId.js"

const topic = TopicId.fromName("my-iroh-gossip-topic")
const secretHash = Keys.initialSecretHash("my-initial-secret")
const nodeKey = new Uint8Array(32).fill(9)

const signAndSeal = (content: Uint8Array, minute: bigint, key: Uint8Array = nodeKey, ish: Uint8Array = secretHash) =>
  Effect.flatMap(
    Record.sign({ topic, unixMinute: minute, content, secretKey: key }),
    (r) => EncryptedRecord.sealRecord(r, topic, ish)
  )

const run = <A, E>(effect: Effect.Effect<A, E, Crypto.Crypto>, layer = Crypto.layerNode) =>
  Effect.runSync(Effect.either(effect.pipe(Effect.provide(layer))))

describe("EncryptedRecord framing", () => {
  it("sizes: 456-byte record -> 512 + 88 + 4 = 604", () => {
    const value = Either.getOrThrow(run(signAndSeal(new Uint8Array(320), 1n)))
    expect(value.length).toBe(604)
    const parts = Either.getOrThrow(EncryptedRecord.decode(value))
    expect(parts.encryptedRecord.length).toBe(512)
    expect(parts.encryptedDecryptionKey.length).toBe(88)
    expect(toHex(value.subarray(0, 4))).toBe("00020000")
    expect(toHex(parts.encryptedRecord.subarray(0, 8))).toBe("2000000000000000")
    expect(toHex(parts.encryptedDecryptionKey.subarray(0, 8))).toBe("2000000000000000")
  })

  it("decode: exact length, inner length <= 2048, asymmetric with the 2048 encode cap", () => {
    const frame = (inner: number, extra = 0) => {
      const out = new Uint8Array(4 + inner + 88 + extra)
      out.set(u32le(inner), 0)
      return out
    }
    expect(Either.isRight(EncryptedRecord.decode(frame(0)))).toBe(true)
    expect(Either.isRight(EncryptedRecord.decode(frame(2048)))).toBe(true) // total 2140 still parses
    expect(Either.isLeft(EncryptedRecord.decode(frame(2049)))).toBe(true)
    expect(Either.isLeft(EncryptedRecord.decode(frame(10, 1)))).toBe(true)
    expect(Either.isLeft(EncryptedRecord.decode(frame(10).subarray(0, 101)))).toBe(true)
    expect(Either.isLeft(EncryptedRecord.decode(new Uint8Array(3)))).toBe(true)
    const huge = new Uint8Array(100)
    huge.set(u32le(0xffffffff), 0)
    expect(Either.isLeft(EncryptedRecord.decode(huge))).toBe(true)
    // Encoding caps the total.
    const ok = EncryptedRecord.encode({
      encryptedRecord: new Uint8Array(2048 - 92),
      encryptedDecryptionKey: new Uint8Array(88)
    })
    expect(Either.getOrThrow(ok).length).toBe(2048)
    const tooBig = EncryptedRecord.encode({
      encryptedRecord: new Uint8Array(2048 - 91),
      encryptedDecryptionKey: new Uint8Array(88)
    })
    expect(Either.isLeft(tooBig) && tooBig.left._tag).toBe("WrongLength")
    expect(
      Either.isLeft(
        EncryptedRecord.encode({ encryptedRecord: new Uint8Array(1), encryptedDecryptionKey: new Uint8Array(87) })
      )
    ).toBe(true)
  })

  it("the Schema applies the same framing rules", () => {
    const value = Either.getOrThrow(run(signAndSeal(new Uint8Array(320), 1n)))
    const parts = Schema.decodeSync(EncryptedRecord.EncryptedRecordFromBytes)(value)
    expect(parts.encryptedDecryptionKey.length).toBe(88)
    expect(toHex(Schema.encodeSync(EncryptedRecord.EncryptedRecordFromBytes)(parts))).toBe(toHex(value))
    expect(Either.isLeft(Schema.decodeUnknownEither(EncryptedRecord.EncryptedRecordFromBytes)(value.subarray(1)))).toBe(
      true
    )
  })

  it("seal refuses records whose value would exceed 2048 bytes", () => {
    const maxContent = 2048 - EncryptedRecord.VALUE_OVERHEAD - 136
    expect(Either.getOrThrow(run(signAndSeal(new Uint8Array(maxContent), 1n))).length).toBe(2048)
    const tooBig = run(signAndSeal(new Uint8Array(maxContent + 1), 1n))
    expect(Either.isLeft(tooBig) && tooBig.left._tag).toBe("WrongLength")
  })
})

describe("EncryptedRecord seal/open", () => {
  for (const [name, layer] of [["noble", Crypto.layerNoble], ["node", Crypto.layerNode]] as const) {
    it.prop(
      `${name}: round trip for random content, node keys and minutes`,
      {
        content: FastCheck.uint8Array({ minLength: 0, maxLength: 700 }),
        key: FastCheck.uint8Array({ minLength: 32, maxLength: 32 }),
        minute: FastCheck.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        secret: FastCheck.string()
      },
      ({ content, key, minute, secret }) => {
        const ish = Keys.initialSecretHash(secret)
        const value = Either.getOrThrow(run(signAndSeal(content, minute, key, ish), layer))
        expect(value.length).toBe(136 + content.length + EncryptedRecord.VALUE_OVERHEAD)
        const record = Either.getOrThrow(run(EncryptedRecord.openRecord(value, topic, minute, ish), layer))
        expect(toHex(record.content)).toBe(toHex(content))
        expect(record.unixMinute).toBe(minute)
        const wrong = run(EncryptedRecord.openRecord(value, topic, minute, Keys.initialSecretHash(secret + "x")), layer)
        expect(Either.isLeft(wrong) && wrong.left._tag).toBe("CannotDecrypt")
      },
      { fastCheck: { numRuns: name === "noble" ? 15 : 60 } }
    )
  }

  it("the two layers open each other's values", () => {
    const a = Either.getOrThrow(run(signAndSeal(new Uint8Array(320), 5n), Crypto.layerNoble))
    const b = Either.getOrThrow(run(signAndSeal(new Uint8Array(320), 5n), Crypto.layerNode))
    expect(Either.isRight(run(EncryptedRecord.openRecord(a, topic, 5n, secretHash), Crypto.layerNode))).toBe(true)
    expect(Either.isRight(run(EncryptedRecord.openRecord(b, topic, 5n, secretHash), Crypto.layerNoble))).toBe(true)
  })

  it("layerTest reproduces a sealed value byte for byte", () => {
    const a = run(signAndSeal(new Uint8Array(320), 5n), Crypto.layerTest(7))
    const b = run(signAndSeal(new Uint8Array(320), 5n), Crypto.layerTest(7))
    const c = run(signAndSeal(new Uint8Array(320), 5n), Crypto.layerTest(8))
    expect(toHex(Either.getOrThrow(a))).toBe(toHex(Either.getOrThrow(b)))
    expect(toHex(Either.getOrThrow(a))).not.toBe(toHex(Either.getOrThrow(c)))
  })

  it("every single-bit flip of a sealed value is rejected with a typed error", () => {
    const value = Either.getOrThrow(run(signAndSeal(new Uint8Array(320).fill(1), 3n)))
    const tags = new Set<string>()
    for (let bit = 0; bit < value.length * 8; bit++) {
      const flipped = Uint8Array.from(value)
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      const result = run(EncryptedRecord.openRecord(flipped, topic, 3n, secretHash))
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) tags.add(result.left._tag)
    }
    expect([...tags].sort()).toEqual(["CannotDecrypt", "WrongLength"])
  })

  it.prop(
    "noble: random single-bit flips are rejected",
    { bit: FastCheck.integer({ min: 0, max: 604 * 8 - 1 }) },
    ({ bit }) => {
      const value = Either.getOrThrow(run(signAndSeal(new Uint8Array(320), 3n), Crypto.layerTest(1, "noble")))
      value[bit >> 3]! ^= 1 << (bit & 7)
      const result = run(EncryptedRecord.openRecord(value, topic, 3n, secretHash), Crypto.layerNoble)
      expect(Either.isLeft(result)).toBe(true)
    },
    { fastCheck: { numRuns: 30 } }
  )

  it("a value that decrypts but holds a bad record is refused by decode or verify", () => {
    // Seal raw bytes that are not a valid record (too short) and a record signed for another topic.
    const encPub = Keys.encryptionPublicKey(topic.hash, 4n, secretHash)
    const short = Either.getOrThrow(run(EncryptedRecord.seal(new Uint8Array(100), encPub)))
    const r1 = run(EncryptedRecord.openRecord(short, topic, 4n, secretHash))
    expect(Either.isLeft(r1) && r1.left._tag).toBe("WrongLength")
    const forged = new Uint8Array(456)
    forged.set(topic.hash, 0)
    forged.set(Keys.slot(topic.hash, 0n).publicKey, 40)
    forged.set(Uint8Array.of(4), 32)
    const sealedForged = Either.getOrThrow(run(EncryptedRecord.seal(forged, encPub)))
    const r2 = run(EncryptedRecord.openRecord(sealedForged, topic, 4n, secretHash))
    expect(Either.isLeft(r2) && r2.left._tag).toBe("BadSignature")
  })
})

describe("decoders never throw", () => {
  it("random byte strings of every length 0..2000 (plain and with a valid frame)", () => {
    const crypto = Crypto.make("node")
    const random = (n: number) => Effect.runSync(crypto.randomBytes(n))
    for (let n = 0; n <= 2000; n++) {
      const plain = random(n)
      const framed = Uint8Array.from(plain)
      if (n >= 92) framed.set(u32le(n - 92), 0)
      if (n >= 100) framed.set(u32le(32), 4 + (n - 92)) // wrapped key claims a 32-byte enc
      for (const bytes of [plain, framed]) {
        const exit = Effect.runSyncExit(
          EncryptedRecord.openRecord(bytes, topic, 1n, secretHash).pipe(Effect.provide(Crypto.layerNode))
        )
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit)) expect(exit.cause._tag).toBe("Fail")
        const opened = Effect.runSyncExit(
          EncryptedRecord.open(bytes, secretHash).pipe(Effect.provide(Crypto.layerNode))
        )
        expect(Exit.isFailure(opened) && opened.cause._tag === "Fail").toBe(true)
        expect(Either.isRight(Record.decode(bytes))).toBe(n >= 136)
        expect(Either.isRight(EncryptedRecord.decode(bytes))).toBe(bytes === framed && n >= 92)
      }
    }
  })

  it("noble layer on a sample of framed random values", () => {
    for (let n = 92; n <= 2000; n += 37) {
      const bytes = new Uint8Array(n).fill(n & 0xff)
      bytes.set(u32le(n - 92), 0)
      const exit = Effect.runSyncExit(
        EncryptedRecord.open(bytes, new Uint8Array(32)).pipe(Effect.provide(Crypto.layerNoble))
      )
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail").toBe(true)
    }
  })
})
