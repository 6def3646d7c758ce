import { describe, expect, it } from "@effect/vitest"
import { ed25519, x25519 } from "@noble/curves/ed25519.js"
import { sha512 } from "@noble/hashes/sha2.js"
import { Duration, Effect, TestClock } from "effect"
import * as Bep44 from "../src/Bep44.js"
import { concat, toHex, u64be, u64le, utf8 } from "../src/internal/bytes.js"
import * as Keys from "../src/Keys.js"
import * as SecretRotation from "../src/SecretRotation.js"
import * as TopicId from "../src/TopicId.js"

const topic = TopicId.fromName("my-iroh-gossip-topic").hash
const secretHash = Keys.initialSecretHash("my-initial-secret")
const h32 = (b: Uint8Array) => sha512(b).slice(0, 32)

describe("Keys", () => {
  it("signing seed and salt hash the minute little-endian; the default rotation big-endian", () => {
    const m = 0x0102030405060708n
    expect(toHex(u64le(m))).toBe("0807060504030201")
    expect(toHex(u64be(m))).toBe("0102030405060708")
    expect(toHex(Keys.signingSeed(topic, m))).toBe(toHex(h32(concat(topic, u64le(m)))))
    expect(toHex(Keys.salt(topic, m))).toBe(toHex(h32(concat(utf8("salt"), topic, u64le(m)))))
    expect(toHex(Keys.encryptionSeed(topic, m, secretHash))).toBe(toHex(h32(concat(topic, u64be(m), secretHash))))
    // The two orders really differ (a port that used one order everywhere would fail here).
    expect(toHex(Keys.encryptionSeed(topic, m, secretHash))).not.toBe(toHex(h32(concat(topic, u64le(m), secretHash))))
  })

  it("u64 minutes: 0 and 2^64-1 encode without loss", () => {
    expect(toHex(u64le(0n))).toBe("0000000000000000")
    expect(toHex(u64le((1n << 64n) - 1n))).toBe("ffffffffffffffff")
    expect(Keys.slot(topic, (1n << 64n) - 1n).salt.length).toBe(32)
  })

  it("slot: key of the seed, target = SHA-1(pub ‖ salt)", () => {
    const s = Keys.slot(topic, 29000000n)
    expect(s.minute).toBe(29000000n)
    expect(toHex(s.publicKey)).toBe(toHex(ed25519.getPublicKey(s.signingSeed)))
    expect(toHex(s.target)).toBe(toHex(Bep44.target(s.publicKey, s.salt)))
    expect(s.target.length).toBe(20)
  })

  it("a custom rotation replaces only the encryption seed and receives the hashed secret", () => {
    const seen: Array<Uint8Array> = []
    const rotation = SecretRotation.make((t, m, ish) => {
      seen.push(ish)
      return h32(concat(utf8("custom"), t, u64le(m)))
    })
    const seed = Keys.encryptionSeed(topic, 5n, secretHash, rotation)
    expect(toHex(seed)).toBe(toHex(h32(concat(utf8("custom"), topic, u64le(5n)))))
    expect(toHex(seen[0]!)).toBe(toHex(secretHash))
    expect(toHex(Keys.initialSecretHash(utf8("my-initial-secret")))).toBe(toHex(secretHash))
  })

  it("X25519 conversions agree: DH with the converted secret matches DH with the converted public key", () => {
    const a = Keys.encryptionSeed(topic, 1n, secretHash)
    const b = Keys.encryptionSeed(topic, 2n, secretHash)
    const ab = x25519.getSharedSecret(
      Keys.x25519SecretFromSeed(a),
      Keys.x25519PublicFromEd25519(ed25519.getPublicKey(b))!
    )
    const ba = x25519.getSharedSecret(
      Keys.x25519SecretFromSeed(b),
      Keys.x25519PublicFromEd25519(ed25519.getPublicKey(a))!
    )
    expect(toHex(ab)).toBe(toHex(ba))
    // The seed itself is not the X25519 scalar.
    expect(toHex(x25519.getPublicKey(a))).not.toBe(toHex(Keys.x25519PublicFromEd25519(ed25519.getPublicKey(a))!))
    expect(Keys.x25519PublicFromEd25519(new Uint8Array(31))).toBeUndefined()
  })

  it.effect("unix minutes: floor(ms / 60000), and currentUnixMinute follows the TestClock", () =>
    Effect.gen(function*() {
      expect(Keys.unixMinuteOf(29000000 * 60000 + 59999)).toBe(29000000n)
      expect(yield* Keys.currentUnixMinute).toBe(0n)
      yield* TestClock.adjust(Duration.minutes(3))
      expect(yield* Keys.currentUnixMinute).toBe(3n)
    }))
})
