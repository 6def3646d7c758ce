// Ours vs Hyperswarm side by side (issue 12); see bench/compare/run.ts. `npm run bench -- compare`,
// `COMPARE_TRIALS=3 npm run bench -- compare` for a quick check. Writes bench/results/compare.{json,md,svg}.
import { run } from "./compare/run.js"

void run()
