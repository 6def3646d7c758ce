// Locates the Rust harness binaries built by scripts/run-interop.mjs, and the spec's known answers.
import { existsSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"

const binDir = process.env.DTT_INTEROP_BIN_DIR ?? join(homedir(), ".cache", "dtt-interop-target", "debug")

export const harnessBinary = (name: "records" | "mainline" | "gossip" | "pkarr" | "node"): string => {
  const path = join(binDir, `dtt-interop-${name}`)
  if (!existsSync(path)) throw new Error(`interop harness ${path} is missing: run \`npm run interop\``)
  return path
}

/** The spec's known answers (wire-vectors.json), from the copy the core tests read. */
export const wireVectors = JSON.parse(
  readFileSync(new URL("../../packages/core/test/vectors.wire.json", import.meta.url), "utf8")
)
