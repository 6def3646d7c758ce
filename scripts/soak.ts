/**
 * Soak: N nodes in one process through the Promise facade on a loopback Testbed; every CHURN_S seconds one node
 * (picked at random) leaves and a fresh one joins; every MESSAGE_S seconds a random joined node broadcasts a
 * numbered message. Samples the process's UDP sockets, fds (from /proc, see testkit's ProcessSockets), RSS and
 * heap. Writes bench/results/soak.json.
 *
 * Delivery counts, for each message, the nodes that could have received it: joined before it was sent and still
 * alive GRACE_MS after (a node that leaves or arrives in that window is not counted either way).
 *
 *   npm run soak                      (= npx tsc -b, then this file on the compiled packages)
 * Options (env): NODES (10), MINUTES (15), CHURN_S (10), MESSAGE_S (1), GRACE_MS (5000), JOIN_TIMEOUT_MS (20000),
 * STORING (Testbed size, 12), WARMUP_S (samples left out of the slopes, 120), OUT (results file name, soak),
 * TESTBED (`process`, the default: the storing nodes run in a child `dtt testbed`; `inline`: in this process),
 * CHURN (`process`, the default: STAYING members, half of NODES, live in this process for the whole run and send
 * the messages, the others are child `dtt chat` processes, and those are the ones that leave and arrive; `inline`:
 * every member in this process, any of them may leave).
 *
 * Why churned members in child processes by default: deployed, a long-lived node sees other nodes come and go; it
 * does not create and close iroh endpoints itself. Inline, each churn event builds and frees an endpoint in this
 * process, and glibc keeps much of what the endpoint's Rust threads freed: bare @number0/iroh, 200 endpoint
 * create/connect/close cycles grew RSS 60 -> 193 MB with the default allocator settings, 56 -> 101 MB with
 * MALLOC_ARENA_MAX=1 MALLOC_TRIM_THRESHOLD_=0 MALLOC_MMAP_THRESHOLD_=32768, while 200 connections to and from
 * long-lived endpoints levelled off at 89 MB after 75. That growth has its own bar and script
 * (`npm run cycles:nodes`: 200 createNode/join/close cycles); here it would hide what the long-lived nodes do.
 *
 * Why a child process by default: the figures are about the nodes an application runs, and the storing nodes are
 * not part of one. Inline, they keep every item written to them (up to 10,000 each, as a storing node does), a
 * dozen new records and addresses a minute, and handle every get and put of the swarm in the same heap and
 * allocator: that growth showed up in this process's RSS slope. The child's RSS is sampled and reported beside.
 * Slopes are given after the warm-up and over the second half of the run: caches that fill for minutes (message
 * ids, address books, V8's code space) raise the first figure even when the second one is flat.
 */
import { GossipIroh } from "@dtt/gossip-iroh"
import { createNode, type Node, type Topic } from "distributed-topic-tracker"
import { Effect, Metric } from "effect"
import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { getHeapStatistics } from "node:v8"
import * as ProcessSockets from "../packages/testkit/dist/src/ProcessSockets.js"
import { sleep } from "./measure.js"
import { type ChildMember, childMember, childTestbed, inlineTestbed, rssOf } from "./soakProcesses.js"

const NODES = Number(process.env.NODES ?? 10)
const MINUTES = Number(process.env.MINUTES ?? 15)
const CHURN_MS = Number(process.env.CHURN_S ?? 10) * 1000
const MESSAGE_MS = Number(process.env.MESSAGE_S ?? 1) * 1000
const GRACE_MS = Number(process.env.GRACE_MS ?? 5000)
const JOIN_TIMEOUT_MS = Number(process.env.JOIN_TIMEOUT_MS ?? 20_000)
const STORING = Number(process.env.STORING ?? 12)
const OUT = process.env.OUT ?? "soak"
const TESTBED = process.env.TESTBED ?? "process"
const CHURN = process.env.CHURN ?? "process"
/** With CHURN=process: members in this process that stay the whole run (the rest are churned child processes). */
const STAYING = Number(process.env.STAYING ?? Math.ceil(NODES / 2))
const SAMPLE_MS = 10_000
const WARMUP_MS = Number(process.env.WARMUP_S ?? 120) * 1000
const TOPIC = `soak-${process.pid}`
const SECRET = "soak-secret"

const mb = (bytes: number) => Math.round((bytes / 1e6) * 10) / 10
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits

