/**
 * One trial in its own process: `node bench/compare/dist/trial.js <ours|hyperswarm> <scenario> [bootstrap-json]`.
 * Prints one line `COMPARE_RESULT {json}` and exits; a hard deadline ends it in any case. The system is loaded
 * with a dynamic import so that the process holds only the system under test (and the memory scenario can read
 * the RSS of bare Node first).
 *
 * Scenarios (each on its own fresh 20-node loopback DHT, except `memory`, whose DHT is another process):
 *   fresh         an anchor has joined and settled; clock from the joiner's construction to its first neighbour
 *   bootstrapped  the joiner was constructed with the anchor and settled too; clock from its join call
 *   pair          two fresh peers constructed and joined together; clock to both having a neighbour
 *   pair-fast     the same with each system's `fast` variant (ours.ts, theirs.ts)
 *   swarm20       20 fresh peers constructed and joined together; clock to one connected component
 *   swarm20-fast  the same with the `fast` variants
 *   serve         only a DHT: prints `COMPARE_DHT {bootstrap}`, runs until stdin closes
 *   memory        RSS of bare Node, after the import, and with 1..MEMORY_NODES idle peers joined to one topic
 */
import { randomBytes } from "node:crypto"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import type { Peer, System, Variant } from "./system.js"

const DHT_SIZE = 20
const ANCHOR_SETTLE_MS = Number(process.env.COMPARE_SETTLE_MS ?? 2500)
const JOIN_TIMEOUT_MS = Number(process.env.COMPARE_JOIN_TIMEOUT_MS ?? 10_000)
const SWARM_SIZE = Number(process.env.COMPARE_SWARM_SIZE ?? 20)
const SWARM_TIMEOUT_MS = Number(process.env.COMPARE_SWARM_TIMEOUT_MS ?? 20_000)
const MEMORY_NODES = Number(process.env.COMPARE_MEMORY_NODES ?? 10)
const MEMORY_SETTLE_MS = Number(process.env.COMPARE_MEMORY_SETTLE_MS ?? 3000)
const HARD_DEADLINE_MS = 90_000

const [systemName, scenario, bootstrapArg] = process.argv.slice(2)
const bareRss = process.memoryUsage().rss

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const round = (x: number) => Math.round(x * 10) / 10
const mb = (bytes: number) => Math.round((bytes / 1e6) * 10) / 10
const within = <A>(promise: Promise<A>, ms: number): Promise<A | undefined> =>
  Promise.race([promise, sleep(ms).then(() => undefined)])

const emit = (result: object) => console.log(`COMPARE_RESULT ${JSON.stringify(result)}`)

/** Close everything, but never wait more than a few seconds for it: the process exits right after. */
const closeAll = (items: ReadonlyArray<{ close(): Promise<void> }>) =>
  within(Promise.allSettled(items.map((item) => item.close())), 5_000)

const loadSystem = async (): Promise<System> =>
  systemName === "ours" ? (await import("./ours.js")).system : (await import("./theirs.js")).system

const topicName = () => `compare-${randomBytes(8).toString("hex")}`

/** Late joiner: an anchor joined and settled first. `clockFrom`: the joiner's construction or its join call. */
const lateJoin = async (system: System, clockFrom: "construction" | "join") => {
  const dht = await system.startDht(DHT_SIZE)
  const topic = topicName()
  const anchor = await system.createPeer(dht.bootstrap, "default")
  await anchor.join(topic)
  let joiner: Peer | undefined
  if (clockFrom === "join") {
    joiner = await system.createPeer(dht.bootstrap, "default")
    await joiner.bootstrapped()
  }
  await sleep(ANCHOR_SETTLE_MS)
  const start = performance.now()
  if (joiner === undefined) joiner = await system.createPeer(dht.bootstrap, "default")
  const constructed = performance.now()
  await joiner.join(topic)
  const joinReturned = performance.now()
  const first = await within(joiner.firstNeighbour, JOIN_TIMEOUT_MS)
  await closeAll([joiner, anchor, dht])
  return {
    ok: first !== undefined,
    ms: first === undefined ? undefined : round(first - start),
    constructMs: round(constructed - start),
    joinCallMs: round(joinReturned - constructed)
  }
}

const pair = async (system: System, variant: Variant) => {
  const dht = await system.startDht(DHT_SIZE)
  const topic = topicName()
  const start = performance.now()
  const peers = await Promise.all([0, 1].map(() => system.createPeer(dht.bootstrap, variant)))
  await Promise.all(peers.map((p) => p.join(topic)))
  const firsts = await Promise.all(
    peers.map((p) => within(p.firstNeighbour, JOIN_TIMEOUT_MS - (performance.now() - start)))
  )
  await closeAll([...peers, dht])
  const ok = firsts.every((t) => t !== undefined)
  const times = firsts.filter((t): t is number => t !== undefined).map((t) => t - start)
  return {
    ok,
    ms: ok ? round(Math.max(...times)) : undefined,
    firstMs: times.length > 0 ? round(Math.min(...times)) : undefined
  }
}

