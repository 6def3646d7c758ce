/**
 * Issue 10, "no silent loss" and "graceful close", through the Promise facade on a private loopback DHT
 * (`Testbed`, relays off). One long-lived receiver counts what arrives (one `events()` reader: messages by id,
 * and the `missed` counts of its `lagged` events). Scenarios, each bounded in count and by a hard timeout:
 *
 *   a) 2,000 awaited 1 KB broadcasts one after another: all must arrive.
 *   b) 3,000 concurrent 100-byte broadcasts (Promise.allSettled): delivered + reported lagged + sender-side typed
 *      failures must equal sent (nothing unaccounted for).
 *   c) broadcast-then-close, 100 trials, a fresh sender node each: ≥ 99 % must arrive.
 *   d) node.close() with nothing queued, 100 trials: p99 ≤ 500 ms.
 *
 * Writes bench/results/burst.json and prints a short table.
 *   npm run burst            (= npx tsc -b, then this file)
 * Options (env): A_COUNT (2000), B_COUNT (3000), C_TRIALS (100), D_TRIALS (100).
 */
import { createNode, type Node, type Topic, type TopicEvent } from "distributed-topic-tracker"
import { mkdirSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { loopbackOptions, startTestbed } from "../packages/promise/dist/test/testbed.js"
import { percentile, sleep } from "./measure.js"

const A_COUNT = Number(process.env.A_COUNT ?? 2000)
const B_COUNT = Number(process.env.B_COUNT ?? 3000)
const C_TRIALS = Number(process.env.C_TRIALS ?? 100)
const D_TRIALS = Number(process.env.D_TRIALS ?? 100)
const TOPIC = `burst-${process.pid}-${Date.now()}`
const SECRET = "burst-secret"
const JOIN_TIMEOUT_MS = 20_000
/** A scenario's receiving side is over once nothing new arrived for this long (or everything did). */
const QUIET_MS = 3_000
/** How long one trial of (c) waits for its message at the receiver. */
const TRIAL_DELIVERY_MS = 5_000
const SCENARIO_TIMEOUT_MS = { a: 120_000, b: 120_000, c: 15 * 60_000, d: 15 * 60_000 }

const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10)
const tagOf = (error: unknown) => (error as { _tag?: string })._tag ?? String(error)
/** Counts one failure under its tag: the report says which errors, not just how many. */
const countFailure = (failures: Record<string, number>, error: unknown) => {
  failures[tagOf(error)] = (failures[tagOf(error)] ?? 0) + 1
}

class ScenarioTimeout extends Error {}

