/**
 * An iroh endpoint id: the 32-byte Ed25519 public key of a node, held as 64 lowercase hex characters so it can
 * key a `Map`/`Set` and be printed as is. Records carry the raw bytes; use `toBytes`/`fromBytes` at the edges.
 */
import { type Brand, Data, type Effect, Either } from "effect"
import { fromHex as bytesFromHex, toHex } from "./internal/bytes.js"

export type EndpointId = string & Brand.Brand<"EndpointId">

export class InvalidEndpointId extends Data.TaggedError("InvalidEndpointId")<{ readonly reason: string }> {}

const HEX64 = /^[0-9a-f]{64}$/

/** From 32 raw bytes. Fails on any other length. */
export const fromBytes = (bytes: Uint8Array): Either.Either<EndpointId, InvalidEndpointId> =>
  bytes.length === 32
    ? Either.right(toHex(bytes) as EndpointId)
    : Either.left(new InvalidEndpointId({ reason: `expected 32 bytes, got ${bytes.length}` }))

/** From 32 raw bytes the caller already checked (e.g. a fixed-size field of a decoded record). */
export const unsafeFromBytes = (bytes: Uint8Array): EndpointId => {
  if (bytes.length !== 32) throw new RangeError(`EndpointId needs 32 bytes, got ${bytes.length}`)
  return toHex(bytes) as EndpointId
}

/** From 64 hex characters (either case). */
export const fromHex = (hex: string): Either.Either<EndpointId, InvalidEndpointId> => {
  const lower = hex.toLowerCase()
  return HEX64.test(lower)
    ? Either.right(lower as EndpointId)
    : Either.left(new InvalidEndpointId({ reason: "expected 64 hex characters" }))
}

export const parse = (hex: string): Effect.Effect<EndpointId, InvalidEndpointId> => fromHex(hex)

/** The 32 raw bytes (an `EndpointId` is 64 hex characters by construction). */
export const toBytes = (id: EndpointId): Uint8Array => {
  const bytes = bytesFromHex(id)
  if (bytes === undefined || bytes.length !== 32) throw new RangeError(`not an EndpointId: ${id.slice(0, 80)}`)
  return bytes
}

/** The first 10 hex characters, as iroh prints ids in logs. */
export const short = (id: EndpointId): string => id.slice(0, 10)
