/**
 * A rogue who knows a topic's NAME but not its secret, against real facade nodes (`createNode` / `joinTopic`) on
 * 20-node loopback Testbeds (issue 10 item 6). The compatible slots' keys derive from the name alone, so the
 * rogue can sign into them; the private slots (PROTOCOL.md "Private slots") need the secret.
 *
 * Scenarios, each with private slots on (our default) and off (compatible slots only, as the Rust crate):
 * - baseline: no rogue;
 * - rewrite: last-writer-wins storing nodes, the rogue rewrites the previous, current and next minute's
 *   compatible slots with signed junk every 0.5 s;
 * - hold: first-writer-wins storing nodes, the rogue writes the coming minutes' compatible slots once, first.
 * Each trial: a fresh topic, the rogue starts, 1 s later two fresh nodes join it at once (wait, with a timeout);
 * their join times are recorded and both close. Then the cost: COST_NODES nodes joined on one topic (no rogue),
 * their record publishers' DHT gets and puts per node-minute (the process-wide `dtt_record_dht_*` metrics) and
 * the Testbed's answered queries per node-minute, with private slots off, then on.
 *
 *   npm run rogue        (= npx tsc -b, then this file on the compiled packages)
 * Env: TRIALS (6, private slots on), OFF_TRIALS (2), JOIN_TIMEOUT_MS (30000), COST_NODES (3), COST_MINUTES (5).
 * Writes bench/results/rogue.json. Stops by itself (and gives up after 25 minutes).
 */
