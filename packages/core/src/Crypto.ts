/**
 * The cryptography the record layer needs, as one service: SHA-512, Ed25519 (sign and dalek-strict verify),
 * single-shot HPKE in the suite of spec wire.md §5.1, and cryptographic randomness.
 *
 * Layers:
 * - `layerNoble`: portable, pure noble.
 * - `layerNode`: node:crypto (OpenSSL) where it gives byte-identical results, with the dalek strict checks
 *   added on top. The default `layer`.
 * - `layerTest(seed)`: node arithmetic with deterministic randomness, so a sealed record is reproducible.
 * - `withRandom`/`layerWithRandom`: any implementation with a randomness source of your choice (known-answer tests).
 *
 * Synchronous members never throw on malformed inputs where a boolean answer exists (`verifyStrict`); the
 * HPKE members report failures as `HpkeError`.
 */
import { chacha20 } from "@noble/ciphers/chacha.js"
import { sha256 } from "@noble/hashes/sha2.js"
import { Context, Data, Effect, Layer } from "effect"
import { utf8 } from "./internal/bytes.js"
import * as noble from "./internal/cryptoNoble.js"
import * as node from "./internal/cryptoNode.js"
import type { CryptoPrimitives } from "./internal/cryptoShared.js"

/** An HPKE seal or open failed: wrong key, tampered ciphertext, low-order key, malformed lengths. */
export class HpkeError extends Data.TaggedError("HpkeError")<{ readonly reason: string }> {}

export interface CryptoService {
  /** Which implementation this is ("noble", "node", ...), for benchmarks and logs. */
  readonly name: string
  readonly sha512: (data: Uint8Array) => Uint8Array
  /** The RFC 8032 public key of a 32-byte seed. Throws on a seed of the wrong length (a programming error). */
  readonly ed25519PublicKey: (seed: Uint8Array) => Uint8Array
  /**
   * The X25519 public key matching an Ed25519 seed's key: equal to the Montgomery form of
   * `ed25519PublicKey(seed)` (dalek `to_montgomery`), computed without decompressing a point.
   */
  readonly x25519PublicFromSeed: (seed: Uint8Array) => Uint8Array
  /** The X25519 secret of an Ed25519 seed: SHA-512(seed)[0..32], unclamped (dalek `to_scalar_bytes`). */
  readonly x25519SecretFromSeed: (seed: Uint8Array) => Uint8Array
  /** Plain RFC 8032 Ed25519 (no context, no prehash) with a 32-byte seed. Deterministic. */
  readonly sign: (seed: Uint8Array, message: Uint8Array) => Uint8Array
  /** Accepts exactly what ed25519-dalek `verify_strict` accepts (spec §3). Never throws. */
  readonly verifyStrict: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean
  /** HPKE Base seal to an X25519 public key, fresh ephemeral key from `randomBytes`. Returns enc (32) ‖ ct ‖ tag. */
  readonly hpkeSeal: (
    recipientX25519Public: Uint8Array,
    plaintext: Uint8Array,
    info: Uint8Array,
    aad: Uint8Array
  ) => Effect.Effect<Uint8Array, HpkeError>
  /** HPKE Base seal with explicit ephemeral input keying material (RFC 9180 `ikmE`), for known answers. */
  readonly hpkeSealWithIkm: (
    recipientX25519Public: Uint8Array,
    plaintext: Uint8Array,
    info: Uint8Array,
    aad: Uint8Array,
    ikmE: Uint8Array
  ) => Effect.Effect<Uint8Array, HpkeError>
  /** HPKE Base open of enc (32) ‖ ct ‖ tag with an X25519 secret (clamped or not: X25519 clamps at use). */
  readonly hpkeOpen: (
    recipientX25519Secret: Uint8Array,
    sealed: Uint8Array,
    info: Uint8Array,
    aad: Uint8Array
  ) => Effect.Effect<Uint8Array, HpkeError>
  /** Cryptographically secure random bytes (deterministic only in `layerTest`). */
  readonly randomBytes: (n: number) => Effect.Effect<Uint8Array>
}

export class Crypto extends Context.Tag("@dtt/core/Crypto")<Crypto, CryptoService>() {}

