/**
 * The unreachable-DHT word: the watcher over a node's DHT counters (virtual time), and `dtt chat` pointed at a
 * closed port (a real process).
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"
import * as dgram from "node:dgram"
import { afterAll } from "vitest"
import * as DhtReachability from "../src/internal/dhtReachability.js"
import * as PeerNode from "../src/PeerNode.js"
import { type Dtt, killAll, start } from "./support/dtt.js"

const started: Array<Dtt> = []
afterAll(() => killAll(started))

const watching = (counters: PeerNode.DhtCounters) =>
  Effect.gen(function*() {
    const printed: Array<string> = []
    const fiber = yield* Effect.fork(
      DhtReachability.watch(counters, ["127.0.0.1:9"], (line) => Effect.sync(() => void printed.push(line)))
    )
    return { printed, fiber }
  })

const unreachable = (printed: ReadonlyArray<string>) => printed.filter((l) => l.startsWith("* no DHT node answered"))

describe("DhtReachability.watch", () => {
  it.effect("failures and no answer for 8 s: the message once, naming the bootstrap and what to try", () =>
    Effect.gen(function*() {
      const counters = PeerNode.makeCounters()
      const { printed, fiber } = yield* watching(counters)
      counters.failed++
      yield* TestClock.adjust(Duration.seconds(7))
      expect(unreachable(printed)).toEqual([])
      for (let i = 0; i < 20; i++) {
        counters.failed++
        yield* TestClock.adjust(Duration.seconds(1))
      }
      expect(unreachable(printed)).toHaveLength(1)
      expect(printed.join("\n")).toContain("bootstrap 127.0.0.1:9")
      expect(printed.join("\n")).toContain("dtt testbed")
      // The DHT answers: said once; a new silent stretch warns again.
      counters.answered++
      yield* TestClock.adjust(Duration.seconds(1))
      expect(printed.filter((l) => l === DhtReachability.reachableAgainMessage)).toHaveLength(1)
      counters.failed++
      yield* TestClock.adjust(Duration.seconds(10))
      expect(unreachable(printed)).toHaveLength(2)
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("a DHT that answers, or a node that asks nothing, is never called unreachable", () =>
    Effect.gen(function*() {
      const answering = PeerNode.makeCounters()
      const idle = PeerNode.makeCounters()
      const a = yield* watching(answering)
      const b = yield* watching(idle)
      for (let i = 0; i < 30; i++) {
        answering.answered++
        if (i % 3 === 0) answering.failed++ // some requests fail on a real DHT too
        yield* TestClock.adjust(Duration.seconds(1))
      }
      expect(a.printed).toEqual([])
      expect(b.printed).toEqual([])
    }))
})

/** A UDP port nobody listens on (bound, then released). */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const socket = dgram.createSocket("udp4")
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address()
      socket.close(() => resolve(port))
    })
  })

describe("dtt chat without a reachable DHT", () => {
  it("says so, with what to try, and keeps running", async () => {
    const port = await closedPort()
    const chat = start(["chat", "--topic", "dtt-cli-unreachable", "--secret", "s", "--bootstrap", `127.0.0.1:${port}`])
    started.push(chat)
    await chat.waitFor(/^joining topic/, 15_000)
    // ~10 s after joining (first failure ~2 s, then 8 s of nothing but failures); margin for a loaded machine.
    await chat.waitFor(/^\* no DHT node answered in 8 s \(bootstrap 127\.0\.0\.1:\d+\)\.$/, 20_000)
    expect(chat.stdout()).toContain("--bootstrap host:port")
    chat.child.stdin.end()
    expect(await chat.exited(10_000)).toBe(0)
  }, 45_000)
})
