/**
 * The Crypto service on both implementations: dalek `verify_strict` semantics on adversarial signatures (both
 * layers must give the same answer, and the answer dalek gives), HPKE failure handling, randomness layers.
 */
import { describe, expect, it } from "@effect/vitest"
import { ed25519, ED25519_TORSION_SUBGROUP as ED25519_TORSION } from "@noble/curves/ed25519.js"
import { sha512 } from "@noble/hashes/sha2.js"
import { Effect, Either, Exit } from "effect"
import * as Crypto from "../src/Crypto.js"
import { concat, fromHex, toHex, utf8 } from "../src/internal/bytes.js"
import { isCanonicalEncoding, precheck } from "../src/internal/ed25519Strict.js"

const Point = ed25519.Point
const L = Point.Fn.ORDER
const P = Point.Fp.ORDER
const noble = Crypto.make("noble")
const node = Crypto.make("node")

const le32 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}
const leToBig = (b: Uint8Array): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n)
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array): bigint => leToBig(sha512(concat(r, a, m))) % L

const seed = fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")!
const pub = ed25519.getPublicKey(seed)
const scalar = ed25519.utils.getExtendedPublicKey(seed).scalar
const message = utf8("adversarial")
const honest = ed25519.sign(message, seed)

const IDENTITY = le32(1n)
/** The identity with the sign bit set (x = 0 encoded as -0): decompresses in dalek, never canonical. */
const IDENTITY_NEG_ZERO = (() => {
  const b = le32(1n)
  b[31]! |= 0x80
  return b
})()
/** The identity encoded with y + p. */
const IDENTITY_Y_PLUS_P = le32(1n + P)
/** A non-canonical (y = 3 + p) encoding of a point that is not small-order. */
const NON_CANONICAL_A = le32(3n + P)

interface Case {
  readonly name: string
  readonly publicKey: Uint8Array
  readonly message: Uint8Array
  readonly signature: Uint8Array
  /** What dalek's verify_strict answers (spec wire.md §3). */
  readonly dalek: boolean
}

/** A case dalek rejects: `signature` over the test message, under the honest key unless `publicKey` is given. */
const rejected = (name: string, signature: Uint8Array, publicKey: Uint8Array = pub): Case => ({
  name,
  publicKey,
  message,
  signature,
  dalek: false
})

const cases = (): ReadonlyArray<Case> => {
  // Small-order A (the identity): R = [s]B satisfies R = [s]B - [k]A, so only the small-order check rejects it.
  const s = 12345n
  const rForIdentityA = Point.BASE.multiply(s).toBytes()
  // Small-order R (the identity): with S = k·a the equation [S]B - [k]A = O holds for the honest key.
  const kIdentityR = challenge(IDENTITY, pub, message)
  const sIdentityR = (kIdentityR * scalar) % L
  // Same, with the identity R encoded non-canonically (k is over the bytes actually sent).
  const sNegZeroR = (challenge(IDENTITY_NEG_ZERO, pub, message) * scalar) % L
  const sYPlusPR = (challenge(IDENTITY_Y_PLUS_P, pub, message) * scalar) % L
  // S + L: the same group element, a non-canonical scalar.
  const sHonest = leToBig(honest.subarray(32))
  const flipped = Uint8Array.from(honest)
  flipped[5]! ^= 0x10
  return [
    { name: "honest signature", publicKey: pub, message, signature: honest, dalek: true },
    rejected("one bit of R flipped", flipped),
    { name: "other message", publicKey: pub, message: utf8("other"), signature: honest, dalek: false },
    rejected("small-order A (identity) with a satisfied equation", concat(rForIdentityA, le32(s)), IDENTITY),
    rejected("small-order A of order 2, canonical", concat(rForIdentityA, le32(s)), le32(P - 1n)),
    rejected("small-order R (identity) with a satisfied equation", concat(IDENTITY, le32(sIdentityR))),
    rejected("non-canonical R (identity as -0)", concat(IDENTITY_NEG_ZERO, le32(sNegZeroR))),
    rejected("non-canonical R (identity as y + p)", concat(IDENTITY_Y_PLUS_P, le32(sYPlusPR))),
    rejected("S + L", concat(honest.subarray(0, 32), le32(sHonest + L))),
    rejected("S = L", concat(honest.subarray(0, 32), le32(L))),
    rejected("S = 2^256 - 1", concat(honest.subarray(0, 32), new Uint8Array(32).fill(0xff))),
    rejected("non-canonical, decompressible, non-small-order A (no signature known)", honest, NON_CANONICAL_A),
    rejected("A does not decompress", honest, le32(2n)),
    rejected("all-zero signature", new Uint8Array(64))
  ]
}

