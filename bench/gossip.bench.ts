// A 20-node iroh-gossip swarm on real loopback endpoints (127.0.0.1, relays off), all nodes in this one process:
// swarm formation time, broadcast delivery ratio and latency (random senders, one message at a time), how many
// messages per second one node can broadcast while every other node still receives them (stepped offered rates),
// and the memory one node costs. Writes bench/results/gossip.json.
//
// Every node shares this process's 2-core budget with the other 19, so the throughput figures are those of the
// whole swarm on one machine (20 protocol actors, 20 QUIC stacks), not of one node with a machine to itself.
import { type EndpointId, type Gossip, NodeIdentity } from "@dtt/core"
import { GossipIroh } from "@dtt/gossip-iroh"
import { Overlay } from "@dtt/testkit"
import { Duration, Effect, Stream } from "effect"
import { writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

const NODES = 20
const LATENCY_MESSAGES = 60
const LATENCY_SPACING = Duration.millis(100)
const PAYLOAD_BYTES = 256
/** Offered rates (messages/s from one sender) of the throughput steps; each runs for STEP_SECONDS. */
const RATES = (process.env["GOSSIP_BENCH_RATES"] ?? "25,50,100,200,400").split(",").map(Number)
const STEP_SECONDS = 3
/** After the last send of a step we wait for the missing deliveries until none arrived for this long... */
const QUIET = Duration.seconds(2)
/** ...or at most this long; what has not arrived then counts as lost. */
const DRAIN_MAX = Duration.seconds(15)
/** Steps stop after one that delivered less than this share (higher rates would only pile up more). */
const GIVE_UP_RATIO = 0.5
/**
 * A step "sustains" its rate when at least this share of the expected deliveries arrived AND every receiver got
 * messages at no less than KEEP_UP of the rate they were sent at (otherwise a backlog grows and latency with it).
 */
const SUSTAINED_RATIO = 0.999
const KEEP_UP = 0.9

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void
const memory = () => {
  gc()
  gc()
  return process.memoryUsage()
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
const round = (x: number) => Math.round(x * 100) / 100
const summary = (samples: ReadonlyArray<number>) => {
  if (samples.length === 0) return { n: 0 }
  const s = [...samples].sort((a, b) => a - b)
  return {
    n: s.length,
    p50: round(percentile(s, 50)),
    p95: round(percentile(s, 95)),
    p99: round(percentile(s, 99)),
    max: round(s[s.length - 1]!),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length)
  }
}

/** Message = 4-byte sequence number, then filler up to PAYLOAD_BYTES. */
const payload = (seq: number) => {
  const bytes = new Uint8Array(PAYLOAD_BYTES).fill(0x61)
  new DataView(bytes.buffer).setUint32(0, seq)
  return bytes
}
const seqOf = (content: Uint8Array) => new DataView(content.buffer, content.byteOffset, content.byteLength).getUint32(0)

interface Delivery {
  readonly at: number
  readonly hops: number
}

/** Per node: first delivery of every sequence number, and how many duplicates it saw. */
interface Receiver {
  readonly firsts: Map<number, Delivery>
  duplicates: number
  lagged: number
}

/** The active views of the swarm are `Overlay.connected`: every member reaches every other one along them. */
const overlayConnected = (members: ReadonlyArray<{ id: EndpointId.EndpointId; topic: Gossip.GossipTopic }>) =>
  Effect.map(
    Effect.forEach(members, (m) => Effect.map(m.topic.neighbors, (ns) => [m.id, ns] as const)),
    (entries) => Overlay.connected(new Map(entries))
  )

const program = Effect.gen(function*() {
  const before = memory()
  const startMs = performance.now()
  const services = yield* Effect.forEach(
    Array.from({ length: NODES }),
    () =>
      GossipIroh.make({ bindAddr: "127.0.0.1:0" }).pipe(
        Effect.provideService(NodeIdentity.NodeIdentity, NodeIdentity.generate())
      ),
    { concurrency: "unbounded" }
  )
  const bound = memory()
  // Only the bootstrap node's address is handed out; everything else is learned through gossip.
  const bootAddr = yield* services[0]!.addr
  for (const s of services.slice(1)) yield* s.addAddress(bootAddr)
  const topicId = new Uint8Array(32).fill(0x42)
  const receivers: Array<Receiver> = []
  const topics: Array<Gossip.GossipTopic> = []
  for (const [i, s] of services.entries()) {
    const topic = yield* s.subscribe(topicId, i === 0 ? [] : [services[0]!.endpointId])
    const r: Receiver = { firsts: new Map(), duplicates: 0, lagged: 0 }
    yield* Stream.runForEach(topic.events, (e) =>
      Effect.sync(() => {
        if (e._tag === "Lagged") r.lagged++
        if (e._tag !== "Received") return
        const seq = seqOf(e.content)
        if (r.firsts.has(seq)) r.duplicates++
        else r.firsts.set(seq, { at: performance.now(), hops: e.scope._tag === "Swarm" ? e.scope.hops : 0 })
      })).pipe(Effect.forkScoped)
    topics.push(topic)
    receivers.push(r)
  }
  const members = services.map((s, i) => ({ id: s.endpointId, topic: topics[i]! }))
  const formStart = performance.now()
  while (!(yield* overlayConnected(members))) {
    if (performance.now() - formStart > 60_000) return yield* Effect.dieMessage("the swarm did not connect within 60 s")
    yield* Effect.sleep(Duration.millis(20))
  }
  const formedMs = performance.now() - startMs
  const formedAfterSubscribeMs = performance.now() - formStart
  const formed = memory()
  const views = yield* Effect.forEach(topics, (t) => Effect.map(t.neighbors, (ns) => ns.length))

  const framesInTotal = () => services.reduce((n, s) => n + s.stats.framesIn, 0)
  const framesAtStart = framesInTotal()
  let nextSeq = 0
  const sentAt = new Map<number, { at: number; sender: number }>()
  const send = (sender: number) =>
    Effect.suspend(() => {
      const seq = nextSeq++
      sentAt.set(seq, { at: performance.now(), sender })
      return topics[sender]!.broadcast(payload(seq))
    })

  /** Deliveries of the given sequence numbers: ratio, latencies, hops. */
  const measure = (seqs: ReadonlyArray<number>) => {
    const latencies: Array<number> = []
    const hops: Array<number> = []
    let delivered = 0
    let lastAt = 0
    for (const seq of seqs) {
      const sent = sentAt.get(seq)!
      for (const [i, r] of receivers.entries()) {
        if (i === sent.sender) continue
        const d = r.firsts.get(seq)
        if (d === undefined) continue
        delivered++
        latencies.push(d.at - sent.at)
        hops.push(d.hops)
        lastAt = Math.max(lastAt, d.at)
      }
    }
    const expected = seqs.length * (NODES - 1)
    return { expected, delivered, ratio: expected === 0 ? 1 : delivered / expected, latencies, hops, lastAt }
  }
  const allDelivered = (seqs: ReadonlyArray<number>) => measure(seqs).delivered === seqs.length * (NODES - 1)
  const drain = (seqs: ReadonlyArray<number>) =>
    Effect.gen(function*() {
      const until = performance.now() + Duration.toMillis(DRAIN_MAX)
      let count = measure(seqs).delivered
      let progressAt = performance.now()
      while (
        !allDelivered(seqs) && performance.now() < until && performance.now() - progressAt < Duration.toMillis(QUIET)
      ) {
        yield* Effect.sleep(Duration.millis(20))
        const now = measure(seqs).delivered
        if (now !== count) {
          count = now
          progressAt = performance.now()
        }
      }
    })

  // 1. Latency: one message at a time from a rotating sender, spaced so messages do not overlap.
  const latencySeqs: Array<number> = []
  for (let k = 0; k < LATENCY_MESSAGES; k++) {
    latencySeqs.push(nextSeq)
    yield* send((k * 7) % NODES)
    yield* Effect.sleep(LATENCY_SPACING)
  }
  yield* drain(latencySeqs)
  const latency = measure(latencySeqs)

  // 2. Throughput: one sender, stepped offered rates, sends in 10 ms ticks.
  const sender = 5
  const steps = []
  for (const rate of RATES) {
    const seqs: Array<number> = []
    const total = rate * STEP_SECONDS
    const t0 = performance.now()
    while (seqs.length < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1)
      while (seqs.length < due) {
        seqs.push(nextSeq)
        yield* send(sender)
      }
      yield* Effect.sleep(Duration.millis(10))
    }
    const sendSeconds = (performance.now() - t0) / 1000
    yield* drain(seqs)
    const m = measure(seqs)
    const deliverySeconds = (m.lastAt - t0) / 1000
    steps.push({
      offeredPerSecond: rate,
      sent: total,
      sentPerSecond: round(total / sendSeconds),
      deliveryRatio: round(m.ratio * 10_000) / 10_000,
      // Messages per second every receiver got, from the first send to the last delivery.
      deliveredPerSecondPerReceiver: round(m.delivered / (NODES - 1) / deliverySeconds),
      latencyMs: summary(m.latencies)
    })
    if (m.ratio < GIVE_UP_RATIO) break
    // Let queues empty before the next step.
    yield* Effect.sleep(Duration.millis(500))
  }
  const sustained = steps
    .filter((s) => s.deliveryRatio >= SUSTAINED_RATIO && s.deliveredPerSecondPerReceiver >= KEEP_UP * s.sentPerSecond)
    .map((s) => s.offeredPerSecond)
  const loaded = memory()

  const totals = services.reduce(
    (acc, s) => ({
      framesDropped: acc.framesDropped + s.stats.framesDropped,
      framesIn: acc.framesIn + s.stats.framesIn,
      dialsStarted: acc.dialsStarted + s.stats.dialsStarted,
      dialsFailed: acc.dialsFailed + s.stats.dialsFailed,
      actorErrors: acc.actorErrors + s.stats.actorErrors
    }),
    { framesDropped: 0, framesIn: 0, dialsStarted: 0, dialsFailed: 0, actorErrors: 0 }
  )
  const openConnections = yield* Effect.forEach(services, (s) => s.openConnections)
  const perNode = (a: NodeJS.MemoryUsage, b: NodeJS.MemoryUsage) => ({
    rssBytes: Math.round((b.rss - a.rss) / NODES),
    heapUsedBytes: Math.round((b.heapUsed - a.heapUsed) / NODES)
  })

  return {
    benchmark: "iroh-gossip swarm on loopback endpoints (@dtt/gossip-iroh over @number0/iroh)",
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    swarm: {
      nodes: NODES,
      bootstrap: "every node joins through node 0 (only its address given)",
      formedMs: Math.round(formedMs),
      connectedAfterSubscribeMs: Math.round(formedAfterSubscribeMs),
      activeViewSize: summary(views),
      openConnectionsPerNode: summary(openConnections)
    },
    payloadBytes: PAYLOAD_BYTES,
    latency: {
      messages: LATENCY_MESSAGES,
      spacingMs: Duration.toMillis(LATENCY_SPACING),
      senders: "rotating",
      deliveryRatio: round(latency.ratio * 10_000) / 10_000,
      latencyMs: summary(latency.latencies),
      hops: summary(latency.hops)
    },
    throughput: {
      sender: "one node",
      stepSeconds: STEP_SECONDS,
      steps,
      sustainedPerSecond: sustained.length === 0 ? 0 : Math.max(...sustained),
      sustainedMeans: `highest offered rate with delivery ratio >= ${SUSTAINED_RATIO} at all ${
        NODES - 1
      } receivers, each receiving at >= ${KEEP_UP} x the send rate`
    },
    duplicatesDelivered: receivers.reduce((n, r) => n + r.duplicates, 0),
    laggedEvents: receivers.reduce((n, r) => n + r.lagged, 0),
    driverTotals: totals,
    /** Protocol frames received per message sent, swarm-wide (payload copies, IHaves, Grafts, Prunes, membership). */
    framesPerBroadcast: round((totals.framesIn - framesAtStart) / nextSeq),
    memoryPerNode: {
      bound: perNode(before, bound),
      swarmFormed: perNode(before, formed),
      afterThroughput: perNode(before, loaded)
    }
  }
})

