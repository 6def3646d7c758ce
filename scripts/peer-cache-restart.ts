/**
 * Issue 12 item 3: how fast a restarted node has its first neighbour, with and without the peer cache. One anchor
 * node sits in a topic on a private loopback DHT (`Testbed`, relays off), both in this process. Per trial a node with a fixed secret key
 * joins through the DHT with `peerCache` (filling the cache) and closes; then it is restarted three times with
 * the same key: without the cache, with the cache, with the cache while its DHT bootstrap is a closed port, and
 * with the cache joining only `STARTUP_SETTLE_MS` after node creation (the fresh node's own DHT start-up, on the
 * same thread as the in-process testbed, no longer competing with the dial). "First neighbour" is the time
 * `joinTopic(wait: true)` takes to resolve (it resolves on the first neighbour); node creation is not counted.
 * Writes bench/results/peer-cache.json.
 *
 *   nice -n 10 npx tsx --conditions=source scripts/peer-cache-restart.ts [trials=20] [storingNodes=20]
 *
 * In this layout the anchor's own DHT work (the publish that follows its getting a neighbour, its reads while
 * alone) and the storing nodes' answers run on the measured node's thread, during the measured join.
 * `PEER_CACHE_LAYOUT=separate` runs the anchor (`dtt chat`) and the storing nodes (`dtt testbed`) in child
 * processes instead; results then go to bench/results/peer-cache-separate.json. On 2 cores that trades the
 * shared thread for waking other processes: neither layout is a second machine.
 */
import { createNode, type NodeOptions } from "distributed-topic-tracker"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { closedPort, loopbackOptions, startTestbed } from "../packages/promise/dist/test/testbed.js"
import { percentile } from "./measure.js"
import { childMember, childTestbed } from "./soakProcesses.js"

const trials = Number(process.argv[2] ?? 20)
const storingNodes = Number(process.argv[3] ?? 20)
const JOIN_TIMEOUT_MS = 20_000
const TOPIC = `peer-cache-${process.pid}-${Date.now()}`
const SECRET = "peer-cache-secret"
const STARTUP_SETTLE_MS = 1500
const inline = process.env["PEER_CACHE_LAYOUT"] !== "separate"

type Mode = "noCache" | "cache" | "cacheDhtUnreachable" | "cacheAfterStartup"

/** The anchor as `dtt chat` in a child process, once it has joined the topic (it is alone, so: subscribed). */
const anchorProcess = async (bootstrap: ReadonlyArray<string>) => {
  const child = childMember(TOPIC, SECRET, bootstrap, () => {}, () => {})
  // `dtt chat` prints `joined` only with a neighbour; give the lone anchor time to subscribe and publish.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  if (child.pid === undefined) throw new Error("the anchor process did not start")
  return { close: child.leave }
}

const main = async () => {
  const dht = inline ? await startTestbed(storingNodes) : await childTestbed(storingNodes)
  const options = loopbackOptions(dht)
  const deadBootstrap = [`127.0.0.1:${await closedPort()}`]
  const anchor = inline
    ? await createNode(options).then(async (node) => {
      await node.joinTopic(TOPIC, SECRET, { wait: false })
      return { close: () => node.close() }
    })
    : await anchorProcess(dht.bootstrap)
  const dir = mkdtempSync(join(tmpdir(), "dtt-peer-cache-bench-"))

  const times: Record<Mode, Array<number>> = {
    noCache: [],
    cache: [],
    cacheDhtUnreachable: [],
    cacheAfterStartup: []
  }
  const failures: Record<string, number> = {}
  /** Create a node, time its join, close it; the time, or null on failure. */
  const timedJoin = async (nodeOptions: NodeOptions, label: string, settleMs = 0): Promise<number | null> => {
    const node = await createNode(nodeOptions)
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs))
    try {
      const t0 = performance.now()
      await node.joinTopic(TOPIC, SECRET, { wait: true, timeoutMs: JOIN_TIMEOUT_MS })
      return performance.now() - t0
    } catch (error) {
      const tag = `${label}: ${(error as { _tag?: string })._tag ?? String(error)}`
      failures[tag] = (failures[tag] ?? 0) + 1
      return null
    } finally {
      await node.close()
    }
  }
  const started = performance.now()
  for (let i = 0; i < trials; i++) {
    const secretKey = crypto.getRandomValues(new Uint8Array(32))
    const peerCache = { path: join(dir, `trial-${i}`) }
    await timedJoin({ ...options, secretKey, peerCache }, "prime")
    const runs: ReadonlyArray<readonly [Mode, NodeOptions, number]> = [
      ["noCache", { ...options, secretKey }, 0],
      ["cache", { ...options, secretKey, peerCache }, 0],
      ["cacheDhtUnreachable", { ...options, bootstrap: deadBootstrap, secretKey, peerCache }, 0],
      ["cacheAfterStartup", { ...options, secretKey, peerCache }, STARTUP_SETTLE_MS]
    ]
    for (const [mode, nodeOptions, settleMs] of runs) {
      const ms = await timedJoin(nodeOptions, mode, settleMs)
      if (ms !== null) times[mode].push(ms)
    }
    console.log(
      `trial ${i + 1}/${trials}: ${
        Object.entries(times).map(([m, t]) => `${m} ${t.at(-1) === undefined ? "-" : Math.round(t.at(-1)!)}`).join(
          ", "
        )
      } ms`
    )
  }
  const summary = (values: ReadonlyArray<number>) => {
    const sorted = [...values].sort((a, b) => a - b)
    const round = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10)
    return {
      joined: sorted.length,
      p50: round(percentile(sorted, 50)),
      p95: round(percentile(sorted, 95)),
      max: round(sorted.at(-1) ?? null)
    }
  }
  const result = {
    scenario: "peer-cache-restart",
    date: new Date().toISOString(),
    trials,
    storingNodes,
    layout: inline ? "anchor and storing nodes in this process" : "anchor and storing nodes in child processes",
    joinTimeoutMs: JOIN_TIMEOUT_MS,
    measured: "joinTopic(wait: true) until the first neighbour, node already created; loopback, relays off",
    firstNeighbourMs: {
      noCache: summary(times.noCache),
      cache: summary(times.cache),
      cacheDhtUnreachable: summary(times.cacheDhtUnreachable),
      cacheAfterStartup: summary(times.cacheAfterStartup)
    },
    startupSettleMs: STARTUP_SETTLE_MS,
    failures,
    wallSeconds: Math.round((performance.now() - started) / 1000)
  }
  await anchor.close()
  await dht.close()
  rmSync(dir, { recursive: true, force: true })
  const out = join(
    dirname(fileURLToPath(import.meta.url)),
    "..",
    "bench",
    "results",
    inline ? "peer-cache.json" : "peer-cache-separate.json"
  )
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n")
  console.log(JSON.stringify(result, null, 2))
}

const watchdog = setTimeout(() => {
  console.error("peer-cache-restart: overall deadline hit, exiting")
  process.exit(2)
}, trials * 5 * (JOIN_TIMEOUT_MS + 10_000) + 60_000)
watchdog.unref()
main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