/** Runs `body` but gives up after `ms`: the scenario then reports what it had and `verdict: "timeout"`. */
const bounded = async <T>(ms: number, body: (expired: () => boolean) => Promise<T>): Promise<T | ScenarioTimeout> => {
  let timer: NodeJS.Timeout | undefined
  let over = false
  const deadline = new Promise<ScenarioTimeout>((resolve) => {
    timer = setTimeout(() => {
      over = true
      resolve(new ScenarioTimeout())
    }, ms)
  })
  try {
    return await Promise.race([body(() => over), deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** Message ids are `<scenario>:<n>:` followed by padding. */
const utf8 = new TextEncoder()
const decoder = new TextDecoder()
const payload = (scenario: string, n: number, size: number) => {
  const head = `${scenario}:${n}:`
  return utf8.encode(head + "x".repeat(Math.max(0, size - head.length)))
}

/** What the receiver saw, by scenario: distinct message ids and the lag it was told about. */
class Tally {
  readonly ids = new Map<string, Set<number>>()
  readonly missed = new Map<string, number>()
  unknownLag = 0
  current = "setup"
  lastArrival = performance.now()

  constructor(events: AsyncIterableIterator<TopicEvent>) {
    void (async () => {
      for await (const event of events) {
        if (event.type === "message") {
          const head = decoder.decode(event.content.subarray(0, 24)).split(":")
          const ids = this.ids.get(head[0]!) ?? new Set<number>()
          ids.add(Number(head[1]))
          this.ids.set(head[0]!, ids)
          this.lastArrival = performance.now()
        } else if (event.type === "lagged") {
          if (event.missed === undefined) this.unknownLag++
          else this.missed.set(this.current, (this.missed.get(this.current) ?? 0) + event.missed)
        }
      }
    })()
  }

  delivered(scenario: string) {
    return this.ids.get(scenario)?.size ?? 0
  }

  has(scenario: string, n: number) {
    return this.ids.get(scenario)?.has(n) ?? false
  }

  /** Until `expected` arrived or nothing new came for `QUIET_MS`. */
  async settle(scenario: string, expected: number, expired: () => boolean) {
    while (!expired() && this.delivered(scenario) < expected && performance.now() - this.lastArrival < QUIET_MS) {
      await sleep(50)
    }
  }
}

const main = async () => {
  const dht = await startTestbed(8)
  const options = loopbackOptions(dht)
  const receiver = await createNode(options)
  const inbox = await receiver.joinTopic(TOPIC, SECRET, { wait: false })
  const tally = new Tally(inbox.events())

  /** A fresh node joined to the topic, once the receiver counts it among its neighbours too. */
  const joinSender = async (): Promise<{ node: Node; topic: Topic; joinMs: number }> => {
    const node = await createNode(options)
    const t0 = performance.now()
    try {
      const topic = await node.joinTopic(TOPIC, SECRET, { wait: true, timeoutMs: JOIN_TIMEOUT_MS })
      const until = performance.now() + JOIN_TIMEOUT_MS
      while (!inbox.neighbors().includes(node.endpointId) && performance.now() < until) await sleep(20)
      return { node, topic, joinMs: performance.now() - t0 }
    } catch (error) {
      await node.close()
      throw error
    }
  }

  const results: Record<string, { readonly verdict: string; readonly [figure: string]: unknown }> = {}
  /** The printed table: scenario, headline figure, verdict. */
  const table: Array<readonly [string, string, string]> = []
  const started = performance.now()

  // (a) and (b) share one sender.
  const { node: senderNode, topic: sender } = await joinSender()

  {
    tally.current = "a"
    const failures: Record<string, number> = {}
    let sent = 0
    const t0 = performance.now()
    const outcome = await bounded(SCENARIO_TIMEOUT_MS.a, async (expired) => {
      for (let i = 0; i < A_COUNT && !expired(); i++) {
        try {
          await sender.broadcast(payload("a", i, 1024))
          sent++
        } catch (error) {
          countFailure(failures, error)
        }
      }
      const sendMs = performance.now() - t0
      await tally.settle("a", A_COUNT, expired)
      return sendMs
    })
    const delivered = tally.delivered("a")
    results.a = {
      what: `${A_COUNT} awaited 1 KB broadcasts one after another`,
      attempted: A_COUNT,
      accepted: sent,
      senderFailures: failures,
      delivered,
      reportedLagged: tally.missed.get("a") ?? 0,
      deliveredPercent: round((delivered / A_COUNT) * 100),
      sendMs: outcome instanceof ScenarioTimeout ? null : Math.round(outcome),
      threshold: "delivered = 100 %",
      verdict: outcome instanceof ScenarioTimeout ? "timeout" : delivered === A_COUNT ? "pass" : "fail"
    }
    table.push([`a) ${A_COUNT} awaited 1 KB`, `${delivered}/${A_COUNT} delivered`, results.a.verdict])
    console.log("a:", JSON.stringify(results.a))
  }

  {
    tally.current = "b"
    const failures: Record<string, number> = {}
    const t0 = performance.now()
    const outcome = await bounded(SCENARIO_TIMEOUT_MS.b, async (expired) => {
      const settled = await Promise.allSettled(
        Array.from({ length: B_COUNT }, (_, i) => sender.broadcast(payload("b", i, 100)))
      )
      for (const s of settled) {
        if (s.status === "rejected") countFailure(failures, s.reason)
      }
      const sendMs = performance.now() - t0
      await tally.settle("b", B_COUNT, expired)
      return sendMs
    })
    const delivered = tally.delivered("b")
    const lagged = tally.missed.get("b") ?? 0
    const failed = Object.values(failures).reduce((x, y) => x + y, 0)
    results.b = {
      what: `${B_COUNT} concurrent 100-byte broadcasts (Promise.allSettled)`,
      sent: B_COUNT,
      delivered,
      reportedLagged: lagged,
      unknownLagEvents: tally.unknownLag,
      senderFailures: failures,
      accountedFor: delivered + lagged + failed,
      sendMs: outcome instanceof ScenarioTimeout ? null : Math.round(outcome),
      threshold: "delivered + reported lagged + sender failures = sent",
      // Lag counts every event a reader lost (neighbour events too), so ≥ is the honest comparison.
      verdict: outcome instanceof ScenarioTimeout
        ? "timeout"
        : delivered + lagged + failed >= B_COUNT && tally.unknownLag === 0
        ? "pass"
        : "fail"
    }
    table.push([
      `b) ${B_COUNT} concurrent 100 B`,
      `${delivered} + ${lagged} lagged + ${failed} failed = ${delivered + lagged + failed}`,
      results.b.verdict
    ])
    console.log("b:", JSON.stringify(results.b))
  }
  await senderNode.close()

  {
    tally.current = "c"
    const trials: Array<{ delivered: boolean; closeMs: number }> = []
    const failures: Record<string, number> = {}
    const outcome = await bounded(SCENARIO_TIMEOUT_MS.c, async (expired) => {
      for (let i = 0; i < C_TRIALS && !expired(); i++) {
        const joined = await joinSender().catch((error) => countFailure(failures, error))
        if (joined === undefined) continue
        try {
          await joined.topic.broadcast(payload("c", i, 256))
        } catch (error) {
          countFailure(failures, error)
        }
        const t0 = performance.now()
        await joined.node.close()
        const closeMs = performance.now() - t0
        const until = performance.now() + TRIAL_DELIVERY_MS
        while (!tally.has("c", i) && performance.now() < until) await sleep(10)
        trials.push({ delivered: tally.has("c", i), closeMs })
        if ((i + 1) % 20 === 0) console.log(`c: ${i + 1}/${C_TRIALS}, delivered ${tally.delivered("c")}`)
      }
    })
    const delivered = trials.filter((t) => t.delivered).length
    const closes = trials.map((t) => t.closeMs).sort((x, y) => x - y)
    results.c = {
      what: `${C_TRIALS} trials of await broadcast, then at once await node.close() (a fresh sender each)`,
      trials: trials.length,
      joinOrSendFailures: failures,
      delivered,
      deliveredPercent: round((delivered / C_TRIALS) * 100),
      lostTrials: trials.flatMap((t, i) => (t.delivered ? [] : [i])),
      closeMs: {
        p50: round(percentile(closes, 50)),
        p99: round(percentile(closes, 99)),
        max: round(closes.at(-1) ?? null)
      },
      threshold: "delivered ≥ 99 % of trials",
      verdict: outcome instanceof ScenarioTimeout ? "timeout" : delivered >= 0.99 * C_TRIALS ? "pass" : "fail"
    }
    table.push([`c) broadcast, then close`, `${delivered}/${trials.length} delivered`, results.c.verdict])
    console.log("c:", JSON.stringify(results.c))
  }

  {
    tally.current = "d"
    const closes: Array<number> = []
    const failures: Record<string, number> = {}
    const outcome = await bounded(SCENARIO_TIMEOUT_MS.d, async (expired) => {
      for (let i = 0; i < D_TRIALS && !expired(); i++) {
        const joined = await joinSender().catch((error) => countFailure(failures, error))
        if (joined === undefined) continue
        const t0 = performance.now()
        await joined.node.close()
        closes.push(performance.now() - t0)
        if ((i + 1) % 20 === 0) console.log(`d: ${i + 1}/${D_TRIALS}`)
      }
    })
    const sorted = [...closes].sort((x, y) => x - y)
    const p99 = percentile(sorted, 99)
    results.d = {
      what: `node.close() of a joined node with nothing queued, ${D_TRIALS} trials`,
      trials: closes.length,
      joinFailures: failures,
      closeMs: {
        p50: round(percentile(sorted, 50)),
        p90: round(percentile(sorted, 90)),
        p99: round(p99),
        max: round(sorted.at(-1) ?? null)
      },
      threshold: "p99 ≤ 500 ms",
      verdict: outcome instanceof ScenarioTimeout
        ? "timeout"
        : p99 !== null && p99 <= 500 && closes.length === D_TRIALS
        ? "pass"
        : "fail"
    }
    table.push([
      "d) close(), nothing queued",
      `p50 ${round(percentile(sorted, 50))} ms, p99 ${round(p99)} ms`,
      results.d.verdict
    ])
    console.log("d:", JSON.stringify(results.d))
  }

  await receiver.close()
  await dht.close()
  const result = {
    scenario: "burst",
    date: new Date().toISOString(),
    node: process.version,
    ...results,
    wallSeconds: Math.round((performance.now() - started) / 1000)
  }
  const out = fileURLToPath(new URL("../bench/results/burst.json", import.meta.url))
  mkdirSync(fileURLToPath(new URL("../bench/results/", import.meta.url)), { recursive: true })
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n")

  console.log()
  for (const [name, figure, verdict] of [["scenario", "figure", "verdict"] as const, ...table]) {
    console.log(`${name.padEnd(30)}${figure.padEnd(46)}${verdict}`)
  }
  if (Object.values(results).some((s) => s.verdict !== "pass")) process.exitCode = 1
}

const watchdog = setTimeout(() => {
  console.error("burst: overall deadline hit, exiting")
  process.exit(2)
}, Object.values(SCENARIO_TIMEOUT_MS).reduce((x, y) => x + y, 0) + 120_000)
watchdog.unref()
main().then(() => process.exit(process.exitCode ?? 0), (error) => {
  console.error(error)
  process.exit(1)
})
