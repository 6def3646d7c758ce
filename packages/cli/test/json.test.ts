/**
 * `--json` and `--log-level`: a `dtt testbed --json` whose first line hands out the bootstrap list, two
 * `dtt chat --json` processes using it, every stdout line a JSON object; library logs on stderr only.
 */
import { describe, expect, it } from "vitest"
import { type Dtt, processes } from "./support/dtt.js"

const { run, testbed: startTestbed } = processes()

const SECRET = "json-test-secret"

/** Every non-empty stdout line, parsed; a line that is not a JSON object fails the test. */
const events = (p: Dtt): Array<Record<string, unknown>> =>
  p.stdout().split("\n").filter((l) => l.trim() !== "").map((l) => {
    const value: unknown = JSON.parse(l)
    expect(typeof value === "object" && value !== null && "type" in value, l).toBe(true)
    return value as Record<string, unknown>
  })

describe("dtt --json", () => {
  it(
    "testbed --json gives a usable bootstrap list; chat --json lines parse and show joined + message; --log-level debug logs to stderr only",
    async () => {
      const testbed = run(["testbed", "--nodes", "10", "--port", "0", "--json", "--status-every", "2s"])
      const [first] = await testbed.waitFor(/^\{.*\}$/, 15_000)
      const listening = JSON.parse(first!) as { type: string; bootstrap: Array<string>; nodes: number }
      expect(listening.type).toBe("listening")
      expect(listening.nodes).toBe(10)
      const bootstrap = listening.bootstrap.flatMap((b) => ["--bootstrap", b])
      const args = [
        "chat",
        "--topic",
        "dtt-cli-json-test",
        "--secret",
        SECRET,
        ...bootstrap,
        "--json",
        "--status-every",
        "2s"
      ]
      const alice = run(["--log-level", "debug", ...args, "--name", "alice"])
      const bob = run(args)
      await Promise.all([alice.waitFor(/^\{"type":"joined"/, 25_000), bob.waitFor(/^\{"type":"joined"/, 25_000)])
      alice.send("hello \u001b[2J bob")
      const [line] = await bob.waitFor(/^\{"type":"message".*\}$/, 10_000)
      expect(JSON.parse(line!)).toMatchObject({ type: "message", text: "alice: hello \u001b[2J bob" })
      expect(bob.stdout()).not.toContain("\u001b") // JSON escapes the control character
      await bob.waitFor(/^\{"type":"status"/, 10_000)

      alice.child.stdin.end()
      bob.child.stdin.end()
      expect(await Promise.all([alice.exited(10_000), bob.exited(10_000)])).toEqual([0, 0])
      testbed.child.kill("SIGINT")
      expect(await testbed.exited(10_000)).toBe(130)

      const a = events(alice)
      const b = events(bob)
      const types = b.map((e) => e.type)
      expect(types[0]).toBe("started")
      expect(types).toContain("joined")
      expect(types.slice(-2)).toEqual(["leaving", "summary"])
      const started_ = b[0] as { endpointId: string; topic: string }
      expect(started_.topic).toBe("dtt-cli-json-test")
      const message = b.find((e) => e.type === "message") as { from: string }
      expect(message.from).toMatch(/^[0-9a-f]{64}$/)
      expect(b.find((e) => e.type === "status")).toMatchObject({ joined: true, neighbors: 1 })
      expect(b.at(-1)).toMatchObject({ type: "summary", received: 1, neighbors: 1 })
      expect(a.at(-1)).toMatchObject({ type: "summary", sent: 1 })
      expect((a.at(-1) as { joinedAfterMs: unknown }).joinedAfterMs).toEqual(expect.any(Number))
      for (const p of [alice, bob]) expect(p.stdout()).not.toContain(SECRET)
      // testbed: listening first, stopped last, status between.
      const t = events(testbed)
      expect(t.at(-1)).toMatchObject({ type: "stopped" })
      expect(t.some((e) => e.type === "status")).toBe(true)

      // --log-level debug: library debug logs on stderr (logfmt), none without it; stdout was JSON only (above).
      expect(alice.stderr()).toMatch(/level=DEBUG .*bootstrap: publish/)
      expect(bob.stderr()).not.toMatch(/level=/)
    },
    60_000
  )

  it(
    "without --json, a chat alone says it is still looking, with what the DHT answered, every --status-every",
    async () => {
      const { bootstrap, testbed } = await startTestbed(5)
      const alone = run([
        "chat",
        "--topic",
        "dtt-cli-alone",
        "--secret",
        SECRET,
        "--bootstrap",
        bootstrap,
        "--status-every",
        "1s"
      ])
      const [, answered, requests, seen, opened] = await alone.waitFor(
        /^\* looking for peers… \d+ s, DHT answered (\d+) of (\d+) requests, (\d+) records seen \((\d+) opened\)$/,
        15_000
      )
      expect(Number(requests)).toBeGreaterThanOrEqual(Number(answered))
      // From the core metrics: its own record, once read back, is seen and opened.
      expect(Number(seen)).toBeGreaterThanOrEqual(Number(opened))
      expect(alone.stdout()).not.toMatch(/^\{/m)
      alone.child.kill("SIGINT")
      testbed.child.kill("SIGINT")
      expect(await Promise.all([alone.exited(10_000), testbed.exited(10_000)])).toEqual([130, 130])
    },
    40_000
  )
})
