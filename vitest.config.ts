import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// `@number0/iroh` 1.1.0 declares a `main` that does not exist in the published package; point at the real entry.
const irohEntry = fileURLToPath(new URL("./node_modules/@number0/iroh/index.js", import.meta.url))

const pkg = (name: string) => ({
  extends: true as const,
  test: {
    name,
    root: `packages/${name}`,
    include: ["test/**/*.test.ts"]
  }
})

export default defineConfig({
  resolve: {
    conditions: ["source"],
    alias: { "@number0/iroh": irohEntry }
  },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    projects: [pkg("core"), pkg("testkit"), pkg("dht-mainline"), pkg("gossip-iroh"), pkg("promise"), pkg("cli")],
    // The JSON report feeds the `N passed, N failed` line of .ci/run.
    reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
