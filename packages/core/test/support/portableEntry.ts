/**
 * Bundled for a browser and run without Node's globals by `portable.test.ts`: everything here must work on
 * `Crypto.layerNoble` with only web APIs (TextEncoder, crypto.getRandomValues, timers).
 */
import { Effect, Either } from "effect"
import { Crypto, EndpointId, TopicId } from "../../src/index.js"

export const run = (): Record<string, unknown> => {
  const seed = new Uint8Array(32).fill(7)
  const message = new TextEncoder().encode("portable")
  const outcome = Effect.runSync(
    Effect.gen(function*() {
      const crypto = yield* Crypto.Crypto
      const publicKey = crypto.ed25519PublicKey(seed)
      const signature = crypto.sign(seed, message)
      const sealed = yield* crypto.hpkeSeal(
        crypto.x25519PublicFromSeed(seed),
        message,
        Crypto.HPKE_INFO,
        Crypto.HPKE_AAD
      )
      const opened = yield* crypto.hpkeOpen(
        crypto.x25519SecretFromSeed(seed),
        sealed,
        Crypto.HPKE_INFO,
        Crypto.HPKE_AAD
      )
      const id = EndpointId.unsafeFromBytes(publicKey)
      return {
        endpointId: id,
        roundTrip: EndpointId.toBytes(id).every((byte, i) => byte === publicKey[i]),
        verified: crypto.verifyStrict(publicKey, message, signature),
        opened: new TextDecoder().decode(opened),
        topicHash: EndpointId.unsafeFromBytes(TopicId.fromName("portable").hash)
      }
    }).pipe(Effect.provide(Crypto.layerNoble))
  )
  const nodeLayer = Either.try(() => Effect.runSync(Effect.provide(Crypto.Crypto, Crypto.layerNode)))
  return { ...outcome, layerNode: Either.isLeft(nodeLayer) ? String(nodeLayer.left) : "loaded" }
}
