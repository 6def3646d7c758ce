/**
 * The per-topic gossip message, `topic::Message<PublicKey>` of iroh-gossip 0.101 (spec iroh-gossip.md §2.3): one
 * frame on a topic's uni stream. Variant order is the Rust declaration order, which is what postcard encodes.
 */
import { EndpointId } from "@dtt/core"
import { Either } from "effect"
import { type WireDecodeError, WireEncodeError } from "./errors.js"
import { type Reader, runDecode, Writer } from "./postcard.js"
import { isValidEndpointId } from "./publicKey.js"

/** Opaque per-peer data (iroh's net layer puts a postcard `AddrInfo` in it). */
export type PeerData = Uint8Array

export interface PeerInfo {
  readonly id: EndpointId.EndpointId
  readonly data: PeerData | undefined
}

export type Priority = "High" | "Low"

/** HyParView membership messages. */
export type SwarmMessage =
  | { readonly _tag: "Join"; readonly data: PeerData | undefined }
  | { readonly _tag: "ForwardJoin"; readonly peer: PeerInfo; readonly ttl: number }
  | {
    readonly _tag: "Shuffle"
    readonly origin: EndpointId.EndpointId
    readonly nodes: ReadonlyArray<PeerInfo>
    readonly ttl: number
  }
  | { readonly _tag: "ShuffleReply"; readonly nodes: ReadonlyArray<PeerInfo> }
  | { readonly _tag: "Neighbor"; readonly priority: Priority; readonly data: PeerData | undefined }
  /** `respond` is obsolete in Rust but still on the wire; we always send false. */
  | { readonly _tag: "Disconnect"; readonly alive: boolean; readonly respond: boolean }

/** How far a gossip message has travelled: `Swarm(round)` = hops so far; `Neighbors` = direct only. */
export type DeliveryScope = { readonly _tag: "Swarm"; readonly round: number } | { readonly _tag: "Neighbors" }

export interface IHave {
  readonly id: Uint8Array
  readonly round: number
}

/** Plumtree broadcast messages. */
export type BroadcastMessage =
  | { readonly _tag: "Gossip"; readonly id: Uint8Array; readonly content: Uint8Array; readonly scope: DeliveryScope }
  | { readonly _tag: "Prune" }
  | { readonly _tag: "Graft"; readonly id: Uint8Array | undefined; readonly round: number }
  | { readonly _tag: "IHave"; readonly entries: ReadonlyArray<IHave> }

export type TopicMessage =
  | { readonly _tag: "Swarm"; readonly message: SwarmMessage }
  | { readonly _tag: "Gossip"; readonly message: BroadcastMessage }

export const swarm = (message: SwarmMessage): TopicMessage => ({ _tag: "Swarm", message })
export const gossip = (message: BroadcastMessage): TopicMessage => ({ _tag: "Gossip", message })

// ---------------------------------------------------------------------------------------------------------------
// decode

const readPublicKey = (r: Reader): EndpointId.EndpointId => {
  const bytes = r.take(32)
  const id = EndpointId.unsafeFromBytes(bytes)
  if (!isValidEndpointId(id)) r.fail("InvalidPublicKey", "32 bytes are not an Ed25519 point")
  return id
}

const readPeerData = (r: Reader): PeerData => r.bytesWithLength()

const readPeerInfo = (r: Reader): PeerInfo => {
  const id = readPublicKey(r)
  const data = r.option(readPeerData)
  return { id, data }
}

const readSwarm = (r: Reader): SwarmMessage => {
  const tag = r.u32()
  switch (tag) {
    case 0:
      return { _tag: "Join", data: r.option(readPeerData) }
    case 1: {
      const peer = readPeerInfo(r)
      return { _tag: "ForwardJoin", peer, ttl: r.u16() }
    }
    case 2: {
      const origin = readPublicKey(r)
      const nodes = r.seq(readPeerInfo)
      return { _tag: "Shuffle", origin, nodes, ttl: r.u16() }
    }
    case 3:
      return { _tag: "ShuffleReply", nodes: r.seq(readPeerInfo) }
    case 4: {
      const p = r.u32()
      if (p > 1) r.fail("BadDiscriminant", `priority ${p}`)
      return { _tag: "Neighbor", priority: p === 0 ? "High" : "Low", data: r.option(readPeerData) }
    }
    case 5: {
      const alive = r.bool()
      return { _tag: "Disconnect", alive, respond: r.bool() }
    }
    default:
      return r.fail("BadDiscriminant", `swarm message variant ${tag}`)
  }
}

const readScope = (r: Reader): DeliveryScope => {
  const tag = r.u32()
  if (tag === 0) return { _tag: "Swarm", round: r.u16() }
  if (tag === 1) return { _tag: "Neighbors" }
  return r.fail("BadDiscriminant", `delivery scope ${tag}`)
}

