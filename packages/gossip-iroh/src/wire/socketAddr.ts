/**
 * Socket addresses as iroh prints them (`1.2.3.4:5`, `[2001:db8::1]:5`) <-> the bytes serde writes for Rust's
 * `SocketAddr` in a non-human-readable format (variant index, raw IP octets, varint port; IPv6 flow info and scope
 * id are not sent).
 */

export interface SocketAddr {
  /** 4 (IPv4) or 16 (IPv6) raw octets. */
  readonly ip: Uint8Array
  readonly port: number
}

const parseIpv4 = (s: string): Uint8Array | undefined => {
  const parts = s.split(".")
  if (parts.length !== 4) return undefined
  const out = new Uint8Array(4)
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined
    const n = Number(p)
    if (n > 255) return undefined
    out[i] = n
  }
  return out
}

const parseIpv6 = (input: string): Uint8Array | undefined => {
  let s = input
  const out = new Uint8Array(16)
  // An embedded dotted IPv4 tail (e.g. ::ffff:1.2.3.4) stands for the last two groups.
  let tail: Uint8Array | undefined
  const lastColon = s.lastIndexOf(":")
  if (s.slice(lastColon + 1).includes(".")) {
    tail = parseIpv4(s.slice(lastColon + 1))
    if (tail === undefined) return undefined
    s = s.slice(0, lastColon + 1) + "0:0"
  }
  const halves = s.split("::")
  if (halves.length > 2) return undefined
  const groups = (part: string): Array<number> | undefined => {
    if (part === "") return []
    const out: Array<number> = []
    for (const g of part.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
      out.push(parseInt(g, 16))
    }
    return out
  }
  const head = groups(halves[0]!)
  const rest = halves.length === 2 ? groups(halves[1]!) : []
  if (head === undefined || rest === undefined) return undefined
  if (halves.length === 1 ? head.length !== 8 : head.length + rest.length > 7) return undefined
  const all = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest]
  all.forEach((g, i) => {
    out[2 * i] = g >> 8
    out[2 * i + 1] = g & 0xff
  })
  if (tail !== undefined) out.set(tail, 12)
  return out
}

/** Parses `a.b.c.d:port` or `[v6]:port` (a `%scope` suffix is dropped, as Rust's serde drops it). */
export const parseSocketAddr = (s: string): SocketAddr | undefined => {
  const m = /^(?:\[([0-9a-fA-F:.]+)(?:%[^\]]*)?\]|([0-9.]+)):([0-9]{1,5})$/.exec(s)
  if (m === null) return undefined
  const port = Number(m[3])
  if (port > 0xffff) return undefined
  const ip = m[1] !== undefined ? parseIpv6(m[1]) : parseIpv4(m[2]!)
  return ip === undefined ? undefined : { ip, port }
}

const formatIpv6 = (ip: Uint8Array): string => {
  const groups: Array<number> = []
  for (let i = 0; i < 8; i++) groups.push((ip[2 * i]! << 8) | ip[2 * i + 1]!)
  // Rust prints IPv4-mapped addresses with a dotted tail; everything else per RFC 5952.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`
  }
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (gs: Array<number>) => gs.map((g) => g.toString(16)).join(":")
  if (bestLen < 2) return hex(groups)
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`
}

export const formatSocketAddr = (a: SocketAddr): string =>
  a.ip.length === 4 ? `${a.ip.join(".")}:${a.port}` : `[${formatIpv6(a.ip)}]:${a.port}`

/** Rust's `Ord` for `SocketAddr`: every V4 before every V6, then IP octets, then port. */
export const compareSocketAddr = (a: SocketAddr, b: SocketAddr): number => {
  if (a.ip.length !== b.ip.length) return a.ip.length - b.ip.length
  for (let i = 0; i < a.ip.length; i++) if (a.ip[i] !== b.ip[i]) return a.ip[i]! - b.ip[i]!
  return a.port - b.port
}
