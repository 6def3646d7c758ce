/**
 * The compliance suites need vitest, but `@dtt/testkit` is also imported by benchmarks and scripts where
 * merely importing vitest throws ("Vitest failed to access its internal state"). So vitest is loaded only
 * when running under it (vitest sets `VITEST` in its workers), and the suites ask for it when declared.
 */
import type * as EffectVitest from "@effect/vitest"

const loaded: typeof EffectVitest | undefined = process.env["VITEST"] !== undefined
  ? await import("@effect/vitest")
  : undefined

export const vitest = (): typeof EffectVitest => {
  if (loaded === undefined) throw new Error("the compliance suites can only be declared inside a vitest run")
  return loaded
}
