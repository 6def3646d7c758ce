// Talks to a Rust harness that answers one JSON line per JSON request line (interop/records, mainline client).
import { Bytes } from "@dtt/core"
import { spawn, spawnSync } from "node:child_process"

export type Json = { readonly [key: string]: unknown }

/** Runs the binary once over a batch of requests and returns the replies in order (one per request). */
export const runBatch = (binary: string, args: ReadonlyArray<string>, requests: ReadonlyArray<Json>): Array<Json> => {
  const result = spawnSync(binary, [...args], {
    input: requests.map((r) => JSON.stringify(r)).join("\n") + "\n",
    encoding: "utf8",
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024
  })
  if (result.error) throw result.error
  if (result.status !== 0) throw new Error(`${binary} exited with ${result.status}: ${result.stderr}`)
  const lines = result.stdout.split("\n").filter((l) => l.trim() !== "")
  if (lines.length !== requests.length) {
    throw new Error(`${binary}: ${requests.length} requests but ${lines.length} replies; stderr: ${result.stderr}`)
  }
  return lines.map((l) => JSON.parse(l) as Json)
}

export const toHex = Bytes.toHex
export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"))

/**
 * Like `runBatch`, without blocking the event loop: needed whenever the Rust process talks to something that
 * lives in this process (a TypeScript DHT node has to answer while the Rust client waits).
 */
export const runBatchAsync = (
  binary: string,
  args: ReadonlyArray<string>,
  requests: ReadonlyArray<Json>,
  timeoutMs = 60_000
): Promise<Array<Json>> =>
  new Promise((resolve, reject) => {
    const child = spawn(binary, [...args], { stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`${binary} ${args.join(" ")}: no answer within ${timeoutMs} ms; stderr: ${stderr}`))
    }, timeoutMs)
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      const lines = stdout.split("\n").filter((l) => l.trim() !== "")
      if (code !== 0) return reject(new Error(`${binary} exited with ${code}: ${stderr}`))
      if (lines.length !== requests.length) {
        return reject(
          new Error(`${binary}: ${requests.length} requests but ${lines.length} replies; stderr: ${stderr}`)
        )
      }
      resolve(lines.map((l) => JSON.parse(l) as Json))
    })
    child.stdin.end(requests.map((r) => JSON.stringify(r)).join("\n") + "\n")
  })
