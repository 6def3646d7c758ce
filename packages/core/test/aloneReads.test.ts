/**
 * A node alone that looks again every 100 ms (`ConfigProfiles.startTogether`) reads the previous minute's slot
 * again only once a second while it stays empty: records are written for the current minute, and those rereads
 * were half of a lone node's DHT load (and CPU its peers' first dials needed).
 */
import { Bytes, Config, ConfigProfiles, Dht } from "@dtt/core"
import { SimNetwork } from "@dtt/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect } from "effect"
import { advance, joinOn, nodeContext } from "./support/sim.js"

describe("a lone node's rounds", () => {
  it.scoped("read an empty previous-minute slot at most once a second, the current one every round", () =>
    Effect.gen(function*() {
      const sim = yield* SimNetwork.make()
      const context = yield* nodeContext(sim, 0)
      const dht = Context.get(context, Dht.Dht)
      const reads = new Map<string, number>()
      const counted: Dht.DhtService = {
        getMutable: (publicKey, salt) =>
          Effect.suspend(() => {
            const slot = Bytes.toHex(publicKey) + Bytes.toHex(salt)
            reads.set(slot, (reads.get(slot) ?? 0) + 1)
            return dht.getMutable(publicKey, salt)
          }),
        putMutable: dht.putMutable
      }
      yield* joinOn(Context.add(context, Dht.Dht, counted), { config: Config.decodeSync(ConfigProfiles.startTogether) })
      // 2.5 s of minute 0: about 25 rounds; the slots of minute -1 are read at 0, 1 and 2 s.
      yield* advance("2500 millis", "20 millis")
      const counts = [...reads.values()].sort((a, b) => a - b)
      expect(counts).toHaveLength(4)
      expect(counts[0]).toBeLessThanOrEqual(3)
      expect(counts[1]).toBeLessThanOrEqual(3)
      expect(counts[2]).toBeGreaterThanOrEqual(15)
      expect(counts[3]).toBeGreaterThanOrEqual(15)
    }))
})
