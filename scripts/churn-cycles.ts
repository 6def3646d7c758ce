/**
 * Issue 10, first scenario: one long-lived node in a topic on a private loopback DHT (`Testbed`, relays off),
 * then N cycles of createNode → joinTopic(wait, 20 s timeout) → one broadcast → close, all through the Promise
 * facade. Records JoinTimeouts, join latency percentiles and how long the long-lived node was without neighbours
 * (it always has "others alive" here: a joiner exists during every cycle). Writes bench/results/churn-cycles.json.
 *
 * `verdict` applies issue 10's bar: no JoinTimeout, every cycle joined, join p99 <= 3 s, and the long-lived node
 * never alone for longer than one discovery period (the publisher's 10 s base interval) while a joiner is alive.
 *
 *   nice -n 10 npx tsx --conditions=source scripts/churn-cycles.ts [cycles=200] [storingNodes=20] [outName=churn-cycles]
 */
import { createNode } from "distributed-topic-tracker"
import { mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { loopbackOptions, startTestbed } from "../packages/promise/dist/test/testbed.js"
import { percentile } from "./measure.js"

const cycles = Number(process.argv[2] ?? 200)
const storingNodes = Number(process.argv[3] ?? 20)
const outName = process.argv[4] ?? "churn-cycles"
const MAX_JOIN_P99_MS = 3_000
const DISCOVERY_PERIOD_MS = 10_000
const JOIN_TIMEOUT_MS = 20_000
const SAMPLE_MS = 100
const TOPIC = `churn-cycles-${process.pid}-${Date.now()}`
const SECRET = "churn-cycles-secret"

const main = async () => {
  const dht = await startTestbed(storingNodes)
  const options = loopbackOptions(dht)
  const longLived = await createNode(options)
  const anchor = await longLived.joinTopic(TOPIC, SECRET, { wait: false })

  // Sample the long-lived node's neighbour count; a stretch without neighbours counts while a joiner is alive.
  let othersAlive = false
  let aloneSince: number | null = null
  const aloneStretches: Array<number> = []
  const endStretch = (now: number) => {
    if (aloneSince !== null) aloneStretches.push(now - aloneSince)
    aloneSince = null
  }
  const sampler = setInterval(() => {
    const now = performance.now()
    if (!othersAlive || anchor.neighbors().length > 0) endStretch(now)
    else if (aloneSince === null) aloneSince = now
  }, SAMPLE_MS)

  const joins: Array<number> = []
  const failures: Record<string, number> = {}
  const started = performance.now()
  for (let i = 0; i < cycles; i++) {
    const node = await createNode(options)
    othersAlive = true
    const t0 = performance.now()
    try {
      const topic = await node.joinTopic(TOPIC, SECRET, { wait: true, timeoutMs: JOIN_TIMEOUT_MS })
      joins.push(performance.now() - t0)
      await topic.broadcast(`cycle ${i}`).catch(() => undefined)
    } catch (error) {
      const tag = (error as { _tag?: string })._tag ?? String(error)
      failures[tag] = (failures[tag] ?? 0) + 1
      console.log(`cycle ${i}: ${tag} after ${Math.round(performance.now() - t0)} ms`)
    }
    othersAlive = false
    endStretch(performance.now())
    await node.close()
    if ((i + 1) % 20 === 0) {
      console.log(`${i + 1}/${cycles} cycles, ${joins.length} joined, anchor neighbours ${anchor.neighbors().length}`)
    }
  }
  clearInterval(sampler)
  const sorted = [...joins].sort((a, b) => a - b)
  const round = (x: number | null) => (x === null ? null : Math.round(x))
  const result = {
    scenario: "churn-cycles",
    date: new Date().toISOString(),
    cycles,
    storingNodes,
    joinTimeoutMs: JOIN_TIMEOUT_MS,
    joined: joins.length,
    failures,
    joinTimeouts: failures["JoinTimeout"] ?? 0,
    joinMs: {
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.at(-1) ?? null)
    },
    longLived: {
      aloneStretches: aloneStretches.length,
      longestAloneMs: Math.round(Math.max(0, ...aloneStretches)),
      sampleMs: SAMPLE_MS,
      neighboursAtEnd: anchor.neighbors().length
    },
    wallSeconds: Math.round((performance.now() - started) / 1000)
  }
  const longestAloneMs = result.longLived.longestAloneMs
  const verdict = {
    pass: result.joinTimeouts === 0 && result.joined === cycles &&
      (result.joinMs.p99 ?? Infinity) <= MAX_JOIN_P99_MS && longestAloneMs <= DISCOVERY_PERIOD_MS,
    bar: { joinTimeouts: 0, joined: cycles, joinP99MaxMs: MAX_JOIN_P99_MS, longestAloneMaxMs: DISCOVERY_PERIOD_MS }
  }
  await longLived.close()
  await dht.close()
  const out = join(dirname(fileURLToPath(import.meta.url)), "..", "bench", "results", `${outName}.json`)
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, JSON.stringify({ ...result, verdict }, null, 2) + "\n")
  console.log(JSON.stringify({ ...result, verdict }, null, 2))
}

const watchdog = setTimeout(() => {
  console.error("churn-cycles: overall deadline hit, exiting")
  process.exit(2)
}, (cycles * (JOIN_TIMEOUT_MS + 10_000)) + 60_000)
watchdog.unref()
main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
