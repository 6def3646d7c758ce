/** Small byte helpers shared by the record layer (and, through `Bytes`, the other packages). None throws on any input. */

export const concat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export const equal = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

export const isAllZero = (a: Uint8Array): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false
  return true
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

// Node's Buffer converts in native code, and these keys serve as map keys on hot paths (message ids, DHT targets). It is looked
// up, not assumed: core also loads where there is no Buffer (a browser bundle), and converts with plain loops there.
const NodeBuffer = (globalThis as { readonly Buffer?: typeof Buffer }).Buffer
const HEX_DIGITS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** Lowercase hex (with Node's Buffer, through a view on the same memory: no copy). */
export const toHex = (bytes: Uint8Array): string => {
  if (NodeBuffer !== undefined) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += HEX_DIGITS[bytes[i]!]!
  return out
}

/** One character per byte (latin1): a compact `Map` key for arbitrary bytes, not for display. */
export const toLatin1 = (bytes: Uint8Array): string => {
  if (NodeBuffer !== undefined) {
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1")
  }
  let out = ""
  for (let i = 0; i < bytes.length; i += 4096) out += String.fromCharCode(...bytes.subarray(i, i + 4096))
  return out
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/

/** Parses hex (either case, even length). Returns undefined instead of throwing. */
export const fromHex = (hex: string): Uint8Array | undefined => {
  if (!HEX.test(hex)) return undefined
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

const U64_MAX = (1n << 64n) - 1n

/** 8-byte little-endian u64 (the value is reduced mod 2^64, as a Rust `as u64` cast would). */
export const u64le = (n: bigint): Uint8Array => {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, n & U64_MAX, true)
  return out
}

/** 8-byte big-endian u64. */
export const u64be = (n: bigint): Uint8Array => {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, n & U64_MAX, false)
  return out
}

export const readU64le = (bytes: Uint8Array, at: number): bigint =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(at, true)

export const readU32le = (bytes: Uint8Array, at: number): number =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true)

export const u32le = (n: number): Uint8Array => {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, n >>> 0, true)
  return out
}

/** A private copy, so later mutation of the caller's buffer cannot change a decoded value. */
export const copy = (bytes: Uint8Array): Uint8Array => Uint8Array.from(bytes)
