// The orchestrator of bench/compare.bench.ts: our system against Hyperswarm, side by side (issue 12). Each trial
// is a fresh child process on compiled JS (bench/compare/trial.ts) with its own 20-node loopback DHT (our
// Testbed / hyperdht's testnet), relays off, everything on 127.0.0.1, the two systems alternating trial by trial.
// Writes bench/results/compare.{json,md,svg}.
//
//   npm run bench -- compare                      (20 trials per scenario and system; ~20-30 min on 2 loaded cores)
//   COMPARE_TRIALS=3 npm run bench -- compare     (a quick check)
// Env: COMPARE_TRIALS (20), COMPARE_MEMORY_TRIALS (3), COMPARE_SCENARIOS (comma list, default all),
//      COMPARE_DEADLINE_MIN (60: no new timing trial starts after that; the memory trials still run), and trial.ts's COMPARE_* knobs.
import { spawn, spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { FAST_CONFIG } from "./fastConfig.js"
import { markdown, type MemorySide, type ScenarioResult, svg } from "./report.js"
import { median, ratio, slope, summarize } from "./stats.js"

const TRIALS = Number(process.env.COMPARE_TRIALS ?? 20)
const MEMORY_TRIALS = Number(process.env.COMPARE_MEMORY_TRIALS ?? Math.min(TRIALS, 3))
const DEADLINE = Date.now() + Number(process.env.COMPARE_DEADLINE_MIN ?? 60) * 60_000
const JOIN_TIMEOUT_MS = Number(process.env.COMPARE_JOIN_TIMEOUT_MS ?? 10_000)
const SWARM_TIMEOUT_MS = Number(process.env.COMPARE_SWARM_TIMEOUT_MS ?? 20_000)
const MEMORY_NODES = Number(process.env.COMPARE_MEMORY_NODES ?? 10)
const CHILD_KILL_MS = 120_000
const SYSTEMS = ["ours", "hyperswarm"] as const
type SystemName = (typeof SYSTEMS)[number]

const SCENARIOS = [
  { id: "fresh", title: "late joiner, fresh node (clock from node construction)" },
  { id: "bootstrapped", title: "late joiner, node already bootstrapped (clock from join)" },
  { id: "pair", title: "two fresh nodes start together, default config (both connected)" },
  { id: "pair-fast", title: "two fresh nodes, ours profile startTogether / Hyperswarm refresh()" },
  { id: "swarm20", title: "20 fresh nodes start together, default config: one component" },
  { id: "swarm20-fast", title: "20 fresh nodes, ours profile startTogether / Hyperswarm refresh(): one component" }
] as const
const wanted = process.env.COMPARE_SCENARIOS?.split(",").map((s) => s.trim())
const scenarios = SCENARIOS.filter((s) => wanted === undefined || wanted.includes(s.id))
const timeoutOf = (id: string) => (id.startsWith("swarm20") ? SWARM_TIMEOUT_MS : JOIN_TIMEOUT_MS)

const TRIAL_JS = "bench/compare/dist/trial.js"

/** The trials run on compiled JS: `tsc -b` builds the packages and bench/compare/dist (a project of the root build). */
const build = () => {
  const { status } = spawnSync("npx", ["tsc", "-b"], { stdio: "inherit" })
  if (status !== 0) throw new Error("npx tsc -b failed")
}

interface ChildResult {
  readonly ok: boolean
  readonly ms?: number
  readonly error?: string
  readonly [key: string]: unknown
}

/** Run one trial process (plain node on the compiled JS) and parse its `COMPARE_RESULT` line. */
const runTrial = (args: ReadonlyArray<string>): Promise<ChildResult> =>
  new Promise((resolve) => {
    const child = spawn("node", [TRIAL_JS, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (d: Buffer) => (out += d.toString()))
    child.stderr.on("data", (d: Buffer) => (err += d.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_KILL_MS)
    child.on("close", (code) => {
      clearTimeout(timer)
      const line = out.split("\n").find((l) => l.startsWith("COMPARE_RESULT "))
      if (line !== undefined) resolve(JSON.parse(line.slice("COMPARE_RESULT ".length)) as ChildResult)
      else resolve({ ok: false, error: `exit ${code}, no result; stderr: ${err.slice(-500)}` })
    })
  })

/** A DHT in a process of its own for the memory trial, so that the measured process holds only the node(s). */
const withDhtProcess = async <A>(system: SystemName, use: (bootstrap: string) => Promise<A>): Promise<A> => {
  const child = spawn("node", [TRIAL_JS, system, "serve"], { stdio: ["pipe", "pipe", "inherit"] })
  try {
    const bootstrap = await new Promise<string>((resolve, reject) => {
      let out = ""
      const timer = setTimeout(() => reject(new Error("DHT process did not start")), 60_000)
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString()
        const line = out.split("\n").find((l) => l.startsWith("COMPARE_DHT "))
        if (line !== undefined) {
          clearTimeout(timer)
          resolve(line.slice("COMPARE_DHT ".length))
        }
      })
      child.on("close", () => reject(new Error("DHT process exited early")))
    })
    return await use(bootstrap)
  } finally {
    child.stdin.end()
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.on("close", resolve)))
    clearTimeout(killer)
  }
}

