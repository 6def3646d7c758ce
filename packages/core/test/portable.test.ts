/**
 * Core's portable path (issue 14): bundled for a browser it needs no Node built-in (no `node:` import, no `Buffer`,
 * no `process`), and run in a context that has only web globals it signs, verifies, seals and opens with
 * `Crypto.layerNoble`, giving the same bytes as Node. `Crypto.layerNode` fails there with a message saying why.
 */
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { run } from "./support/portableEntry.js"

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), "support", "portableEntry.ts")

// Run in a child Node whose Node-only globals are removed before the bundle loads (a `vm` context would mix the
// realms of typed arrays made by the outer TextEncoder with the inner ones, which a real browser never does).
const WITHOUT_NODE = `delete globalThis.Buffer
delete globalThis.global
delete globalThis.require
Object.defineProperty(globalThis, "process", { value: undefined })
const { run } = await import(process_url)
console.log(JSON.stringify(run()))`

describe("core without Node built-ins", () => {
  it("bundles for the browser and runs without Node's globals, matching Node's results", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtt-portable-"))
    try {
      const bundled = path.join(dir, "portable.mjs")
      // Fails on any `node:` import reachable from the entry: the browser platform has no built-ins to resolve.
      await build({
        entryPoints: [entry],
        bundle: true,
        platform: "browser",
        format: "esm",
        outfile: bundled,
        logLevel: "silent"
      })
      const script = path.join(dir, "main.mjs")
      fs.writeFileSync(script, `const process_url = ${JSON.stringify(`file://${bundled}`)}\n${WITHOUT_NODE}\n`)
      const inBrowser = JSON.parse(execFileSync(process.execPath, [script], { encoding: "utf8", timeout: 20_000 }))
      const inNode = run()
      expect(inBrowser["layerNode"]).toContain("Crypto.layerNode needs Node's built-in crypto module")
      expect(inNode["layerNode"]).toBe("loaded")
      const { layerNode: _browser, ...browserResults } = inBrowser
      const { layerNode: _node, ...nodeResults } = inNode
      expect(browserResults).toEqual(nodeResults)
      expect(browserResults).toMatchObject({ roundTrip: true, verified: true, opened: "portable" })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 30_000)
})
