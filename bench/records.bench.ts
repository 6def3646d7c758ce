// Throughput of the record layer on one core, for both Crypto layers:
//  - seal: Record.sign (node key) + EncryptedRecord.sealRecord (one-time key, two HPKE seals, framing);
//  - open: EncryptedRecord.openRecord (two HPKE opens, decode, topic/minute checks, verify_strict).
// Gossip-sized records (320-byte content, 604-byte values). Writes bench/results/records.json.
//
// Two rates per case: wall-clock operations per second, and operations per CPU-second of this process
// (user + system time). The machine is shared, so the CPU-time rate is the one that measures the code: it is
// what one core would do if it were ours alone.
import { Crypto, EncryptedRecord, GossipRecordContent, Keys, Record, TopicId } from "@dtt/core"
import { Effect } from "effect"
import { writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"

const SECONDS_PER_CASE = Number(process.env.RECORDS_BENCH_SECONDS ?? 3)
const GOAL_PER_SECOND = 2000

const topic = TopicId.fromName("bench-topic")
const secretHash = Keys.initialSecretHash("bench-secret")
const minute = 29_000_000n
const nodeKey = new Uint8Array(32).fill(0x5a)
const content = GossipRecordContent.encode(GossipRecordContent.empty)

const sealOne = Effect.flatMap(
  Record.sign({ topic, unixMinute: minute, content, secretKey: nodeKey }),
  (record) => EncryptedRecord.sealRecord(record, topic, secretHash)
)

/**
 * Runs `op` back to back for about `seconds`; returns wall-clock and CPU-time rates. Operations run in batches
 * of 100 inside one fiber, as they would inside an actor, so the figure is not dominated by starting a runtime
 * per operation.
 */
const throughput = (
  service: Crypto.CryptoService,
  op: (i: number) => Effect.Effect<unknown, unknown, Crypto.Crypto>
) => {
  const batch = (from: number, size: number) =>
    Effect.runSync(
      Effect.provideService(
        Effect.gen(function*() {
          for (let i = from; i < from + size; i++) yield* op(i)
        }),
        Crypto.Crypto,
        service
      )
    )
  batch(0, 50) // warm-up (JIT, key caches)
  let count = 0
  const start = performance.now()
  const cpuStart = process.cpuUsage()
  const deadline = start + SECONDS_PER_CASE * 1000
  while (performance.now() < deadline) {
    batch(count, 100)
    count += 100
  }
  const seconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuStart)
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  return {
    operations: count,
    wallSeconds: Math.round(seconds * 100) / 100,
    cpuSeconds: Math.round(cpuSeconds * 100) / 100,
    perWallSecond: Math.round(count / seconds),
    perCpuSecond: Math.round(count / cpuSeconds),
    cpuMicrosPerOp: Math.round((cpuSeconds * 1e6) / count)
  }
}

const results: Record<string, unknown> = {}
for (const implementation of ["node", "noble"] as const) {
  const service = Crypto.make(implementation)
  // A pool of distinct values so opens do not all hit the same cached keys more than real traffic would.
  const values = Array.from(
    { length: 64 },
    () => Effect.runSync(Effect.provideService(sealOne, Crypto.Crypto, service))
  )
  const seal = throughput(service, () => sealOne)
  const open = throughput(
    service,
    (i) => EncryptedRecord.openRecord(values[i % values.length]!, topic, minute, secretHash)
  )
  results[implementation] = { sealRecordWithSign: seal, openRecordWithVerify: open }
  for (const [name, r] of [["sign+sealRecord", seal], ["openRecord+verify", open]] as const) {
    console.log(
      `${implementation.padEnd(5)} ${name.padEnd(18)} ${
        String(r.perCpuSecond).padStart(6)
      }/CPU-s (${r.cpuMicrosPerOp} us/op)` +
        ` ${String(r.perWallSecond).padStart(6)}/wall-s  goal ${GOAL_PER_SECOND}/s on one core: ${
          r.perCpuSecond >= GOAL_PER_SECOND ? "met" : "NOT met"
        }`
    )
  }
}

writeFileSync(
  "bench/results/records.json",
  JSON.stringify(
    {
      benchmark: "record layer throughput, one core (gossip records: 456-byte record, 604-byte value)",
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model,
      cpus: cpus().length,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
      secondsPerCase: SECONDS_PER_CASE,
      goalPerSecond: GOAL_PER_SECOND,
      results
    },
    null,
    2
  ) + "\n"
)
console.log("wrote bench/results/records.json")
