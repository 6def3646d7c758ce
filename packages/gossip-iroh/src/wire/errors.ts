/**
 * Typed failures of the gossip wire codec. Decoding never throws: every byte string either decodes or yields one
 * of these values.
 */
import { Data } from "effect"

/** Why a postcard value could not be decoded (mirrors the failure classes of postcard's deserializer). */
export type DecodeFailure =
  | "UnexpectedEnd"
  | "BadVarint"
  | "BadBool"
  | "BadOption"
  | "BadDiscriminant"
  | "BadUtf8"
  | "BadUrl"
  | "InvalidPublicKey"

export class WireDecodeError extends Data.TaggedError("WireDecodeError")<{
  readonly reason: DecodeFailure
  /** Byte offset where decoding stopped. */
  readonly offset: number
  readonly detail: string
}> {}

/** A frame that breaks the maximum message size (encode: `size >= max`; decode: `size > max`). */
export class FrameTooLarge extends Data.TaggedError("FrameTooLarge")<{
  readonly size: number
  readonly max: number
}> {}

/** The stream ended in the middle of a frame payload (an end inside the 4 length bytes is a clean end). */
export class TruncatedFrame extends Data.TaggedError("TruncatedFrame")<{
  readonly expected: number
  readonly received: number
}> {}

/** A value we were asked to encode cannot be represented (Rust peers would reject it). */
export class WireEncodeError extends Data.TaggedError("WireEncodeError")<{ readonly detail: string }> {}
