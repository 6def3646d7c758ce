// Latency of BEP44 get and put on a 50-node loopback Testbed (real UDP, 127.0.0.1 only), and the memory the
// Testbed takes per node, empty and after the writes. Writes bench/results/dht.json.
import { Bep44, Crypto, type Dht } from "@dtt/core"
import { DhtMainline, Testbed } from "@dtt/dht-mainline"
import { ed25519 } from "@noble/curves/ed25519.js"
import { Duration, Effect } from "effect"
import { writeFileSync } from "node:fs"
import { cpus } from "node:os"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

const NODES = 50
const OPS = 200
const VALUE_BYTES = 604 // a distributed-topic-tracker gossip record

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void
const heap = () => {
  gc()
  gc()
  return process.memoryUsage()
}

const item = (n: number): Dht.MutableItem => {
  const seed = new Uint8Array(32)
  new DataView(seed.buffer).setUint32(0, n + 1)
  const salt = new TextEncoder().encode(`bench-slot-${n}`)
  const value = new Uint8Array(VALUE_BYTES).fill(n & 0xff)
  return {
    publicKey: ed25519.getPublicKey(seed),
    salt,
    seq: Bep44.SEQ_I64_MAX,
    value,
    signature: ed25519.sign(Bep44.signable(salt, Bep44.SEQ_I64_MAX, value), seed)
  }
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
const summary = (samples: Array<number>) => {
  const s = [...samples].sort((a, b) => a - b)
  const round = (x: number) => Math.round(x * 100) / 100
  return {
    n: s.length,
    p50: round(percentile(s, 50)),
    p95: round(percentile(s, 95)),
    max: round(s[s.length - 1]!),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length)
  }
}

const timed = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const result = yield* effect
    return { result, ms: performance.now() - start }
  })

const program = Effect.gen(function*() {
  const items = Array.from({ length: OPS }, (_, n) => item(n))
  const before = heap()
  const bootStart = performance.now()
  const bed = yield* Testbed.make({ size: NODES })
  const bootMs = performance.now() - bootStart
  const empty = heap()
  const { dht, node: client } = yield* DhtMainline.makeService(
    bed.clientOptions({ dht: { retries: 0, putTimeout: Duration.seconds(10), getTimeout: Duration.seconds(10) } })
  )
  const sentBeforePuts = client.stats.requestsSent
  const putMs: Array<number> = []
  const storedAt: Array<number> = []
  for (const it of items) {
    const { result, ms } = yield* timed(dht.putMutable(it, { cas: Bep44.SEQ_I64_MAX }))
    putMs.push(ms)
    storedAt.push(result.storedAt)
  }
  const sentBeforeGets = client.stats.requestsSent
  const getMs: Array<number> = []
  let found = 0
  for (const it of items) {
    const { result, ms } = yield* timed(dht.getMutable(it.publicKey, it.salt))
    getMs.push(ms)
    if (result.length === 1) found++
  }
  const sentAfterGets = client.stats.requestsSent
  const loaded = heap()
  const perNode = (a: NodeJS.MemoryUsage, b: NodeJS.MemoryUsage) => ({
    heapUsedBytes: Math.round((b.heapUsed - a.heapUsed) / NODES),
    rssBytes: Math.round((b.rss - a.rss) / NODES)
  })
  return {
    benchmark: "dht-mainline on a loopback Testbed",
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    testbed: { nodes: NODES, rule: "last-writer-wins", bootstrapMs: Math.round(bootMs) },
    operations: OPS,
    valueBytes: VALUE_BYTES,
    putMs: summary(putMs),
    getMs: summary(getMs),
    putStoredAt: summary(storedAt),
    getFoundExactlyOne: found,
    requestsPerPut: (sentBeforeGets - sentBeforePuts) / OPS,
    requestsPerGet: (sentAfterGets - sentBeforeGets) / OPS,
    memoryPerNode: {
      empty: perNode(before, empty),
      afterWrites: {
        ...perNode(before, loaded),
        itemsHeldPerNode: bed.nodes.reduce((n, x) => n + x.storedCount(), 0) / NODES
      }
    }
  }
})

const result = await Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(Crypto.layer)))
console.log(JSON.stringify(result, null, 2))
writeFileSync("bench/results/dht.json", JSON.stringify(result, null, 2) + "\n")
