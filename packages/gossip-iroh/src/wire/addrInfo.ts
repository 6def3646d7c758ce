/**
 * `AddrInfo`, the PeerData payload iroh-gossip's net layer attaches to Join/Neighbor/Shuffle messages
 * (spec iroh-gossip.md §2.3): an optional relay URL and a set of direct socket addresses.
 */
import { Either } from "effect"
import { type WireDecodeError } from "./errors.js"
import { type Reader, runDecode, Writer } from "./postcard.js"
import { compareSocketAddr, type SocketAddr } from "./socketAddr.js"

export interface AddrInfo {
  /** The relay URL verbatim (Rust's `Url` string form, e.g. with its trailing `/`). */
  readonly relayUrl: string | undefined
  readonly directAddresses: ReadonlyArray<SocketAddr>
}

export const emptyAddrInfo: AddrInfo = { relayUrl: undefined, directAddresses: [] }

const readSocketAddr = (r: Reader): SocketAddr => {
  const tag = r.u32()
  if (tag === 0) {
    const ip = r.take(4)
    return { ip, port: r.u16() }
  }
  if (tag === 1) {
    const ip = r.take(16)
    return { ip, port: r.u16() }
  }
  return r.fail("BadDiscriminant", `socket address variant ${tag}`)
}

const readRelayUrl = (r: Reader): string => {
  const s = r.string()
  // Rust parses the string into a `Url`; a string it cannot parse fails the whole AddrInfo.
  if (!URL.canParse(s)) r.fail("BadUrl", "relay url does not parse")
  return s
}

const readAddrInfo = (r: Reader): AddrInfo => {
  const relayUrl = r.option(readRelayUrl)
  const list = r.seq(readSocketAddr)
  return { relayUrl, directAddresses: normalise(list) }
}

/** Sorted and de-duplicated as Rust's `BTreeSet<SocketAddr>`. */
const normalise = (list: ReadonlyArray<SocketAddr>): Array<SocketAddr> => {
  const sorted = [...list].sort(compareSocketAddr)
  return sorted.filter((a, i) => i === 0 || compareSocketAddr(sorted[i - 1]!, a) !== 0)
}

/**
 * Decodes a PeerData payload. An empty payload means "no addresses" (Rust treats it so, and that is what a node
 * sends before it knows its own addresses).
 */
export const decodeAddrInfo = (bytes: Uint8Array): Either.Either<AddrInfo, WireDecodeError> =>
  bytes.length === 0 ? Either.right(emptyAddrInfo) : runDecode(bytes, readAddrInfo)

/** Encodes byte-identically to Rust (addresses in `BTreeSet` order, duplicates dropped). */
export const encodeAddrInfo = (info: AddrInfo): Uint8Array => {
  const w = new Writer()
  w.option(info.relayUrl, (ww, url) => ww.string(url))
  const valid = info.directAddresses.filter(
    (a) => (a.ip.length === 4 || a.ip.length === 16) && Number.isInteger(a.port) && a.port >= 0 && a.port <= 0xffff
  )
  w.seq(normalise(valid), (ww, a) => {
    ww.varint(a.ip.length === 4 ? 0 : 1).raw(a.ip).varint(a.port)
  })
  return w.finish()
}
