/**
 * Issue 12 item 3: how fast a restarted node has its first neighbour, with and without the peer cache. One anchor
 * node sits in a topic on a private loopback DHT (`Testbed`, relays off). Per trial a node with a fixed secret key
 * joins through the DHT with `peerCache` (filling the cache) and closes; then it is restarted three times with
 * the same key: without the cache, with the cache, with the cache while its DHT bootstrap is a closed port, and
 * with the cache joining only `STARTUP_SETTLE_MS` after node creation (the fresh node's own DHT start-up, on the
 * same thread as the in-process testbed, no longer competing with the dial). "First neighbour" is the time
 * `joinTopic(wait: true)` takes to resolve (it resolves on the first neighbour); node creation is not counted.
 * Writes bench/results/peer-cache.json.
 *
 *   nice -n 10 npx tsx --conditions=source scripts/peer-cache-restart.ts [trials=20] [storingNodes=20]
 *
 * `PEER_CACHE_BOOTSTRAP=host:port` uses that DHT (e.g. `dtt testbed` in another process) instead of an
 * in-process testbed, so the storing nodes no longer share the measured node's thread; results then go to
 * bench/results/peer-cache-external-dht.json.
 */
import { createNode, type NodeOptions } from "distributed-topic-tracker"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { closedPort, loopbackOptions, startTestbed } from "../packages/promise/dist/test/testbed.js"
import { percentile } from "./measure.js"

const trials = Number(process.argv[2] ?? 20)
const storingNodes = Number(process.argv[3] ?? 20)
const JOIN_TIMEOUT_MS = 20_000
const TOPIC = `peer-cache-${process.pid}-${Date.now()}`
const SECRET = "peer-cache-secret"
const STARTUP_SETTLE_MS = 1500
const externalBootstrap = process.env["PEER_CACHE_BOOTSTRAP"]

type Mode = "noCache" | "cache" | "cacheDhtUnreachable" | "cacheAfterStartup"

const main = async () => {
  const dht = externalBootstrap !== undefined
    ? { bootstrap: [externalBootstrap], close: () => Promise.resolve() }
    : await startTestbed(storingNodes)
  const options = loopbackOptions(dht)
  const deadBootstrap = [`127.0.0.1:${await closedPort()}`]
  const anchor = await createNode(options)
  await anchor.joinTopic(TOPIC, SECRET, { wait: false })
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
    dht: externalBootstrap === undefined ? "in-process testbed" : `external ${externalBootstrap}`,
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
    externalBootstrap === undefined ? "peer-cache.json" : "peer-cache-external-dht.json"
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
