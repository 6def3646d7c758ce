/**
 * Seed sweep of the protocol simulator: Rust's tests/sim.rs scenarios (100 peers, dynamic latency 10-100 ms) over
 * many seeds, against Rust's thresholds. Prints a table and writes bench/results/gossip-sim.json.
 * Usage: npm run sim:gossip [-- <seeds> <peers>]   (defaults: 10 seeds, 100 peers)
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { bigBurst, bigHyparview, bigMultipleSender, bigSingleSender } from "../test/simScenarios.js"

const SEEDS = Number(process.argv[2] ?? 10)
const PEERS = Number(process.argv[3] ?? 100)

const thresholds = {
  single: { ldh: 15, rmr: 0.2 },
  multiple: { ldh: 18, rmr: 1 },
  burst: { ldh: 30, rmr: 3 }
} as const

const rows: Array<Record<string, unknown>> = []
let failures = 0
for (let seed = 0; seed < SEEDS; seed++) {
  const t0 = performance.now()
  const empty = bigHyparview(seed, { peers: PEERS }).peersWithoutNeighbors.length
  const single = bigSingleSender(seed, { peers: PEERS })
  const multiple = bigMultipleSender(seed, { peers: PEERS })
  const burst = bigBurst(seed, { peers: PEERS })
  const ok = empty === 0 &&
    ([["single", single], ["multiple", multiple], ["burst", burst]] as const).every(
      ([k, r]) => r.mean.ldh < thresholds[k].ldh && r.mean.rmr < thresholds[k].rmr && r.mean.missed === 0
    )
  if (!ok) failures++
  const fmt = (r: typeof single) => ({
    ldh: r.mean.ldh,
    rmr: Number(r.mean.rmr.toFixed(4)),
    missed: r.mean.missed,
    durationMs: Math.round(r.mean.duration)
  })
  const row = {
    seed,
    ok,
    hyparviewEmpty: empty,
    single: fmt(single),
    multiple: fmt(multiple),
    burst: fmt(burst),
    wallMs: Math.round(performance.now() - t0)
  }
  rows.push(row)
  console.log(
    `seed ${seed} ${ok ? "ok  " : "FAIL"} empty ${empty} | single LDH ${single.mean.ldh.toFixed(2)} RMR ${
      single.mean.rmr.toFixed(3)
    } missed ${single.mean.missed}` +
      ` | multi LDH ${multiple.mean.ldh.toFixed(2)} RMR ${
        multiple.mean.rmr.toFixed(3)
      } missed ${multiple.mean.missed}` +
      ` | burst LDH ${burst.mean.ldh.toFixed(2)} RMR ${
        burst.mean.rmr.toFixed(3)
      } missed ${burst.mean.missed} (${row.wallMs} ms)`
  )
}
mkdirSync("bench/results", { recursive: true })
writeFileSync(
  "bench/results/gossip-sim.json",
  JSON.stringify(
    { date: new Date().toISOString(), node: process.version, peers: PEERS, thresholds, failures, rows },
    null,
    2
  ) + "\n"
)
console.log(failures === 0 ? `all ${SEEDS} seeds meet Rust's thresholds` : `${failures} seeds FAILED`)
process.exit(failures === 0 ? 0 : 1)
