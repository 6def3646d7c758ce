/**
 * iroh's endpoint records in the pkarr format (iroh 1.0 `iroh-dns` `pkarr.rs`, `attrs.rs`, `endpoint_info.rs`):
 *
 * - a DNS reply with one TXT record per attribute, all named `_iroh.<z-base-32 endpoint id>`, TTL 30 s;
 *   attributes are `relay=<url>`, then `addr=<ip:port>` (one record per address), then `user-data=<text>`;
 * - on the mainline DHT as a BEP44 mutable item: k = the endpoint's Ed25519 key, no salt,
 *   seq = the publication time in microseconds, v = the DNS packet (at most 1000 bytes),
 *   signed by the endpoint's secret key over the usual BEP44 signable.
 *
 * Reading follows Rust's rules where they decide what is accepted: a TXT value without `=` or with an unknown
 * key makes the whole record unusable, a value is what lies between the first and a second `=`, TXT values that
 * are not UTF-8 are skipped, unparsable relay URLs and addresses are dropped.
 */
import { Bep44, type Dht } from "@dtt/core"
import { Data, Either } from "effect"
import { formatSocketAddr, parseSocketAddr } from "../wire/socketAddr.js"
import * as DnsPacket from "./dnsPacket.js"
import * as ZBase32 from "./zbase32.js"

export const IROH_TXT_NAME = "_iroh"
/** iroh's `DEFAULT_PKARR_TTL`: how long DNS caches may keep the records. */
export const DEFAULT_TTL = 30
/** pkarr's bound on the DNS packet (it is the BEP44 `v`, which storing nodes cap at 1000 bytes). */
export const MAX_DNS_PACKET_BYTES = 1000
/** iroh's `UserData::MAX_LENGTH`. */
export const MAX_USER_DATA_BYTES = 245

const NO_SALT = new Uint8Array(0)

export interface EndpointInfo {
  readonly relayUrls: ReadonlyArray<string>
  /** Canonical `ip:port` strings (Rust's `SocketAddr` display form). */
  readonly directAddresses: ReadonlyArray<string>
  readonly userData?: string | undefined
}

export class PkarrEncodeError extends Data.TaggedError("PkarrEncodeError")<{ readonly reason: string }> {}

export class PkarrDecodeError extends Data.TaggedError("PkarrDecodeError")<{ readonly reason: string }> {}

/** The `_iroh.<z32>` owner name of an endpoint's records. */
export const recordName = (publicKey: Uint8Array): ReadonlyArray<string> => [IROH_TXT_NAME, ZBase32.encode(publicKey)]

/** The TXT values in iroh's order (its attribute map is sorted relay < addr < user-data; values keep their order). */
export const txtStrings = (info: EndpointInfo): ReadonlyArray<string> => [
  ...info.relayUrls.map((url) => `relay=${url}`),
  ...info.directAddresses.map((addr) => `addr=${addr}`),
  ...(info.userData === undefined ? [] : [`user-data=${info.userData}`])
]

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder("utf-8", { fatal: true })

export const encodePacket = (
  publicKey: Uint8Array,
  info: EndpointInfo,
  ttl: number = DEFAULT_TTL
): Either.Either<Uint8Array, PkarrEncodeError> => {
  if (info.userData !== undefined && utf8.encode(info.userData).length > MAX_USER_DATA_BYTES) {
    return Either.left(new PkarrEncodeError({ reason: `user data longer than ${MAX_USER_DATA_BYTES} bytes` }))
  }
  return DnsPacket.encodeTxtReply(recordName(publicKey), ttl, txtStrings(info).map((s) => utf8.encode(s))).pipe(
    Either.mapLeft((e) => new PkarrEncodeError({ reason: e.reason })),
    Either.filterOrLeft(
      (packet) => packet.length <= MAX_DNS_PACKET_BYTES,
      (packet) =>
        new PkarrEncodeError({ reason: `DNS packet is ${packet.length} bytes, at most ${MAX_DNS_PACKET_BYTES}` })
    )
  )
}

