/**
 * Bencode (BEP3) with exact integers. Integers are `bigint` so BEP44's 64-bit `seq`/`cas` survive a round trip
 * (the codec inside stock bittorrent-dht turns i64::MAX into a double and re-encodes it wrongly, spec wire.md §6.6).
 *
 * - `decode` is total: every byte string gives a value or a `BencodeError`, never an exception. Input size,
 *   nesting depth and integer length are bounded, so a hostile datagram cannot exhaust the stack or the CPU.
 * - `encode` is canonical: dictionary keys sorted by their raw bytes, integers in shortest decimal form.
 *
 * Dictionary keys are byte strings; they are kept as latin1 strings (one char per byte), which preserves every
 * byte and makes JavaScript's string order equal to the byte order bencode requires.
 */
import { Data, Either } from "effect"

export type Value = bigint | Uint8Array | ReadonlyArray<Value> | Dict
export type Dict = ReadonlyMap<string, Value>

export class BencodeError extends Data.TaggedError("BencodeError")<{
  readonly reason: string
  readonly offset: number
}> {}

export interface DecodeLimits {
  /** Largest input accepted, in bytes. */
  readonly maxBytes: number
  /** Deepest nesting of lists and dictionaries. */
  readonly maxDepth: number
  /** Most digits in an integer (the sign not counted). */
  readonly maxIntegerDigits: number
}

export const defaultLimits: DecodeLimits = { maxBytes: 64 * 1024, maxDepth: 32, maxIntegerDigits: 64 }

// ASCII codes used by the grammar.
const I = 0x69
const L = 0x6c
const D = 0x64
const E = 0x65
const COLON = 0x3a
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39

const isDigit = (b: number | undefined): boolean => b !== undefined && b >= ZERO && b <= NINE

/** Thrown only inside this module and turned into `Either.left` by `decode`. */
class Fail {
  constructor(readonly reason: string, readonly offset: number) {}
}

class Decoder {
  at = 0
  constructor(readonly bytes: Uint8Array, readonly limits: DecodeLimits) {}

  fail(reason: string, offset = this.at): never {
    throw new Fail(reason, offset)
  }

  value(depth: number): Value {
    const b = this.bytes[this.at]
    if (b === undefined) return this.fail("unexpected end of input")
    if (b === I) return this.integer()
    if (isDigit(b)) return this.string()
    if (b === L || b === D) {
      if (depth >= this.limits.maxDepth) return this.fail("nesting too deep")
      return b === L ? this.list(depth + 1) : this.dict(depth + 1)
    }
    return this.fail(`unexpected byte 0x${b.toString(16).padStart(2, "0")}`)
  }

  /** Reads `[-]digits` up to `terminator`, rejecting leading zeros and `-0` (non-canonical forms). */
  digits(terminator: number, allowSign: boolean): { readonly negative: boolean; readonly text: string } {
    const start = this.at
    let negative = false
    if (allowSign && this.bytes[this.at] === MINUS) {
      negative = true
      this.at++
    }
    const first = this.at
    while (isDigit(this.bytes[this.at])) {
      if (this.at - first >= this.limits.maxIntegerDigits) return this.fail("integer too long", start)
      this.at++
    }
    const count = this.at - first
    if (count === 0) return this.fail("expected digits")
    if (this.bytes[this.at] !== terminator) {
      return this.fail(this.bytes[this.at] === undefined ? "unexpected end of input" : "malformed integer")
    }
    if (count > 1 && this.bytes[first] === ZERO) return this.fail("leading zero", first)
    if (negative && count === 1 && this.bytes[first] === ZERO) return this.fail("negative zero", start)
    let text = ""
    for (let k = first; k < this.at; k++) text += String.fromCharCode(this.bytes[k]!)
    this.at++ // terminator
    return { negative, text }
  }

  integer(): bigint {
    this.at++ // 'i'
    const { negative, text } = this.digits(E, true)
    const n = BigInt(text)
    return negative ? -n : n
  }

  string(): Uint8Array {
    const start = this.at
    const { text } = this.digits(COLON, false)
    const length = Number(text)
    if (!Number.isSafeInteger(length) || length > this.bytes.length - this.at) {
      return this.fail("string longer than the input", start)
    }
    const out = this.bytes.slice(this.at, this.at + length)
    this.at += length
    return out
  }

