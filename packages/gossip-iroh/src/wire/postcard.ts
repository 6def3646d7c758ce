/**
 * The subset of the postcard 1.x format that iroh-gossip uses (spec iroh-gossip.md §2.1): LEB128 varints with
 * postcard's per-width length limits, length-prefixed byte strings, options, bools and fixed arrays.
 *
 * The reader reports failures by throwing a private `ReaderFailure`; `runDecode` is the only place that catches it,
 * so the public decoders stay total (they return `Either`, never throw).
 */
import { Either } from "effect"
import { type DecodeFailure, WireDecodeError } from "./errors.js"

class ReaderFailure {
  constructor(readonly reason: DecodeFailure, readonly offset: number, readonly detail: string) {}
}

const utf8 = new TextDecoder("utf-8", { fatal: true })
const utf8Encoder = new TextEncoder()

export class Reader {
  private pos = 0
  constructor(private readonly bytes: Uint8Array) {}

  get offset(): number {
    return this.pos
  }

  fail(reason: DecodeFailure, detail: string): never {
    throw new ReaderFailure(reason, this.pos, detail)
  }

  u8(): number {
    if (this.pos >= this.bytes.length) this.fail("UnexpectedEnd", "expected 1 more byte")
    return this.bytes[this.pos++]!
  }

  /** `n` raw bytes (a copy, so decoded messages never alias the input buffer). */
  take(n: number): Uint8Array {
    if (n > this.bytes.length - this.pos) this.fail("UnexpectedEnd", `expected ${n} bytes`)
    const out = this.bytes.slice(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /**
   * An unsigned varint of `bits` width: at most ceil(bits/7) bytes, and the last byte may only carry the bits that
   * are left (postcard rejects anything else). Over-long but in-range encodings are accepted, as postcard does.
   */
  private varint(bits: number): number {
    const maxBytes = Math.ceil(bits / 7)
    const lastMax = (1 << (bits - 7 * (maxBytes - 1))) - 1
    let out = 0
    for (let i = 0; i < maxBytes; i++) {
      const byte = this.u8()
      out += (byte & 0x7f) * 2 ** (7 * i)
      if ((byte & 0x80) === 0) {
        if (i === maxBytes - 1 && byte > lastMax) this.fail("BadVarint", `varint overflows u${bits}`)
        return out
      }
    }
    return this.fail("BadVarint", `varint longer than ${maxBytes} bytes`)
  }

  u16(): number {
    return this.varint(16)
  }
  u32(): number {
    return this.varint(32)
  }
  /** A usize length (64-bit targets). Values above 2^53 lose precision but can never be satisfied anyway. */
  usize(): number {
    return this.varint(64)
  }

  bool(): boolean {
    const b = this.u8()
    if (b === 0) return false
    if (b === 1) return true
    return this.fail("BadBool", `bool byte ${b}`)
  }

  option<T>(inner: (r: Reader) => T): T | undefined {
    const tag = this.u8()
    if (tag === 0) return undefined
    if (tag === 1) return inner(this)
    return this.fail("BadOption", `option tag ${tag}`)
  }

  bytesWithLength(): Uint8Array {
    return this.take(this.usize())
  }

  string(): string {
    const raw = this.bytesWithLength()
    try {
      return utf8.decode(raw)
    } catch {
      return this.fail("BadUtf8", "string is not valid UTF-8")
    }
  }

  /** A sequence; never pre-allocates from the (hostile) length, each element consumes input. */
  seq<T>(element: (r: Reader) => T): Array<T> {
    const len = this.usize()
    const out: Array<T> = []
    for (let i = 0; i < len; i++) out.push(element(this))
    return out
  }
}

/** Runs a decoder over `bytes`; trailing bytes are ignored, as `postcard::from_bytes` does. */
export const runDecode = <T>(bytes: Uint8Array, decode: (r: Reader) => T): Either.Either<T, WireDecodeError> => {
  const reader = new Reader(bytes)
  try {
    return Either.right(decode(reader))
  } catch (e) {
    if (e instanceof ReaderFailure) {
      return Either.left(new WireDecodeError({ reason: e.reason, offset: e.offset, detail: e.detail }))
    }
    // Anything else is a bug in a decoder; still never let it escape as an exception.
    return Either.left(new WireDecodeError({ reason: "UnexpectedEnd", offset: reader.offset, detail: String(e) }))
  }
}

export class Writer {
  private buf = new Uint8Array(64)
  private len = 0

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  u8(b: number): this {
    this.reserve(1)
    this.buf[this.len++] = b & 0xff
    return this
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length)
    this.buf.set(bytes, this.len)
    this.len += bytes.length
    return this
  }

  /** Canonical (shortest) LEB128 of a non-negative safe integer. */
  varint(value: number): this {
    let v = value
    while (v >= 0x80) {
      this.u8((v % 0x80) | 0x80)
      v = Math.floor(v / 0x80)
    }
    return this.u8(v)
  }

  bool(b: boolean): this {
    return this.u8(b ? 1 : 0)
  }

  option<T>(value: T | undefined, inner: (w: Writer, v: T) => void): this {
    if (value === undefined) return this.u8(0)
    this.u8(1)
    inner(this, value)
    return this
  }

  bytesWithLength(bytes: Uint8Array): this {
    return this.varint(bytes.length).raw(bytes)
  }

  string(s: string): this {
    return this.bytesWithLength(utf8Encoder.encode(s))
  }

  seq<T>(items: ReadonlyArray<T>, element: (w: Writer, v: T) => void): this {
    this.varint(items.length)
    for (const item of items) element(this, item)
    return this
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

/** Encoded size of a canonical varint. */
export const varintSize = (value: number): number => {
  let n = 1
  let v = value
  while (v >= 0x80) {
    n++
    v = Math.floor(v / 0x80)
  }
  return n
}
