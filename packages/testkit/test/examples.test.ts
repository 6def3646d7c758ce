import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { expect, it } from "vitest"

const root = fileURLToPath(new URL("../../../", import.meta.url))

/** Runs an example as a user would, without vitest's variables (the testkit loads vitest only under VITEST). */
const runExample = async (file: string) => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--conditions=source", file], {
    cwd: root,
    timeout: 60_000,
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST")))
  })
  return stdout
}

// The example the core and testkit READMEs point to must keep working: run it as a user would.
it("examples/effect-memory.ts: two simulated nodes join and one greets the other", async () => {
  const stdout = await runExample("examples/effect-memory.ts")
  expect(stdout).toMatch(/^bob got "hello from alice" from [0-9a-f]{64}$/m)
}, 90_000)

// The OpenTelemetry example (issue: spans and metrics exported through @effect/opentelemetry) must show the
// join's span tree and the library's metrics as an exporter receives them.
it("examples/otel.ts: the SDK layer receives the join's span tree and the dtt_ metrics", async () => {
  const stdout = await runExample("examples/otel.ts")
  expect(stdout).toMatch(/^bob got alice's message$/m)
  expect(stdout).toMatch(/^ {2}dtt\.topic\.join ×2 \(dtt\.topic [0-9a-f]{64}\)$/m)
  expect(stdout).toMatch(/^ {4}dtt\.bootstrap\.tick ×\d+$/m)
  expect(stdout).toMatch(/^ {6}dtt\.record\.read ×\d+$/m)
  expect(stdout).toMatch(/^ {8}dtt\.dht\.get ×\d+$/m)
  expect(stdout).toMatch(/^ {2}dtt_joins 2$/m)
  expect(stdout).toMatch(/^ {2}dtt_messages_in 1$/m)
}, 90_000)
