import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { expect, it } from "vitest"

const root = fileURLToPath(new URL("../../../", import.meta.url))

// The example the core and testkit READMEs point to must keep working: run it as a user would.
it("examples/effect-memory.ts: two simulated nodes join and one greets the other", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--conditions=source", "examples/effect-memory.ts"],
    // Without vitest's variables, as a user runs it (the testkit loads vitest only under VITEST).
    {
      cwd: root,
      timeout: 60_000,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST")))
    }
  )
  expect(stdout).toMatch(/^bob got "hello from alice" from [0-9a-f]{64}$/m)
}, 90_000)
