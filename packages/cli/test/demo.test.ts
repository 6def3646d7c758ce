/**
 * `dtt demo` in-process through its Effect program: a private loopback DHT and 3 real nodes that find each other
 * only through the DHT, broadcast, and receive each other's messages. Also the executable end to end (a short
 * run as a child process ending with exit code 0 and a summary).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Demo from "../src/Demo.js"
import { render } from "../src/internal/demoEvents.js"
import { start } from "./support/dtt.js"

/** `Demo.run` on topic `dtt-cli-demo-<name>` (and a secret of its own), collecting the printed lines. */
const demo = (name: string, options: Omit<Demo.DemoOptions, "topic" | "secret" | "print">) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const summary = yield* Demo.run({
      ...options,
      topic: `dtt-cli-demo-${name}`,
      secret: `dtt-cli-demo-${name}-secret`,
      print: (line) => Effect.sync(() => void lines.push(line))
    })
    return { lines, summary }
  })

describe("dtt demo", () => {
  it.live(
    "3 nodes: all join, one swarm, every message reaches both other nodes, DHT records and addresses were used",
    () =>
      Effect.gen(function*() {
        const { lines, summary } = yield* demo("test", {
          nodes: 3,
          dhtNodes: 12,
          duration: "12 seconds",
          statusEvery: "4 seconds",
          broadcastEvery: "1500 millis"
        })
        const text = lines.join("\n")
        expect(summary.interrupted).toBe(false)
        expect(summary.joined, text).toBe(3)
        expect(summary.nodes.every((n) => n.joinedAfterMs !== undefined && n.neighbors >= 1), text).toBe(true)
        expect(summary.components).toEqual([3])
        // Broadcasts stop 3 s before the end, so every one has had time to arrive at both other nodes.
        expect(summary.messagesSent, text).toBeGreaterThanOrEqual(3)
        // Each message counts the other nodes that had joined when it was sent: at most 2, and 2 once all joined.
        expect(summary.expectedDeliveries).toBeLessThanOrEqual(summary.messagesSent * 2)
        expect(summary.expectedDeliveries).toBeGreaterThan(summary.messagesSent)
        expect(summary.deliveries, text).toBe(summary.expectedDeliveries)
        for (const n of summary.nodes) {
          expect(n.received).toBeGreaterThan(0)
          expect(n.dht.recordGets).toBeGreaterThan(0) // found peers through topic records
          expect(n.dht.addressPuts).toBeGreaterThan(0) // published its address as a pkarr record
        }
        // The live output: every start and join, status lines, and the summary.
        for (const name of ["n0", "n1", "n2"]) {
          expect(text).toMatch(new RegExp(`${name} started`))
          expect(text).toMatch(new RegExp(`${name} joined after`))
        }
        expect(text).toMatch(/status {2}joined 3\/3/)
        expect(text).toContain("nodes joined     3/3")
        expect(text).toMatch(/messages +\d+ sent, (\d+)\/\1 deliveries \(100\.0%\)/)
      }),
    40_000
  )

  it.live(
    "--json: every line is one JSON event; the summary line is the run's summary and renders as the human one",
    () =>
      Effect.gen(function*() {
        const { lines, summary } = yield* demo("json", {
          nodes: 2,
          dhtNodes: 8,
          duration: "6 seconds",
          statusEvery: "2 seconds",
          broadcastEvery: "1 second",
          json: true
        })
        const events = lines.map((line) => JSON.parse(line) as { type: string; t: number; [k: string]: unknown })
        expect(events[0]!.type).toBe("start")
        expect(events.at(-1)!.type).toBe("summary")
        for (const type of ["dhtUp", "nodeStarted", "joined", "status"]) {
          expect(events.map((e) => e.type)).toContain(type)
        }
        expect(events.every((e, i) => typeof e.t === "number" && (i === 0 || e.t >= events[i - 1]!.t))).toBe(true)
        const { t: _t, type: _type, ...jsonSummary } = events.at(-1)!
        // JSON has null where the summary has undefined.
        expect(jsonSummary).toEqual(
          JSON.parse(JSON.stringify(summary, (_k, v: unknown) => (v === undefined ? null : v)))
        )
        const human = render({ type: "summary", ...summary }, "").join("\n")
        expect(human).toContain(`nodes joined     ${summary.joined}/2`)
        expect(human).toContain(
          `${summary.messagesSent} sent, ${summary.deliveries}/${summary.expectedDeliveries} deliveries`
        )
      }),
    30_000
  )

  it("the executable runs a short demo and exits 0 after printing the summary", async () => {
    const p = start(["demo", "--nodes", "2", "--duration", "8s", "--dht-nodes", "8"])
    try {
      const code = await p.exited(35_000)
      expect(code, p.stdout() + p.stderr()).toBe(0)
      expect(p.stdout()).toContain("nodes joined     2/2")
      expect(p.stdout()).toMatch(/summary after \d+\.\ds/)
    } finally {
      if (p.child.exitCode === null) p.child.kill("SIGKILL")
    }
  }, 40_000)

  it(
    "Ctrl-C (SIGINT) stops the demo early: a summary marked interrupted, every node closed, exit code 130",
    async () => {
      const p = start(["demo", "--nodes", "2", "--duration", "10m", "--dht-nodes", "8"])
      try {
        await p.waitFor(/n1 joined after/, 25_000)
        p.child.kill("SIGINT")
        const code = await p.exited(10_000)
        expect(code, p.stdout() + p.stderr()).toBe(130)
        expect(p.stdout()).toMatch(/summary \(interrupted\) after \d+\.\ds/)
        expect(p.stdout()).toContain("nodes joined     2/2")
      } finally {
        if (p.child.exitCode === null) p.child.kill("SIGKILL")
      }
    },
    40_000
  )
})
