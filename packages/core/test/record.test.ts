import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import * as FastCheck from "effect/FastCheck"
import { randomBytes } from "node:crypto"
import * as Crypto from "../src/Crypto.js"
import { fromHex, toHex } from "../src/internal/bytes.js"
import * as Record from "../src/Record.js"
import * as TopicId from "../src/TopicId.js"

const secretKey = fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")!
const topic = TopicId.fromName("my-iroh-gossip-topic")

describe("Record", () => {
  it.effect("layout: topic, LE minute, key, content, signature at the spec offsets", () =>
    Effect.gen(function*() {
      const content = Uint8Array.of(1, 2, 3)
      const r = yield* Record.sign({ topic, unixMinute: 0x0102030405060708n, content, secretKey })
      const b = r.bytes
      expect(b.length).toBe(136 + 3)
      expect(toHex(b.subarray(0, 32))).toBe(topic.hex)
      expect(toHex(b.subarray(32, 40))).toBe("0807060504030201")
      expect(toHex(b.subarray(72, 75))).toBe("010203")
      expect(toHex(r.topic)).toBe(topic.hex)
      expect(r.unixMinute).toBe(0x0102030405060708n)
      expect(toHex(r.content)).toBe("010203")
      expect(toHex(r.signature)).toBe(toHex(b.subarray(75)))
      expect(toHex(r.signedBytes)).toBe(toHex(b.subarray(0, 75)))
      const crypto = yield* Crypto.Crypto
      expect(crypto.verifyStrict(r.publicKey, b.subarray(0, 75), r.signature)).toBe(true)
    }).pipe(Effect.provide(Crypto.layerNode)))

  it.effect("empty content is a valid 136-byte record", () =>
    Effect.gen(function*() {
      const r = yield* Record.sign({ topic, unixMinute: 1n, content: new Uint8Array(0), secretKey })
      expect(r.length).toBe(136)
      const back = Either.getOrThrow(Record.decode(r.bytes))
      expect(back.content.length).toBe(0)
      yield* Record.verify(back, topic, 1n)
    }).pipe(Effect.provide(Crypto.layerNoble)))

  it("decode: at least 136 bytes, and no other check", () => {
    for (let n = 0; n <= 2000; n++) {
      const bytes = new Uint8Array(randomBytes(n))
      const r = Record.decode(bytes)
      expect(Either.isRight(r)).toBe(n >= 136)
      if (Either.isLeft(r)) expect(r.left._tag).toBe("WrongLength")
      else expect(r.right.content.length).toBe(n - 136)
    }
    expect(Either.isLeft(Record.decode(undefined as unknown as Uint8Array))).toBe(true)
  })

  it("the Schema wraps decode", () => {
    const decode = Schema.decodeUnknownEither(Record.RecordFromBytes)
    expect(Either.isRight(decode(new Uint8Array(136)))).toBe(true)
    expect(Either.isLeft(decode(new Uint8Array(135)))).toBe(true)
    const encoded = Schema.encodeSync(Record.RecordFromBytes)(
      Either.getOrThrow(Record.decode(new Uint8Array(140).fill(1)))
    )
    expect(toHex(encoded)).toBe("01".repeat(140))
  })

  it.effect("verify checks topic, then minute, then signature, with typed errors", () =>
    Effect.gen(function*() {
      const r = yield* Record.sign({ topic, unixMinute: 7n, content: new Uint8Array(320), secretKey })
      expect((yield* Effect.flip(Record.verify(r, TopicId.fromName("other"), 8n)))._tag).toBe("WrongTopic")
      const wrongMinute = yield* Effect.flip(Record.verify(r, topic, 8n))
      expect(wrongMinute._tag === "WrongMinute" && wrongMinute.actual === 7n && wrongMinute.expected === 8n).toBe(true)
      const tampered = r.bytes
      tampered[100]! ^= 1
      const bad = yield* Effect.flip(Record.verify(Either.getOrThrow(Record.decode(tampered)), topic, 7n))
      expect(bad._tag).toBe("BadSignature")
      expect(bad.message).toContain("signature")
      // A key that does not decompress.
      const badKey = r.bytes
      badKey.set(new Uint8Array(32).fill(0), 40)
      badKey[40] = 2
      expect((yield* Effect.flip(Record.verify(Either.getOrThrow(Record.decode(badKey)), topic, 7n)))._tag).toBe(
        "BadSignature"
      )
    }).pipe(Effect.provide(Crypto.layerNode)))

  it.effect("sign rejects keys and topics of the wrong length", () =>
    Effect.gen(function*() {
      const e1 = yield* Effect.flip(
        Record.sign({ topic, unixMinute: 1n, content: new Uint8Array(0), secretKey: new Uint8Array(31) })
      )
      expect(e1._tag).toBe("WrongLength")
      const e2 = yield* Effect.flip(
        Record.sign({ topic: new Uint8Array(3), unixMinute: 1n, content: new Uint8Array(0), secretKey })
      )
      expect(e2._tag).toBe("WrongLength")
    }).pipe(Effect.provide(Crypto.layerNode)))

  it.prop(
    "any single-bit flip of a signed record fails verification",
    {
      bit: FastCheck.integer({ min: 0, max: (136 + 320) * 8 - 1 }),
      minute: FastCheck.bigInt({ min: 0n, max: (1n << 64n) - 1n })
    },
    ({ bit, minute }) => {
      const program = Effect.gen(function*() {
        const r = yield* Record.sign({ topic, unixMinute: minute, content: new Uint8Array(320).fill(5), secretKey })
        const bytes = r.bytes
        bytes[bit >> 3]! ^= 1 << (bit & 7)
        const flipped = Either.getOrThrow(Record.decode(bytes))
        // Verify against the record's own (possibly flipped) header, so only the signature can catch it.
        return yield* Effect.either(Record.verify(flipped, flipped.topic, flipped.unixMinute))
      })
      const result = Effect.runSync(program.pipe(Effect.provide(Crypto.layerNode)))
      expect(Either.isLeft(result) && result.left._tag).toBe("BadSignature")
    },
    { fastCheck: { numRuns: 200 } }
  )
})