const ordered = (trial: number): ReadonlyArray<SystemName> => (trial % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse())
const fmt = (
  r: ChildResult
) => (r.ok ? `${r.ms} ms` : r.error === undefined ? "none in time" : `error: ${r.error.split("\n")[0]}`)

const main = async () => {
  build()
  const startedAt = new Date().toISOString()
  const loadBefore = loadavg()
  const raw: Record<string, Record<SystemName, Array<ChildResult>>> = {}
  for (const s of scenarios) raw[s.id] = { ours: [], hyperswarm: [] }
  let stoppedEarly = false
  for (let trial = 0; trial < TRIALS; trial++) {
    for (const s of scenarios) {
      for (const system of ordered(trial)) {
        if (Date.now() > DEADLINE) stoppedEarly = true
        if (stoppedEarly) break
        const result = await runTrial([system, s.id])
        raw[s.id]![system].push(result)
        console.log(`trial ${trial + 1}/${TRIALS} ${s.id.padEnd(12)} ${system.padEnd(10)} ${fmt(result)}`)
      }
    }
  }
  const memoryRaw: Record<SystemName, Array<ChildResult>> = { ours: [], hyperswarm: [] }
  // The memory trials run even after the deadline stopped the timing trials: they are few and bounded.
  for (let trial = 0; trial < MEMORY_TRIALS; trial++) {
    for (const system of ordered(trial)) {
      const result = await withDhtProcess(system, (bootstrap) => runTrial([system, "memory", bootstrap])).catch(
        (error: unknown): ChildResult => ({ ok: false, error: String(error) })
      )
      memoryRaw[system].push(result)
      console.log(`memory ${trial + 1}/${MEMORY_TRIALS} ${system.padEnd(10)} ${JSON.stringify(result)}`)
    }
  }

  const results: Array<ScenarioResult> = scenarios.map((s) => {
    // Only trials both systems ran count, so that the two sides stay paired.
    const n = Math.min(raw[s.id]!.ours.length, raw[s.id]!.hyperswarm.length)
    const side = (system: SystemName) => summarize(raw[s.id]![system].slice(0, n).map((r) => (r.ok ? r.ms : undefined)))
    const ours = side("ours")
    const hyperswarm = side("hyperswarm")
    return {
      id: s.id,
      title: s.title,
      ours,
      hyperswarm,
      ratioP50: ratio(ours.p50, hyperswarm.p50),
      ratioP95: ratio(ours.p95, hyperswarm.p95)
    }
  })
  const memorySide = (system: SystemName): MemorySide => {
    const ok = memoryRaw[system].filter((r) => r.ok) as Array<
      ChildResult & { bareMB: number; importedMB: number; withNodesMB: Array<number> }
    >
    const perFurther = ok.map((r) => slope(r.withNodesMB))
    return {
      trials: ok.length,
      bareMB: median(ok.map((r) => r.bareMB)),
      importedMB: median(ok.map((r) => r.importedMB)),
      oneNodeMB: median(ok.map((r) => r.withNodesMB[0]!)),
      perFurtherNodeMB: ok.length === 0 ? null : Math.round(median(perFurther)! * 10) / 10
    }
  }
  const memory = { ours: memorySide("ours"), hyperswarm: memorySide("hyperswarm"), nodes: MEMORY_NODES }
  const version = (pkg: string) =>
    (JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, "utf8")) as { version: string }).version
  const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim()
  const notes = [
    `${TRIALS} trials per scenario and system${
      stoppedEarly ? " (STOPPED EARLY at the deadline: fewer trials, see trials)" : ""
    }, alternating ours/Hyperswarm trial by trial, each trial a fresh \`node\` process on compiled JS with its own 20-node loopback DHT; relays off; 127.0.0.1 only.`,
    `Percentiles are nearest-rank over all trials, a trial that found nobody (within ${JOIN_TIMEOUT_MS / 1000} s; ${
      SWARM_TIMEOUT_MS / 1000
    } s for 20 nodes) ranked slowest; "> x s" means that rank is such a trial.`,
    `Late joiners: the anchor joined and settled ${
      Number(process.env.COMPARE_SETTLE_MS ?? 2500)
    } ms first. Pair: both peers have a neighbour. 20 nodes: one connected component and every node with a neighbour of its own.`,
    `Ours fast = the library profile configProfiles.startTogether: ${
      JSON.stringify(FAST_CONFIG)
    }. Hyperswarm fast: \`discovery.flushed()\` then \`discovery.refresh()\` once.`,
    `Memory: RSS after two gc() runs, ${MEMORY_NODES} idle nodes joined to one topic one after the other (${
      Number(process.env.COMPARE_MEMORY_SETTLE_MS ?? 3000)
    } ms each), the DHT in another process; ${MEMORY_TRIALS} trials per system.`,
    `hyperswarm ${version("hyperswarm")}, hyperdht ${
      version("hyperdht")
    }, node ${process.version}, ${cpus().length} cores (load ${
      loadBefore.map((l) => l.toFixed(1)).join(" ")
    } at start), commit ${commit}, ${startedAt}.`
  ]
  const json = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: "npm run bench -- compare",
    environment: {
      node: process.version,
      cores: cpus().length,
      loadBefore,
      loadAfter: loadavg(),
      hyperswarm: version("hyperswarm"),
      hyperdht: version("hyperdht"),
      commit
    },
    config: {
      trials: TRIALS,
      memoryTrials: MEMORY_TRIALS,
      stoppedEarly,
      dhtSize: 20,
      joinTimeoutMs: JOIN_TIMEOUT_MS,
      swarmTimeoutMs: SWARM_TIMEOUT_MS,
      memoryNodes: MEMORY_NODES,
      oursFastConfig: FAST_CONFIG,
      hyperswarmFast: "discovery.flushed() then discovery.refresh()"
    },
    scenarios: results,
    memory,
    raw: { scenarios: raw, memory: memoryRaw },
    notes
  }
  mkdirSync("bench/results", { recursive: true })
  writeFileSync("bench/results/compare.json", `${JSON.stringify(json, null, 2)}\n`)
  const table = markdown(results, memory, notes, timeoutOf)
  writeFileSync("bench/results/compare.md", `# Ours vs Hyperswarm (npm run bench -- compare)\n\n${table}`)
  writeFileSync(
    "bench/results/compare.svg",
    svg(results, `Time to first neighbour: ours vs Hyperswarm (${TRIALS} trials each)`)
  )
  console.log(`\n${table}\nwrote bench/results/compare.{json,md,svg}`)
}

export const run = () =>
  main().catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
