/**
 * The node's long-lived Ed25519 key. It is at once the iroh endpoint secret key (so the gossip layer dials and
 * is dialled under this id) and the key that signs DHT records: records' `pub_key` is dialled verbatim by Rust
 * peers, so the two must be the same key (spec wire.md §8.13).
 */
import { ed25519 } from "@noble/curves/ed25519.js"
import { Context, Layer } from "effect"
import * as EndpointId from "./EndpointId.js"

export interface NodeIdentity {
  /** The 32-byte Ed25519 seed (RFC 8032 private key), equal to iroh's `SecretKey::to_bytes()`. */
  readonly secretKey: Uint8Array
  readonly publicKey: Uint8Array
  readonly endpointId: EndpointId.EndpointId
}

export const NodeIdentity = Context.GenericTag<NodeIdentity>("@dtt/core/NodeIdentity")

export const fromSecretKey = (secretKey: Uint8Array): NodeIdentity => {
  if (secretKey.length !== 32) throw new RangeError(`secret key must be 32 bytes, got ${secretKey.length}`)
  const key = Uint8Array.from(secretKey)
  const publicKey = ed25519.getPublicKey(key)
  return { secretKey: key, publicKey, endpointId: EndpointId.unsafeFromBytes(publicKey) }
}

export const generate = (): NodeIdentity => fromSecretKey(ed25519.utils.randomSecretKey())

export const layer = (secretKey: Uint8Array): Layer.Layer<NodeIdentity> =>
  Layer.sync(NodeIdentity, () => fromSecretKey(secretKey))
