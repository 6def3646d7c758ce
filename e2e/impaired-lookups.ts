/**
 * Where a join's DHT time goes on an impaired Testbed: one client does `rounds` × (get, put) of one BEP44 item
 * against a Testbed with latency, jitter, loss and silent nodes, and prints per operation its wall time, the
 * requests it sent and how many of them it waited on until the request timeout. Prints figures, asserts nothing.
 *
 * Usage: tsx --conditions=source e2e/impaired-lookups.ts [size=30] [one-way ms=75] [loss=0.02] [silent=0.3] [rounds=6] [seed=1]
 */
import { Bep44, Crypto } from "@dtt/core"
import { DhtMainline, Testbed } from "@dtt/dht-mainline"
import { Chunk, Clock, Duration, Effect, Stream } from "effect"

const [size = "30", oneWay = "75", loss = "0.02", silent = "0.3", rounds = "6", seed = "1"] = process.argv.slice(2)
const link = { latency: Duration.millis(Number(oneWay)), jitter: Duration.millis(10), loss: Number(loss) }

const program = Effect.gen(function*() {
  const crypto = yield* Crypto.Crypto
  const bed = yield* Testbed.make({
    size: Number(size),
    seed: Number(seed),
    silentShare: Number(silent),
    impairment: { inbound: link, outbound: link }
  })
  const client = yield* DhtMainline.makeNode(bed.clientOptions())
  const secret = new Uint8Array(32).fill(9)
  const publicKey = yield* Effect.sync(() => crypto.ed25519PublicKey(secret))
  const rows: Array<Record<string, unknown>> = []
  const measure = <A, E>(op: string, round: number, effect: Effect.Effect<A, E>) =>
    Effect.gen(function*() {
      const before = { ...client.stats }
      const t0 = yield* Clock.currentTimeMillis
      const result = yield* Effect.either(effect)
      const ms = (yield* Clock.currentTimeMillis) - t0
      const row = {
        op,
        round,
        ms,
        ok: result._tag === "Right",
        sent: client.stats.requestsSent - before.requestsSent,
        timeouts: client.stats.timeouts - before.timeouts,
        ...(result._tag === "Right" && Chunk.isChunk(result.right) ? { items: Chunk.size(result.right) } : {}),
        stalled: client.stats.stalledRequests - before.stalledRequests
      }
      rows.push(row)
      console.log(JSON.stringify(row))
    })
  yield* measure("bootstrap", 0, client.bootstrap)
  for (let r = 1; r <= Number(rounds); r++) {
    const salt = new TextEncoder().encode(`slot-${r}`)
    const value = new TextEncoder().encode(`value ${r}`)
    const seq = BigInt(r)
    const item = { publicKey, salt, seq, value, signature: crypto.sign(secret, Bep44.signable(salt, seq, value)) }
    yield* measure("get", r, Stream.runCollect(client.transport.lookup(publicKey, salt)))
    yield* measure("put", r, client.transport.store(item, undefined))
    yield* measure("get-after-put", r, Stream.runCollect(client.transport.lookup(publicKey, salt)))
  }
  const ms = (op: string) => rows.filter((x) => x.op === op).map((x) => x.ms as number)
  const avg = (xs: Array<number>) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length))
  console.log(
    JSON.stringify({
      summary: true,
      silent: bed.silent.length,
      getAvgMs: avg(ms("get")),
      putAvgMs: avg(ms("put")),
      getAfterPutAvgMs: avg(ms("get-after-put"))
    })
  )
})

Effect.runPromise(Effect.scoped(program).pipe(Effect.provide(Crypto.layer))).then(
  () => process.exit(0),
  (e) => {
    console.error(String(e))
    process.exit(1)
  }
)