/** Size of the largest connected component of the (undirected) neighbour graph. */
const largestComponent = (peers: ReadonlyArray<Peer>) => {
  const index = new Map(peers.map((p, i) => [p.id, i]))
  const parent = peers.map((_, i) => i)
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)))
  peers.forEach((p, i) => {
    for (const n of p.neighbours()) {
      const j = index.get(n)
      if (j !== undefined) parent[find(i)] = find(j)
    }
  })
  const sizes = new Map<number, number>()
  for (let i = 0; i < peers.length; i++) sizes.set(find(i), (sizes.get(find(i)) ?? 0) + 1)
  return Math.max(...sizes.values())
}

const swarm = async (system: System, variant: Variant) => {
  const dht = await system.startDht(DHT_SIZE)
  const topic = topicName()
  const start = performance.now()
  const peers = await Promise.all(Array.from({ length: SWARM_SIZE }, () => system.createPeer(dht.bootstrap, variant)))
  const allStarted = performance.now()
  await Promise.all(peers.map((p) => p.join(topic)))
  let largest = 0
  let oneComponentAt: number | undefined
  while (performance.now() - start < SWARM_TIMEOUT_MS) {
    largest = largestComponent(peers)
    // One component, and every peer sees a neighbour itself (a half-open connection links the graph too).
    if (largest === peers.length && peers.every((p) => p.neighbours().length > 0)) {
      oneComponentAt = performance.now()
      break
    }
    await sleep(25)
  }
  const firsts = await Promise.all(peers.map((p) => within(p.firstNeighbour, 0)))
  await closeAll([...peers, dht])
  return {
    ok: oneComponentAt !== undefined,
    ms: oneComponentAt === undefined ? undefined : round(oneComponentAt - start),
    startedWithinMs: round(allStarted - start),
    largestComponent: largest,
    withNeighbour: firsts.filter((t) => t !== undefined).length
  }
}

const serve = async (system: System) => {
  const dht = await system.startDht(DHT_SIZE)
  console.log(`COMPARE_DHT ${JSON.stringify(dht.bootstrap)}`)
  await new Promise<void>((resolve) => {
    process.stdin.on("end", resolve).on("close", resolve).resume()
  })
  await closeAll([dht])
  return undefined
}

const memory = async (system: System, bootstrap: unknown) => {
  setFlagsFromString("--expose-gc")
  const gc = runInNewContext("gc") as () => void
  const rss = () => {
    gc()
    gc()
    return mb(process.memoryUsage().rss)
  }
  const imported = rss()
  const topic = topicName()
  const peers: Array<Peer> = []
  const withNodes: Array<number> = []
  for (let i = 0; i < MEMORY_NODES; i++) {
    const peer = await system.createPeer(bootstrap, "default")
    await peer.join(topic)
    peers.push(peer)
    await sleep(MEMORY_SETTLE_MS)
    withNodes.push(rss())
  }
  const neighbours = peers.map((p) => p.neighbours().length)
  await closeAll(peers)
  return { ok: true, bareMB: mb(bareRss), importedMB: imported, withNodesMB: withNodes, neighbours }
}

const main = async () => {
  setTimeout(() => {
    emit({ ok: false, error: `hard deadline ${HARD_DEADLINE_MS} ms` })
    process.exit(2)
  }, HARD_DEADLINE_MS).unref()
  const system = await loadSystem()
  const result = scenario === "fresh" ?
    await lateJoin(system, "construction")
    : scenario === "bootstrapped" ?
    await lateJoin(system, "join")
    : scenario === "pair" ?
    await pair(system, "default")
    : scenario === "pair-fast" ?
    await pair(system, "fast")
    : scenario === "swarm20" ?
    await swarm(system, "default")
    : scenario === "swarm20-fast" ?
    await swarm(system, "fast")
    : scenario === "serve" ?
    await serve(system)
    : scenario === "memory" ?
    await memory(system, JSON.parse(bootstrapArg ?? "null"))
    : { ok: false, error: `unknown scenario ${scenario}` }
  if (result !== undefined) emit(result)
  process.exit(0)
}

main().catch((error: unknown) => {
  emit({ ok: false, error: String(error instanceof Error ? (error.stack ?? error.message) : error) })
  process.exit(1)
})
