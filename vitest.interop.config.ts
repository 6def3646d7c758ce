import { defineConfig } from "vitest/config"
import base from "./vitest.config.js"

// The interop tests drive the Rust harnesses built by scripts/run-interop.mjs; they are not part of `npm test`.
// Only the module resolution is shared with the main config: `mergeConfig` would concatenate the reporter lists
// (printing everything twice and overwriting the main suite's .vitest-results.json), so the test block is our own.
export default defineConfig({
  resolve: base.resolve,
  ssr: base.ssr,
  test: {
    include: ["interop/tests/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".interop-results.json" }]],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Each file starts its own Rust processes and loopback networks; running files one at a time keeps the
    // two shared cores from timing out DHT queries.
    fileParallelism: false
  }
})
