// One private L2 network for the node interop tests, built as e2e/run.mjs builds its own: a Linux bridge, and a
// network namespace per Rust node joined to it by a veth pair. This process (the TS nodes and the Testbed) sits
// on the bridge itself as HOST_ADDR. Everything is named `iop-…` and removed at start, at close and on exit.
//
// Why namespaces at all: the Rust crate's record DHT client cannot be given a bootstrap list; it always resolves
// mainline's public router names. Each Rust node therefore runs in its own network namespace (so its DHT socket
// can bind 0.0.0.0:6881 like on a real host) and in a private mount namespace (`unshare -m`) with a bind-mounted
// /etc/hosts that maps those names to HOST_ADDR, where the Testbed's first node listens on 6881.
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const PREFIX = "iop-"
const BRIDGE = `${PREFIX}br0`
const SUBNET = "10.86.0"
export const HOST_ADDR = `${SUBNET}.1`
/** Mainline's router port: the Rust crate's DHT client only knows `<router name>:6881`. */
export const ROUTER_PORT = 6881

/**
 * The hostnames mainline 7.0.0 (the version distributed-topic-tracker 0.3.5 resolves to) bootstraps from:
 * `DEFAULT_BOOTSTRAP_NODES` in its src/rpc.rs. dht.libtorrent.org uses port 25401, where nothing listens here;
 * the other three land on the Testbed's first node.
 */
export const MAINLINE_ROUTER_NAMES = [
  "router.bittorrent.com",
  "dht.transmissionbt.com",
  "dht.libtorrent.org",
  "relay.pkarr.org"
] as const

const sh = (...argv: Array<string>): string =>
  execFileSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] }).toString()
const quiet = (...argv: Array<string>): number => spawnSync(argv[0]!, argv.slice(1), { stdio: "ignore" }).status ?? 1

/** Why the node scenarios cannot run here, or undefined when they can (root, `ip netns`, `unshare -m`). */
export const unavailableReason = (): string | undefined => {
  if (process.getuid?.() !== 0) return "needs root for network namespaces"
  if (quiet("ip", "-V") !== 0) return "the `ip` command is not available"
  if (quiet("unshare", "--version") !== 0) return "the `unshare` command is not available"
  const probe = `${PREFIX}probe`
  if (quiet("ip", "netns", "add", probe) !== 0) return "ip netns does not work here"
  quiet("ip", "netns", "del", probe)
  return undefined
}

/** Removes every `iop-` namespace and link (a previous run's leftovers too). */
export const removeAll = (): void => {
  for (const line of (spawnSync("ip", ["netns", "list"]).stdout ?? "").toString().split("\n")) {
    const name = line.split(" ")[0] ?? ""
    if (name.startsWith(PREFIX)) quiet("ip", "netns", "del", name)
  }
  for (const line of (spawnSync("ip", ["-o", "link"]).stdout ?? "").toString().split("\n")) {
    const m = /^\d+: (iop-[^:@]+)/.exec(line)
    if (m) quiet("ip", "link", "del", m[1]!)
  }
}

export interface Network {
  /** Creates namespace `iop-<name>` with address `10.86.0.<host>` on the bridge; returns the address. */
  readonly addNamespace: (name: string, host: number) => string
  /** The address `addNamespace` gave `iop-<name>`. */
  readonly addressOf: (name: string) => string
  /** Gives this process one more address on the bridge (`10.86.0.<host>`), e.g. for a second Testbed. */
  readonly addHostAddress: (host: number) => string
  /**
   * argv that runs `argv` inside namespace `iop-<name>`, in a private mount namespace whose /etc/hosts maps
   * mainline's router names to `routerAddr` (default HOST_ADDR).
   */
  readonly inNamespace: (name: string, argv: ReadonlyArray<string>, routerAddr?: string) => Array<string>
  readonly close: () => void
}

let exitHookInstalled = false

export const open = (): Network => {
  removeAll()
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once("exit", removeAll)
  }
  const dir = mkdtempSync(join(tmpdir(), "iop-hosts-"))
  const hostsFiles = new Map<string, string>()
  const hostsFileFor = (routerAddr: string): string => {
    let file = hostsFiles.get(routerAddr)
    if (file === undefined) {
      file = join(dir, `hosts-${routerAddr}`)
      const lines = ["127.0.0.1 localhost", ...MAINLINE_ROUTER_NAMES.map((n) => `${routerAddr} ${n}`)]
      writeFileSync(file, lines.join("\n") + "\n")
      hostsFiles.set(routerAddr, file)
    }
    return file
  }
  try {
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", `${HOST_ADDR}/24`, "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
  } catch (e) {
    removeAll()
    throw e
  }
  let veths = 0
  const addresses = new Map<string, string>()
  return {
    addressOf: (name) => {
      const addr = addresses.get(name)
      if (addr === undefined) throw new Error(`no namespace iop-${name}`)
      return addr
    },
    addNamespace: (name, host) => {
      const ns = `${PREFIX}${name}`
      const addr = `${SUBNET}.${host}`
      const i = veths++
      sh("ip", "netns", "add", ns)
      sh("ip", "link", "add", `${PREFIX}v${i}`, "type", "veth", "peer", "name", `${PREFIX}p${i}`)
      sh("ip", "link", "set", `${PREFIX}v${i}`, "master", BRIDGE)
      sh("ip", "link", "set", `${PREFIX}v${i}`, "up")
      sh("ip", "link", "set", `${PREFIX}p${i}`, "netns", ns)
      sh("ip", "-n", ns, "addr", "add", `${addr}/24`, "dev", `${PREFIX}p${i}`)
      sh("ip", "-n", ns, "link", "set", `${PREFIX}p${i}`, "up")
      sh("ip", "-n", ns, "link", "set", "lo", "up")
      addresses.set(name, addr)
      return addr
    },
    addHostAddress: (host) => {
      const addr = `${SUBNET}.${host}`
      sh("ip", "addr", "add", `${addr}/24`, "dev", BRIDGE)
      return addr
    },
    inNamespace: (name, argv, routerAddr = HOST_ADDR) => [
      "ip",
      "netns",
      "exec",
      `${PREFIX}${name}`,
      "unshare",
      "-m",
      "sh",
      "-c",
      // `exec` so that a kill of the child reaches the node itself.
      "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
      hostsFileFor(routerAddr),
      ...argv
    ],
    close: () => {
      removeAll()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