interface Member {
  readonly id: number
  /** Dropped once closed, as an application drops what it closed (in-process members only). */
  node: Node | undefined
  topic: Topic | undefined
  /** Set for a member running in a child process (CHURN=process), dropped once it has left: a kept handle holds
   * the exited process's pipes and readline, which grew this process's heap with every churn event. */
  child: ChildMember | undefined
  /** When it had joined (ms since start); undefined while joining or if it never did. */
  joinedAt: number | undefined
  leftAt: number | undefined
  readonly received: Set<number>
  lagged: number
  reading: Promise<void>
}

interface Sent {
  readonly seq: number
  readonly at: number
  readonly sender: number
}

interface Sample {
  readonly seconds: number
  readonly alive: number
  readonly udp: number
  readonly fds: number
  readonly rssMB: number
  readonly heapMB: number
  /** V8 external memory (ArrayBuffers and what addons report): tells JS-owned buffers from native growth. */
  readonly externalMB: number
  /** Pages V8's heaps of this thread hold (all spaces, code included); RSS minus this is native or other threads. */
  readonly v8PhysicalMB: number
  /** Gossip QUIC connections open in this process (gauge `gossip_iroh_connections_open`, in-process nodes). */
  readonly connections: number
  /** Threads of this process (/proc/self/task): iroh's runtime, libuv's pool, V8's helpers, loader hooks. */
  readonly threads: number
  /** RSS of the child process running the storing nodes (TESTBED=process), not part of the slopes. */
  readonly testbedRssMB: number | undefined
  /** CHURN=process: the summed RSS of the churned members' processes, not part of the slopes. */
  readonly churnedRssMB: number | undefined
}

/** Least-squares slope of y over x. */
const slope = (points: ReadonlyArray<readonly [number, number]>): number => {
  const n = points.length
  if (n < 2) return 0
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0)
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0)
  return den === 0 ? 0 : num / den
}

