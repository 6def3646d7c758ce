/**
 * 200 createNode/join/close cycles through the Promise facade against one long-lived node on a loopback Testbed,
 * sampling the process's UDP sockets, fds (from /proc, see testkit's ProcessSockets), RSS and JS heap. Checks that
 * after closing everything sockets and fds are back at the start, and that RSS grew ≤ 20 MB after the first 20
 * cycles. Writes bench/results/node-cycles.json.
 *
 * Runs on the compiled packages (memory figures of tsx-transpiled sources would include the transpiler):
 *   npm run cycles:nodes            (= npx tsc -b, then this file; tsx only transpiles this script)
 * Options (env): CYCLES (200), LANES (cycles run side by side, 4), JOIN_WAIT_MS (per cycle, 1500).
 */
import { Crypto } from "@dtt/core"
import { Testbed } from "@dtt/dht-mainline"
import { GossipIroh } from "@dtt/gossip-iroh"
import { createNode, type Node, type Topic } from "distributed-topic-tracker"
import { Effect, Exit, Scope } from "effect"
import { mkdirSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as ProcessSockets from "../packages/testkit/dist/src/ProcessSockets.js"
import { sleep } from "./measure.js"

const CYCLES = Number(process.env.CYCLES ?? 200)
const LANES = Number(process.env.LANES ?? 4)
const JOIN_WAIT_MS = Number(process.env.JOIN_WAIT_MS ?? 1500)
const TOPIC = "node-cycles"
const DEADLINE = Date.now() + 20 * 60_000

const mb = (bytes: number) => Math.round((bytes / 1e6) * 10) / 10

interface Sample {
  readonly cycles: number
  readonly seconds: number
  readonly udp: number
  readonly fds: number
  readonly rssMB: number
  readonly heapMB: number
}

const started = Date.now()
const sample = (cycles: number): Sample => {
  const c = ProcessSockets.count()
  const m = process.memoryUsage()
  return {
    cycles,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    udp: c.udp,
    fds: c.fds,
    rssMB: mb(m.rss),
    heapMB: mb(m.heapUsed)
  }
}

const main = async () => {
  if (!ProcessSockets.supported) throw new Error("needs Linux /proc to count sockets")
  const start = ProcessSockets.count()
  const scope = Effect.runSync(Scope.make())
  const bed = await Effect.runPromise(
    Testbed.make({ size: 8 }).pipe(Scope.extend(scope), Effect.provide(Crypto.layerNode))
  )
  const options = {
    bootstrap: bed.bootstrap,
    bindAddress: "127.0.0.1",
    gossip: { bindAddress: "127.0.0.1:0", relay: "disabled" as const, preset: "minimal" as const }
  }
  let anchor: Node | undefined = await createNode(options)
  let anchorTopic: Topic | undefined = await anchor.joinTopic(TOPIC, "secret", { wait: false })
  let received = 0
  const reading = (async (messages: AsyncIterable<unknown>) => {
    for await (const _ of messages) received++
  })(anchorTopic.messages())

  let joined = 0
  let failures = 0
  const cycle = async (i: number) => {
    const node = await createNode(options)
    try {
      const topic = await node.joinTopic(TOPIC, "secret", { wait: false })
      const ok = await Promise.race([topic.joined().then(() => true), sleep(JOIN_WAIT_MS).then(() => false)]).catch(
        () => false
      )
      if (ok) joined++
      await topic.broadcast(`cycle ${i}`).catch(() => undefined)
    } catch {
      failures++
    } finally {
      await node.close()
    }
  }

  const samples: Array<Sample> = [sample(0)]
  let next = 0
  let done = 0
  const lane = async () => {
    while (next < CYCLES && Date.now() < DEADLINE) {
      await cycle(next++)
      done++
      if (done % 10 === 0) {
        samples.push(sample(done))
        const s = samples.at(-1)!
        console.log(`${done} cycles: udp ${s.udp} fds ${s.fds} rss ${s.rssMB} MB heap ${s.heapMB} MB (${s.seconds} s)`)
      }
    }
  }
  await Promise.all(Array.from({ length: LANES }, lane))
  await sleep(500)
  const afterCycles = sample(done)
  await anchor.close()
  await reading
  await Effect.runPromise(Scope.close(scope, Exit.void))
  // A closed Node/Topic handle still reaches its (closed) endpoint; drop ours so its sockets can go too.
  anchor = undefined
  anchorTopic = undefined
  await GossipIroh.releaseClosedEndpoints()
  const end = await ProcessSockets.settle((c) => c.udp <= start.udp && c.fds <= start.fds, 5_000)
  const at20 = samples.find((s) => s.cycles >= 20) ?? samples[0]!
  const result = {
    cycles: done,
    lanes: LANES,
    joinedWithin: { ms: JOIN_WAIT_MS, count: joined },
    failures,
    receivedByAnchor: received,
    start: { udp: start.udp, fds: start.fds },
    afterCycles,
    afterClosingEverything: { udp: end.udp, fds: end.fds, sockets: end.sockets },
    rssGrowthAfter20CyclesMB: Math.round((afterCycles.rssMB - at20.rssMB) * 10) / 10,
    heapGrowthAfter20CyclesMB: Math.round((afterCycles.heapMB - at20.heapMB) * 10) / 10,
    checks: {
      socketsBackAtStart: end.udp <= start.udp,
      fdsBackAtStart: end.fds <= start.fds,
      rssGrowthAtMost20MB: afterCycles.rssMB - at20.rssMB <= 20
    },
    samples,
    node: process.version,
    date: new Date().toISOString()
  }
  const out = fileURLToPath(new URL("../bench/results/node-cycles.json", import.meta.url))
  mkdirSync(fileURLToPath(new URL("../bench/results/", import.meta.url)), { recursive: true })
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n")
  console.log(JSON.stringify({ ...result, samples: undefined }, null, 2))
  if (!Object.values(result.checks).every(Boolean)) process.exitCode = 1
}

await main()
