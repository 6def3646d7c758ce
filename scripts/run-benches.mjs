// Runs every benchmark in bench/*.bench.ts one after the other (each prints its figures and writes its own
// results file into bench/results/). `npm run bench -- <name>` runs only those whose file name contains <name>.
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"

const filters = process.argv.slice(2)
const benches = readdirSync("bench")
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
let failed = 0
for (const file of benches) {
  console.log(`\n== bench/${file}`)
  const { status } = spawnSync("npx", ["tsx", "--conditions=source", `bench/${file}`], { stdio: "inherit" })
  if (status !== 0) failed++
}
if (benches.length === 0) console.log("no benchmarks matched")
process.exit(failed === 0 ? 0 : 1)