import { Bep44, Crypto, Dht, Keys, RecordPublisher, TopicId } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { createNode, type Node, type Topic } from "distributed-topic-tracker"
import { Context, Effect, Exit, Fiber, Layer, Metric, Scope } from "effect"
import { randomBytes } from "node:crypto"
import { mkdirSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
// The compiled module, not "@dtt/testkit": its index loads the vitest compliance suites.
import * as TestItems from "../packages/testkit/dist/src/TestItems.js"
import { percentile, sleep } from "./measure.js"

const TRIALS = Number(process.env.TRIALS ?? 6)
const OFF_TRIALS = Number(process.env.OFF_TRIALS ?? 2)
const JOIN_TIMEOUT_MS = Number(process.env.JOIN_TIMEOUT_MS ?? 30_000)
const COST_NODES = Number(process.env.COST_NODES ?? 3)
const COST_MINUTES = Number(process.env.COST_MINUTES ?? 5)
const SECRET = "the members' secret"
const DEADLINE = Date.now() + 25 * 60_000

type Scenario = "baseline" | "rewrite" | "hold"

// -------------------------------------------------------------------------------------------------------------
// The rogue: signed junk in the compatible slots of one topic

const slotCache = new Map<string, Keys.Slot>()
const compatibleSlot = (topic: TopicId.TopicId, minute: bigint) => {
  const key = `${topic.hex}:${minute}`
  let slot = slotCache.get(key)
  if (slot === undefined) slotCache.set(key, slot = Keys.slot(topic.hash, minute))
  return slot
}
/** 600 random bytes in the slot, signed with its key at seq i64::MAX (the seq honest writers use too). */
const junk = (topic: TopicId.TopicId, minute: bigint): Dht.MutableItem => {
  const slot = compatibleSlot(topic, minute)
  return TestItems.signedItem({ secretKey: slot.signingSeed, salt: slot.salt, value: randomBytes(600) })
}
const nowMinute = () => Keys.unixMinuteOf(Date.now())
const write = (dht: Dht.DhtService, topic: TopicId.TopicId, minutes: ReadonlyArray<bigint>) =>
  Effect.forEach(minutes, (m) => Effect.either(dht.putMutable(junk(topic, m), { cas: Bep44.SEQ_I64_MAX })), {
    concurrency: 4
  })

interface Rogue {
  readonly puts: () => number
  readonly stop: () => Promise<void>
}

const startRogue = async (scenario: Scenario, dht: Dht.DhtService, topic: TopicId.TopicId): Promise<Rogue> => {
  let puts = 0
  if (scenario === "baseline") return { puts: () => 0, stop: async () => undefined }
  if (scenario === "hold") {
    const m = nowMinute()
    const results = await Effect.runPromise(write(dht, topic, [m - 1n, m, m + 1n, m + 2n, m + 3n]))
    puts = results.filter((r) => r._tag === "Right").length
    return { puts: () => puts, stop: async () => undefined }
  }
  // Bounded: at most 5 minutes of rewriting, well beyond one trial.
  const loop = Effect.gen(function*() {
    for (let i = 0; i < 600; i++) {
      const m = nowMinute()
      const results = yield* write(dht, topic, [m - 1n, m, m + 1n])
      puts += results.filter((r) => r._tag === "Right").length
      yield* Effect.sleep("500 millis")
    }
  })
  const fiber = Effect.runFork(loop)
  await sleep(50)
  return { puts: () => puts, stop: () => Effect.runPromise(Fiber.interrupt(fiber)).then(() => undefined) }
}

// -------------------------------------------------------------------------------------------------------------
// Measuring

const counter = (metric: typeof RecordPublisher.dhtGets, slot: string) =>
  Effect.runSync(Metric.value(Metric.tagged(metric, "slot", slot))).count
const dhtOps = () => ({
  compatibleGets: counter(RecordPublisher.dhtGets, "compatible"),
  privateGets: counter(RecordPublisher.dhtGets, "private"),
  compatiblePuts: counter(RecordPublisher.dhtPuts, "compatible"),
  privatePuts: counter(RecordPublisher.dhtPuts, "private")
})
type Ops = ReturnType<typeof dhtOps>
const perNodeMinute = (before: Ops, after: Ops, nodes: number, ms: number): Ops => {
  const rate = (k: keyof Ops) => Math.round(((after[k] - before[k]) / nodes / (ms / 60_000)) * 100) / 100
  return {
    compatibleGets: rate("compatibleGets"),
    privateGets: rate("privateGets"),
    compatiblePuts: rate("compatiblePuts"),
    privatePuts: rate("privatePuts")
  }
}

interface Bed {
  readonly rule: string
  readonly bootstrap: ReadonlyArray<string>
  readonly rogueDht: Dht.DhtService
  readonly queriesAnswered: () => number
}

const nodeOptions = (bed: Bed, privateSlots: boolean) => ({
  bootstrap: bed.bootstrap,
  bindAddress: "127.0.0.1",
  gossip: { bindAddress: "127.0.0.1:0", relay: "disabled" as const, preset: "minimal" as const },
  config: { bootstrap: { privateSlots } }
})

interface Trial {
  readonly joinMs: ReadonlyArray<number | null>
  readonly roguePuts: number
  readonly opsPerNodeMinute: Ops
}

const trial = async (bed: Bed, scenario: Scenario, privateSlots: boolean, index: number): Promise<Trial> => {
  const name = `rogue-${scenario}-${privateSlots ? "on" : "off"}-${index}-${randomBytes(4).toString("hex")}`
  const rogue = await startRogue(scenario, bed.rogueDht, TopicId.fromName(name))
  await sleep(1000)
  const nodes: Array<Node> = []
  const before = dhtOps()
  const began = Date.now()
  try {
    for (let i = 0; i < 2; i++) nodes.push(await createNode(nodeOptions(bed, privateSlots)))
    const joinMs = await Promise.all(
      nodes.map(async (node) => {
        const t0 = Date.now()
        try {
          await node.joinTopic(name, SECRET, { timeoutMs: JOIN_TIMEOUT_MS })
          return Date.now() - t0
        } catch {
          return null
        }
      })
    )
    return { joinMs, roguePuts: rogue.puts(), opsPerNodeMinute: perNodeMinute(before, dhtOps(), 2, Date.now() - began) }
  } finally {
    await rogue.stop()
    await Promise.allSettled(nodes.map((n) => n.close()))
  }
}

const cost = async (bed: Bed, privateSlots: boolean) => {
  const name = `rogue-cost-${privateSlots ? "on" : "off"}-${randomBytes(4).toString("hex")}`
  const nodes: Array<Node> = []
  const topics: Array<Topic> = []
  try {
    for (let i = 0; i < COST_NODES; i++) nodes.push(await createNode(nodeOptions(bed, privateSlots)))
    topics.push(...(await Promise.all(nodes.map((n) => n.joinTopic(name, SECRET, { timeoutMs: 60_000 })))))
    // Past the publisher's first ticks (10 s) and the merges' (30 s): every actor on its regular timer.
    await sleep(40_000)
    const before = dhtOps()
    const queriesBefore = bed.queriesAnswered()
    const began = Date.now()
    await sleep(COST_MINUTES * 60_000)
    const ms = Date.now() - began
    return {
      privateSlots,
      nodes: COST_NODES,
      minutes: Math.round((ms / 60_000) * 100) / 100,
      recordPublisherOpsPerNodeMinute: perNodeMinute(before, dhtOps(), COST_NODES, ms),
      testbedQueriesAnsweredPerNodeMinute:
        Math.round(((bed.queriesAnswered() - queriesBefore) / COST_NODES / (ms / 60_000)) * 10) / 10,
      neighboursAtEnd: topics.map((t) => t.neighbors().length)
    }
  } finally {
    await Promise.allSettled(nodes.map((n) => n.close()))
  }
}

const summary = (trials: ReadonlyArray<Trial>) => {
  const all = trials.flatMap((t) => t.joinMs)
  const joined = all.filter((x): x is number => x !== null).sort((a, b) => a - b)
  return {
    trials: trials.length,
    joins: all.length,
    joined: joined.length,
    timeouts: all.length - joined.length,
    joinMsP50: percentile(joined, 50),
    joinMsP95: joined.length === all.length ? percentile(joined, 95) : null,
    joinMsMax: joined.length === all.length ? (joined[joined.length - 1] ?? null) : null,
    joinMs: trials.map((t) => t.joinMs),
    roguePutsPerTrial: trials.map((t) => t.roguePuts),
    opsPerNodeMinuteWhileJoining: trials.map((t) => t.opsPerNodeMinute)
  }
}

const main = async () => {
  const scope = Effect.runSync(Scope.make())
  const makeBed = (rule: "last-writer-wins" | "first-writer-wins") =>
    Effect.gen(function*() {
      const bed = yield* Testbed.make({ size: 20, rule })
      const context = yield* Layer.build(bed.clientLayer())
      return {
        rule,
        bootstrap: bed.bootstrap,
        rogueDht: Context.get(context, Dht.Dht),
        queriesAnswered: () => bed.nodes.reduce((sum, n) => sum + n.stats.queriesAnswered, 0)
      } satisfies Bed
    }).pipe(Scope.extend(scope), Effect.provide(Crypto.layerNode))
  try {
    const lww = await Effect.runPromise(makeBed("last-writer-wins"))
    const fww = await Effect.runPromise(makeBed("first-writer-wins"))
    const scenarios: ReadonlyArray<readonly [Scenario, Bed]> = [["baseline", lww], ["rewrite", lww], ["hold", fww]]
    const results: Record<string, unknown> = {}
    for (const [scenario, bed] of scenarios) {
      for (const privateSlots of [true, false]) {
        const trials: Array<Trial> = []
        for (let i = 0; i < (privateSlots ? TRIALS : OFF_TRIALS) && Date.now() < DEADLINE; i++) {
          trials.push(await trial(bed, scenario, privateSlots, i))
          console.log(
            `${scenario} (${bed.rule}) private slots ${privateSlots ? "on" : "off"} trial ${i}: join ms ${
              JSON.stringify(trials.at(-1)!.joinMs)
            }`
          )
        }
        const key = `${scenario}/${privateSlots ? "privateSlotsOn" : "privateSlotsOff"}`
        results[key] = { rule: bed.rule, ...summary(trials) }
        const s = results[key] as ReturnType<typeof summary>
        console.log(
          `${key}: ${s.joined}/${s.joins} joined, p50 ${s.joinMsP50} ms, p95 ${s.joinMsP95} ms, timeouts ${s.timeouts}`
        )
      }
    }
    const costs = []
    for (const privateSlots of COST_MINUTES > 0 ? [false, true] : []) {
      if (Date.now() > DEADLINE) break
      costs.push(await cost(lww, privateSlots))
      console.log(`cost, private slots ${privateSlots ? "on" : "off"}: ${JSON.stringify(costs.at(-1))}`)
    }
    const out = {
      generatedAt: new Date().toISOString(),
      command: "npm run rogue",
      setup: {
        testbedNodes: 20,
        trialsOn: TRIALS,
        trialsOff: OFF_TRIALS,
        joinTimeoutMs: JOIN_TIMEOUT_MS,
        nodesPerTrial: 2,
        rewriteIntervalMs: 500,
        note:
          "join ms per node from its joinTopic call (both nodes start together, 1 s after the rogue); null = JoinTimeout. p95/max are null when any join timed out."
      },
      scenarios: results,
      cost: costs
    }
    const path = fileURLToPath(new URL("../bench/results/rogue.json", import.meta.url))
    mkdirSync(fileURLToPath(new URL("../bench/results/", import.meta.url)), { recursive: true })
    writeFileSync(path, JSON.stringify(out, null, 2) + "\n")
    console.log(`wrote ${path}`)
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
