/**
 * The slice of the DNS wire format (RFC 1035 §4) that pkarr endpoint records use: a reply packet whose answers
 * are TXT records under one name.
 *
 * Encoding mirrors what Rust `simple-dns` 0.11 writes for iroh (`Packet::new_reply(0)` then
 * `build_bytes_vec_compressed`): id 0, flags 0x8000 (QR set, opcode 0, rcode 0), no questions, one answer per
 * value, the owner name spelled out once at offset 12 and every later occurrence a pointer `c0 0c`.
 *
 * Decoding accepts what `simple-dns` (the parser iroh uses) accepts, as far as pkarr records are concerned, and
 * never throws: every length is checked against the input; a compression pointer must point before itself and a
 * name stays within 255 bytes (together they rule out loops, as in simple-dns); classes must be ones simple-dns
 * knows (IN, CS, CH, HS, NONE; ANY in questions), ignoring the mDNS cache-flush bit; the section counts are
 * checked against the bytes left before any loop runs. Only TXT record data is interpreted; other record data
 * is kept as raw bytes (simple-dns would also validate the data of the types it knows, which pkarr never uses).
 * Checked against simple-dns on random mutations of real packets (interop/tests/pkarr.test.ts).
 */
import { Data, Either } from "effect"

export const TYPE_TXT = 16
export const CLASS_IN = 1
/** The QR bit: a reply. */
export const FLAG_RESPONSE = 0x8000
/** The Z bit; `simple-dns` refuses packets that set it, so do we. */
const FLAG_RESERVED = 0x0040
const HEADER_BYTES = 12
const MAX_NAME_BYTES = 255
const MAX_LABEL_BYTES = 63
const MAX_CHARACTER_STRING = 255
/** simple-dns's `CLASS`: IN, CS, CH, HS, NONE. Questions may also ask for ANY (255). */
const KNOWN_CLASSES: ReadonlySet<number> = new Set([1, 2, 3, 4, 254])
const CLASS_ANY = 255
const CACHE_FLUSH = 0x8000

export type DnsDecodeProblem =
  | "Truncated"
  | "UnknownClass"
  | "ReservedFlag"
  | "BadLabelType"
  | "BadPointer"
  | "NameTooLong"
  | "BadCharacterString"

export class DnsDecodeError extends Data.TaggedError("DnsDecodeError")<{
  readonly problem: DnsDecodeProblem
  readonly offset: number
}> {}

export class DnsEncodeError extends Data.TaggedError("DnsEncodeError")<{ readonly reason: string }> {}

export interface ResourceRecord {
  /** Labels as written (each byte one char, so nothing is lost); no trailing root label. */
  readonly name: ReadonlyArray<string>
  readonly type: number
  /** With the mDNS cache-flush bit, if a writer set it. */
  readonly class: number
  readonly ttl: number
  readonly data: Uint8Array
  /** The character strings of a TXT record (`type === 16`); undefined for other types. */
  readonly txt: ReadonlyArray<Uint8Array> | undefined
}

export interface DnsPacket {
  readonly id: number
  readonly flags: number
  readonly questionCount: number
  readonly answers: ReadonlyArray<ResourceRecord>
  readonly authorities: ReadonlyArray<ResourceRecord>
  readonly additionals: ReadonlyArray<ResourceRecord>
}

// ----------------------------------------------------------------------------------------------------------------
// encoding

const ascii = new TextEncoder()

/**
 * A reply holding one TXT record per value, all under `name` with the same TTL. Each value is one character
 * string (at most 255 bytes), as iroh writes them.
 */
export const encodeTxtReply = (
  name: ReadonlyArray<string>,
  ttl: number,
  values: ReadonlyArray<Uint8Array>
): Either.Either<Uint8Array, DnsEncodeError> => {
  const fail = (reason: string) => Either.left(new DnsEncodeError({ reason }))
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 0xffffffff) return fail(`ttl ${ttl} is not a u32`)
  if (values.length > 0xffff) return fail("too many records")
  const labels = name.map((l) => ascii.encode(l))
  if (labels.some((l) => l.length === 0 || l.length > MAX_LABEL_BYTES)) return fail("labels must be 1..63 bytes")
  const nameBytes = labels.reduce((n, l) => n + 1 + l.length, 1)
  if (nameBytes > MAX_NAME_BYTES) return fail(`name is ${nameBytes} bytes, at most ${MAX_NAME_BYTES}`)
  const long = values.find((v) => v.length > MAX_CHARACTER_STRING)
  if (long !== undefined) return fail(`TXT value of ${long.length} bytes, at most ${MAX_CHARACTER_STRING}`)

  const parts: Array<Uint8Array> = []
  const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff)
  const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
  parts.push(u16(0), u16(FLAG_RESPONSE), u16(0), u16(values.length), u16(0), u16(0))
  values.forEach((value, i) => {
    if (i === 0) {
      for (const l of labels) parts.push(Uint8Array.of(l.length), l)
      parts.push(Uint8Array.of(0))
    } else {
      parts.push(u16(0xc000 | HEADER_BYTES))
    }
    parts.push(u16(TYPE_TXT), u16(CLASS_IN), u32(ttl), u16(1 + value.length), Uint8Array.of(value.length), value)
  })
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return Either.right(out)
}

// ----------------------------------------------------------------------------------------------------------------
// decoding

