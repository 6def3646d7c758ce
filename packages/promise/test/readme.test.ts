import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const script = fileURLToPath(new URL("./fixtures/readme-example.ts", import.meta.url))

/** Runs a script with tsx; resolves with its exit code and output, or reports that it did not exit in time. */
const run = (file: string, limitMs: number) =>
  new Promise<{ code: number | null; output: string; exited: boolean; ms: number }>((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", file], { cwd: root })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      resolve({ code: null, output, exited: false, ms: Date.now() - started })
    }, limitMs)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, output, exited: true, ms: Date.now() - started })
    })
  })

describe("README example", () => {
  it("runs, delivers the message, and the process exits by itself after close", async () => {
    const result = await run(script, 25_000)
    console.log(`README example process: exited=${result.exited} code=${result.code} after ${result.ms} ms`)
    expect(result.output).toMatch(/^[0-9a-f]{10} says hello, bob$/m)
    expect(result.output).toMatch(/^done: alice [0-9a-f]{10}$/m)
    expect(result.exited).toBe(true)
    expect(result.code).toBe(0)
  })
})
