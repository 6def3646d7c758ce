/**
 * Issue 10's DHT-restart scenario through the facade: long-lived nodes join a topic on a loopback Testbed; the
 * Testbed goes away (every storing node closed, so everything it stored is lost) for OUTAGE_S seconds and comes
 * back on the same ports with fresh node ids; then new nodes join. Measures how long after the restart the
 * survivors and the newcomers form one component (neighbour graph, undirected). Writes
 * bench/results/testbed-restart.json.
 *
 *   npm run restart:testbed       (= npx tsc -b, then this file on the compiled packages)
 * Options (env): OLD (4), NEW (2), OUTAGE_S (60), STORING (12), LIMIT_S (180: give up after this long).
 */
import { Crypto } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { createNode, type Node, type Topic } from "distributed-topic-tracker"
import { Effect, Exit, Scope } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { sleep } from "./measure.js"

const OLD = Number(process.env.OLD ?? 4)
const NEW = Number(process.env.NEW ?? 2)
const OUTAGE_MS = Number(process.env.OUTAGE_S ?? 60) * 1000
const STORING = Number(process.env.STORING ?? 12)
const LIMIT_MS = Number(process.env.LIMIT_S ?? 180) * 1000
const TOPIC = `testbed-restart-${process.pid}`
const SECRET = "testbed-restart-secret"

const startBed = async (ports?: ReadonlyArray<number>) => {
  const scope = Effect.runSync(Scope.make())
  const bed = await Effect.runPromise(
    Testbed.make({ size: STORING, ...(ports === undefined ? {} : { ports }) }).pipe(
      Scope.extend(scope),
      Effect.provide(Crypto.layerNode)
    )
  )
  return { bed, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** Sizes of the connected components of the neighbour graph (edges taken both ways), largest first. */
const components = (members: ReadonlyArray<{ readonly topic: Topic }>): Array<number> => {
  const ids = members.map((m) => m.topic.endpointId)
  const adjacent = new Map<string, Set<string>>(ids.map((id) => [id, new Set()]))
  for (const m of members) {
    for (const peer of m.topic.neighbors()) {
      if (!adjacent.has(peer)) continue
      adjacent.get(m.topic.endpointId)!.add(peer)
      adjacent.get(peer)!.add(m.topic.endpointId)
    }
  }
  const seen = new Set<string>()
  const sizes: Array<number> = []
  for (const id of ids) {
    if (seen.has(id)) continue
    let size = 0
    const stack = [id]
    seen.add(id)
    while (stack.length > 0) {
      const next = stack.pop()!
      size++
      for (const peer of adjacent.get(next)!) {
        if (!seen.has(peer)) {
          seen.add(peer)
          stack.push(peer)
        }
      }
    }
    sizes.push(size)
  }
  return sizes.sort((a, b) => b - a)
}

const main = async () => {
  const first = await startBed()
  const ports = first.bed.nodes.map((n) => n.address.port)
  const options = {
    bootstrap: first.bed.bootstrap,
    bindAddress: "127.0.0.1",
    gossip: { bindAddress: "127.0.0.1:0", relay: "disabled" as const }
  }
  const members: Array<{ readonly node: Node; readonly topic: Topic; readonly old: boolean }> = []
  // The first node has nobody to find: join without waiting, then wait for one component.
  for (let i = 0; i < OLD; i++) {
    const node = await createNode(options)
    members.push({ node, topic: await node.joinTopic(TOPIC, SECRET, { wait: false }), old: true })
  }
  const formedBy = Date.now() + 60_000
  while (components(members).length > 1 && Date.now() < formedBy) await sleep(500)
  if (components(members).length > 1) throw new Error(`the ${OLD} old nodes did not form one component in 60 s`)
  console.log(
    `${OLD} nodes joined; components ${JSON.stringify(components(members))}; DHT going away for ${OUTAGE_MS / 1000} s`
  )
  await first.close()
  await sleep(OUTAGE_MS)
  console.log(`during the outage: components ${JSON.stringify(components(members))}`)
  const second = await startBed(ports)
  const restartedAt = Date.now()
  console.log(`DHT back on the same ports (bootstrap ${second.bed.bootstrap[0]})`)
  const joins = await Promise.all(
    Array.from({ length: NEW }, async () => {
      const node = await createNode(options)
      const topic = await node.joinTopic(TOPIC, SECRET, { wait: false })
      members.push({ node, topic, old: false })
      const t0 = Date.now()
      const joined = await Promise.race([topic.joined().then(() => true), sleep(LIMIT_MS).then(() => false)]).catch(
        () => false
      )
      return joined ? Date.now() - t0 : null
    })
  )
  let oneComponentAfterMs: number | null = null
  let last: Array<number> = []
  while (Date.now() - restartedAt < LIMIT_MS) {
    last = components(members)
    if (last.length === 1) {
      oneComponentAfterMs = Date.now() - restartedAt
      break
    }
    await sleep(1000)
  }
  console.log(
    `after the restart: components ${JSON.stringify(last)}${
      oneComponentAfterMs === null ? " (limit reached)" : ` after ${oneComponentAfterMs} ms`
    }`
  )
  const result = {
    scenario: "testbed-restart",
    config: {
      oldNodes: OLD,
      newNodes: NEW,
      outageSeconds: OUTAGE_MS / 1000,
      storingNodes: STORING,
      limitSeconds: LIMIT_MS / 1000
    },
    newJoinMs: joins,
    oneComponentAfterRestartMs: oneComponentAfterMs,
    componentsAtEnd: last,
    checks: { oneComponentWithin2Minutes: oneComponentAfterMs !== null && oneComponentAfterMs <= 120_000 },
    node: process.version,
    date: new Date().toISOString()
  }
  await Promise.all(members.map((m) => m.node.close()))
  await second.close()
  mkdirSync(fileURLToPath(new URL("../bench/results/", import.meta.url)), { recursive: true })
  writeFileSync(
    fileURLToPath(new URL("../bench/results/testbed-restart.json", import.meta.url)),
    JSON.stringify(result, null, 2) + "\n"
  )
  console.log(JSON.stringify(result, null, 2))
  if (!result.checks.oneComponentWithin2Minutes) process.exitCode = 1
}

const watchdog = setTimeout(() => {
  console.error("testbed-restart: overall deadline hit")
  process.exit(2)
}, OUTAGE_MS + 2 * LIMIT_MS + 120_000)
watchdog.unref()
await main()
