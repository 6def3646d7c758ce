/**
 * KRPC (BEP5) messages as the mainline DHT exchanges them: queries, responses and errors, each a bencoded
 * dictionary with a transaction id `t`. `parse` turns any datagram into a typed message or a `KrpcError`;
 * field access on the bodies goes through the small typed getters below, which never throw.
 */
import { Data, Either } from "effect"
import * as Bencode from "./Bencode.js"

/** Largest datagram we read. A BEP44 put with a 1000-byte value and 64-byte salt is about 1.3 KB. */
export const MAX_DATAGRAM_BYTES = 2048

/** BEP5/BEP44 error codes. */
export const ErrorCode = {
  Generic: 201,
  Server: 202,
  Protocol: 203,
  MethodUnknown: 204,
  ValueTooBig: 205,
  InvalidSignature: 206,
  SaltTooBig: 207,
  CasMismatch: 301,
  SeqTooLow: 302
} as const

export class KrpcError extends Data.TaggedError("KrpcError")<{ readonly reason: string }> {}

export interface Query {
  readonly _tag: "Query"
  readonly transactionId: Uint8Array
  readonly method: string
  readonly args: Bencode.Dict
  /** BEP43 read-only flag: the sender does not answer queries, so it must not enter routing tables. */
  readonly readOnly: boolean
}

export interface Response {
  readonly _tag: "Response"
  readonly transactionId: Uint8Array
  readonly body: Bencode.Dict
}

export interface ErrorReply {
  readonly _tag: "ErrorReply"
  readonly transactionId: Uint8Array
  readonly code: number
  readonly message: string
}

export type Message = Query | Response | ErrorReply

const MAX_TRANSACTION_ID_BYTES = 16
const MAX_METHOD_BYTES = 32
const MAX_ERROR_MESSAGE_BYTES = 256

const decodeLimits: Bencode.DecodeLimits = { maxBytes: MAX_DATAGRAM_BYTES, maxDepth: 8, maxIntegerDigits: 24 }

const asText = (b: Uint8Array): string => Buffer.from(b).toString("latin1")

export const parse = (datagram: Uint8Array): Either.Either<Message, KrpcError> => {
  const decoded = Bencode.decode(datagram, decodeLimits)
  if (Either.isLeft(decoded)) return Either.left(new KrpcError({ reason: `bencode: ${decoded.left.reason}` }))
  const root = decoded.right
  if (!Bencode.isDict(root)) return Either.left(new KrpcError({ reason: "message is not a dictionary" }))
  const t = bytes(root, "t")
  if (t === undefined || t.length === 0 || t.length > MAX_TRANSACTION_ID_BYTES) {
    return Either.left(new KrpcError({ reason: "missing or bad transaction id" }))
  }
  const y = bytes(root, "y")
  const kind = y === undefined ? "" : asText(y)
  switch (kind) {
    case "q": {
      const q = bytes(root, "q")
      const a = root.get("a")
      if (q === undefined || q.length === 0 || q.length > MAX_METHOD_BYTES) {
        return Either.left(new KrpcError({ reason: "missing or bad method" }))
      }
      if (a === undefined || !Bencode.isDict(a)) return Either.left(new KrpcError({ reason: "missing arguments" }))
      return Either.right({
        _tag: "Query",
        transactionId: t,
        method: asText(q),
        args: a,
        readOnly: integer(root, "ro") === 1n
      })
    }
    case "r": {
      const r = root.get("r")
      if (r === undefined || !Bencode.isDict(r)) return Either.left(new KrpcError({ reason: "missing response body" }))
      return Either.right({ _tag: "Response", transactionId: t, body: r })
    }
    case "e": {
      const e = root.get("e")
      // Some nodes send a bare code or an empty list; accept what carries a code, default the message.
      if (e === undefined || !Bencode.isList(e) || e.length === 0 || typeof e[0] !== "bigint") {
        return Either.left(new KrpcError({ reason: "malformed error" }))
      }
      const code = e[0]
      const msg = e[1]
      return Either.right({
        _tag: "ErrorReply",
        transactionId: t,
        code: code >= 0n && code < 100000n ? Number(code) : ErrorCode.Generic,
        message: msg instanceof Uint8Array ? asText(msg.subarray(0, MAX_ERROR_MESSAGE_BYTES)) : ""
      })
    }
    default:
      return Either.left(new KrpcError({ reason: "unknown message type" }))
  }
}

// --- typed field getters (undefined when absent or of the wrong type) ---

export const bytes = (d: Bencode.Dict, key: string): Uint8Array | undefined => {
  const v = d.get(key)
  return v instanceof Uint8Array ? v : undefined
}

/** A byte string of exactly `length` bytes. */
export const fixedBytes = (d: Bencode.Dict, key: string, length: number): Uint8Array | undefined => {
  const v = bytes(d, key)
  return v !== undefined && v.length === length ? v : undefined
}

export const integer = (d: Bencode.Dict, key: string): bigint | undefined => {
  const v = d.get(key)
  return typeof v === "bigint" ? v : undefined
}

export const I64_MIN = -(2n ** 63n)
export const I64_MAX = 2n ** 63n - 1n

/** A BEP44 sequence number: a signed 64-bit integer (what Rust mainline parses into `i64`). */
export const i64 = (d: Bencode.Dict, key: string): bigint | undefined => {
  const v = integer(d, key)
  return v !== undefined && v >= I64_MIN && v <= I64_MAX ? v : undefined
}

// --- builders ---

const y = (s: string) => Bencode.text(s)

export const encodeQuery = (
  transactionId: Uint8Array,
  method: string,
  args: Bencode.Dict,
  readOnly: boolean
): Uint8Array =>
  Bencode.encode(
    Bencode.dict({ t: transactionId, y: y("q"), q: Bencode.text(method), a: args, ro: readOnly ? 1n : undefined })
  )

export const encodeResponse = (transactionId: Uint8Array, body: Bencode.Dict): Uint8Array =>
  Bencode.encode(Bencode.dict({ t: transactionId, y: y("r"), r: body }))

export const encodeError = (transactionId: Uint8Array, code: number, message: string): Uint8Array =>
  Bencode.encode(Bencode.dict({ t: transactionId, y: y("e"), e: [BigInt(code), Bencode.text(message)] }))
