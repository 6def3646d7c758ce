/**
 * Node addresses and BEP5 compact node info (20-byte id ‖ 4-byte IPv4 ‖ 2-byte big-endian port = 26 bytes).
 * The mainline DHT of DTT is IPv4 only (BEP32 `nodes6` is not used by the Rust crate).
 */
import { isIPv4 } from "node:net"

export interface Address {
  readonly host: string
  readonly port: number
}

export interface NodeInfo extends Address {
  readonly id: Uint8Array
}

export const ID_BYTES = 20
export const COMPACT_NODE_BYTES = 26

export const addressKey = (a: Address): string => `${a.host}:${a.port}`

/** "host:port" -> Address; the host may be a name (resolved later) or an IPv4 literal. */
export const parseAddress = (s: string): Address | undefined => {
  const colon = s.lastIndexOf(":")
  if (colon <= 0) return undefined
  const host = s.slice(0, colon)
  const port = Number(s.slice(colon + 1))
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined
  return { host, port }
}

export const encodeNodes = (nodes: ReadonlyArray<NodeInfo>): Uint8Array => {
  const usable = nodes.filter((n) => isIPv4(n.host) && n.id.length === ID_BYTES)
  const out = new Uint8Array(usable.length * COMPACT_NODE_BYTES)
  usable.forEach((n, k) => {
    const at = k * COMPACT_NODE_BYTES
    out.set(n.id, at)
    n.host.split(".").forEach((part, j) => (out[at + 20 + j] = Number(part)))
    out[at + 24] = n.port >> 8
    out[at + 25] = n.port & 0xff
  })
  return out
}

/** Decodes compact node info; a length that is not a multiple of 26, port 0 or address 0.0.0.0 are skipped. */
export const decodeNodes = (bytes: Uint8Array, max: number): ReadonlyArray<NodeInfo> => {
  if (bytes.length % COMPACT_NODE_BYTES !== 0) return []
  const out: Array<NodeInfo> = []
  for (let at = 0; at < bytes.length && out.length < max; at += COMPACT_NODE_BYTES) {
    const port = (bytes[at + 24]! << 8) | bytes[at + 25]!
    const host = `${bytes[at + 20]}.${bytes[at + 21]}.${bytes[at + 22]}.${bytes[at + 23]}`
    if (port === 0 || host === "0.0.0.0") continue
    out.push({ id: bytes.slice(at, at + ID_BYTES), host, port })
  }
  return out
}

/** Compares XOR distances of `a` and `b` to `target` byte by byte (exact; k-bucket's own distance is a double). */
export const compareDistance = (target: Uint8Array, a: Uint8Array, b: Uint8Array): number => {
  for (let k = 0; k < ID_BYTES; k++) {
    const da = a[k]! ^ target[k]!
    const db = b[k]! ^ target[k]!
    if (da !== db) return da - db
  }
  return 0
}
