/**
 * The content of a gossip record, in postcard layout (spec wire.md §4): 5 peer ids then 5 message hashes,
 * 32 bytes each, no lengths or tags, 320 bytes. An all-zero entry is an empty slot.
 *
 * Decoding reads the first 320 bytes and ignores the rest, as postcard does; shorter input is an error.
 */
import { Either, ParseResult, Schema } from "effect"
import { concat, copy, isAllZero } from "./internal/bytes.js"
import { MalformedContent } from "./internal/recordErrors.js"

export const MAX_RECORD_PEERS = 5
export const MAX_MESSAGE_HASHES = 5
export const ENTRY_LENGTH = 32
export const LENGTH = (MAX_RECORD_PEERS + MAX_MESSAGE_HASHES) * ENTRY_LENGTH

export interface GossipRecordContent {
  /** Exactly 5 entries of 32 bytes; zero entries are empty slots. */
  readonly activePeers: ReadonlyArray<Uint8Array>
  /** Exactly 5 entries of 32 bytes (H32 of gossip payloads, oldest first); zero entries are empty slots. */
  readonly lastMessageHashes: ReadonlyArray<Uint8Array>
}

const zeros = (): Uint8Array => new Uint8Array(ENTRY_LENGTH)

/** The all-zero content published during bootstrap. */
export const empty: GossipRecordContent = {
  activePeers: Array.from({ length: MAX_RECORD_PEERS }, zeros),
  lastMessageHashes: Array.from({ length: MAX_MESSAGE_HASHES }, zeros)
}

const fill = (
  what: string,
  entries: ReadonlyArray<Uint8Array>,
  max: number
): Either.Either<Array<Uint8Array>, MalformedContent> => {
  if (entries.length > max) {
    return Either.left(new MalformedContent({ reason: `${what}: at most ${max} entries, got ${entries.length}` }))
  }
  const bad = entries.findIndex((e) => !(e instanceof Uint8Array) || e.length !== ENTRY_LENGTH)
  if (bad >= 0) return Either.left(new MalformedContent({ reason: `${what}[${bad}]: entries are 32 bytes` }))
  return Either.right([...entries.map(copy), ...Array.from({ length: max - entries.length }, zeros)])
}

/** From up to 5 peer ids and up to 5 message hashes (32 bytes each); missing slots are zero-filled. */
export const make = (input: {
  readonly activePeers?: ReadonlyArray<Uint8Array>
  readonly lastMessageHashes?: ReadonlyArray<Uint8Array>
}): Either.Either<GossipRecordContent, MalformedContent> =>
  Either.all({
    activePeers: fill("activePeers", input.activePeers ?? [], MAX_RECORD_PEERS),
    lastMessageHashes: fill("lastMessageHashes", input.lastMessageHashes ?? [], MAX_MESSAGE_HASHES)
  })

export const encode = (content: GossipRecordContent): Uint8Array =>
  concat(...content.activePeers, ...content.lastMessageHashes)

export const decode = (bytes: Uint8Array): Either.Either<GossipRecordContent, MalformedContent> => {
  if (!(bytes instanceof Uint8Array) || bytes.length < LENGTH) {
    return Either.left(
      new MalformedContent({ reason: `gossip record content needs ${LENGTH} bytes, got ${bytes?.length ?? 0}` })
    )
  }
  const entry = (i: number) => bytes.slice(i * ENTRY_LENGTH, (i + 1) * ENTRY_LENGTH)
  return Either.right({
    activePeers: Array.from({ length: MAX_RECORD_PEERS }, (_, i) => entry(i)),
    lastMessageHashes: Array.from({ length: MAX_MESSAGE_HASHES }, (_, i) => entry(MAX_RECORD_PEERS + i))
  })
}

/** The non-empty peer ids, in slot order. */
export const peers = (content: GossipRecordContent): Array<Uint8Array> =>
  content.activePeers.filter((p) => !isAllZero(p))

/** The non-empty message hashes, in slot order (oldest first). */
export const messageHashes = (content: GossipRecordContent): Array<Uint8Array> =>
  content.lastMessageHashes.filter((h) => !isAllZero(h))

const isContent = (u: unknown): u is GossipRecordContent =>
  typeof u === "object" && u !== null && "activePeers" in u && "lastMessageHashes" in u

export const GossipRecordContentFromSelf: Schema.Schema<GossipRecordContent> = Schema.declare(isContent, {
  identifier: "GossipRecordContent"
})

/** Schema between content bytes (postcard) and the decoded value. */
export const GossipRecordContentFromBytes: Schema.Schema<GossipRecordContent, Uint8Array> = Schema.transformOrFail(
  Schema.Uint8ArrayFromSelf,
  GossipRecordContentFromSelf,
  {
    strict: true,
    decode: (bytes, _, ast) => Either.mapLeft(decode(bytes), (e) => new ParseResult.Type(ast, bytes, e.message)),
    encode: (content) => ParseResult.succeed(encode(content))
  }
)