class Fail {
  constructor(readonly problem: DnsDecodeProblem, readonly offset: number) {}
}

const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes)

const u16At = (buf: Uint8Array, at: number) => (buf[at]! << 8) | buf[at + 1]!
const u32At = (buf: Uint8Array, at: number) =>
  ((buf[at]! << 24) >>> 0) + (buf[at + 1]! << 16) + (buf[at + 2]! << 8) + buf[at + 3]!

/** Reads a (possibly compressed) name; returns its labels and the offset right after it in the record. */
const readName = (buf: Uint8Array, start: number): { labels: Array<string>; next: number } | Fail => {
  const labels: Array<string> = []
  let pos = start
  let next = -1
  let total = 1
  while (true) {
    if (pos >= buf.length) return new Fail("Truncated", pos)
    const len = buf[pos]!
    if (len === 0) {
      if (next < 0) next = pos + 1
      return { labels, next }
    }
    const kind = len & 0xc0
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) return new Fail("Truncated", pos)
      // Backwards only. A cycle then has to pass over labels each time round, so the name length ends it.
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!
      if (target >= pos) return new Fail("BadPointer", pos)
      if (next < 0) next = pos + 2
      pos = target
      continue
    }
    if (kind !== 0) return new Fail("BadLabelType", pos)
    if (pos + 1 + len > buf.length) return new Fail("Truncated", pos)
    total += 1 + len
    if (total > MAX_NAME_BYTES) return new Fail("NameTooLong", pos)
    labels.push(latin1(buf.subarray(pos + 1, pos + 1 + len)))
    pos += 1 + len
  }
}

const readTxt = (buf: Uint8Array, start: number, end: number): Array<Uint8Array> | Fail => {
  const strings: Array<Uint8Array> = []
  let pos = start
  while (pos < end) {
    const len = buf[pos]!
    if (pos + 1 + len > end) return new Fail("BadCharacterString", pos)
    strings.push(buf.slice(pos + 1, pos + 1 + len))
    pos += 1 + len
  }
  return strings
}

const readRecord = (buf: Uint8Array, start: number): { record: ResourceRecord; next: number } | Fail => {
  const name = readName(buf, start)
  if (name instanceof Fail) return name
  const at = name.next
  if (at + 10 > buf.length) return new Fail("Truncated", at)
  const type = u16At(buf, at)
  if (!KNOWN_CLASSES.has(u16At(buf, at + 2) & ~CACHE_FLUSH)) return new Fail("UnknownClass", at + 2)
  const length = u16At(buf, at + 8)
  const dataStart = at + 10
  if (dataStart + length > buf.length) return new Fail("Truncated", dataStart)
  const txt = type === TYPE_TXT ? readTxt(buf, dataStart, dataStart + length) : undefined
  if (txt instanceof Fail) return txt
  return {
    record: {
      name: name.labels,
      type,
      class: u16At(buf, at + 2),
      ttl: u32At(buf, at + 4),
      data: buf.slice(dataStart, dataStart + length),
      txt
    },
    next: dataStart + length
  }
}

/** Decodes a whole packet. Total: hostile input gives a `DnsDecodeError`, never an exception. Trailing bytes are ignored. */
export const decode = (buf: Uint8Array): Either.Either<DnsPacket, DnsDecodeError> => {
  const fail = (f: Fail) => Either.left(new DnsDecodeError({ problem: f.problem, offset: f.offset }))
  if (buf.length < HEADER_BYTES) return fail(new Fail("Truncated", buf.length))
  const flags = u16At(buf, 2)
  if ((flags & FLAG_RESERVED) !== 0) return fail(new Fail("ReservedFlag", 2))
  const counts = [4, 6, 8, 10].map((at) => u16At(buf, at)) as [number, number, number, number]
  const [questions, answers, authorities, additionals] = counts
  // A question takes at least 5 bytes and a record at least 11: refuse counts the bytes cannot hold.
  if (questions * 5 + (answers + authorities + additionals) * 11 > buf.length - HEADER_BYTES) {
    return fail(new Fail("Truncated", 4))
  }
  let pos = HEADER_BYTES
  for (let i = 0; i < questions; i++) {
    const name = readName(buf, pos)
    if (name instanceof Fail) return fail(name)
    if (name.next + 4 > buf.length) return fail(new Fail("Truncated", name.next))
    const qclass = u16At(buf, name.next + 2) & ~CACHE_FLUSH
    if (!KNOWN_CLASSES.has(qclass) && qclass !== CLASS_ANY) return fail(new Fail("UnknownClass", name.next + 2))
    pos = name.next + 4
  }
  const section = (count: number): Array<ResourceRecord> | Fail => {
    const out: Array<ResourceRecord> = []
    for (let i = 0; i < count; i++) {
      const r = readRecord(buf, pos)
      if (r instanceof Fail) return r
      out.push(r.record)
      pos = r.next
    }
    return out
  }
  const an = section(answers)
  if (an instanceof Fail) return fail(an)
  const ns = section(authorities)
  if (ns instanceof Fail) return fail(ns)
  const ar = section(additionals)
  if (ar instanceof Fail) return fail(ar)
  return Either.right({
    id: u16At(buf, 0),
    flags,
    questionCount: questions,
    answers: an,
    authorities: ns,
    additionals: ar
  })
}
