/**
 * Ed25519 verification that accepts exactly what ed25519-dalek's `verify_strict` accepts (spec wire.md §3):
 *
 * - S must be canonical (S < L);
 * - A and R must decompress and must not be small-order points;
 * - the cofactorless equation is checked by re-encoding R' = [S]B - [k]A and comparing it with the R bytes,
 *   so a non-canonical R encoding always fails;
 * - a non-canonical A encoding (y >= p, or x = 0 with the sign bit set) is accepted when it decompresses,
 *   because dalek reduces y while decompressing. k is hashed over the ORIGINAL A and R bytes.
 *
 * noble's own `verify` differs on adversarial inputs (cofactored equation, no small-order check on R), which
 * is why this is written out. `precheck` is the byte-level part the node:crypto layer runs before OpenSSL.
 */
import { ed25519, ED25519_TORSION_SUBGROUP } from "@noble/curves/ed25519.js"
import { sha512 } from "@noble/hashes/sha2.js"
import { concat, fromHex } from "./bytes.js"

const Point = ed25519.Point
const L = Point.Fn.ORDER
const P = Point.Fp.ORDER

const bytesToNumberLE = (bytes: Uint8Array): bigint => {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!)
  return n
}

/** The canonical encodings of the 8 small-order points. */
const SMALL_ORDER_CANONICAL: ReadonlyArray<Uint8Array> = ED25519_TORSION_SUBGROUP.map((h) => fromHex(h)!)

const isCanonicalSmallOrder = (bytes: Uint8Array): boolean =>
  SMALL_ORDER_CANONICAL.some((s) => s.every((b, i) => b === bytes[i]))

/**
 * Whether a 32-byte point encoding is canonical: y < p, and the sign bit is clear when x = 0 (y = ±1).
 * A non-canonical encoding that decompresses is an alias of a canonical one.
 */
export const isCanonicalEncoding = (bytes: Uint8Array): boolean => {
  const y = bytesToNumberLE(bytes) & ((1n << 255n) - 1n)
  if (y >= P) return false
  const signBit = (bytes[31]! & 0x80) !== 0
  return !(signBit && (y === 1n || y === P - 1n))
}

export type Precheck =
  /** Cannot be valid under verify_strict. */
  | "reject"
  /** Canonical, non-small-order A and R, S < L: any standard cofactorless verifier gives the strict answer. */
  | "standard"
  /** A non-canonical A encoding: only the explicit recipe below handles it like dalek. */
  | "nonCanonicalA"

/** The checks that need no curve arithmetic. Lengths must already be 32/64. */
export const precheck = (publicKey: Uint8Array, signature: Uint8Array): Precheck => {
  const r = signature.subarray(0, 32)
  const s = bytesToNumberLE(signature.subarray(32, 64))
  if (s >= L) return "reject"
  // R' is always canonically encoded, so a non-canonical R can never match; a canonical small-order R is refused.
  if (!isCanonicalEncoding(r) || isCanonicalSmallOrder(r)) return "reject"
  if (!isCanonicalEncoding(publicKey)) return "nonCanonicalA"
  if (isCanonicalSmallOrder(publicKey)) return "reject"
  return "standard"
}

const hasLengths = (publicKey: Uint8Array, signature: Uint8Array): boolean =>
  publicKey instanceof Uint8Array && signature instanceof Uint8Array && publicKey.length === 32 &&
  signature.length === 64

/** The full strict check on noble arithmetic. Never throws. */
export const verifyStrict = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean => {
  try {
    if (!hasLengths(publicKey, signature) || !(message instanceof Uint8Array)) return false
    if (precheck(publicKey, signature) === "reject") return false
    const A = Point.fromBytes(publicKey, true)
    if (A.isSmallOrder()) return false
    const rBytes = signature.subarray(0, 32)
    const s = bytesToNumberLE(signature.subarray(32, 64))
    const k = Point.Fn.create(bytesToNumberLE(sha512(concat(rBytes, publicKey, message))))
    const expectedR = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k)).toBytes()
    return expectedR.every((b, i) => b === rBytes[i])
  } catch {
    return false
  }
}

export const hasValidLengths = hasLengths