/** The `info` and `aad` ed25519-dalek-hpke passes to every HPKE call (fixed strings, spec §5.1). */
export const HPKE_INFO: Uint8Array = utf8("arbitrary_info_bytes")
export const HPKE_AAD: Uint8Array = utf8("arbitrary_seal_bytes")

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const fromPrimitives = (name: string, p: CryptoPrimitives, random: (n: number) => Uint8Array): CryptoService => {
  const sealWithIkm: CryptoService["hpkeSealWithIkm"] = (recipient, plaintext, info, aad, ikmE) =>
    Effect.try({
      try: () => p.hpke.seal(recipient, plaintext, info, aad, ikmE),
      catch: (e) => new HpkeError({ reason: `seal failed: ${reason(e)}` })
    })
  return {
    name,
    sha512: p.sha512,
    ed25519PublicKey: p.ed25519PublicKey,
    x25519PublicFromSeed: p.x25519PublicFromSeed,
    x25519SecretFromSeed: (seed) => p.sha512(seed).slice(0, 32),
    sign: p.sign,
    verifyStrict: p.verifyStrict,
    hpkeSealWithIkm: sealWithIkm,
    hpkeSeal: (recipient, plaintext, info, aad) =>
      Effect.flatMap(
        Effect.sync(() => random(32)),
        (ikmE) => sealWithIkm(recipient, plaintext, info, aad, ikmE)
      ),
    hpkeOpen: (secret, sealed, info, aad) =>
      Effect.try({
        try: () => p.hpke.open(secret, sealed, info, aad),
        catch: (e) => new HpkeError({ reason: `open failed: ${reason(e)}` })
      }),
    randomBytes: (n) => Effect.sync(() => random(n))
  }
}

export type Implementation = "noble" | "node"

// node:crypto's primitives are made per service (each owns its key caches); noble's are stateless and shared.
const primitivesOf = (implementation: Implementation): CryptoPrimitives =>
  implementation === "noble" ? noble.primitives : node.makePrimitives()

/** The service on the given implementation with its own OS randomness. */
export const make = (implementation: Implementation): CryptoService => {
  const p = primitivesOf(implementation)
  return fromPrimitives(implementation, p, p.randomBytes)
}

/** The service on the given implementation with a caller-supplied randomness source. */
export const withRandom = (implementation: Implementation, random: (n: number) => Uint8Array): CryptoService =>
  fromPrimitives(`${implementation}+custom-random`, primitivesOf(implementation), random)

/**
 * A deterministic byte stream: the ChaCha20 keystream under SHA-256 of the seed. Not for production, only so
 * that tests can reproduce a sealed value byte for byte.
 */
export const deterministicRandom = (seed: number | string | Uint8Array): (n: number) => Uint8Array => {
  const seedBytes = typeof seed === "number"
    ? utf8(`dtt-test-seed:${seed}`)
    : typeof seed === "string"
    ? utf8(seed)
    : seed
  const key = sha256(seedBytes)
  let counter = 0
  return (n) => {
    const nonce = new Uint8Array(12)
    new DataView(nonce.buffer).setUint32(0, counter++, true)
    return chacha20(key, nonce, new Uint8Array(n))
  }
}

export const layerNoble: Layer.Layer<Crypto> = Layer.sync(Crypto, () => make("noble"))
export const layerNode: Layer.Layer<Crypto> = Layer.sync(Crypto, () => make("node"))
/** The default implementation (`layerNode`). @alias */
export const layer: Layer.Layer<Crypto> = layerNode

/** node:crypto arithmetic, deterministic randomness from `seed`; each layer build restarts the stream. */
export const layerTest = (
  seed: number | string | Uint8Array = 0,
  implementation: Implementation = "node"
): Layer.Layer<Crypto> =>
  Layer.sync(
    Crypto,
    () => fromPrimitives(`${implementation}+test`, primitivesOf(implementation), deterministicRandom(seed))
  )

export const layerWithRandom = (
  implementation: Implementation,
  random: (n: number) => Uint8Array
): Layer.Layer<Crypto> => Layer.sync(Crypto, () => withRandom(implementation, random))