const result = await Effect.runPromise(Effect.scoped(program))
const t = result.throughput
console.log(
  `\n${NODES}-node swarm formed in ${result.swarm.formedMs} ms (active views ${
    JSON.stringify(result.swarm.activeViewSize)
  })`
)
console.log(
  `latency (${result.latency.messages} broadcasts, rotating senders): delivery ${
    (result.latency.deliveryRatio * 100).toFixed(2)
  }%, ` +
    `p50 ${result.latency.latencyMs.p50} ms, p95 ${result.latency.latencyMs.p95} ms, max ${result.latency.latencyMs.max} ms, hops p95 ${result.latency.hops.p95}`
)
for (const s of t.steps) {
  console.log(
    `offered ${s.offeredPerSecond}/s: sent ${s.sentPerSecond}/s, delivery ${(s.deliveryRatio * 100).toFixed(2)}%, ` +
      `${s.deliveredPerSecondPerReceiver}/s per receiver, latency p50 ${s.latencyMs.p50} ms p95 ${s.latencyMs.p95} ms`
  )
}
console.log(`sustained: ${t.sustainedPerSecond} msg/s from one node (${t.sustainedMeans})`)
console.log(
  `memory per node: RSS ${(result.memoryPerNode.swarmFormed.rssBytes / 1024 / 1024).toFixed(2)} MiB after joining, ` +
    `${(result.memoryPerNode.afterThroughput.rssBytes / 1024 / 1024).toFixed(2)} MiB after the throughput steps`
)
console.log(
  `duplicates ${result.duplicatesDelivered}, lagged ${result.laggedEvents}, driver ${
    JSON.stringify(result.driverTotals)
  }`
)
writeFileSync("bench/results/gossip.json", JSON.stringify(result, null, 2) + "\n")
