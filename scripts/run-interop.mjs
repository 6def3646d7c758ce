// Builds the Rust interop harnesses (one cargo workspace, target dir outside the clone) and runs the interop
// tests in interop/tests against them. Writes .interop-results.json for the CI summary line.
// Extra arguments go to vitest, e.g. `npm run interop -- records` runs only interop/tests/records.test.ts.
import { spawnSync } from "node:child_process"
import { homedir } from "node:os"
import { join, resolve } from "node:path"

const targetDir = resolve(process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache", "dtt-interop-target"))
const env = { ...process.env, CARGO_TARGET_DIR: targetDir, DTT_INTEROP_BIN_DIR: join(targetDir, "debug") }

const run = (cmd, args) => spawnSync(cmd, args, { stdio: "inherit", env }).status ?? 1

console.log(`interop: building Rust harnesses (target dir ${targetDir})`)
const started = Date.now()
if (run("cargo", ["build", "--manifest-path", "interop/Cargo.toml", "--workspace"]) !== 0) {
  console.error("interop: cargo build failed")
  process.exit(1)
}
console.log(`interop: cargo build took ${((Date.now() - started) / 1000).toFixed(1)} s`)
// vitest only strips types; interop/tests is a project of the root `tsc -b` graph, so build it (and what it uses).
if (run("npx", ["tsc", "-b", "interop/tests"]) !== 0) {
  console.error("interop: the interop tests do not typecheck")
  process.exit(1)
}
process.exit(run("npx", ["vitest", "run", "--config", "vitest.interop.config.ts", ...process.argv.slice(2)]))
