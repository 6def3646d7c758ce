/**
 * Framing of iroh-gossip uni streams (spec iroh-gossip.md §1.4): every frame is a 4-byte big-endian length
 * followed by that many bytes of postcard. The first frame of a stream is the stream header (the 32-byte topic id),
 * every later one a `TopicMessage`.
 *
 * Size rule (asymmetric, as in Rust): a writer refuses `length >= maxMessageSize`, a reader refuses
 * `length > maxMessageSize`.
 */
import { Either, Option } from "effect"
import { FrameTooLarge, TruncatedFrame, type WireDecodeError, WireEncodeError } from "./errors.js"
import { encodeTopicMessage, type TopicMessage } from "./messages.js"
import { runDecode } from "./postcard.js"
import { varintSize } from "./postcard.js"

export const DEFAULT_MAX_MESSAGE_SIZE = 4096
/** Rust asserts this lower bound when a gossip node is built. */
export const MIN_MAX_MESSAGE_SIZE = 512
export const TOPIC_ID_LENGTH = 32

/** Prefixes a payload with its length, refusing what a Rust reader would reject... and what a Rust writer would. */
export const frame = (
  payload: Uint8Array,
  maxMessageSize: number = DEFAULT_MAX_MESSAGE_SIZE
): Either.Either<Uint8Array, FrameTooLarge> => {
  if (payload.length >= maxMessageSize) {
    return Either.left(new FrameTooLarge({ size: payload.length, max: maxMessageSize }))
  }
  const out = new Uint8Array(4 + payload.length)
  new DataView(out.buffer).setUint32(0, payload.length, false)
  out.set(payload, 4)
  return Either.right(out)
}

/** Encodes a message and frames it. */
export const encodeMessageFrame = (
  message: TopicMessage,
  maxMessageSize: number = DEFAULT_MAX_MESSAGE_SIZE
): Either.Either<Uint8Array, WireEncodeError | FrameTooLarge> =>
  Either.flatMap(encodeTopicMessage(message), (payload) => frame(payload, maxMessageSize))

/** The stream header payload: the raw topic id (postcard of `StreamHeader { topic_id }`). */
export const encodeStreamHeader = (topic: Uint8Array): Either.Either<Uint8Array, WireEncodeError> =>
  topic.length === TOPIC_ID_LENGTH
    ? Either.right(topic.slice())
    : Either.left(new WireEncodeError({ detail: `topic id must be 32 bytes, got ${topic.length}` }))

/** The stream header as a whole frame (36 bytes). */
export const encodeStreamHeaderFrame = (topic: Uint8Array): Either.Either<Uint8Array, WireEncodeError> =>
  Either.map(encodeStreamHeader(topic), (payload) => Either.getOrThrow(frame(payload)))

export const decodeStreamHeader = (payload: Uint8Array): Either.Either<Uint8Array, WireDecodeError> =>
  runDecode(payload, (r) => r.take(TOPIC_ID_LENGTH))

/**
 * Largest content a broadcast may carry so that its frame still passes the writer rule. The frame of a
 * `Gossip(Gossip{..})` is 1 + 1 + 32 + varint(len) + len + scope, scope = 1 (Neighbors) or 1 + varint(round).
 * `round` is the round the frame will carry (0 for our own broadcast).
 */
export const maxContentSize = (
  maxMessageSize: number = DEFAULT_MAX_MESSAGE_SIZE,
  scope: "Swarm" | "Neighbors" = "Swarm",
  round = 0
): number => {
  const fixed = 1 + 1 + 32 + (scope === "Swarm" ? 1 + varintSize(round) : 1)
  // Largest len with fixed + varint(len) + len <= maxMessageSize - 1.
  let len = maxMessageSize - 1 - fixed
  while (len > 0 && fixed + varintSize(len) + len > maxMessageSize - 1) len--
  return Math.max(0, len)
}

/**
 * Incremental frame reader for one stream: push received chunks, pull complete frame payloads. Pure (no IO), so
 * the driver can feed it from `RecvStream.read()`.
 */
export class FrameDecoder {
  private chunks: Array<Uint8Array> = []
  private buffered = 0

  constructor(private readonly maxMessageSize: number = DEFAULT_MAX_MESSAGE_SIZE) {}

  /** Bytes received but not yet returned as frames. */
  get pending(): number {
    return this.buffered
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.buffered += chunk.length
  }

  private peek(n: number): Uint8Array {
    const out = new Uint8Array(n)
    let filled = 0
    for (const c of this.chunks) {
      const take = Math.min(c.length, n - filled)
      out.set(c.subarray(0, take), filled)
      filled += take
      if (filled === n) break
    }
    return out
  }

  private consume(n: number): Uint8Array {
    const out = this.peek(n)
    let left = n
    while (left > 0) {
      const c = this.chunks[0]!
      if (c.length <= left) {
        this.chunks.shift()
        left -= c.length
      } else {
        this.chunks[0] = c.subarray(left)
        left = 0
      }
    }
    this.buffered -= n
    return out
  }

  /**
   * The next complete frame payload, `None` if more bytes are needed, or `FrameTooLarge` (the stream must then be
   * dropped: nothing after it can be trusted).
   */
  next(): Either.Either<Option.Option<Uint8Array>, FrameTooLarge> {
    if (this.buffered < 4) return Either.right(Option.none())
    const header = this.peek(4)
    const size = new DataView(header.buffer).getUint32(0, false)
    if (size > this.maxMessageSize) return Either.left(new FrameTooLarge({ size, max: this.maxMessageSize }))
    if (this.buffered < 4 + size) return Either.right(Option.none())
    this.consume(4)
    return Either.right(Option.some(this.consume(size)))
  }

  /**
   * Call at end of stream, after draining `next()`. Ending inside the 4 length bytes (or between frames) is a clean
   * end; ending inside a payload is `TruncatedFrame`.
   */
  end(): Either.Either<void, TruncatedFrame> {
    if (this.buffered < 4) return Either.right(undefined)
    const size = new DataView(this.peek(4).buffer).getUint32(0, false)
    return Either.left(new TruncatedFrame({ expected: size, received: this.buffered - 4 }))
  }
}