const readIHave = (r: Reader): IHave => {
  const id = r.take(32)
  return { id, round: r.u16() }
}

const readBroadcast = (r: Reader): BroadcastMessage => {
  const tag = r.u32()
  switch (tag) {
    case 0: {
      const id = r.take(32)
      const content = r.bytesWithLength()
      return { _tag: "Gossip", id, content, scope: readScope(r) }
    }
    case 1:
      return { _tag: "Prune" }
    case 2: {
      const id = r.option((rr) => rr.take(32))
      return { _tag: "Graft", id, round: r.u16() }
    }
    case 3:
      return { _tag: "IHave", entries: r.seq(readIHave) }
    default:
      return r.fail("BadDiscriminant", `gossip message variant ${tag}`)
  }
}

const readTopicMessage = (r: Reader): TopicMessage => {
  const tag = r.u32()
  if (tag === 0) return { _tag: "Swarm", message: readSwarm(r) }
  if (tag === 1) return { _tag: "Gossip", message: readBroadcast(r) }
  return r.fail("BadDiscriminant", `topic message variant ${tag}`)
}

/** Decodes one frame payload. Trailing bytes are ignored, as Rust's `postcard::from_bytes` does. */
export const decodeTopicMessage = (bytes: Uint8Array): Either.Either<TopicMessage, WireDecodeError> =>
  runDecode(bytes, readTopicMessage)

// ---------------------------------------------------------------------------------------------------------------
// encode

class Invalid {
  constructor(readonly detail: string) {}
}

const writePublicKey = (w: Writer, id: EndpointId.EndpointId): void => {
  if (!isValidEndpointId(id)) throw new Invalid(`endpoint id ${id} is not a valid Ed25519 public key`)
  w.raw(EndpointId.toBytes(id))
}

const writeFixed32 = (w: Writer, bytes: Uint8Array, what: string): void => {
  if (bytes.length !== 32) throw new Invalid(`${what} must be 32 bytes, got ${bytes.length}`)
  w.raw(bytes)
}

const writeU16 = (w: Writer, n: number, what: string): void => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new Invalid(`${what} ${n} is not a u16`)
  w.varint(n)
}

const writePeerInfo = (w: Writer, p: PeerInfo): void => {
  writePublicKey(w, p.id)
  w.option(p.data, (ww, d) => ww.bytesWithLength(d))
}

const writeSwarm = (w: Writer, m: SwarmMessage): void => {
  switch (m._tag) {
    case "Join":
      w.varint(0).option(m.data, (ww, d) => ww.bytesWithLength(d))
      return
    case "ForwardJoin":
      w.varint(1)
      writePeerInfo(w, m.peer)
      writeU16(w, m.ttl, "ttl")
      return
    case "Shuffle":
      w.varint(2)
      writePublicKey(w, m.origin)
      w.seq(m.nodes, writePeerInfo)
      writeU16(w, m.ttl, "ttl")
      return
    case "ShuffleReply":
      w.varint(3).seq(m.nodes, writePeerInfo)
      return
    case "Neighbor":
      w.varint(4).varint(m.priority === "High" ? 0 : 1)
      w.option(m.data, (ww, d) => ww.bytesWithLength(d))
      return
    case "Disconnect":
      w.varint(5).bool(m.alive).bool(m.respond)
      return
  }
}

const writeBroadcast = (w: Writer, m: BroadcastMessage): void => {
  switch (m._tag) {
    case "Gossip":
      w.varint(0)
      writeFixed32(w, m.id, "message id")
      w.bytesWithLength(m.content)
      if (m.scope._tag === "Swarm") {
        w.varint(0)
        writeU16(w, m.scope.round, "round")
      } else w.varint(1)
      return
    case "Prune":
      w.varint(1)
      return
    case "Graft":
      w.varint(2)
      w.option(m.id, (ww, id) => writeFixed32(ww, id, "message id"))
      writeU16(w, m.round, "round")
      return
    case "IHave":
      w.varint(3).seq(m.entries, (ww, e) => {
        writeFixed32(ww, e.id, "message id")
        writeU16(ww, e.round, "round")
      })
      return
  }
}

/**
 * Encodes a frame payload (no length prefix). Fails instead of producing bytes Rust would reject (invalid public
 * key, a value out of u16 range, an id that is not 32 bytes).
 */
export const encodeTopicMessage = (message: TopicMessage): Either.Either<Uint8Array, WireEncodeError> => {
  const w = new Writer()
  try {
    if (message._tag === "Swarm") writeSwarm(w.varint(0), message.message)
    else writeBroadcast(w.varint(1), message.message)
  } catch (e) {
    if (e instanceof Invalid) return Either.left(new WireEncodeError({ detail: e.detail }))
    throw e
  }
  return Either.right(w.finish())
}
