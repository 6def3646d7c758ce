// e2e: N node processes, each in its own network namespace on a bridge this script creates, plus a `dtt testbed`
// in another. Checks every node receives every other node's message, then kill -9s one and checks the rest.
// Prints "e2e: N passed, N failed" (or SKIPPED). Everything named e2e-*; removed at start, at exit and on failure.
import { spawn } from "node:child_process"
import { writeFileSync } from "node:fs"
import { resolve } from "node:path"
import { removeNamed, requireNetns, sh } from "./support/netns.mjs"

const ROOT = resolve(import.meta.dirname, "..")
const N = Number(process.env.E2E_NODES ?? 5)
const BR = "e2e-br0"
const NET = "10.77.0"
const TB_ADDR = `${NET}.2`

// A vitest-shaped report (.e2e-results.json) so scripts/vitest-summary.mjs sums it with the others in CI.
const results = []
const report = (skipped = 0) =>
  writeFileSync(resolve(ROOT, ".e2e-results.json"), JSON.stringify({
    numPassedTests: results.filter((r) => r.status === "passed").length,
    numFailedTests: results.filter((r) => r.status === "failed").length,
    numPendingTests: skipped, numTodoTests: 0,
    testResults: [{ name: "e2e/run.mjs", status: results.some((r) => r.status === "failed") ? "failed" : "passed", assertionResults: results }]
  }))
const skip = (why) => {
  results.length = 0
  report(1)
  console.log(`e2e: SKIPPED (${why})`)
  process.exit(0)
}
requireNetns("e2e-", skip)

const procs = []
const cleanup = () => {
  for (const p of procs) try { p.kill("SIGKILL") } catch {}
  removeNamed("e2e-")
}
process.on("exit", cleanup)
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130))

sh("ip", "link", "add", BR, "type", "bridge")
sh("ip", "link", "set", BR, "up")
const makeNs = (name, addr, i) => {
  sh("ip", "netns", "add", name)
  sh("ip", "link", "add", `e2e-v${i}`, "type", "veth", "peer", "name", `e2e-p${i}`)
  sh("ip", "link", "set", `e2e-v${i}`, "master", BR)
  sh("ip", "link", "set", `e2e-v${i}`, "up")
  sh("ip", "link", "set", `e2e-p${i}`, "netns", name)
  sh("ip", "-n", name, "addr", "add", `${addr}/24`, "dev", `e2e-p${i}`)
  sh("ip", "-n", name, "link", "set", `e2e-p${i}`, "up")
  sh("ip", "-n", name, "link", "set", "lo", "up")
}

const tsx = resolve(ROOT, "node_modules/.bin/tsx")
const start = (ns, args, onLine, env = {}) => {
  const p = spawn("ip", ["netns", "exec", ns, tsx, "--conditions=source", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } })
  procs.push(p)
  let buf = ""
  p.stdout.on("data", (d) => {
    buf += d
    let i
    while ((i = buf.indexOf("\n")) >= 0) { onLine(buf.slice(0, i)); buf = buf.slice(i + 1) }
  })
  let err = ""
  p.stderr.on("data", (d) => { err = (err + d).slice(-2000) })
  p.lastErr = () => err
  return p
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const waitFor = async (cond, ms) => { const end = Date.now() + ms; while (Date.now() < end) { if (cond()) return true; await sleep(200) } return cond() }

let passed = 0, failed = 0
const check = (name, ok, detail = "") => { ok ? passed++ : failed++; results.push({ title: name, status: ok ? "passed" : "failed", failureMessages: ok ? [] : [detail] }); report(); console.log(`${ok ? "PASS" : "FAIL"} ${name}${ok ? "" : `: ${detail}`}`) }

const main = async () => {
  makeNs("e2e-tb", TB_ADDR, 0)
  let bootstrap
  start("e2e-tb", ["packages/cli/src/bin.ts", "testbed", "--host", TB_ADDR, "--port", "6881"], (l) => {
    const m = /^bootstrap (\S+)/.exec(l)
    if (m) bootstrap = m[1]
  })
  if (!(await waitFor(() => bootstrap, 30_000))) return check("testbed starts", false, procs[0].lastErr())
  const nodes = []
  const topic = `e2e-${process.pid}`
  for (let i = 1; i <= N; i++) {
    const addr = `${NET}.${10 + i}`
    makeNs(`e2e-n${i}`, addr, i)
    const node = { i, addr, joined: false, got: new Set() }
    node.proc = start(`e2e-n${i}`, ["e2e/node.ts", addr, bootstrap, topic, "e2e-secret"], (l) => {
      let o; try { o = JSON.parse(l) } catch { return }
      if (o.event === "joined") node.joined = true
      if (o.event === "received") node.got.add(o.content)
    })
    nodes.push(node)
    await sleep(1500) // staggered starts
  }
  const joined = await waitFor(() => nodes.every((n) => n.joined), 45_000)
  check(`${N} nodes on ${N} addresses join`, joined, nodes.filter((n) => !n.joined).map((n) => `n${n.i}: ${n.proc.lastErr()}`).join("; "))
  if (!joined) return
  const msg = (n, round) => `round ${round} from node ${n.i} at ${n.addr}`
  const deliver = async (alive, round) => {
    for (const n of alive) n.proc.stdin.write(msg(n, round) + "\n")
    const missing = () => alive.flatMap((n) => alive.filter((m) => m !== n && !n.got.has(msg(m, round))).map((m) => `n${n.i}<-n${m.i}`))
    await waitFor(() => missing().length === 0, 20_000)
    return missing()
  }
  let miss = await deliver(nodes, 1)
  check(`every node receives every other node's message (${N * (N - 1)} deliveries)`, miss.length === 0, `missing ${miss.join(" ")}`)
  const victim = nodes[1]
  victim.proc.kill("SIGKILL")
  const rest = nodes.filter((n) => n !== victim)
  await sleep(2000)
  miss = await deliver(rest, 2)
  check(`after kill -9 of node ${victim.i}, the other ${rest.length} still deliver to each other`, miss.length === 0, `missing ${miss.join(" ")}`)

  // The standalone mode docker/compose.yaml uses (E2E_SAY / E2E_EXPECT, no stdin driver): 3 nodes, each exits 0
  // once it has the other two's lines.
  const exits = []
  for (let i = 1; i <= 3; i++) {
    const addr = `${NET}.${100 + i}`
    makeNs(`e2e-s${i}`, addr, 100 + i)
    const p = start(`e2e-s${i}`, ["e2e/node.ts", addr, bootstrap, `${topic}-standalone`, "e2e-secret"], (l) => process.env.E2E_DEBUG && console.log(`s${i} ${l}`), { E2E_SAY: `hello from standalone ${i}`, E2E_EXPECT: "2" })
    exits.push(new Promise((r) => p.on("exit", (code) => r(code))))
  }
  const codes = await Promise.race([Promise.all(exits), sleep(45_000).then(() => "timeout")])
  check("standalone nodes (the docker mode) each receive the other two's lines and exit 0", Array.isArray(codes) && codes.every((c) => c === 0), String(codes))
}

const timer = setTimeout(() => { check("finishes within 2 minutes", false, "timed out"); process.exit(1) }, 120_000)
main().then(
  () => { clearTimeout(timer); console.log(`e2e: ${passed} passed, ${failed} failed`); process.exit(failed ? 1 : 0) },
  (e) => { console.error(e); console.log(`e2e: ${passed} passed, ${failed + 1} failed`); process.exit(1) }
)