describe("verifyStrict on adversarial inputs", () => {
  for (const c of cases()) {
    it(`${c.name}: ${c.dalek ? "accepted" : "rejected"} by both layers`, () => {
      expect(noble.verifyStrict(c.publicKey, c.message, c.signature)).toBe(c.dalek)
      expect(node.verifyStrict(c.publicKey, c.message, c.signature)).toBe(c.dalek)
    })
  }

  it("the adversarial cases are real: lax verifiers accept some of them", () => {
    const byName = new Map(cases().map((c) => [c.name, c]))
    const lax = (name: string) => {
      const c = byName.get(name)!
      return ed25519.verify(c.signature, c.message, c.publicKey, { zip215: true })
    }
    // ZIP-215 (cofactored, no small-order checks) accepts what verify_strict refuses.
    expect(lax("small-order A (identity) with a satisfied equation")).toBe(true)
    expect(lax("small-order R (identity) with a satisfied equation")).toBe(true)
    expect(lax("non-canonical R (identity as -0)")).toBe(true)
    // The group equation holds for S + L; only the canonical-S rule rejects it.
    const c = byName.get("S + L")!
    const s = leToBig(c.signature.subarray(32)) % L
    const k = challenge(c.signature.subarray(0, 32), c.publicKey, c.message)
    const rPrime = Point.BASE.multiply(s).subtract(Point.fromBytes(c.publicKey).multiply(k)).toBytes()
    expect(toHex(rPrime)).toBe(toHex(c.signature.subarray(0, 32)))
  })

  it("a non-canonical A that decompresses reaches the curve equation instead of being refused early", () => {
    expect(isCanonicalEncoding(NON_CANONICAL_A)).toBe(false)
    const a = Point.fromBytes(NON_CANONICAL_A, true)
    expect(a.isSmallOrder()).toBe(false)
    // It aliases the canonical y = 3 point, which is what dalek's from_bytes reduces it to.
    expect(leToBig(a.toBytes()) & ((1n << 255n) - 1n)).toBe(3n)
    expect(a.equals(Point.fromBytes(le32(3n)))).toBe(true)
    expect(precheck(NON_CANONICAL_A, honest)).toBe("nonCanonicalA")
    expect(precheck(pub, honest)).toBe("standard")
  })

  it("mixed-order A (honest key + torsion): accepted exactly when [k]T vanishes, by both layers", () => {
    // A = [a]B + T is not small-order, so verify_strict evaluates the cofactorless equation, which holds iff
    // [k]T = O. These inputs reach OpenSSL in the node layer, so this checks it against the noble recipe.
    const torsion = ED25519_TORSION.map((hex) => Point.fromHex(hex))
    let accepted = 0
    let rejected = 0
    for (const t of torsion.filter((p) => !p.is0())) {
      const order = [1n, 2n, 4n, 8n].find((n) => t.multiplyUnsafe(n).is0())!
      const mixedA = Point.BASE.multiply(scalar).add(t)
      const aBytes = mixedA.toBytes()
      for (let i = 0; i < 24; i++) {
        const msg = utf8(`mixed-${i}`)
        const r = 1000n + BigInt(i)
        const rBytes = Point.BASE.multiply(r).toBytes()
        const k = challenge(rBytes, aBytes, msg)
        const sig = concat(rBytes, le32((r + k * scalar) % L))
        const expected = k % order === 0n
        if (expected) accepted++
        else rejected++
        expect(noble.verifyStrict(aBytes, msg, sig)).toBe(expected)
        expect(node.verifyStrict(aBytes, msg, sig)).toBe(expected)
      }
    }
    expect(accepted).toBeGreaterThan(0)
    expect(rejected).toBeGreaterThan(0)
  })

  it("honest signatures from random keys verify on both layers", () => {
    for (let i = 0; i < 50; i++) {
      const sk = Effect.runSync(node.randomBytes(32))
      const msg = Effect.runSync(node.randomBytes(i * 7))
      const sig = node.sign(sk, msg)
      expect(toHex(noble.sign(sk, msg))).toBe(toHex(sig))
      expect(noble.verifyStrict(node.ed25519PublicKey(sk), msg, sig)).toBe(true)
      expect(node.verifyStrict(noble.ed25519PublicKey(sk), msg, sig)).toBe(true)
    }
  })

  it("random signatures and keys: both layers agree", () => {
    for (let i = 0; i < 300; i++) {
      const k = Effect.runSync(node.randomBytes(32))
      const s = Effect.runSync(node.randomBytes(64))
      s[63]! &= 0x0f // make S < L likely so the equation is actually evaluated
      expect(node.verifyStrict(k, message, s)).toBe(noble.verifyStrict(k, message, s))
    }
  })

  it("malformed lengths return false and never throw", () => {
    for (const svc of [noble, node]) {
      expect(svc.verifyStrict(pub.subarray(1), message, honest)).toBe(false)
      expect(svc.verifyStrict(pub, message, honest.subarray(1))).toBe(false)
      expect(svc.verifyStrict(new Uint8Array(0), message, new Uint8Array(0))).toBe(false)
      expect(svc.verifyStrict(undefined as unknown as Uint8Array, message, honest)).toBe(false)
    }
  })
})

