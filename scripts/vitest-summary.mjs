// Prints the plain `N passed, N failed` line CI reads, summed over vitest JSON reports given as arguments.
// A missing report counts as one failure: the run that should have written it did not finish.
import { existsSync, readFileSync } from "node:fs"

let passed = 0
let failed = 0
let skipped = 0
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.error(`summary: no report at ${file}`)
    failed++
    continue
  }
  const report = JSON.parse(readFileSync(file, "utf8"))
  passed += report.numPassedTests
  failed += report.numFailedTests
  skipped += report.numPendingTests + report.numTodoTests
  // A suite that fails to load has no tests to count; count it as a failure so it cannot pass silently.
  failed += report.testResults.filter((r) => r.status === "failed" && r.assertionResults.length === 0).length
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`)