const percentile = (values: ReadonlyArray<number>, p: number): number | null => {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

const main = async () => {
  if (!ProcessSockets.supported) throw new Error("needs Linux /proc to count sockets")
  const before = ProcessSockets.count()
  const started = Date.now()
  const now = () => Date.now() - started
  const end = MINUTES * 60_000
  const bed = TESTBED === "inline" ? await inlineTestbed(STORING) : await childTestbed(STORING)
  const options = {
    bootstrap: bed.bootstrap,
    bindAddress: "127.0.0.1",
    gossip: { bindAddress: "127.0.0.1:0", relay: "disabled" as const }
  }

  const members: Array<Member> = []
  const joinTimes: Array<number> = []
  let joinTimeouts = 0
  let nextId = 0

  /** Counts a received soak message (its text is `soak <seq>`; anything else is ignored). */
  const receivedText = (member: Member, text: string) => {
    const match = /^soak (\d+)$/.exec(text)
    if (match) member.received.add(Number(match[1]))
  }

  const read = async (member: Member, topic: Topic) => {
    for await (const event of topic.events()) {
      if (event.type === "lagged") member.lagged += event.missed ?? 1
      if (event.type === "message") receivedText(member, new TextDecoder().decode(event.content))
    }
  }

  const awaitJoin = async (member: Member, joined: Promise<number | undefined>, counted: boolean) => {
    const took = await Promise.race([joined, sleep(JOIN_TIMEOUT_MS).then(() => undefined)]).catch(() => undefined)
    if (took !== undefined) {
      member.joinedAt = now()
      if (counted) joinTimes.push(took)
    } else if (member.leftAt === undefined) {
      joinTimeouts++
    }
  }

  const newMember = (child?: ChildMember): Member => ({
    id: nextId++,
    node: undefined,
    topic: undefined,
    child,
    joinedAt: undefined,
    leftAt: undefined,
    received: new Set(),
    lagged: 0,
    reading: Promise.resolve()
  })

  /** `counted: false` for the first member: it has nobody to join until the second arrives. */
  const spawnInline = async (counted = true): Promise<void> => {
    const member = newMember()
    const node = await createNode(options)
    const topic = await node.joinTopic(TOPIC, SECRET, { wait: false })
    member.node = node
    member.topic = topic
    member.reading = read(member, topic)
    members.push(member)
    const t0 = now()
    await awaitJoin(member, topic.joined().then(() => now() - t0), counted)
  }

  /** A member in a child process; its join time is the child's own (from its start, not counting Node's). */
  const spawnChild = async (): Promise<void> => {
    let member: Member | undefined = undefined
    const child = childMember(TOPIC, SECRET, bed.bootstrap, (text) => {
      if (member !== undefined) receivedText(member, text)
    }, (missed) => {
      if (member !== undefined) member.lagged += missed
    })
    member = newMember(child)
    members.push(member)
    await awaitJoin(member, child.joined, true)
  }

  const spawnChurned = () => (CHURN === "process" ? spawnChild() : spawnInline())

  const leave = async (member: Member) => {
    member.leftAt = now()
    await member.child?.leave()
    member.child = undefined
    await member.node?.close()
    await member.reading
    member.node = undefined
    member.topic = undefined
  }

  const alive = () => members.filter((m) => m.leftAt === undefined)
  // With --expose-gc (npm run soak sets it) every sample follows a full collection, so RSS shows what is
  // retained rather than how far V8 let its heap grow since the last major GC (in a 5-minute run without churn
  // the heap swung 58 -> 191 -> 58 MB, which drowned any slope).
  const collect = (globalThis as { gc?: () => void }).gc
  const sampleNow = (): Sample => {
    collect?.()
    const c = ProcessSockets.count()
    const m = process.memoryUsage()
    return {
      seconds: round(now() / 1000, 1),
      alive: alive().length,
      udp: c.udp,
      fds: c.fds,
      rssMB: mb(m.rss),
      heapMB: mb(m.heapUsed),
      externalMB: mb(m.external),
      v8PhysicalMB: mb(getHeapStatistics().total_physical_size),
      threads: readdirSync("/proc/self/task").length,
      connections: Effect.runSync(Metric.value(GossipIroh.openConnections)).value,
      testbedRssMB: bed.childRssMB(),
      churnedRssMB: CHURN === "process"
        ? round(alive().reduce((sum, m) => sum + (rssOf(m.child?.pid) ?? 0), 0), 1)
        : undefined
    }
  }

  // The first members join one after another, as a swarm forms. The very first one joins when the second
  // arrives; awaiting it alone counted a JoinTimeout in every run (the "1 timeout" of earlier results).
  const inProcess = CHURN === "process" ? Math.min(STAYING, NODES) : NODES
  const first = spawnInline(false)
  for (let i = 1; i < inProcess; i++) await spawnInline()
  await first
  for (let i = inProcess; i < NODES; i++) await spawnChurned()
  const samples: Array<Sample> = [sampleNow()]
  console.log(`soak: ${NODES} nodes up after ${round(now() / 1000, 1)} s; running ${MINUTES} min`)

  const sent: Array<Sent> = []
  let seq = 0
  let churnEvents = 0
  let nextChurn = now() + CHURN_MS
  let nextMessage = now()
  let nextSample = now() + SAMPLE_MS
  const pending = new Set<Promise<void>>()
  const track = (p: Promise<void>) => {
    pending.add(p)
    p.finally(() => pending.delete(p)).catch(() => undefined)
  }

  while (now() < end) {
    const t = now()
    if (t >= nextMessage) {
      nextMessage += MESSAGE_MS
      // Only members in this process send: a child's broadcast has no answer to wait for.
      const senders = alive().filter((m) => m.joinedAt !== undefined && m.topic !== undefined)
      const sender = senders[Math.floor(Math.random() * senders.length)]
      if (sender?.topic !== undefined) {
        const message = { seq: seq++, at: t, sender: sender.id }
        track(sender.topic.broadcast(`soak ${message.seq}`).then(() => void sent.push(message), () => undefined))
      }
    }
    if (t >= nextChurn) {
      nextChurn += CHURN_MS
      const candidates = alive().filter((m) => CHURN !== "process" || m.child !== undefined)
      const leaving = candidates[Math.floor(Math.random() * candidates.length)]
      if (leaving !== undefined) {
        churnEvents++
        track(leave(leaving))
        track(spawnChurned())
      }
    }
    if (t >= nextSample) {
      nextSample += SAMPLE_MS
      const s = sampleNow()
      samples.push(s)
      console.log(
        `${s.seconds} s: alive ${s.alive} udp ${s.udp} fds ${s.fds} rss ${s.rssMB} MB heap ${s.heapMB} MB external ${s.externalMB} MB v8 ${s.v8PhysicalMB} MB threads ${s.threads} conns ${s.connections} testbed ${
          s.testbedRssMB ?? "-"
        } MB churned ${s.churnedRssMB ?? "-"} MB, sent ${sent.length}`
      )
    }
    await sleep(Math.max(1, Math.min(nextMessage, nextChurn, nextSample) - now()))
  }
  await Promise.all(pending)
  await sleep(GRACE_MS)

  let expected = 0
  let delivered = 0
  for (const message of sent) {
    for (const m of members) {
      if (m.id === message.sender || m.joinedAt === undefined || m.joinedAt > message.at) continue
      if (m.leftAt !== undefined && m.leftAt < message.at + GRACE_MS) continue
      expected++
      if (m.received.has(message.seq)) delivered++
    }
  }
  const steady = samples.filter((s) => s.seconds * 1000 >= WARMUP_MS)
  const perTenMinutes = (pick: (s: Sample) => number) =>
    round(slope(steady.map((s) => [s.seconds / 600, pick(s)] as const)))

  await Promise.all(alive().map(leave))
  await bed.close()
  await GossipIroh.releaseClosedEndpoints()
  // A closed endpoint finishes QUIC's closing period (up to ~3 s) in the background before iroh frees its
  // sockets (packages/gossip-iroh/src/net/endpointClose.ts), so the end count may take that long to settle.
  const closedAt = Date.now()
  const afterAll = await ProcessSockets.settle((c) => c.udp <= before.udp && c.fds <= before.fds, 5_000)
  const settledMs = Date.now() - closedAt

  const deliveryPercent = expected === 0 ? 0 : round((100 * delivered) / expected, 3)
  const slopes = {
    udpPer10Min: perTenMinutes((s) => s.udp),
    fdsPer10Min: perTenMinutes((s) => s.fds),
    rssMBPer10Min: perTenMinutes((s) => s.rssMB),
    v8PhysicalMBPer10Min: perTenMinutes((s) => s.v8PhysicalMB),
    outsideV8MBPer10Min: perTenMinutes((s) => s.rssMB - s.v8PhysicalMB)
  }
  const secondHalf = samples.filter((s) => s.seconds * 1000 >= (MINUTES * 60_000) / 2)
  const slopesSecondHalf = {
    rssMBPer10Min: round(slope(secondHalf.map((s) => [s.seconds / 600, s.rssMB] as const))),
    heapMBPer10Min: round(slope(secondHalf.map((s) => [s.seconds / 600, s.heapMB] as const))),
    testbedRssMBPer10Min: TESTBED === "inline" ?
      undefined
      : round(slope(secondHalf.map((s) => [s.seconds / 600, s.testbedRssMB ?? 0] as const)))
  }
  const result = {
    config: {
      nodes: NODES,
      minutes: MINUTES,
      churnSeconds: CHURN_MS / 1000,
      warmupSeconds: WARMUP_MS / 1000,
      messageSeconds: MESSAGE_MS / 1000,
      graceMs: GRACE_MS,
      storingNodes: STORING,
      testbed: TESTBED,
      churn: CHURN,
      stayingInProcess: CHURN === "process" ? inProcess : undefined,
      fullGcBeforeEachSample: collect !== undefined
    },
    messagesSent: sent.length,
    delivery: { expected, delivered, percent: deliveryPercent },
    lagged: members.reduce((s, m) => s + m.lagged, 0),
    churnEvents,
    joins: {
      count: joinTimes.length,
      timeouts: joinTimeouts,
      p50Ms: percentile(joinTimes, 50),
      p99Ms: percentile(joinTimes, 99),
      maxMs: percentile(joinTimes, 100)
    },
    slopesAfterWarmup: slopes,
    slopesSecondHalf,
    afterClosingEverything: {
      before: { udp: before.udp, fds: before.fds },
      udp: afterAll.udp,
      fds: afterAll.fds,
      settledMs
    },
    checks: {
      deliveryAtLeast99_9: deliveryPercent >= 99.9,
      udpFlat: slopes.udpPer10Min <= 1,
      fdsFlat: slopes.fdsPer10Min <= 1,
      socketsBackAtStart: afterAll.udp <= before.udp && afterAll.fds <= before.fds,
      rssSlopeAtMost2MB: slopes.rssMBPer10Min <= 2
    },
    samples,
    node: process.version,
    date: new Date().toISOString()
  }
  mkdirSync(fileURLToPath(new URL("../bench/results/", import.meta.url)), { recursive: true })
  writeFileSync(
    fileURLToPath(new URL(`../bench/results/${OUT}.json`, import.meta.url)),
    JSON.stringify(result, null, 2) + "\n"
  )
  console.log(JSON.stringify({ ...result, samples: undefined }, null, 2))
  if (!Object.values(result.checks).every(Boolean)) process.exitCode = 1
}

await main()
