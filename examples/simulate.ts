/**
 * A whole swarm on the simulated network, in virtual time: N nodes join one topic with the default config (every
 * actor running: bootstrap, publisher, bubble merge, message-overlap merge) over the testkit's memory DHT and
 * memory gossip, and a timeline shows what happens: who joined when, neighbour counts, connected components and the
 * DHT requests per minute, then a summary.
 *
 *   npm run simulate -- [nodes=20] [minutes=5] [dhtLatencyMs=0]
 *
 * With a DHT latency, each request to the storing nodes takes that long plus up to as much again of jitter.
 * Nothing touches a real network and nothing really waits: minutes of simulated time take seconds.
 */
import { Bep44, Config, Keys, type Topic } from "@dtt/core"
import { MemoryDht, SimNetwork } from "@dtt/testkit"
import { Effect } from "effect"
import { components, startNode, TOPIC } from "../packages/core/test/support/sim.js"
import * as VT from "../packages/core/test/support/virtualTime.js"

const positive = (raw: string | undefined, fallback: number, name: string): number => {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a whole number ≥ 1 (got ${JSON.stringify(raw)})`)
    process.exit(2)
  }
  return n
}

const NODES = positive(process.argv[2], 20, "nodes")
const MINUTES = positive(process.argv[3], 5, "minutes")
const LATENCY_MS = process.argv[4] === undefined ? 0 : positive(process.argv[4], 0, "dhtLatencyMs")
/** Nodes start one after another, at most 500 ms apart, all within 20 s. */
const STAGGER_MS = Math.min(500, Math.floor(20_000 / NODES))
/** One status line this often. */
const STATUS_EVERY_MS = 30_000
/** Above this many nodes, joins are summarised per status line instead of listed one by one. */
const LIST_JOINS_UP_TO = 50

const pad = (s: string | number, n: number) => String(s).padStart(n)
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`
const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
const slotTarget = (minute: bigint) => {
  const slot = Keys.slot(TOPIC.hash, minute)
  return Buffer.from(Bep44.target(slot.publicKey, slot.salt)).toString("hex")
}

const program = Effect.gen(function*() {
  const world = VT.currentWorld()
  const t0 = world.now()
  const at = () => `t+${pad(seconds(world.now() - t0), 7)}`
  const sim = yield* SimNetwork.make(LATENCY_MS > 0 ? { dht: { latency: LATENCY_MS, latencyJitter: LATENCY_MS } } : {})
  const topics: Array<Topic.Topic> = []
  const startedAt: Array<number> = []
  const joinedAt: Array<number | undefined> = []
  let joinsSinceStatus = 0

  console.log(
    `simulating ${NODES} nodes for ${MINUTES} simulated minutes (default config, memory DHT and gossip` +
      (LATENCY_MS > 0 ? `, DHT round trip ${LATENCY_MS}-${2 * LATENCY_MS} ms)` : ")")
  )
  console.log(`nodes start ${STAGGER_MS} ms apart; a status line every ${STATUS_EVERY_MS / 1000} s\n`)

  const graph = Effect.gen(function*() {
    const g = new Map<string, ReadonlyArray<string>>()
    for (const t of topics) g.set(t.endpointId, yield* t.neighbors)
    return g
  })
  let previous = { gets: 0, puts: 0, at: t0 }
  /** Counters at every status line, for the steady-state figure of the summary. */
  const history: Array<typeof previous> = [previous]
  const status = Effect.gen(function*() {
    const g = yield* graph
    const degrees = [...g.values()].map((n) => n.length)
    const histogram = new Map<number, number>()
    for (const d of degrees) histogram.set(d, (histogram.get(d) ?? 0) + 1)
    const comps = components(g).map((c) => c.size).sort((a, b) => b - a)
    const stats = yield* MemoryDht.stats(sim.dht)
    const minutes = (world.now() - previous.at) / 60_000
    const gets = stats.totals.gets - previous.gets
    const puts = stats.totals.puts - previous.puts
    previous = { gets: stats.totals.gets, puts: stats.totals.puts, at: world.now() }
    history.push(previous)
    const joined = joinedAt.filter((t) => t !== undefined).length
    const hist = [...histogram.entries()].sort((a, b) => a[0] - b[0]).map(([d, n]) => `${d}:${n}`).join(" ")
    const joins = NODES > LIST_JOINS_UP_TO && joinsSinceStatus > 0 ? ` (+${joinsSinceStatus} joined)` : ""
    joinsSinceStatus = 0
    console.log(
      `${at()}  status  joined ${pad(joined, String(NODES).length)}/${NODES}${joins}  ` +
        `neighbours min/mean/max ${Math.min(...degrees)}/${
          (degrees.reduce((a, b) => a + b, 0) / degrees.length).toFixed(1)
        }/${Math.max(...degrees)} [${hist}]  ` +
        `components ${
          comps.length === 1
            ? "1"
            : `${comps.length} (${comps.slice(0, 5).join(", ")}${comps.length > 5 ? ", ..." : ""})`
        }  ` +
        `DHT ${(gets / minutes).toFixed(0)} gets/min (${(gets / minutes / topics.length).toFixed(1)} per node), ${
          (puts / minutes).toFixed(1)
        } puts/min`
    )
  })

  // Nodes start one by one; each reports its own join.
  yield* Effect.forkScoped(Effect.gen(function*() {
    for (let i = 0; i < NODES; i++) {
      const topic = yield* startNode(sim, i)
      topics.push(topic)
      startedAt.push(world.now())
      joinedAt.push(undefined)
      if (NODES <= LIST_JOINS_UP_TO) console.log(`${at()}  node ${pad(i, 3)} started (${topic.endpointId.slice(0, 8)})`)
      yield* Effect.forkScoped(Effect.ignore(Effect.gen(function*() {
        yield* topic.joined
        joinedAt[i] = world.now()
        joinsSinceStatus++
        if (NODES <= LIST_JOINS_UP_TO) {
          const n = (yield* topic.neighbors).length
          console.log(
            `${at()}  node ${pad(i, 3)} joined after ${seconds(world.now() - startedAt[i]!)} (${n} neighbour${
              n === 1 ? "" : "s"
            })`
          )
        }
      })))
      yield* Effect.sleep(STAGGER_MS)
    }
  }))

  const end = t0 + MINUTES * 60_000
  while (world.now() < end) {
    yield* Effect.sleep(Math.min(STATUS_EVERY_MS, end - world.now()))
    if (topics.length > 0) yield* status
  }

  // Summary.
  const stats = yield* MemoryDht.stats(sim.dht)
  const g = yield* graph
  const comps = components(g)
  const degrees = [...g.values()].map((n) => n.length)
  const took = joinedAt.flatMap((t, i) => (t === undefined ? [] : [t - startedAt[i]!])).sort((a, b) => a - b)
  const firstMinute = Keys.unixMinuteOf(t0)
  const lastMinute = Keys.unixMinuteOf(end - 1)
  const putsPerSlot: Array<number> = []
  for (let m = firstMinute; m <= lastMinute; m++) putsPerSlot.push(stats.byTarget.get(slotTarget(m))?.puts ?? 0)
  const getsPerNode = topics.map((t) => stats.byClient.get(t.endpointId)?.gets ?? 0)

  console.log(`\nsummary after ${MINUTES} simulated minutes`)
  console.log(
    `  nodes joined         ${took.length}/${NODES}` + (took.length > 0
      ? `; time to join median ${seconds(percentile(took, 0.5))}, p90 ${seconds(percentile(took, 0.9))}, max ${
        seconds(took[took.length - 1]!)
      }`
      : "")
  )
  console.log(
    `  components           ${comps.length} (sizes ${comps.map((c) => c.size).sort((a, b) => b - a).join(", ")})`
  )
  console.log(
    `  neighbours per node  min ${Math.min(...degrees)}, mean ${
      (degrees.reduce((a, b) => a + b, 0) / degrees.length).toFixed(2)
    }, max ${Math.max(...degrees)}; isolated ${degrees.filter((d) => d === 0).length}`
  )
  console.log(
    `  DHT gets             ${stats.totals.gets} (${
      (stats.totals.gets / NODES / MINUTES).toFixed(2)
    } per node-minute on average, busiest node ${Math.max(...getsPerNode)})`
  )
  // Steady state: from the first status line 40 s after the last join (every actor on its regular timer).
  const lastJoin = took.length === NODES ? Math.max(...joinedAt.map((t) => t!)) : undefined
  const from = lastJoin === undefined
    ? undefined
    : history.find((h) => h.at >= lastJoin + 40_000 && end - h.at >= 60_000)
  if (from !== undefined) {
    const minutes = (end - from.at) / 60_000
    console.log(
      `  steady state         from ${seconds(from.at - t0)}: ${
        ((stats.totals.gets - from.gets) / NODES / minutes).toFixed(2)
      } gets per node-minute, ${((stats.totals.puts - from.puts) / minutes).toFixed(2)} puts per minute`
    )
  }
  console.log(
    `  DHT puts             ${stats.totals.puts}; per minute slot [${
      putsPerSlot.join(", ")
    }] (cap ${Config.defaults.bootstrap.maxBootstrapRecords} records per slot)`
  )
  console.log(
    `  storing-node requests ${stats.nodeRequests.gets} gets, ${stats.nodeRequests.puts} puts (each request reaches the K = 20 nodes of a target)`
  )
})

const began = Date.now()
VT.run(program, { limit: `${MINUTES + 1} minutes` }).then(
  () => console.log(`  real time            ${((Date.now() - began) / 1000).toFixed(1)} s`),
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
