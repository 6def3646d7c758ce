/**
 * The sockets and file descriptors this process holds, as the kernel sees them (Linux `/proc`).
 *
 * Why not `process.getActiveResourcesInfo()`: native addons such as `@number0/iroh` open their UDP sockets (and
 * epoll/eventfd descriptors for their own runtime) outside libuv, so Node's handle list never shows them. The
 * only reliable count is `/proc/self/fd`: every entry linking to `socket:[inode]` is a socket, and the inode tells
 * which protocol table (`/proc/self/net/udp`, `udp6`, `tcp`, `tcp6`) lists it.
 *
 * Shared by tests (assert that closing a node gives every socket back) and scripts (sample them over a long run).
 */
import * as fs from "node:fs"

export interface SocketCounts {
  /** Every open file descriptor of the process. */
  readonly fds: number
  /** Descriptors that are sockets of any kind. */
  readonly sockets: number
  /** UDP sockets (IPv4 + IPv6). */
  readonly udp: number
  readonly udp4: number
  readonly udp6: number
  /** TCP sockets (IPv4 + IPv6, any state). */
  readonly tcp: number
  /** Sockets in none of the tables above (unix domain, netlink...). */
  readonly other: number
}

/** The protocol tables we match socket inodes against, relative to `/proc/self/net`. */
const TABLES = ["udp", "udp6", "tcp", "tcp6"] as const
type Table = (typeof TABLES)[number]

const SOCKET_LINK = /^socket:\[(\d+)\]$/

/** True where `/proc/self/fd` and `/proc/self/net/udp` exist (Linux). */
export const supported: boolean = (() => {
  try {
    fs.accessSync("/proc/self/fd")
    fs.accessSync("/proc/self/net/udp")
    return true
  } catch {
    return false
  }
})()

/** Inodes listed in one `/proc/self/net/<table>` file (10th column; the first line is a header). */
const inodesOf = (table: Table): Set<string> => {
  const inodes = new Set<string>()
  let text: string
  try {
    text = fs.readFileSync(`/proc/self/net/${table}`, "utf8")
  } catch {
    return inodes // e.g. no IPv6 in this kernel / namespace
  }
  const lines = text.split("\n")
  for (let i = 1; i < lines.length; i++) {
    const columns = lines[i]!.trim().split(/\s+/)
    if (columns.length > 9) inodes.add(columns[9]!)
  }
  return inodes
}

/** The socket inodes behind this process's descriptors, and how many descriptors there are. */
const descriptorSockets = (): { readonly fds: number; readonly socketInodes: ReadonlyArray<string> } => {
  const socketInodes: Array<string> = []
  let fds = 0
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    let link: string
    try {
      link = fs.readlinkSync(`/proc/self/fd/${fd}`)
    } catch {
      continue // closed between readdir and readlink (including readdir's own descriptor)
    }
    fds++
    const match = SOCKET_LINK.exec(link)
    if (match !== null) socketInodes.push(match[1]!)
  }
  return { fds, socketInodes }
}

/** Counts the process's descriptors and sockets now. Throws where `/proc` is missing (see `supported`). */
export const count = (): SocketCounts => {
  const { fds, socketInodes } = descriptorSockets()
  const tables = Object.fromEntries(TABLES.map((t) => [t, inodesOf(t)])) as Record<Table, Set<string>>
  let udp4 = 0
  let udp6 = 0
  let tcp = 0
  let other = 0
  for (const inode of socketInodes) {
    if (tables.udp.has(inode)) udp4++
    else if (tables.udp6.has(inode)) udp6++
    else if (tables.tcp.has(inode) || tables.tcp6.has(inode)) tcp++
    else other++
  }
  return { fds, sockets: socketInodes.length, udp: udp4 + udp6, udp4, udp6, tcp, other }
}

/** `after - before`, field by field (what a test asserts is zero). */
export const growth = (before: SocketCounts, after: SocketCounts): SocketCounts => ({
  fds: after.fds - before.fds,
  sockets: after.sockets - before.sockets,
  udp: after.udp - before.udp,
  udp4: after.udp4 - before.udp4,
  udp6: after.udp6 - before.udp6,
  tcp: after.tcp - before.tcp,
  other: after.other - before.other
})

/**
 * Polls `count()` until `done` accepts it or `timeoutMs` passes, and returns the last reading. Native sockets
 * close on their own runtime's threads a little after the JS promise that closed them resolves.
 */
export const settle = async (
  done: (counts: SocketCounts) => boolean,
  timeoutMs = 2_000,
  intervalMs = 25
): Promise<SocketCounts> => {
  const deadline = Date.now() + timeoutMs
  let last = count()
  while (!done(last) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
    last = count()
  }
  return last
}