/** The URL as Rust's `url` crate prints it (lower-case host, `/` for an empty path), or undefined. */
const normalizeUrl = (s: string): string | undefined => {
  try {
    return new URL(s).href
  } catch {
    return undefined
  }
}

const dedup = (xs: ReadonlyArray<string>) => [...new Set(xs)]

/** The endpoint info in a DNS packet published by `publicKey`. Total: never throws. */
export const decodePacket = (
  publicKey: Uint8Array,
  packet: Uint8Array
): Either.Either<EndpointInfo, PkarrDecodeError> => {
  if (packet.length > MAX_DNS_PACKET_BYTES) {
    return Either.left(
      new PkarrDecodeError({ reason: `DNS packet is ${packet.length} bytes, at most ${MAX_DNS_PACKET_BYTES}` })
    )
  }
  const decoded = DnsPacket.decode(packet)
  if (Either.isLeft(decoded)) {
    return Either.left(new PkarrDecodeError({ reason: `DNS: ${decoded.left.problem} at byte ${decoded.left.offset}` }))
  }
  const origin = ZBase32.encode(publicKey)
  const relays: Array<string> = []
  const addrs: Array<string> = []
  let userData: string | undefined
  for (const record of decoded.right.answers) {
    if (record.txt === undefined) continue
    const [label, zone, ...rest] = record.name
    // Compared as written, as iroh does (a name in other letter case is not ours).
    if (label !== IROH_TXT_NAME || zone !== origin || rest.length > 0) continue
    let text: string
    try {
      text = strictUtf8.decode(Buffer.concat(record.txt))
    } catch {
      continue // Rust's `String::try_from(txt).ok()` skips it
    }
    const parts = text.split("=")
    if (parts.length < 2) {
      return Either.left(
        new PkarrDecodeError({ reason: `TXT value without '=': ${JSON.stringify(text.slice(0, 64))}` })
      )
    }
    const [key, value] = parts as [string, string]
    switch (key) {
      case "relay": {
        const url = normalizeUrl(value)
        if (url !== undefined) relays.push(url)
        break
      }
      case "addr": {
        const addr = parseSocketAddr(value)
        if (addr !== undefined) addrs.push(formatSocketAddr(addr))
        break
      }
      case "user-data":
        if (userData === undefined && utf8.encode(value).length <= MAX_USER_DATA_BYTES) userData = value
        break
      default:
        return Either.left(new PkarrDecodeError({ reason: `unknown attribute ${JSON.stringify(key.slice(0, 64))}` }))
    }
  }
  return Either.right({ relayUrls: dedup(relays), directAddresses: dedup(addrs), userData })
}

/** The BEP44 item pkarr stores on the DHT for a DNS packet, signed with the endpoint's key. */
export const signedItem = (
  sign: (message: Uint8Array) => Uint8Array,
  publicKey: Uint8Array,
  seq: bigint,
  packet: Uint8Array
): Dht.MutableItem => ({
  publicKey,
  salt: NO_SALT,
  seq,
  value: packet,
  signature: sign(Bep44.signable(NO_SALT, seq, packet))
})

const compareBytes = (a: Uint8Array, b: Uint8Array) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** Newest first, as pkarr's `more_recent_than`: higher timestamp, and on a tie the larger packet bytes. */
export const newestFirst = (items: ReadonlyArray<Dht.MutableItem>): Array<Dht.MutableItem> =>
  [...items].sort((a, b) => (a.seq !== b.seq ? (a.seq > b.seq ? -1 : 1) : compareBytes(b.value, a.value)))

/** The info of the newest item that decodes (items must already be verified, as `Dht.getMutable` returns them). */
export const newestInfo = (publicKey: Uint8Array, items: ReadonlyArray<Dht.MutableItem>): EndpointInfo | undefined => {
  for (const item of newestFirst(items)) {
    if (item.seq < 0n || item.salt.length !== 0) continue
    const info = decodePacket(publicKey, item.value)
    if (Either.isRight(info)) return info.right
  }
  return undefined
}
