/** What each Crypto implementation supplies; `Crypto.ts` turns it into the service (Effect wrappers, errors). */
import type { Hpke } from "./hpke.js"

export interface CryptoPrimitives {
  readonly sha512: (data: Uint8Array) => Uint8Array
  readonly ed25519PublicKey: (seed: Uint8Array) => Uint8Array
  /** X25519 public key of the Montgomery form of the seed's Ed25519 key (= toMontgomery(ed25519PublicKey(seed))). */
  readonly x25519PublicFromSeed: (seed: Uint8Array) => Uint8Array
  readonly sign: (seed: Uint8Array, message: Uint8Array) => Uint8Array
  readonly verifyStrict: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean
  readonly hpke: Hpke
  readonly randomBytes: (n: number) => Uint8Array
}
