// The Rust `mainline` harness (interop/mainline) as the interop tests drive it: storing nodes on loopback and a
// one-shot client, shared by the BEP44 tests (mainline.test.ts) and the pkarr-through-the-DHT tests.
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { afterAll, beforeAll } from "vitest"
import { harnessBinary } from "./harness.js"
import { type Json, runBatchAsync } from "./jsonLines.js"

/**
 * Per-request UDP timeout of the Rust side. A Rust mainline query lasts about one request timeout even on a
 * healthy loopback net (it waits out at least one silent contact), so it gets a short one; our nodes, on a busy
 * event loop shared with the test, use a longer one of their own.
 */
export const RUST_TIMEOUT_MS = "500"

export interface RustNodes {
  readonly addrs: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

/** Starts `count` Rust storing nodes (their own seeded testnet, or joining `bootstrap`); stops when closed. */
export const startRustNodes = (count: number, bootstrap: ReadonlyArray<string> = []): Promise<RustNodes> =>
  new Promise((resolve, reject) => {
    const args = ["serve", String(count), "--timeout-ms", RUST_TIMEOUT_MS]
    if (bootstrap.length > 0) args.push("--bootstrap", bootstrap.join(","))
    const child = spawn(harnessBinary("mainline"), args, { stdio: ["pipe", "pipe", "inherit"] })
    const exited = new Promise<void>((done) => child.once("exit", () => done()))
    const close = async () => {
      child.stdin.end()
      const timer = setTimeout(() => child.kill(), 5_000)
      await exited
      clearTimeout(timer)
    }
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`mainline serve exited early with ${code}`)))
    createInterface({ input: child.stdout }).once("line", (line) => {
      const nodes = (JSON.parse(line) as { nodes: Array<{ addr: string }> }).nodes
      resolve({ addrs: nodes.map((n) => n.addr), close })
    })
  })

/** `count` Rust storing nodes for the enclosing `describe`: started before its tests, stopped after them. */
export const useRustNodes = (count: number): { readonly addrs: ReadonlyArray<string> } => {
  let nodes: RustNodes | undefined
  beforeAll(async () => {
    nodes = await startRustNodes(count)
  })
  afterAll(async () => {
    await nodes?.close()
  })
  return {
    get addrs() {
      if (nodes === undefined) throw new Error("the Rust storing nodes are not started (outside a test?)")
      return nodes.addrs
    }
  }
}

/** One Rust mainline client bootstrapped from `bootstrap`, answering `requests` in order. */
export const rustClient = (bootstrap: ReadonlyArray<string>, requests: ReadonlyArray<Json>) =>
  runBatchAsync(
    harnessBinary("mainline"),
    ["client", "--bootstrap", bootstrap.join(","), "--timeout-ms", RUST_TIMEOUT_MS],
    requests
  )