  list(depth: number): ReadonlyArray<Value> {
    this.at++ // 'l'
    const items: Array<Value> = []
    while (this.bytes[this.at] !== E) items.push(this.value(depth))
    this.at++
    return items
  }

  dict(depth: number): Dict {
    this.at++ // 'd'
    const entries = new Map<string, Value>()
    while (this.bytes[this.at] !== E) {
      const keyAt = this.at
      if (!isDigit(this.bytes[this.at])) return this.fail("dictionary key is not a string")
      const key = latin1(this.string())
      // Unsorted keys are tolerated (be liberal in what we accept); duplicates would make the meaning ambiguous.
      if (entries.has(key)) return this.fail("duplicate dictionary key", keyAt)
      entries.set(key, this.value(depth))
    }
    this.at++
    return entries
  }
}

const latin1 = (bytes: Uint8Array): string => {
  let s = ""
  for (let k = 0; k < bytes.length; k++) s += String.fromCharCode(bytes[k]!)
  return s
}

/** Decode exactly one value that spans the whole input. */
export const decode = (
  bytes: Uint8Array,
  limits: DecodeLimits = defaultLimits
): Either.Either<Value, BencodeError> => {
  if (bytes.length > limits.maxBytes) {
    return Either.left(new BencodeError({ reason: "input too large", offset: limits.maxBytes }))
  }
  const decoder = new Decoder(bytes, limits)
  try {
    const value = decoder.value(0)
    if (decoder.at !== bytes.length) {
      return Either.left(new BencodeError({ reason: "trailing bytes", offset: decoder.at }))
    }
    return Either.right(value)
  } catch (e) {
    if (e instanceof Fail) return Either.left(new BencodeError({ reason: e.reason, offset: e.offset }))
    // Only a RangeError from an absurd allocation could get here; report it rather than crash.
    return Either.left(new BencodeError({ reason: `decoder failure: ${String(e)}`, offset: decoder.at }))
  }
}

class Encoder {
  readonly chunks: Array<Uint8Array> = []
  size = 0

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk)
    this.size += chunk.length
  }

  ascii(s: string): void {
    const out = new Uint8Array(s.length)
    for (let k = 0; k < s.length; k++) out[k] = s.charCodeAt(k)
    this.push(out)
  }

  value(v: Value): void {
    if (typeof v === "bigint") this.ascii(`i${v.toString()}e`)
    else if (v instanceof Uint8Array) {
      this.ascii(`${v.length}:`)
      this.push(v)
    } else if (v instanceof Map) {
      this.ascii("d")
      for (const key of [...v.keys()].sort()) {
        this.ascii(`${key.length}:`)
        this.latin1Key(key)
        this.value(v.get(key)!)
      }
      this.ascii("e")
    } else {
      this.ascii("l")
      for (const item of v as ReadonlyArray<Value>) this.value(item)
      this.ascii("e")
    }
  }

  latin1Key(key: string): void {
    const out = new Uint8Array(key.length)
    for (let k = 0; k < key.length; k++) {
      const c = key.charCodeAt(k)
      if (c > 0xff) throw new RangeError("dictionary key is not a byte string")
      out[k] = c
    }
    this.push(out)
  }
}

/** Canonical encoding. Dictionary keys must be latin1 strings (use `key` for ASCII keys; they are the same). */
export const encode = (value: Value): Uint8Array => {
  const encoder = new Encoder()
  encoder.value(value)
  const out = new Uint8Array(encoder.size)
  let at = 0
  for (const chunk of encoder.chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}

/** Bytes of an ASCII/UTF-8 text, for building byte-string values. */
export const text = (s: string): Uint8Array => new TextEncoder().encode(s)

/** A dictionary from plain entries, skipping `undefined` values (handy for optional message fields). */
export const dict = (entries: Record<string, Value | undefined>): Dict => {
  const out = new Map<string, Value>()
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) out.set(k, v)
  return out
}

export const isDict = (v: Value): v is Dict => v instanceof Map
export const isBytes = (v: Value): v is Uint8Array => v instanceof Uint8Array
export const isList = (v: Value): v is ReadonlyArray<Value> => Array.isArray(v)
