/**
 * Endpoint ids on the wire are 32-byte Ed25519 public keys. Rust (iroh-base `PublicKey` deserialisation) rejects a
 * frame whose key bytes do not decompress to a curve point; curve25519-dalek's decompression accepts non-canonical
 * y coordinates and a set sign bit with x = 0, which is noble's ZIP-215 mode. We apply the same rule on decode and
 * before encode, so we accept exactly what Rust accepts and never send what Rust would drop.
 */
import { EndpointId } from "@dtt/core"
import { ed25519 } from "@noble/curves/ed25519.js"

/**
 * Point decompression costs ~0.1 ms and peers repeat a lot, so recent answers are remembered. Deliberately
 * module-level rather than owned by an endpoint layer: the verdict is a pure function of the 32 bytes (is this a
 * curve point?), the same for every endpoint, topic and user, so sharing it leaks nothing and cannot go stale,
 * and the wire decoders that ask stay plain functions. Bounded: at most 4096 entries (about 0.5 MB), cleared
 * when full, so a peer sending endless distinct keys only costs the decompressions it causes.
 */
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
