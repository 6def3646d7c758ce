// Talks to a Rust harness that answers one JSON line per JSON request line (interop/records, mainline client).
import { spawnSync } from "node:child_process"

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

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")
export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"))
