/**
 * Endpoint ids on the wire are 32-byte Ed25519 public keys. Rust (iroh-base `PublicKey` deserialisation) rejects a
 * frame whose key bytes do not decompress to a curve point; curve25519-dalek's decompression accepts non-canonical
 * y coordinates and a set sign bit with x = 0, which is noble's ZIP-215 mode. We apply the same rule on decode and
 * before encode, so we accept exactly what Rust accepts and never send what Rust would drop.
 */
import { EndpointId } from "@dtt/core"
import { ed25519 } from "@noble/curves/ed25519.js"

// Point decompression costs ~0.1 ms; peers repeat a lot, so remember recent answers (bounded: cleared when full).
const CACHE_LIMIT = 4096
const verdicts = new Map<string, boolean>()

const check = (hex: string, bytes: Uint8Array): boolean => {
  const known = verdicts.get(hex)
  if (known !== undefined) return known
  let ok: boolean
  try {
    ed25519.Point.fromBytes(bytes, true)
    ok = true
  } catch {
    ok = false
  }
  if (verdicts.size >= CACHE_LIMIT) verdicts.clear()
  verdicts.set(hex, ok)
  return ok
}

/** True when Rust's iroh would accept these 32 bytes as a public key. */
export const isValidPublicKeyBytes = (bytes: Uint8Array): boolean =>
  bytes.length === 32 && check(EndpointId.unsafeFromBytes(bytes), bytes)

/** True when the (64-hex) endpoint id is a key Rust would accept. */
export const isValidEndpointId = (id: EndpointId.EndpointId): boolean => {
  const known = verdicts.get(id)
  if (known !== undefined) return known
  return id.length === 64 && check(id, EndpointId.toBytes(id))
}
