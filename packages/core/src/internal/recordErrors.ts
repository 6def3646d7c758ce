/** The tagged errors of the record layer; re-exported (with the `RecordError` union) from `Record.ts`. */
import { Data } from "effect"

/** A byte field or message has a length the format does not allow. */
export class WrongLength extends Data.TaggedError("WrongLength")<{
  readonly what: string
  readonly expected: string
  readonly actual: number
}> {
  override get message(): string {
    return `${this.what}: expected ${this.expected} bytes, got ${this.actual}`
  }
}

/** The record's public key does not decompress, or its signature is not valid under verify_strict. */
export class BadSignature extends Data.TaggedError("BadSignature")<{ readonly reason: string }> {
  override get message(): string {
    return `bad record signature: ${this.reason}`
  }
}

/** The record names another topic than the one it was fetched for. */
export class WrongTopic extends Data.TaggedError("WrongTopic")<{ readonly expected: string; readonly actual: string }> {
  override get message(): string {
    return `record topic ${this.actual} is not the expected ${this.expected}`
  }
}

/** The record's minute is not the minute of the slot it was fetched from. */
export class WrongMinute
  extends Data.TaggedError("WrongMinute")<{ readonly expected: bigint; readonly actual: bigint }>
{
  override get message(): string {
    return `record minute ${this.actual} is not the expected ${this.expected}`
  }
}

/** The value does not decrypt with the minute's key (another secret, another minute, or tampered bytes). */
export class CannotDecrypt extends Data.TaggedError("CannotDecrypt")<{ readonly reason: string }> {
  override get message(): string {
    return `cannot decrypt record: ${this.reason}`
  }
}

/** Bytes that do not follow the format (framing of an encrypted value, record content, hex). */
export class MalformedContent extends Data.TaggedError("MalformedContent")<{ readonly reason: string }> {
  override get message(): string {
    return `malformed: ${this.reason}`
  }
}

export type RecordError = WrongLength | BadSignature | WrongTopic | WrongMinute | CannotDecrypt | MalformedContent
