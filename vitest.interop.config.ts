import { defineConfig, mergeConfig } from "vitest/config"
import base from "./vitest.config.js"

// The interop tests drive the Rust harnesses built by scripts/run-interop.mjs; they are not part of `npm test`.
export default mergeConfig(
  { ...base, test: { ...base.test, projects: undefined } },
  defineConfig({
    test: {
      include: ["interop/tests/**/*.test.ts"],
      reporters: ["default", ["json", { outputFile: ".interop-results.json" }]],
      testTimeout: 120_000,
      hookTimeout: 120_000
    }
  })
)
