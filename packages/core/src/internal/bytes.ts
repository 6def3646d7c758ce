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

/** Lowercase hex. A view on the same memory (no copy): it keys maps on hot paths (message ids, DHT targets). */
export const toHex = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")

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
