/**
 * z-base-32 (the human-oriented base 32 of pkarr names): bits taken most significant first in groups of five,
 * the last group zero-padded, no `=` padding. A 32-byte key becomes 52 characters. Rust iroh-base builds it
 * with `data_encoding` and the alphabet below, which is what makes `_iroh.<z32>` names agree.
 */
import { Either } from "effect"

const ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769"
const VALUES: ReadonlyMap<string, number> = new Map([...ALPHABET].map((c, i) => [c, i]))

export const encode = (bytes: Uint8Array): string => {
  let out = ""
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += ALPHABET[(buffer >> bits) & 31]
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31]
  return out
}

/**
 * Strict inverse of `encode`: lower-case alphabet only, a length that `encode` can produce, and zero padding
 * bits (data_encoding's default check), so every byte string has exactly one accepted spelling.
 */
export const decode = (text: string): Either.Either<Uint8Array, string> => {
  const byteLength = Math.floor((text.length * 5) / 8)
  if (Math.ceil((byteLength * 8) / 5) !== text.length) {
    return Either.left(`length ${text.length} is not a z-base-32 length`)
  }
  const out = new Uint8Array(byteLength)
  let buffer = 0
  let bits = 0
  let at = 0
  for (const c of text) {
    const v = VALUES.get(c)
    if (v === undefined) return Either.left(`character ${JSON.stringify(c)} is not z-base-32`)
    buffer = ((buffer << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[at++] = (buffer >> bits) & 0xff
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return Either.left("non-zero padding bits")
  return Either.right(out)
}
