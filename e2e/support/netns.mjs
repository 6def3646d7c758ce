// What both e2e scripts need of `ip`: running commands, and removing the namespaces and links they name with
// their prefix (left over from this run or from an earlier one that died).
import { execFileSync, spawnSync } from "node:child_process"

/** Runs a command and returns its stdout; throws when it exits non-zero. */
export const sh = (...a) => execFileSync(a[0], a.slice(1), { stdio: ["ignore", "pipe", "pipe"] }).toString()

/** Runs a command with its output discarded; returns the `spawnSync` result (its `status`). */
export const quiet = (...a) => spawnSync(a[0], a.slice(1), { stdio: "ignore" })

/** Deletes every network namespace and every link whose name starts with `prefix`. */
export const removeNamed = (prefix) => {
  for (const ns of (spawnSync("ip", ["netns", "list"]).stdout ?? "").toString().split("\n")) {
    const name = ns.split(" ")[0]
    if (name.startsWith(prefix)) quiet("ip", "netns", "del", name)
  }
  for (const l of (spawnSync("ip", ["-o", "link"]).stdout ?? "").toString().split("\n")) {
    const m = /^\d+: ([^:@]+)/.exec(l)
    if (m && m[1].startsWith(prefix)) quiet("ip", "link", "del", m[1])
  }
}

/**
 * Calls `skip(why)` (which exits) unless network namespaces can be made here: root, the `ip` command, and an
 * `ip netns add` that works. Removes what an earlier run left under `prefix` first, so the probe does not collide.
 */
export const requireNetns = (prefix, skip) => {
  if (process.getuid?.() !== 0) skip("needs root for network namespaces")
  if (quiet("ip", "-V").status !== 0) skip("the `ip` command is not available")
  removeNamed(prefix)
  try {
    sh("ip", "netns", "add", `${prefix}probe`)
    sh("ip", "netns", "del", `${prefix}probe`)
  } catch {
    removeNamed(prefix)
    skip("ip netns does not work here")
  }
}
