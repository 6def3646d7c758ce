/**
 * The `startTogether` profile (ConfigProfiles.ts): two nodes started at the same instant, both finding the slots
 * empty, are joined sooner in simulated time than with the defaults (the Rust crate's), with the records and the
 * loop unchanged. TestClock on the testkit's simulated network; figures are simulated milliseconds.
 */
import { Config, ConfigProfiles } from "@dtt/core"
import { MemoryDht, SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { advanceUntil, startNode } from "./support/sim.js"

/** Simulated ms until two nodes started together both have a neighbour (-1: not within 10 s). */
const pairJoinTime = (input: Config.Encoded) =>
  Effect.scoped(
    Effect.gen(function*() {
      const config = Config.decodeSync(input)
      const sim = yield* SimNetwork.make()
      // A DHT that answers after 20 ms: both nodes read the slots before either record is stored.
      yield* MemoryDht.setLatency(sim.dht, "20 millis")
      const a = yield* startNode(sim, 0, { config })
      const b = yield* startNode(sim, 1, { config })
      return yield* advanceUntil(Effect.zipWith(a.isJoined, b.isJoined, (x, y) => x && y), "10 seconds", "20 millis")
    })
  )

describe("ConfigProfiles", () => {
  it("every profile decodes; rust is the defaults", () => {
    for (const profile of Object.values(ConfigProfiles.profiles)) expect(() => Config.decodeSync(profile)).not.toThrow()
    expect(Config.decodeSync(ConfigProfiles.profiles.rust)).toEqual(Config.defaults)
  })

  it.effect("startTogether: a pair started together joins sooner than with the defaults", () =>
    Effect.gen(function*() {
      const defaults = yield* pairJoinTime({})
      const together = yield* pairJoinTime(ConfigProfiles.startTogether)
      expect(defaults).toBeGreaterThan(0)
      expect(together).toBeGreaterThanOrEqual(0)
      expect(together).toBeLessThan(defaults)
    }))
})