describe("HPKE and randomness", () => {
  for (const svc of [noble, node]) {
    it.effect(`${svc.name}: seal/open round trip, cross-implementation, and typed failures`, () =>
      Effect.gen(function*() {
        const sk = yield* svc.randomBytes(32)
        const pk = ed25519.utils.toMontgomery(ed25519.getPublicKey(sk))
        const xSecret = sha512(sk).slice(0, 32)
        const pt = utf8("hello")
        const sealed = yield* svc.hpkeSeal(pk, pt, Crypto.HPKE_INFO, Crypto.HPKE_AAD)
        expect(sealed.length).toBe(32 + pt.length + 16)
        const other = svc === noble ? node : noble
        expect(toHex(yield* other.hpkeOpen(xSecret, sealed, Crypto.HPKE_INFO, Crypto.HPKE_AAD))).toBe(toHex(pt))
        for (const bad of [sealed.subarray(0, 47), new Uint8Array(0), concat(sealed, Uint8Array.of(0))]) {
          const exit = yield* Effect.exit(svc.hpkeOpen(xSecret, bad, Crypto.HPKE_INFO, Crypto.HPKE_AAD))
          expect(Exit.isFailure(exit)).toBe(true)
        }
        const wrongKey = yield* Effect.either(
          svc.hpkeOpen(new Uint8Array(31), sealed, Crypto.HPKE_INFO, Crypto.HPKE_AAD)
        )
        expect(Either.isLeft(wrongKey)).toBe(true)
        // A low-order recipient key gives an all-zero DH output, which HPKE must refuse.
        const lowOrder = yield* Effect.either(svc.hpkeSeal(new Uint8Array(32), pt, Crypto.HPKE_INFO, Crypto.HPKE_AAD))
        expect(Either.isLeft(lowOrder) && lowOrder.left._tag).toBe("HpkeError")
      }))
  }

  it("X25519 agrees across layers on attacker-chosen u-coordinates (high bit set, u >= p)", async () => {
    const nobleH = (await import("../src/internal/cryptoNoble.js")).hpkePrimitives
    const nodeH = (await import("../src/internal/cryptoNode.js")).make().hpkePrimitives
    const secret = new Uint8Array(32).fill(3)
    const outcome = (f: () => Uint8Array) => {
      try {
        return toHex(f())
      } catch {
        return "refused"
      }
    }
    const us = [
      le32(P),
      le32(P + 1n),
      le32(P + 9n),
      le32((1n << 255n) + 9n),
      new Uint8Array(32).fill(0xff),
      le32(0n),
      le32(1n)
    ]
    for (let i = 0; i < 50; i++) us.push(Effect.runSync(node.randomBytes(32)))
    for (const u of us) {
      expect(outcome(() => nodeH.x25519(secret, u))).toBe(outcome(() => nobleH.x25519(secret, u)))
    }
    expect(outcome(() => nodeH.x25519(secret, le32(0n)))).toBe("refused")
  })

  it("x25519PublicFromSeed equals toMontgomery(Ed25519 public key) and X25519(SHA-512(seed)[..32], 9)", async () => {
    const { x25519 } = await import("@noble/curves/ed25519.js")
    const nobleH = (await import("../src/internal/cryptoNoble.js")).hpkePrimitives
    for (let i = 0; i < 40; i++) {
      const seed = Effect.runSync(node.randomBytes(32))
      const expected = toHex(ed25519.utils.toMontgomery(ed25519.getPublicKey(seed)))
      expect(toHex(noble.x25519PublicFromSeed(seed))).toBe(expected)
      expect(toHex(node.x25519PublicFromSeed(seed))).toBe(expected)
      expect(toHex(x25519.getPublicKey(noble.x25519SecretFromSeed(seed)))).toBe(expected)
      // The Edwards-based fixed-base path of the noble layer equals the Montgomery ladder for any scalar.
      expect(toHex(nobleH.x25519Base(seed))).toBe(toHex(x25519.getPublicKey(seed)))
    }
  })

  it.effect("layerTest is deterministic per seed and differs across seeds", () =>
    Effect.gen(function*() {
      const draw = (seed: number) =>
        Effect.provide(Effect.flatMap(Crypto.Crypto, (c) => c.randomBytes(48)), Crypto.layerTest(seed))
      expect(toHex(yield* draw(1))).toBe(toHex(yield* draw(1)))
      expect(toHex(yield* draw(1))).not.toBe(toHex(yield* draw(2)))
      const real = Crypto.make("node")
      expect(toHex(yield* real.randomBytes(32))).not.toBe(toHex(yield* real.randomBytes(32)))
    }))
})
